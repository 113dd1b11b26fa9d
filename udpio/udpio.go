package udpio

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"time"
)

// ECN is the two-bit Explicit Congestion Notification field of the IP
// header: the low two bits of the IPv4 TOS byte or the IPv6 Traffic Class.
type ECN uint8

// RFC 3168 §5: the ECN codepoints.
const (
	ECNNotECT ECN = 0b00 // Not ECN-Capable Transport
	ECNECT1   ECN = 0b01 // ECN Capable Transport, ECT(1)
	ECNECT0   ECN = 0b10 // ECN Capable Transport, ECT(0)
	ECNCE     ECN = 0b11 // Congestion Experienced
)

// MaxBatch is the largest number of datagrams one recvmmsg or sendmmsg call
// carries.
const MaxBatch = 64

// MaxGSOBytes is the most one GSO entry carries: the largest UDP payload
// of one IPv4 datagram, 65535 - 20 - 8, since the kernel builds the entry
// as one datagram before it cuts it. WriteBatch cuts a longer message into
// several entries, so a sender that fills bursts of this many bytes (of
// whole datagrams) makes no short entry.
const MaxGSOBytes = 65507

// GROBufferSize is the buffer a Message needs to receive a GRO-coalesced
// run whole: the kernel builds it as one datagram of up to 64 KiB.
const GROBufferSize = 1 << 16

// Message is one datagram, or on send one run of equal-size datagrams.
//
// In both directions Buf[:N] is the payload. ReadBatch treats Buf as storage
// (len(Buf) is the most it may hold; a longer datagram is dropped, counted
// in Stats.Truncated and reported with N == 0) and sets N, Addr, Local, ECN
// and SegmentSize. WriteBatch sends Buf[:N] to Addr.
type Message struct {
	Buf  []byte
	N    int
	Addr netip.AddrPort // the peer: source on receive, destination on send
	// Local is the local address: on receive, the address the datagram was
	// sent to (from packet info on a wildcard socket, else the bound
	// address); on send from a wildcard socket, the source address to use
	// (zero value: the kernel picks).
	Local netip.Addr
	ECN   ECN
	// SegmentSize, when > 0 and N > SegmentSize, says Buf[:N] is a run of
	// datagrams of SegmentSize bytes each (the last may be shorter): on
	// send, to go out with one UDP_SEGMENT call where the kernel allows; on
	// receive, coalesced by GRO, each with the same source, local address
	// and ECN mark. Otherwise Buf[:N] is one datagram.
	SegmentSize int
	// ICMP, on receive, is set when this Message is not a datagram but an
	// ICMP error about one we sent (Options.ICMPErrors): Addr is that
	// datagram's destination, and Buf[:N] its beginning as the error
	// message quoted it (often truncated).
	ICMP *ICMPError
}

// Datagrams calls yield with each datagram of m in order: Buf[:N] cut in
// SegmentSize pieces, or whole.
func (m *Message) Datagrams(yield func([]byte) bool) {
	b := m.Buf[:m.N]
	seg := m.SegmentSize
	if seg <= 0 || seg >= len(b) {
		if len(b) > 0 {
			yield(b)
		}
		return
	}
	for len(b) > 0 {
		n := min(seg, len(b))
		if !yield(b[:n]) {
			return
		}
		b = b[n:]
	}
}

// Options tune a Conn. The zero value asks for everything the system offers.
type Options struct {
	// ReadBuffer and WriteBuffer are the socket buffer sizes to ask for;
	// 0 means DefaultBufferSize.
	ReadBuffer, WriteBuffer int
	// DisableGSO and DisableGRO turn segmentation offload off (also set by
	// the environment variables SKIFF_DISABLE_GSO=1 and SKIFF_DISABLE_GRO=1).
	DisableGSO, DisableGRO bool
	// Portable selects the one-datagram-per-call path over net.UDPConn even
	// where the batched path exists (also set by SKIFF_UDPIO_PORTABLE=1).
	Portable bool
	// ICMPErrors asks for the ICMP errors about datagrams the socket sends
	// (IP_RECVERR / IPV6_RECVERR, Linux batched path only): ReadBatch
	// returns each as a Message with ICMP set. Off by default, since a
	// reader that does not look at Message.ICMP would take the quoted
	// bytes for a datagram.
	ICMPErrors bool
}

