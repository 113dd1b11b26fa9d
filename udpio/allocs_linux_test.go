package udpio

import (
	"fmt"
	"testing"
)

// TestSteadyStateAllocs guards the packet path: once warm, sending a batch
// (with and without GSO) and reading it back (with and without GRO) must
// not allocate.
func TestSteadyStateAllocs(t *testing.T) {
	for _, off := range []bool{false, true} {
		t.Run(fmt.Sprintf("offload-off=%v", off), func(t *testing.T) {
			opts := Options{DisableGSO: off, DisableGRO: off}
			snd, rcv := loopbackPair(t, "udp4", opts, opts)
			const seg, count = 1200, 16
			run := make([]byte, seg*count)
			out := []Message{
				{Buf: run, N: len(run), Addr: rcv.LocalAddr(), SegmentSize: seg, ECN: ECNECT0},
				{Buf: run[:100], N: 100, Addr: rcv.LocalAddr()},
			}
			size := 1500
			if rcv.Capabilities().GRO {
				size = GROBufferSize
			}
			in := make([]Message, 64)
			for i := range in {
				in[i].Buf = make([]byte, size)
			}
			roundTrip := func() {
				if _, err := snd.WriteBatch(out); err != nil {
					t.Fatal(err)
				}
				for n := 0; n < count+1; {
					k, err := rcv.ReadBatch(in)
					if err != nil {
						t.Fatal(err)
					}
					for i := range in[:k] {
						m := &in[i]
						if m.N > 0 {
							n += 1
							if m.SegmentSize > 0 {
								n += (m.N - 1) / m.SegmentSize
							}
						}
					}
				}
			}
			roundTrip()
			if a := testing.AllocsPerRun(50, roundTrip); a != 0 {
				t.Errorf("%.1f allocations per batch round trip, want 0", a)
			}
		})
	}
}
