package streambuf

import (
	"bytes"
	"testing"
	"time"
)

// window is the stream window a server advertises by default (quic.Config's
// InitialStreamWindow): the most out-of-order data a peer may send.
const window = 512 << 10

// gappedOffsets lists the offsets of 1-byte frames covering [0, window):
// first every even offset (leaving a 1-byte gap after each), then every
// odd one, which fills the gaps; in ascending or in reverse order.
func gappedOffsets(reverse bool) []uint64 {
	offs := make([]uint64, 0, window)
	for pass := range uint64(2) {
		for i := uint64(0); i < window/2; i++ {
			off := 2*i + pass
			if reverse {
				off = window - 2 - 2*i + pass
			}
			offs = append(offs, off)
		}
	}
	return offs
}

// reassemble writes the frames at offs into a fresh Recv and reads the
// stream whole, checking the bytes. It returns the Recv's work count, the
// most storage it held, and the time it took.
func reassemble(t testing.TB, offs []uint64, src []byte) (work uint64, held int, took time.Duration) {
	var r Recv
	start := time.Now()
	for i, off := range offs {
		if _, err := r.Write(off, src[off:off+1], off == window-1); err != nil {
			t.Fatal(err)
		}
		if i%4096 == 0 {
			held = max(held, r.Held())
		}
	}
	took = time.Since(start)
	held = max(held, r.Held())
	got := make([]byte, 0, window)
	var buf [8192]byte
	for {
		n, eof := r.Read(buf[:])
		got = append(got, buf[:n]...)
		if eof || n == 0 {
			break
		}
	}
	if !bytes.Equal(got, src) {
		t.Fatalf("read %d bytes that differ from the %d written", len(got), len(src))
	}
	return r.work, held, took
}

// TestReassemblyCostIndependentOfOrder: 1-byte frames with 1-byte gaps
// across a full window (RFC 9000 §21.7) cost the same in reverse offset
// order as in ascending order, and hold no more than the window plus its
// bitmaps. The work counted is the bitmap words marked and scanned, the
// only part of a Write that depends on what was received before; the
// times are printed, not asserted (TestOutOfOrderStreamDataCost in
// quic/internal/conn bounds them through the connection).
func TestReassemblyCostIndependentOfOrder(t *testing.T) {
	src := make([]byte, window)
	for i := range src {
		src[i] = byte(i*7 + i>>9)
	}
	aw, ah, at := reassemble(t, gappedOffsets(false), src)
	rw, rh, rt := reassemble(t, gappedOffsets(true), src)
	t.Logf("%d 1-byte frames: ascending %d words, %d bytes held, %v; reverse %d words, %d bytes held, %v (%.2f×)",
		window, aw, ah, at, rw, rh, rt, float64(rt)/float64(at))
	if rw > 2*aw {
		t.Errorf("reverse order did %d units of work, ascending %d: over 2×", rw, aw)
	}
	// Each frame marks or scans at most a word or two.
	if aw > 2*window || rw > 2*window {
		t.Errorf("work %d and %d for %d frames", aw, rw, window)
	}
	const bound = window + window/8 + ChunkSize
	if ah > bound || rh > bound {
		t.Errorf("held %d and %d bytes, over the window plus bitmaps (%d)", ah, rh, bound)
	}
}

func BenchmarkReassembly(b *testing.B) {
	src := make([]byte, window)
	for _, order := range []struct {
		name    string
		reverse bool
	}{{"ascending", false}, {"reverse", true}} {
		offs := gappedOffsets(order.reverse)
		b.Run(order.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(window)
			for b.Loop() {
				reassemble(b, offs, src)
			}
		})
	}
}

// TestSmallStreamsHoldLittle: a stream with a byte buffered holds a small
// buffer, not a 16 KiB chunk, on either side; and one that grows gets the
// full size without losing a byte.
func TestSmallStreamsHoldLittle(t *testing.T) {
	const streams = 100
	var sends [streams]SendPart
	var recvs [streams]RecvPart
	total := 0
	for i := range streams {
		if n, st, _ := sends[i].Write([]byte{byte(i)}, 1<<20, 1<<20); n != 1 || st != OK {
			t.Fatalf("write: %d %v", n, st)
		}
		recvs[i].Init(1 << 20)
		if _, err := recvs[i].Write(0, []byte{byte(i)}, false); err != nil {
			t.Fatal(err)
		}
		total += sends[i].data.held() + recvs[i].Held()
	}
	t.Logf("%d one-byte streams, both sides: %d bytes of buffers", streams, total)
	if total > 2*streams*sizeTiny {
		t.Fatalf("%d one-byte streams hold %d bytes, want at most %d", streams, total, 2*streams*sizeTiny)
	}

	// Growing through every size keeps the bytes.
	var sp SendPart
	var r Recv
	var want []byte
	for i := range 40 {
		piece := bytes.Repeat([]byte{byte(i)}, 1+i*37)
		if n, _, _ := sp.Write(piece, 1<<20, 1<<20); n != len(piece) {
			t.Fatalf("short write %d", n)
		}
		want = append(want, piece...)
	}
	for off := uint64(0); off < uint64(len(want)); {
		n := int(min(1000, chunkEnd(off)-off, uint64(len(want))-off))
		b, _, _ := sp.Slice(off, n)
		if _, err := r.Write(off, b, false); err != nil {
			t.Fatal(err)
		}
		off += uint64(n)
	}
	got := make([]byte, len(want))
	if n, _ := r.Read(got); n != len(want) || !bytes.Equal(got, want) {
		t.Fatalf("read %d of %d bytes, equal %v", n, len(want), bytes.Equal(got[:n], want[:n]))
	}
}
