package udpio

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"
)

// Bulk transfer over UDP, through udpio (GSO send, recvmmsg + GRO receive)
// and through plain net.UDPConn WriteTo/ReadFrom, to compare the two. Only
// received bytes count: UDP may drop, and what did not arrive was not
// moved. One iteration (b.N) is one batch of benchSegments datagrams of
// benchDatagram bytes, 92,928 bytes; -benchtime=11555x moves 1 GiB.
//
// The end of a run: the sender sends 1-byte end markers until the receiver
// answers one with a 1-byte ack. The same code runs across two network
// namespaces in vethbench.sh (TestVethPeer).

const (
	benchDatagram = 1452 // a QUIC packet in a 1500-byte Ethernet MTU over IPv6
	benchSegments = 64
	markerEnd     = 0xEE
	markerAck     = 0xAC
)

// benchBuffer is what each side asks for, on both paths alike, so that
// neither gets more socket buffer than the other (udpio may force it past
// net.core.rmem_max; plain net.UDPConn cannot).
const benchBuffer = 4 << 20

func BenchmarkLoopback(b *testing.B) {
	b.Run("udpio", func(b *testing.B) {
		opts := Options{ReadBuffer: benchBuffer, WriteBuffer: benchBuffer}
		snd, err := Listen("udp4", netip.MustParseAddrPort("127.0.0.1:0"), opts)
		if err != nil {
			b.Fatal(err)
		}
		defer snd.Close()
		rcv, err := Listen("udp4", netip.MustParseAddrPort("127.0.0.1:0"), opts)
		if err != nil {
			b.Fatal(err)
		}
		defer rcv.Close()
		b.Logf("sender %+v", snd.Capabilities())
		runBench(b, receiveUdpio(rcv), sendUdpio(snd, rcv.LocalAddr()))
	})
	b.Run("plain", func(b *testing.B) {
		snd := listenPlain(b, "127.0.0.1:0")
		defer snd.Close()
		rcv := listenPlain(b, "127.0.0.1:0")
		defer rcv.Close()
		to := rcv.LocalAddr().(*net.UDPAddr).AddrPort()
		runBench(b, receivePlain(rcv), sendPlain(snd, to))
	})
}

func listenPlain(b testing.TB, addr string) *net.UDPConn {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		b.Fatal(err)
	}
	c.SetReadBuffer(benchBuffer)
	c.SetWriteBuffer(benchBuffer)
	return c
}

func runBench(b *testing.B, receive func() (int64, time.Time, error), send func(batches int) error) {
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		n, _, err := receive()
		done <- result{n, err}
	}()
	if err := send(b.N); err != nil {
		b.Fatal(err)
	}
	r := <-done
	b.StopTimer()
	if r.err != nil {
		b.Fatal(r.err)
	}
	sent := float64(b.N) * benchSegments * benchDatagram
	b.ReportMetric(float64(r.n)*8/b.Elapsed().Seconds()/1e9, "Gbit/s")
	b.ReportMetric(100*float64(r.n)/sent, "%delivered")
}

// The senders and receivers allocate their buffers before they return the
// function that runs, so that allocs/op and B/op count only the transfer.

func sendUdpio(c *Conn, to netip.AddrPort) func(batches int) error {
	buf := make([]byte, benchSegments*benchDatagram)
	msgs := []Message{{Buf: buf, N: len(buf), Addr: to, SegmentSize: benchDatagram}}
	marker := []Message{{Buf: []byte{markerEnd}, N: 1, Addr: to}}
	in := []Message{{Buf: make([]byte, 64)}}
	return func(batches int) error {
		return sendUdpioRun(c, msgs, marker, in, batches)
	}
}

func sendUdpioRun(c *Conn, msgs, marker, in []Message, batches int) error {
	for range batches {
		if _, err := c.WriteBatch(msgs); err != nil {
			return err
		}
	}
	return untilAck(func() error {
		_, err := c.WriteBatch(marker)
		return err
	}, c.SetReadDeadline, func() (bool, error) {
		n, err := c.ReadBatch(in)
		return n == 1 && in[0].N == 1 && in[0].Buf[0] == markerAck, err
	})
}

func receiveUdpio(c *Conn) func() (int64, time.Time, error) {
	// With GRO a message holds a coalesced run (counted whole below), so
	// it needs a 64 KiB buffer; 16 of them are 1 MiB.
	msgs := make([]Message, MaxBatch)
	size := 2048
	if c.Capabilities().GRO {
		msgs, size = msgs[:16], GROBufferSize
	}
	for i := range msgs {
		msgs[i].Buf = make([]byte, size)
	}
	ack := []Message{{Buf: []byte{markerAck}, N: 1}}
	return func() (int64, time.Time, error) { return receiveUdpioRun(c, msgs, ack) }
}

func receiveUdpioRun(c *Conn, msgs, ack []Message) (int64, time.Time, error) {
	var total int64
	var first time.Time
	for {
		n, err := c.ReadBatch(msgs)
		if err != nil {
			return total, first, err
		}
		if first.IsZero() {
			first = time.Now()
		}
		for i := range n {
			m := &msgs[i]
			if m.N == 1 && m.Buf[0] == markerEnd {
				ack[0].Addr, ack[0].Local = m.Addr, m.Local
				_, err := c.WriteBatch(ack)
				return total, first, err
			}
			total += int64(m.N)
		}
	}
}