// DefaultBufferSize is the socket buffer size asked for when Options leave it
// zero: enough for several full GSO bursts in flight at high rates.
const DefaultBufferSize = 8 << 20

// Capabilities reports what a Conn found the kernel would do.
type Capabilities struct {
	Batch        bool // recvmmsg / sendmmsg
	GSO          bool // UDP_SEGMENT on send (may turn false after a failed send)
	GRO          bool // UDP_GRO on receive
	ECN          bool // TOS / Traffic Class read on receive and set on send
	PacketInfo   bool // local address per datagram on a wildcard socket
	DontFragment bool // IP_PMTUDISC_PROBE set: oversize sends fail, never fragment
	ICMPErrors   bool // ICMP errors reported through ReadBatch
	// ReadBuffer and WriteBuffer are the sizes the kernel granted, as it
	// reports them (Linux reports double the accounted request).
	ReadBuffer, WriteBuffer int
}

// Stats count datagrams the Conn dropped or rerouted.
type Stats struct {
	Truncated     uint64 // received datagrams longer than the caller's buffer, dropped
	ControlErrors uint64 // received control data that could not be parsed in full
	GSOFallbacks  uint64 // GSO sends the kernel refused, resent one datagram at a time
}

// ErrAddressFamily is returned when a destination cannot be reached on the
// socket's address family (an IPv6 destination on an IPv4 socket).
var ErrAddressFamily = errors.New("udpio: destination address family does not match the socket")

// Conn is a UDP socket for batched datagram I/O. It is safe for concurrent
// use: several goroutines may write at once; reads are serialised.
type Conn struct {
	uc       *net.UDPConn
	local    netip.AddrPort
	wildcard bool
	sys      *sysConn // nil on the portable path
	caps     Capabilities
}

// Listen opens a UDP socket on network ("udp", "udp4" or "udp6") and addr.
// "udp" with an unspecified or zero address gives a dual-stack socket. A
// zero address with a port (what net.ResolveUDPAddr makes of ":443")
// binds that port on every address.
func Listen(network string, addr netip.AddrPort, opts Options) (*Conn, error) {
	var ua *net.UDPAddr
	switch {
	case addr.Addr().IsValid():
		ua = net.UDPAddrFromAddrPort(addr)
	case addr.Port() != 0:
		// netip.AddrPort.IsValid is false without an address, port or
		// not: the port must not be dropped.
		ua = &net.UDPAddr{Port: int(addr.Port())}
	}
	uc, err := net.ListenUDP(network, ua)
	if err != nil {
		return nil, err
	}
	c, err := New(uc, opts)
	if err != nil {
		uc.Close()
		return nil, err
	}
	return c, nil
}

// New wraps an existing socket. The Conn owns uc from then on: closing the
// Conn closes uc, and uc must not be read or written directly.
func New(uc *net.UDPConn, opts Options) (*Conn, error) {
	opts.applyEnv()
	if opts.ReadBuffer == 0 {
		opts.ReadBuffer = DefaultBufferSize
	}
	if opts.WriteBuffer == 0 {
		opts.WriteBuffer = DefaultBufferSize
	}
	c := &Conn{uc: uc}
	c.local = uc.LocalAddr().(*net.UDPAddr).AddrPort()
	c.local = netip.AddrPortFrom(c.local.Addr().Unmap(), c.local.Port())
	c.wildcard = c.local.Addr().IsUnspecified()
	if !opts.Portable {
		sys, caps, err := newSysConn(uc, c.wildcard, opts)
		if err != nil {
			return nil, err
		}
		c.sys, c.caps = sys, caps
	}
	if c.sys == nil {
		c.caps = portableCapabilities(uc, opts)
	}
	return c, nil
}

