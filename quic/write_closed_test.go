package quic

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/skiffnet/skiff/internal/netsim"
)

// TestSimWriteAfterConnEnded checks that a stream's Write fails once its
// connection has ended, by either side, rather than take data into a
// buffer nothing will send while the buffer has room.
func TestSimWriteAfterConnEnded(t *testing.T) {
	for _, who := range []string{"local", "peer"} {
		t.Run(who, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
				defer cancel()
				sn := newSimNet(t, netsim.Impairment{}, 5)
				client, server := sn.connect(t, ctx)
				s, err := client.OpenStream(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.Write([]byte("before")); err != nil {
					t.Fatalf("Write on a live connection: %v", err)
				}
				if who == "local" {
					client.CloseWithError(7, "done")
				} else {
					server.CloseWithError(7, "done")
				}
				<-client.Context().Done()
				n, err := s.Write([]byte("after"))
				var ae *ApplicationError
				if n != 0 || !errors.As(err, &ae) || ae.Code != 7 {
					t.Fatalf("Write after the connection ended took %d bytes with error %v, want 0 and application error 7", n, err)
				}
			})
		})
	}
}
