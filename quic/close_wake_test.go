package quic

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
)

// TestBlockedReadWakesOnPeerClose: a Read blocked on a stream returns the
// peer's error as soon as its CONNECTION_CLOSE arrives, not after the
// draining period (three PTOs); the Context is canceled at the same moment.
func TestBlockedReadWakesOnPeerClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		const oneWay = 20 * time.Millisecond
		sn := newSimNet(t, netsim.Impairment{Delay: oneWay}, 5)
		client, server := sn.connect(t, ctx)
		s, err := client.OpenStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() {
			_, err := s.Read(make([]byte, 10))
			errc <- err
		}()
		synctest.Wait()
		start := time.Now()
		server.CloseWithError(0x105, "bye")
		err = <-errc
		if el := time.Since(start); el > 2*oneWay {
			t.Errorf("Read returned %v after the close was sent, want one one-way delay (%v)", el, oneWay)
		}
		var ae *ApplicationError
		if !errors.As(err, &ae) || ae.Code != 0x105 || !ae.Remote {
			t.Fatalf("Read: %v, want the peer's application error 0x105", err)
		}
		select {
		case <-client.Context().Done():
		default:
			t.Fatal("the client's Context is not done when its streams report the close")
		}
	})
}
