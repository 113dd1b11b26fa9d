package streambuf

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"testing"
)

type frame struct {
	off  uint64
	data []byte
	fin  bool
}

// TestTransferOverLossyPath moves a stream through a path that loses,
// reorders and duplicates frames, with acknowledgements that are themselves
// late, and checks that the receiver reads exactly the bytes written. With
// odd seeds the frames come in datagrams the receiver may hold
// (WriteHeld), overwritten once released, and now and then it copies what
// it holds (Unhold); every datagram must be released in the end.
func TestTransferOverLossyPath(t *testing.T) {
	totalHolds := 0
	defer func() {
		if totalHolds == 0 {
			t.Error("no frame was ever held")
		}
	}()
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 7))
		held := seed%2 == 1
		var budget HoldBudget
		var datagrams []*testDatagram
		var rv Recv
		write := func(f frame) error {
			if !held {
				_, err := rv.Write(f.off, f.data, f.fin)
				return err
			}
			d := newTestDatagram(f.data)
			datagrams = append(datagrams, d)
			_, err := rv.WriteHeld(f.off, d.b, f.fin, d, &budget)
			d.drop()
			if r.IntN(50) == 0 {
				rv.Unhold()
			}
			return err
		}
		size := 1 + r.IntN(200_000)
		src := make([]byte, size)
		for i := range src {
			src[i] = byte(r.Uint32())
		}
		var s Send
		// Write in random pieces, interleaved with sending.
		written := 0
		var inflight []frame
		var got bytes.Buffer
		limit := uint64(0)
		for step := 0; ; step++ {
			if step > 1_000_000 {
				t.Fatalf("seed %d: no progress", seed)
			}
			if written < size && r.IntN(3) == 0 {
				n := min(size-written, 1+r.IntN(5000))
				s.Write(src[written : written+n])
				written += n
				if written == size {
					s.Close()
				}
			}
			// The receiver's flow-control window advances as it reads.
			limit = rv.ReadOffset() + 64<<10
			if off, data, fin, ok := s.Next(1+r.IntN(1400), limit); ok {
				inflight = append(inflight, frame{off, bytes.Clone(data), fin})
			}
			if len(inflight) > 0 && r.IntN(2) == 0 {
				i := r.IntN(len(inflight))
				if held && r.IntN(4) != 0 {
					i = 0 // mostly in order: data is held only in order
				}
				f := inflight[i]
				inflight = append(inflight[:i], inflight[i+1:]...)
				switch x := r.IntN(10); {
				case x == 0: // lost
					s.OnLost(f.off, uint64(len(f.data)), f.fin)
				case x == 1: // delivered, ack lost, then declared lost too
					if err := write(f); err != nil {
						t.Fatalf("seed %d: %v", seed, err)
					}
					s.OnLost(f.off, uint64(len(f.data)), f.fin)
				default: // delivered (sometimes twice) and acknowledged
					for range 1 + r.IntN(2) {
						if err := write(f); err != nil {
							t.Fatalf("seed %d: %v", seed, err)
						}
					}
					s.OnAck(f.off, uint64(len(f.data)), f.fin)
				}
			}
			var buf [3000]byte
			n, eof := rv.Read(buf[:r.IntN(len(buf))])
			got.Write(buf[:n])
			if eof && s.AllAcked() {
				break
			}
		}
		if sha256.Sum256(got.Bytes()) != sha256.Sum256(src) {
			t.Fatalf("seed %d: received %d bytes that differ from the %d sent", seed, got.Len(), size)
		}
		if s.Buffered() != 0 {
			t.Fatalf("seed %d: %d bytes still buffered after all were acked", seed, s.Buffered())
		}
		holds := 0
		for i, d := range datagrams {
			holds += int(d.holds.Load())
			if d.refs.Load() != 0 {
				t.Fatalf("seed %d: datagram %d still referenced after everything was read", seed, i)
			}
		}
		totalHolds += holds
		if budget.Held() != 0 {
			t.Fatalf("seed %d: %d bytes still counted as pinned", seed, budget.Held())
		}
	}
}

func TestFinalSizeRules(t *testing.T) {
	// RFC 9000 §4.5.
	var r Recv
	if _, err := r.Write(0, make([]byte, 100), false); err != nil {
		t.Fatal(err)
	}
	if err := r.SetFinalSize(50); !errors.Is(err, ErrFinalSize) {
		t.Fatalf("final size below received data: %v", err)
	}
	if _, err := r.Write(100, make([]byte, 10), true); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Write(105, make([]byte, 10), false); !errors.Is(err, ErrFinalSize) {
		t.Fatalf("data beyond the final size: %v", err)
	}
	if _, err := r.Write(0, nil, true); !errors.Is(err, ErrFinalSize) {
		t.Fatalf("changed final size: %v", err)
	}
	if err := r.SetFinalSize(110); err != nil {
		t.Fatalf("same final size again: %v", err)
	}
}

