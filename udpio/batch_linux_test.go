package udpio

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCapabilities(t *testing.T) {
	c := listenT(t, "udp4", "127.0.0.1:0", Options{ReadBuffer: 1 << 20, WriteBuffer: 1 << 20})
	caps := c.Capabilities()
	t.Logf("capabilities: %+v", caps)
	if !caps.Batch || !caps.ECN || !caps.DontFragment {
		t.Errorf("Linux Conn lacks batch, ECN or DF: %+v", caps)
	}
	if caps.PacketInfo {
		t.Error("packet info on a socket bound to one address")
	}
	// Linux reports twice the accounted size; it grants at least a little.
	if caps.ReadBuffer < 1<<20 || caps.WriteBuffer < 1<<20 {
		t.Errorf("buffers granted %d/%d, asked 1 MiB", caps.ReadBuffer, caps.WriteBuffer)
	}
}

func TestEnvironmentSwitches(t *testing.T) {
	t.Setenv("SKIFF_DISABLE_GSO", "1")
	t.Setenv("SKIFF_DISABLE_GRO", "1")
	c := listenT(t, "udp4", "127.0.0.1:0", Options{})
	if caps := c.Capabilities(); caps.GSO || caps.GRO || !caps.Batch {
		t.Fatalf("with GSO and GRO disabled: %+v", caps)
	}
}

// mixedBatch builds messages to several destinations: single datagrams of
// assorted sizes, runs of segments, zero-length datagrams. It returns the
// messages and, per destination, the datagrams each must receive in order.
func mixedBatch(dests []netip.AddrPort) ([]Message, map[netip.AddrPort][][]byte) {
	want := map[netip.AddrPort][][]byte{}
	var msgs []Message
	id := 0
	for round := range 6 {
		for _, d := range dests {
			switch round % 3 {
			case 0: // one datagram
				p := payload(id, 100+37*round)
				id++
				msgs = append(msgs, Message{Buf: p, N: len(p), Addr: d})
				want[d] = append(want[d], p)
			case 1: // a run: 50 segments of 1200 bytes and a short one
				var run []byte
				for range 50 {
					p := payload(id, 1200)
					id++
					run = append(run, p...)
					want[d] = append(want[d], p)
				}
				last := payload(id, 77)
				id++
				run = append(run, last...)
				want[d] = append(want[d], last)
				// Spare capacity beyond N must not be sent.
				buf := append(run, "TRAILING"...)
				msgs = append(msgs, Message{Buf: buf, N: len(run), Addr: d, SegmentSize: 1200})
			case 2: // zero-length: sent, and reported as nothing
				msgs = append(msgs, Message{Buf: make([]byte, 10), N: 0, Addr: d})
			}
		}
	}
	return msgs, want
}

func TestWriteBatchMixed(t *testing.T) {
	for _, network := range []string{"udp4", "udp6"} {
		for _, gso := range []bool{true, false} {
			for _, gro := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/gso=%v/gro=%v", network, gso, gro), func(t *testing.T) {
					if network == "udp6" {
						skipNoIPv6(t)
					}
					snd, rcv1 := loopbackPair(t, network, Options{DisableGSO: !gso}, Options{DisableGRO: !gro})
					_, rcv2 := loopbackPair(t, network, Options{}, Options{DisableGRO: !gro})
					if snd.Capabilities().GSO != gso && gso {
						t.Skip("kernel without UDP_SEGMENT")
					}
					msgs, want := mixedBatch([]netip.AddrPort{rcv1.LocalAddr(), rcv2.LocalAddr()})
					n, err := snd.WriteBatch(msgs)
					if err != nil || n != len(msgs) {
						t.Fatalf("WriteBatch = %d, %v; want %d", n, err, len(msgs))
					}
					for _, rcv := range []*Conn{rcv1, rcv2} {
						w := want[rcv.LocalAddr()]
						gotten := readN(t, rcv, len(w), 64, 0)
						for i, g := range gotten {
							if !bytes.Equal(g.data, w[i]) {
								t.Fatalf("datagram %d: %d bytes %x…, want %d bytes %x…", i, len(g.data), g.data[:min(4, len(g.data))], len(w[i]), w[i][:min(4, len(w[i]))])
							}
							if g.addr != snd.LocalAddr() {
								t.Fatalf("datagram %d from %v, want %v", i, g.addr, snd.LocalAddr())
							}
						}
					}
					if st := rcv1.Stats(); st.Truncated != 0 || st.ControlErrors != 0 {
						t.Errorf("receiver stats %+v", st)
					}
				})
			}
		}
	}
}

