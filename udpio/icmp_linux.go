package udpio

import (
	"encoding/binary"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ICMP errors (Options.ICMPErrors). With IP_RECVERR / IPV6_RECVERR set,
// the kernel queues each ICMP error about a datagram we sent on the
// socket's error queue, with the destination of that datagram, the quoted
// start of it, and a sock_extended_err saying what the message was. It
// also records the error as the socket's pending error, which the next
// recvmmsg or sendmsg returns (once) instead of doing its work, and marks
// the socket readable with POLLERR, which wakes the reader. So:
//
//   - the reader drains the error queue (recvmsg with MSG_ERRQUEUE) when
//     recvmmsg returns such an error, and returns the reports as Messages
//     with ICMP set; a pending error with an empty queue is dropped;
//   - a send that fails with such an error was refused for a datagram sent
//     earlier, not for this one: it is sent again, once, and the reader is
//     told to look at the queue (errPending), which it does on its next
//     wake-up, before parking.
//
// Local errors the kernel queues too (EMSGSIZE for a datagram over the path
// MTU) are drained and dropped: the send already failed with them.

// errControlSpace holds the control messages of one error-queue entry: the
// sock_extended_err with the offender's address, and the packet info and
// TOS the kernel may add.
const errControlSpace = 256

// errQueue is the state of error-queue reads, guarded by recvMu.
type errQueue struct {
	hdr  unix.Msghdr
	iov  unix.Iovec
	name unix.RawSockaddrInet6
	ctrl [errControlSpace]byte

	fn    func(fd uintptr) // made once: recvmsg into the fields above
	n     int
	errno syscall.Errno
}

func (q *errQueue) recvmsg(fd uintptr) {
	for {
		n, _, e := unix.Syscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&q.hdr)), unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
		if e == unix.EINTR {
			continue
		}
		q.n, q.errno = int(n), e
		return
	}
}

// queuedErrno reports whether e is an error the kernel takes from an ICMP
// message (icmp_err_convert, icmpv6_err_convert) or a queued local error,
// rather than a failure of the call itself.
func queuedErrno(e syscall.Errno) bool {
	switch e {
	case unix.ECONNREFUSED, unix.EHOSTUNREACH, unix.ENETUNREACH, unix.EHOSTDOWN,
		unix.ENETDOWN, unix.ENOPROTOOPT, unix.EACCES, unix.EPROTO, unix.EOPNOTSUPP,
		unix.EMSGSIZE, unix.ETIMEDOUT:
		return true
	}
	return false
}

// readErrQueue moves ICMP errors from the error queue into msgs and returns
// how many it filled. It never blocks.
func (s *sysConn) readErrQueue(msgs []Message) int {
	q := &s.errq
	if q.fn == nil {
		q.fn = q.recvmsg
		q.hdr.Name = (*byte)(unsafe.Pointer(&q.name))
		q.hdr.Iov = &q.iov
		q.hdr.SetIovlen(1)
		q.hdr.Control = &q.ctrl[0]
	}
	k := 0
	// Bounded: an entry is consumed per call, and the queue holds at most
	// a socket buffer's worth.
	for tries := 0; k < len(msgs) && tries < 2*MaxBatch; tries++ {
		m := &msgs[k]
		if len(m.Buf) > 0 {
			q.iov.Base = &m.Buf[0]
		} else {
			q.iov.Base = nil
		}
		q.iov.SetLen(len(m.Buf))
		q.hdr.Namelen = unix.SizeofSockaddrInet6
		q.hdr.SetControllen(errControlSpace)
		q.hdr.Flags = 0
		if err := s.rc.Control(q.fn); err != nil || q.errno != 0 {
			break // EAGAIN: the queue is empty
		}
		var meta recvMeta
		clen := min(int(q.hdr.Controllen), errControlSpace)
		_ = parseControl(q.ctrl[:clen], &meta)
		if !meta.hasErr || (meta.origin != unix.SO_EE_ORIGIN_ICMP && meta.origin != unix.SO_EE_ORIGIN_ICMP6) {
			continue // a local error: the send reported it already
		}
		*m = Message{Buf: m.Buf, N: q.n, Addr: getSockaddr(&q.name)}
		m.ICMP = &ICMPError{
			Errno:    syscall.Errno(meta.errno),
			IPv6:     meta.origin == unix.SO_EE_ORIGIN_ICMP6,
			Type:     meta.icmpType,
			Code:     meta.icmpCode,
			Offender: meta.offender,
			Info:     meta.info,
		}
		k++
	}
	q.iov.Base = nil // drop the reference to the caller's buffer
	return k
}

// parseExtendedErr reads a struct sock_extended_err and the offender's
// address after it (SO_EE_OFFENDER).
func parseExtendedErr(data []byte, m *recvMeta) {
	// struct sock_extended_err { u32 ee_errno; u8 ee_origin, ee_type,
	// ee_code, ee_pad; u32 ee_info; u32 ee_data; }
	if len(data) < 16 {
		return
	}
	m.hasErr = true
	m.errno = binary.NativeEndian.Uint32(data)
	m.origin, m.icmpType, m.icmpCode = data[4], data[5], data[6]
	m.info = binary.NativeEndian.Uint32(data[8:])
	off := data[16:]
	if len(off) < 2 {
		return
	}
	switch binary.NativeEndian.Uint16(off) {
	case unix.AF_INET:
		if len(off) >= 8 {
			m.offender = netip.AddrFrom4([4]byte(off[4:8]))
		}
	case unix.AF_INET6:
		if len(off) >= 24 {
			m.offender = netip.AddrFrom16([16]byte(off[8:24])).Unmap()
		}
	}
}
