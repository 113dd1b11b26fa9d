package udpio

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// sysConn is the batched Linux path: recvmmsg / sendmmsg / sendmsg issued on
// the net.UDPConn's descriptor through its syscall.RawConn, so that a call
// that would block parks the goroutine in the runtime poller, and deadlines
// and Close work as for any net.Conn.
type sysConn struct {
	rc      syscall.RawConn
	family  int  // AF_INET or AF_INET6
	dual    bool // AF_INET6 socket that also carries IPv4 (IPV6_V6ONLY off)
	pktinfo bool // packet info requested (wildcard socket)
	gro     bool
	gso     atomic.Bool
	// icmp: IP_RECVERR / IPV6_RECVERR are on (icmp_linux.go); errPending
	// says a send met an error the error queue may explain.
	icmp       bool
	errPending atomic.Bool
	errq       errQueue

	recvMu sync.Mutex
	recv   *recvState

	sendPool sync.Pool // of *sendBatch

	// Destinations the kernel refused GSO for (see send_linux.go).
	noGSOMu    sync.Mutex
	noGSO      map[netip.AddrPort]struct{}
	noGSOCount atomic.Int32

	truncated, controlErrors, gsoFallbacks atomic.Uint64
}

func newSysConn(uc *net.UDPConn, wildcard bool, opts Options) (*sysConn, Capabilities, error) {
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil, Capabilities{}, err
	}
	s := &sysConn{rc: rc}
	var caps Capabilities
	var cerr error
	err = rc.Control(func(fd uintptr) {
		cerr = s.configure(int(fd), wildcard, opts, &caps)
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		return nil, Capabilities{}, err
	}
	s.recv = newRecvState()
	if s.icmp {
		s.recv.errPending = &s.errPending
	}
	s.sendPool.New = func() any { return newSendBatch() }
	return s, caps, nil
}

// configure sets the socket options and records what the kernel accepted.
// Only a socket that is not UDP over IP is an error: every feature has a
// path without it.
func (s *sysConn) configure(fd int, wildcard bool, opts Options, caps *Capabilities) error {
	family, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN)
	if err != nil {
		return fmt.Errorf("udpio: SO_DOMAIN: %w", err)
	}
	switch family {
	case unix.AF_INET:
	case unix.AF_INET6:
		v6only, err := unix.GetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY)
		s.dual = err == nil && v6only == 0
	default:
		return fmt.Errorf("udpio: socket family %d is not IP", family)
	}
	s.family = family
	v4 := family == unix.AF_INET || s.dual // IPv4 datagrams may pass
	v6 := family == unix.AF_INET6
	caps.Batch = true

	caps.ReadBuffer = setBuffer(fd, unix.SO_RCVBUFFORCE, unix.SO_RCVBUF, opts.ReadBuffer)
	caps.WriteBuffer = setBuffer(fd, unix.SO_SNDBUFFORCE, unix.SO_SNDBUF, opts.WriteBuffer)

	// RFC 9000 §14: QUIC datagrams must not be fragmented, and path MTU
	// probes (RFC 8899) must fail visibly rather than be split. PROBE sets DF
	// and does not clamp to the kernel's cached path MTU, so the packetiser
	// alone decides probe sizes; a send above the interface MTU is EMSGSIZE.
	// (IP_PMTUDISC_PROBE and IPV6_PMTUDISC_PROBE are both 3.)
	caps.DontFragment = setIPOption(fd, v4, v6, unix.IP_MTU_DISCOVER, unix.IPV6_MTU_DISCOVER, unix.IP_PMTUDISC_PROBE)

	// RFC 9000 §13.4: ECN marks are read from each datagram's IP header.
	caps.ECN = setIPOption(fd, v4, v6, unix.IP_RECVTOS, unix.IPV6_RECVTCLASS, 1)

	// On a wildcard socket the local address differs per datagram; QUIC
	// must answer from the address the peer used (RFC 9000 §9).
	if wildcard {
		pi := setIPOption(fd, v4, v6, unix.IP_PKTINFO, unix.IPV6_RECVPKTINFO, 1)
		s.pktinfo = pi
		caps.PacketInfo = pi
	}

	if opts.ICMPErrors {
		// ICMP errors about what we send go to the socket's error queue
		// instead of being dropped (an unconnected UDP socket gets none
		// otherwise); a dual-stack socket needs both for IPv4 peers.
		s.icmp = setIPOption(fd, v4, v6, unix.IP_RECVERR, unix.IPV6_RECVERR, 1)
		caps.ICMPErrors = s.icmp
	}

	if !opts.DisableGRO {
		s.gro = unix.SetsockoptInt(fd, unix.IPPROTO_UDP, unix.UDP_GRO, 1) == nil
	}
	caps.GRO = s.gro
	if !opts.DisableGSO {
		// A kernel that knows UDP_SEGMENT answers the query; one that does
		// not answers ENOPROTOOPT.
		_, err := unix.GetsockoptInt(fd, unix.IPPROTO_UDP, unix.UDP_SEGMENT)
		s.gso.Store(err == nil)
	}
	caps.GSO = s.gso.Load()
	return nil
}

// setIPOption sets an option at the IPv4 level (opt4) when IPv4 datagrams
// pass the socket and at the IPv6 level (opt6) when it is IPv6, to value;
// it reports whether every call worked.
func setIPOption(fd int, v4, v6 bool, opt4, opt6, value int) bool {
	ok := true
	if v4 {
		ok = ok && unix.SetsockoptInt(fd, unix.IPPROTO_IP, opt4, value) == nil
	}
	if v6 {
		ok = ok && unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, opt6, value) == nil
	}
	return ok
}

// setBuffer asks for size bytes of socket buffer, beyond the system limit if
// privileged (the FORCE option needs CAP_NET_ADMIN), and returns the size the
// kernel reports.
func setBuffer(fd, force, plain, size int) int {
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, force, size) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, plain, size)
	}
	got, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, plain)
	if err != nil {
		return 0
	}
	return got
}

func (s *sysConn) gsoEnabled() bool { return s.gso.Load() }

func (s *sysConn) stats() Stats {
	return Stats{
		Truncated:     s.truncated.Load(),
		ControlErrors: s.controlErrors.Load(),
		GSOFallbacks:  s.gsoFallbacks.Load(),
	}
}

// rawSyscall6 issues the batched receive and send calls (recvmmsg,
// sendmmsg, sendmsg) without telling the Go scheduler, as
// syscall.RawSyscall6 does: on a non-blocking socket they never wait in the
// kernel, and the scheduler's bookkeeping for a call that might cost more
// than the call itself on a busy machine. With unix.Syscall6, every call
// entered the runtime's system-call state: one that sysmon, the runtime's
// monitor, found still running (the kernel delivers a loopback GSO burst
// inside the sender's sendmsg, tens of microseconds; longer when the
// machine is loaded and the thread preempted) lost its processor to
// another thread woken for it, and came back to find none and sleep; and
// the first call after every idle moment woke sysmon from its deep sleep
// and reset it to polling every 20 µs for the next millisecond. A bulk
// receiver goes idle between its read batches thousands of times a
// second: on a loaded 2-core machine sysmon's own sleeps and wake-ups were
// the largest single source of the receiver's context switches and 9-16%
// of its CPU time. A raw call keeps its processor like any computation.
func rawSyscall6(trap, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2 uintptr, err syscall.Errno) {
	return unix.RawSyscall6(trap, a1, a2, a3, a4, a5, a6)
}