// TestGROSplit sends one GSO run and checks the GRO receiver hands the
// segments back whole and in order, coalesced in the caller's buffer.
func TestGROSplit(t *testing.T) {
	for _, network := range []string{"udp4", "udp6"} {
		t.Run(network, func(t *testing.T) {
			if network == "udp6" {
				skipNoIPv6(t)
			}
			snd, rcv := loopbackPair(t, network, Options{}, Options{})
			if !snd.Capabilities().GSO || !rcv.Capabilities().GRO {
				t.Skipf("kernel without GSO/GRO: %+v", rcv.Capabilities())
			}
			const seg, count = 1000, 37
			var run []byte
			var want [][]byte
			for i := range count {
				p := payload(i, seg)
				if i == count-1 {
					p = p[:333]
				}
				run = append(run, p...)
				want = append(want, p)
			}
			if err := snd.WriteSegments(run, seg, rcv.LocalAddr(), ECNECT0, netip.Addr{}); err != nil {
				t.Fatal(err)
			}
			gotten := readN(t, rcv, count, 5, 0)
			coalesced := 0
			for i, g := range gotten {
				if !bytes.Equal(g.data, want[i]) {
					t.Fatalf("segment %d: %d bytes, want %d (content differs: %v)", i, len(g.data), len(want[i]), len(g.data) == len(want[i]))
				}
				if g.addr != snd.LocalAddr() || g.ecn != ECNECT0 {
					t.Fatalf("segment %d from %v ECN %v, want %v ECN %v", i, g.addr, g.ecn, snd.LocalAddr(), ECNECT0)
				}
				if g.seg == seg {
					coalesced++
				}
			}
			// Loopback carries the GSO datagram whole to a GRO socket.
			if coalesced == 0 {
				t.Error("no segment reported as split from a coalesced datagram")
			}
			t.Logf("%d of %d segments came coalesced", coalesced, count)
		})
	}
}

func TestTruncatedDatagramDropped(t *testing.T) {
	for _, gro := range []bool{true, false} {
		t.Run(fmt.Sprintf("gro=%v", gro), func(t *testing.T) {
			snd, rcv := loopbackPair(t, "udp4", Options{}, Options{DisableGRO: !gro})
			big, small := payload(1, 300), payload(2, 50)
			msgs := []Message{
				{Buf: big, N: len(big), Addr: rcv.LocalAddr()},
				{Buf: small, N: len(small), Addr: rcv.LocalAddr()},
			}
			if _, err := snd.WriteBatch(msgs); err != nil {
				t.Fatal(err)
			}
			g := readN(t, rcv, 1, 4, 100)
			if !bytes.Equal(g[0].data, small) {
				t.Fatalf("got %d bytes, want the 50-byte datagram", len(g[0].data))
			}
			if st := rcv.Stats(); st.Truncated != 1 {
				t.Errorf("Truncated = %d, want 1", st.Truncated)
			}
		})
	}
}

// TestGSOFallback makes the kernel refuse GSO for real: with UDP checksums
// off (SO_NO_CHECK) udp_send_skb rejects segmentation with EINVAL, while
// single datagrams still go. Every datagram must arrive, the destination
// must be remembered, and the next run must not try GSO again.
func TestGSOFallback(t *testing.T) {
	snd, rcv := loopbackPair(t, "udp4", Options{}, Options{})
	if !snd.Capabilities().GSO {
		t.Skip("kernel without UDP_SEGMENT")
	}
	rc, err := snd.uc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_NO_CHECK, 1) })
	if serr != nil {
		t.Skipf("SO_NO_CHECK: %v", serr)
	}
	const seg, count = 1200, 20
	run := make([]byte, 0, seg*count)
	for i := range count {
		run = append(run, payload(i, seg)...)
	}
	for round := range 2 {
		if err := snd.WriteSegments(run, seg, rcv.LocalAddr(), ECNNotECT, netip.Addr{}); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		gotten := readN(t, rcv, count, 64, 0)
		for i, g := range gotten {
			if !bytes.Equal(g.data, run[i*seg:(i+1)*seg]) {
				t.Fatalf("round %d datagram %d differs", round, i)
			}
		}
		if st := snd.Stats(); st.GSOFallbacks != 1 {
			t.Fatalf("after round %d: GSOFallbacks = %d, want 1 (refused once, then remembered)", round, st.GSOFallbacks)
		}
	}
	// GSO stays on for other destinations.
	if !snd.Capabilities().GSO {
		t.Error("one refusing destination turned GSO off for the socket")
	}
}