func TestFlowControlAccounting(t *testing.T) {
	var r Recv
	adv, _ := r.Write(1000, make([]byte, 500), false)
	if adv != 1500 {
		t.Fatalf("advanced %d, want 1500", adv)
	}
	adv, _ = r.Write(0, make([]byte, 1000), false)
	if adv != 0 {
		t.Fatalf("filling a gap advanced %d, want 0", adv)
	}
	if r.Readable() != 1500 {
		t.Fatalf("readable %d, want 1500", r.Readable())
	}
}

func TestSteadyStateDoesNotAllocate(t *testing.T) {
	var s Send
	var r Recv
	payload := make([]byte, 1200)
	out := make([]byte, 1200)
	step := func() {
		s.Write(payload)
		for {
			off, data, fin, ok := s.Next(1200, 1<<62)
			if !ok {
				break
			}
			if _, err := r.Write(off, data, fin); err != nil {
				t.Fatal(err)
			}
			s.OnAck(off, uint64(len(data)), fin)
		}
		for r.Readable() > 0 {
			r.Read(out)
		}
	}
	for range 100 { // warm the pool and the slices
		step()
	}
	if a := testing.AllocsPerRun(1000, step); a != 0 {
		t.Fatalf("steady state allocates %v per packet", a)
	}
}

func FuzzRecvWrites(f *testing.F) {
	f.Add([]byte{0, 10, 0, 5, 3, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		var r Recv
		want := make([]byte, 1<<16)
		for i := range want {
			want[i] = byte(i * 7)
		}
		got := make([]bool, len(want)) // bytes received, as a model
		for i := 0; i+2 < len(ops); i += 3 {
			// Offsets across four chunks, lengths up to a quarter of one.
			off := uint64(ops[i])<<8 | uint64(ops[i+2]&0xf0)
			n := uint64(ops[i+1]) << 4
			fin := ops[i+2]&1 == 1
			if off+n > uint64(len(want)) {
				continue
			}
			_, err := r.Write(off, want[off:off+n], fin)
			if err != nil && !errors.Is(err, ErrFinalSize) {
				t.Fatal(err)
			}
			if err == nil {
				for j := off; j < off+n; j++ {
					got[j] = true
				}
			}
			// The reassembly's in-order run matches a byte-by-byte model.
			run := r.ReadOffset()
			for run < uint64(len(got)) && got[run] {
				run++
			}
			if r.Readable() != run-r.ReadOffset() {
				t.Fatalf("readable %d, model %d", r.Readable(), run-r.ReadOffset())
			}
			if ops[i+2]&2 == 2 {
				var buf [5000]byte
				start := r.ReadOffset()
				n, _ := r.Read(buf[:])
				if !bytes.Equal(buf[:n], want[start:start+uint64(n)]) {
					t.Fatalf("read wrong bytes at %d", start)
				}
			}
		}
	})
}

func BenchmarkSendRecv1200(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(1200)
	var s Send
	var r Recv
	payload := make([]byte, 1200)
	out := make([]byte, 1200)
	for b.Loop() {
		s.Write(payload)
		for {
			off, data, fin, ok := s.Next(1200, 1<<62)
			if !ok {
				break
			}
			r.Write(off, data, fin)
			s.OnAck(off, uint64(len(data)), fin)
		}
		for r.Readable() > 0 {
			r.Read(out)
		}
	}
}

// SkipTo brings back a drained stream whose state was let go: a Send goes
// on at the offset with nothing to send, a Recv takes data from there and
// ignores what came before.
func TestSkipTo(t *testing.T) {
	var s Send
	s.SkipTo(100)
	if s.HasData(1<<62) || s.Buffered() != 0 || s.Written() != 100 {
		t.Fatalf("a Send skipped to 100 has data: buffered %d, written %d", s.Buffered(), s.Written())
	}
	s.Write([]byte("more"))
	if off, data, _, ok := s.Next(100, 1<<62); !ok || off != 100 || string(data) != "more" {
		t.Fatalf("Next = %d %q %v, want 100 \"more\"", off, data, ok)
	}
	var r Recv
	r.SkipTo(100)
	if !r.Drained() {
		t.Fatal("a Recv skipped to 100 is not drained")
	}
	if _, err := r.Write(90, []byte("old bytes!"), false); err != nil || r.Readable() != 0 {
		t.Fatalf("old data: %v, %d readable", err, r.Readable())
	}
	if _, err := r.Write(104, []byte("late"), false); err != nil || r.Drained() {
		t.Fatalf("out-of-order data: %v, drained %v", err, r.Drained())
	}
	r.Write(100, []byte("new "), false)
	buf := make([]byte, 16)
	if n, _ := r.Read(buf); string(buf[:n]) != "new late" || !r.Drained() {
		t.Fatalf("read %q, drained %v", buf[:n], r.Drained())
	}
}
