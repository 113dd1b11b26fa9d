package quic

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/skiffnet/skiff/internal/netsim"
)

// TestSimAcceptQueueFullRefuses fills a server's accept queue with
// connections nobody accepts: the next connection to complete its
// handshake is refused with CONNECTION_REFUSED (RFC 9000 §20.1) rather
// than queued, while those in the queue stay open and Accept still
// returns them.
func TestSimAcceptQueueFullRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		sn := newSimNet(t, netsim.Impairment{}, 3)
		queued := make([]*Conn, 0, acceptQueue)
		for range acceptQueue {
			c, err := sn.client.Dial(ctx, serverAddr, sn.clientConfig)
			if err != nil {
				t.Fatal(err)
			}
			queued = append(queued, c)
		}
		synctest.Wait() // the server's side of each has completed too
		extra, err := sn.client.Dial(ctx, serverAddr, sn.clientConfig)
		if err != nil {
			t.Fatal(err)
		}
		<-extra.Context().Done()
		var te *TransportError
		if err := context.Cause(extra.Context()); !errors.As(err, &te) || te.Code != ErrCodeConnectionRefused || !te.Remote {
			t.Fatalf("the connection beyond a full accept queue ended with %v, want the server's CONNECTION_REFUSED", err)
		}
		for i, c := range queued {
			if c.Context().Err() != nil {
				t.Fatalf("queued connection %d ended: %v", i, context.Cause(c.Context()))
			}
		}
		ln := &Listener{e: sn.server}
		for range 3 {
			s, err := ln.Accept(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if s.Context().Err() != nil {
				t.Fatalf("Accept returned an ended connection: %v", context.Cause(s.Context()))
			}
		}
	})
}