func TestInvalidMessage(t *testing.T) {
	snd, rcv := loopbackPair(t, "udp4", Options{}, Options{})
	msgs := []Message{
		{Buf: []byte("ok"), N: 2, Addr: rcv.LocalAddr()},
		{Buf: []byte("short"), N: 10, Addr: rcv.LocalAddr()},
	}
	n, err := snd.WriteBatch(msgs)
	if n != 1 || err == nil {
		t.Fatalf("WriteBatch = %d, %v; want 1 and an error", n, err)
	}
	g := readN(t, rcv, 1, 1, 100)
	if string(g[0].data) != "ok" {
		t.Fatalf("got %q", g[0].data)
	}
}

// TestLongRuns sends runs longer than one GSO entry (64 segments, 65,507
// bytes) and batches of more messages than one sendmmsg carries, with and
// without GSO, and checks every datagram arrives whole and in order.
func TestLongRuns(t *testing.T) {
	for _, gso := range []bool{true, false} {
		t.Run(fmt.Sprintf("gso=%v", gso), func(t *testing.T) {
			snd, rcv := loopbackPair(t, "udp4", Options{DisableGSO: !gso}, Options{})
			const seg, segs = 1452, 150
			var run []byte
			var want [][]byte
			for i := range segs {
				p := payload(i, seg)
				run = append(run, p...)
				want = append(want, p)
			}
			msgs := []Message{{Buf: run, N: len(run), Addr: rcv.LocalAddr(), SegmentSize: seg}}
			for i := range 2 * MaxBatch {
				p := payload(1000+i, 10+i)
				msgs = append(msgs, Message{Buf: p, N: len(p), Addr: rcv.LocalAddr()})
				want = append(want, p)
			}
			if n, err := snd.WriteBatch(msgs); err != nil || n != len(msgs) {
				t.Fatalf("WriteBatch = %d, %v", n, err)
			}
			gotten := readN(t, rcv, len(want), 64, 0)
			for i, g := range gotten {
				if !bytes.Equal(g.data, want[i]) {
					t.Fatalf("datagram %d: %d bytes, want %d", i, len(g.data), len(want[i]))
				}
			}
		})
	}
}

// TestConcurrentWriters has several goroutines write to one Conn at once
// (the QUIC connections sharing a socket) while one reads.
func TestConcurrentWriters(t *testing.T) {
	snd, rcv := loopbackPair(t, "udp4", Options{}, Options{})
	const writers, runs, segs = 4, 10, 8
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			run := make([]byte, segs*500)
			for i := range segs {
				run[i*500] = byte(w)
			}
			var err error
			for range runs {
				if err = snd.WriteSegments(run, 500, rcv.LocalAddr(), ECNECT0, netip.Addr{}); err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	perWriter := make([]int, writers)
	for _, g := range readN(t, rcv, writers*runs*segs, 64, 0) {
		if len(g.data) != 500 || int(g.data[0]) >= writers {
			t.Fatalf("unexpected datagram of %d bytes", len(g.data))
		}
		perWriter[g.data[0]]++
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for w, n := range perWriter {
		if n != runs*segs {
			t.Errorf("writer %d: %d datagrams, want %d", w, n, runs*segs)
		}
	}
}

// TestNoGSODestinationLimit: past maxNoGSODests refusing destinations, GSO
// goes off for the whole socket instead of the list growing.
func TestNoGSODestinationLimit(t *testing.T) {
	c := listenT(t, "udp4", "127.0.0.1:0", Options{})
	if !c.Capabilities().GSO {
		t.Skip("kernel without UDP_SEGMENT")
	}
	for i := range maxNoGSODests {
		c.sys.rememberNoGSO(netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 1, byte(i)}), uint16(i)))
	}
	if !c.Capabilities().GSO || !c.sys.destNoGSO(netip.MustParseAddrPort("127.0.1.5:5")) {
		t.Fatal("destinations not remembered")
	}
	c.sys.rememberNoGSO(netip.MustParseAddrPort("127.0.2.1:1"))
	if c.Capabilities().GSO {
		t.Fatal("GSO still on after too many refusing destinations")
	}
	if len(c.sys.noGSO) != maxNoGSODests {
		t.Fatalf("%d destinations kept", len(c.sys.noGSO))
	}
}
