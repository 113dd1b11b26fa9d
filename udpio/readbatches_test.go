package udpio

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"
)

// TestReadBatches: rounds of datagrams, each sent only after the reader
// took the whole previous one (so each round finds the socket's queue
// emptied by the last batch), all arrive through one ReadBatches, in order
// and intact; handle returning false ends it with nil, and a closed socket
// ends it with net.ErrClosed.
func TestReadBatches(t *testing.T) {
	for _, portable := range []bool{false, true} {
		t.Run(map[bool]string{false: "native", true: "portable"}[portable], func(t *testing.T) {
			snd, rcv := loopbackPair(t, "udp4", Options{Portable: portable}, Options{Portable: portable})
			// A stuck reader fails the test instead of hanging it.
			rcv.SetReadDeadline(time.Now().Add(time.Minute))
			const rounds, perRound, size = 5, 7, 300
			msgs := make([]Message, 4)
			for i := range msgs {
				msgs[i].Buf = make([]byte, GROBufferSize)
			}
			var got [][]byte
			roundDone := make(chan struct{})
			errc := make(chan error, 1)
			go func() {
				errc <- rcv.ReadBatches(msgs, func(n int) bool {
					for i := range msgs[:n] {
						for d := range msgs[i].Datagrams {
							got = append(got, append([]byte(nil), d...))
						}
					}
					if len(got)%perRound == 0 {
						roundDone <- struct{}{}
						return len(got) < rounds*perRound
					}
					return true
				})
			}()
			for r := range rounds {
				for i := range perRound {
					m := []Message{{Buf: payload(r*perRound+i, size), N: size, Addr: rcv.LocalAddr()}}
					if _, err := snd.WriteBatch(m); err != nil {
						t.Fatal(err)
					}
				}
				select {
				case <-roundDone:
				case err := <-errc:
					t.Fatalf("round %d: ReadBatches returned %v after %d datagrams", r, err, len(got))
				}
			}
			if err := <-errc; err != nil {
				t.Fatalf("ReadBatches returned %v after handle said stop", err)
			}
			for i, g := range got {
				if !bytes.Equal(g, payload(i, size)) {
					t.Fatalf("datagram %d differs", i)
				}
			}

			go func() { errc <- rcv.ReadBatches(msgs, func(int) bool { return true }) }()
			rcv.Close()
			if err := <-errc; !errors.Is(err, net.ErrClosed) {
				t.Fatalf("ReadBatches on a closed socket: %v, want net.ErrClosed", err)
			}
		})
	}
}