func sendPlain(c *net.UDPConn, to netip.AddrPort) func(batches int) error {
	buf := make([]byte, benchDatagram)
	in := make([]byte, 64)
	marker := []byte{markerEnd}
	return func(batches int) error { return sendPlainRun(c, to, buf, in, marker, batches) }
}

func sendPlainRun(c *net.UDPConn, to netip.AddrPort, buf, in, marker []byte, batches int) error {
	for range batches {
		for range benchSegments {
			if _, err := c.WriteToUDPAddrPort(buf, to); err != nil {
				return err
			}
		}
	}
	return untilAck(func() error {
		_, err := c.WriteToUDPAddrPort(marker, to)
		return err
	}, c.SetReadDeadline, func() (bool, error) {
		n, _, err := c.ReadFromUDPAddrPort(in)
		return n == 1 && in[0] == markerAck, err
	})
}

func receivePlain(c *net.UDPConn) func() (int64, time.Time, error) {
	buf := make([]byte, 2048)
	ack := []byte{markerAck}
	return func() (int64, time.Time, error) { return receivePlainRun(c, buf, ack) }
}

func receivePlainRun(c *net.UDPConn, buf, ack []byte) (int64, time.Time, error) {
	var total int64
	var first time.Time
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return total, first, err
		}
		if first.IsZero() {
			first = time.Now()
		}
		if n == 1 && buf[0] == markerEnd {
			_, err := c.WriteToUDPAddrPort(ack, from)
			return total, first, err
		}
		total += int64(n)
	}
}

// untilAck sends end markers until the receiver acknowledges one: it may
// still be draining its socket buffer, or a marker may be dropped.
func untilAck(mark func() error, setDeadline func(time.Time) error, acked func() (bool, error)) error {
	defer setDeadline(time.Time{})
	for range 2000 {
		if err := mark(); err != nil {
			return err
		}
		setDeadline(time.Now().Add(5 * time.Millisecond))
		ok, err := acked()
		if ok {
			return nil
		}
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
	}
	return errors.New("udpio bench: receiver never acknowledged the end marker")
}

// TestVethPeer is one side of the vethbench.sh comparison, run inside a
// network namespace. It skips unless SKIFF_VETH_ROLE is set:
//
//	SKIFF_VETH_ROLE  recv | send
//	SKIFF_VETH_MODE  udpio | plain
//	SKIFF_VETH_ADDR  recv: address to listen on; send: the receiver's address
//	SKIFF_VETH_BYTES bytes to send (default 1 GiB)
//
// The receiver prints "READY" once bound, and at the end one line
// "RESULT mode=... bytes=... seconds=... gbit/s=...", timed from its first
// datagram to the end marker.
func TestVethPeer(t *testing.T) {
	role := os.Getenv("SKIFF_VETH_ROLE")
	if role == "" {
		t.Skip("SKIFF_VETH_ROLE not set: run by vethbench.sh")
	}
	mode := os.Getenv("SKIFF_VETH_MODE")
	addr := netip.MustParseAddrPort(os.Getenv("SKIFF_VETH_ADDR"))
	volume := int64(1 << 30)
	if v := os.Getenv("SKIFF_VETH_BYTES"); v != "" {
		var err error
		if volume, err = strconv.ParseInt(v, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	batches := int((volume + benchSegments*benchDatagram - 1) / (benchSegments * benchDatagram))
	opts := Options{ReadBuffer: benchBuffer, WriteBuffer: benchBuffer}
	switch role + "/" + mode {
	case "recv/udpio":
		c, err := Listen("udp4", addr, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Printf("READY %+v\n", c.Capabilities())
		reportVeth(t, mode, receiveUdpio(c))
	case "recv/plain":
		c := listenPlain(t, addr.String())
		defer c.Close()
		fmt.Println("READY")
		reportVeth(t, mode, receivePlain(c))
	case "send/udpio":
		c, err := Listen("udp4", netip.AddrPortFrom(netip.IPv4Unspecified(), 0), opts)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := sendUdpio(c, addr)(batches); err != nil {
			t.Fatal(err)
		}
	case "send/plain":
		c := listenPlain(t, "0.0.0.0:0")
		defer c.Close()
		if err := sendPlain(c, addr)(batches); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("SKIFF_VETH_ROLE=%q SKIFF_VETH_MODE=%q", role, mode)
	}
}

// reportVeth times the transfer from the first batch received to the end
// marker: the receiver is started first and waits for the sender.
func reportVeth(t *testing.T, mode string, receive func() (int64, time.Time, error)) {
	n, first, err := receive()
	if err != nil {
		t.Fatal(err)
	}
	sec := time.Since(first).Seconds()
	fmt.Printf("RESULT mode=%s bytes=%d seconds=%.3f gbit/s=%.2f\n", mode, n, sec, float64(n)*8/sec/1e9)
}