func (o *Options) applyEnv() {
	on := func(name string) bool {
		v := os.Getenv(name)
		return v != "" && v != "0"
	}
	if on("SKIFF_DISABLE_GSO") {
		o.DisableGSO = true
	}
	if on("SKIFF_DISABLE_GRO") {
		o.DisableGRO = true
	}
	if on("SKIFF_UDPIO_PORTABLE") {
		o.Portable = true
	}
}

// ReadBatch blocks until at least one datagram arrives, then fills msgs[:n]
// in order and returns n, each Message in its own Buf: buffers never move
// between Messages. A Message with N == 0 holds nothing (a datagram longer
// than its Buf was dropped, Stats.Truncated; or an empty one): its buffer
// is free for the next call. With GRO (Capabilities) a Message may hold a
// coalesced run of datagrams (SegmentSize), parsed in place by the caller;
// give buffers of GROBufferSize, or a run longer than Buf is dropped whole.
// It does not allocate.
func (c *Conn) ReadBatch(msgs []Message) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	if c.sys != nil {
		return c.sys.readBatch(msgs, c.local.Addr())
	}
	return c.readPortable(msgs)
}

// ReadBatches reads as ReadBatch does, batch after batch, and calls handle
// with the number of messages each filled, until handle returns false
// (ReadBatches then returns nil) or reading fails. The next batch is read
// into the buffers msgs hold when handle returns: handle may replace them.
//
// It costs fewer system calls than a loop of ReadBatch: after a batch that
// emptied the socket's queue it waits for the socket to become ready
// before it asks the kernel again, where a new ReadBatch must first ask
// (the poller forgets, when a read starts, what readiness it saw before);
// a receiver that keeps up with its sender empties the queue at most
// batches. handle runs on the calling goroutine while the socket's read
// side is held: it must not read from the Conn.
func (c *Conn) ReadBatches(msgs []Message, handle func(n int) bool) error {
	if len(msgs) == 0 {
		return nil
	}
	if c.sys != nil {
		return c.sys.readBatches(msgs, c.local.Addr(), handle)
	}
	for {
		n, err := c.readPortable(msgs)
		if err != nil {
			return err
		}
		if !handle(n) {
			return nil
		}
	}
}

// WriteBatch sends every message, in order, and returns how many were sent
// in full. Messages with SegmentSize set go out as GSO bursts where the
// kernel allows and one datagram at a time where it does not. It does not
// allocate.
func (c *Conn) WriteBatch(msgs []Message) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	if c.sys != nil {
		return c.sys.writeBatch(msgs, c.wildcard)
	}
	return c.writePortable(msgs)
}

// WriteSegments sends buf to to as datagrams of segSize bytes (the last may
// be shorter) with ECN mark ecn, from local address from when the socket is
// bound to a wildcard address (zero value: the kernel picks).
func (c *Conn) WriteSegments(buf []byte, segSize int, to netip.AddrPort, ecn ECN, from netip.Addr) error {
	m := [1]Message{{Buf: buf, N: len(buf), Addr: to, Local: from, ECN: ecn, SegmentSize: segSize}}
	_, err := c.WriteBatch(m[:])
	return err
}

// Capabilities reports what the socket does; GSO may have been turned off
// since the Conn was made, after the kernel refused it.
func (c *Conn) Capabilities() Capabilities {
	caps := c.caps
	if c.sys != nil {
		caps.GSO = c.sys.gsoEnabled()
	}
	return caps
}

// Stats returns the drop and fallback counters.
func (c *Conn) Stats() Stats {
	if c.sys != nil {
		return c.sys.stats()
	}
	return Stats{}
}

// LocalAddr is the address the socket is bound to (IPv4-mapped addresses
// unmapped).
func (c *Conn) LocalAddr() netip.AddrPort { return c.local }

// Close closes the socket; blocked reads and writes return net.ErrClosed.
func (c *Conn) Close() error { return c.uc.Close() }

// SetReadDeadline sets the deadline for ReadBatch (os.ErrDeadlineExceeded).
func (c *Conn) SetReadDeadline(t time.Time) error { return c.uc.SetReadDeadline(t) }

// SetWriteDeadline sets the deadline for WriteBatch and WriteSegments.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.uc.SetWriteDeadline(t) }
