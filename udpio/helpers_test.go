package udpio

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"
)

// testTimeout bounds every socket test: far above the milliseconds each
// takes, so that a lost datagram fails the test instead of hanging it.
const testTimeout = 30 * time.Second

// listenT opens a Conn whose reads and writes end at the test's deadline.
func listenT(t *testing.T, network, addr string, opts Options) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	ap := netip.MustParseAddrPort(addr)
	c, err := Listen(network, ap, opts)
	if err != nil {
		t.Fatalf("Listen(%s, %s): %v", network, addr, err)
	}
	t.Cleanup(func() { c.Close() })
	deadline, _ := ctx.Deadline()
	c.SetReadDeadline(deadline)
	c.SetWriteDeadline(deadline)
	return c
}

// got is one received datagram, copied out of the reader's buffers.
type got struct {
	data  []byte
	addr  netip.AddrPort
	local netip.Addr
	ecn   ECN
	seg   int
}

// readN reads until n datagrams have arrived, with batches of size batch,
// each a datagram or a GRO run. Buffers are bufSize bytes; 0 means 2048,
// or GROBufferSize with GRO.
func readN(t *testing.T, c *Conn, n, batch, bufSize int) []got {
	t.Helper()
	if bufSize == 0 {
		bufSize = 2048
		if c.Capabilities().GRO {
			bufSize = GROBufferSize
		}
	}
	msgs := make([]Message, batch)
	bufs := make([][]byte, batch)
	for i := range msgs {
		bufs[i] = make([]byte, bufSize)
		msgs[i].Buf = bufs[i]
	}
	var out []got
	for len(out) < n {
		k, err := c.ReadBatch(msgs)
		if err != nil {
			t.Fatalf("ReadBatch after %d of %d datagrams: %v", len(out), n, err)
		}
		if k < 1 || k > len(msgs) {
			t.Fatalf("ReadBatch returned %d for %d messages", k, len(msgs))
		}
		for i := range msgs[:k] {
			m := &msgs[i]
			if &m.Buf[0] != &bufs[i][0] {
				t.Fatalf("message %d came back with another buffer", i)
			}
			for d := range m.Datagrams {
				out = append(out, got{
					data:  append([]byte(nil), d...),
					addr:  m.Addr,
					local: m.Local,
					ecn:   m.ECN,
					seg:   m.SegmentSize,
				})
			}
		}
	}
	if len(out) > n {
		t.Fatalf("read %d datagrams, want %d", len(out), n)
	}
	return out
}

// payload is datagram i of a test: its index, then a pattern, size bytes.
func payload(i, size int) []byte {
	b := make([]byte, size)
	for j := range b {
		b[j] = byte(i*7 + j)
	}
	if size >= 2 {
		b[0], b[1] = byte(i>>8), byte(i)
	}
	return b
}

// loopbackPair opens two Conns on the loopback address of network.
func loopbackPair(t *testing.T, network string, sendOpts, recvOpts Options) (snd, rcv *Conn) {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "udp6" {
		addr = "[::1]:0"
	}
	return listenT(t, network, addr, sendOpts), listenT(t, network, addr, recvOpts)
}

// skipNoIPv6 skips when the loopback has no IPv6 address.
func skipNoIPv6(t *testing.T) {
	t.Helper()
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	c.Close()
}
