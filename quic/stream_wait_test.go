package quic

import (
	"context"
	"io"
	"testing"
	"testing/synctest"
	"time"
)

// A stream whose Read reached the end gives its wake-up channel back to
// the connection, and the next stream that waits takes it: one channel
// serves stream after stream, and each of their Reads is still woken when
// its data arrives.
func TestSimWaitChannelReused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, client, server := simPair(t, ctx, nil)
		var first chan struct{}
		for i := range 5 {
			cs, err := client.OpenStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := make(chan []byte, 1)
			go func() {
				// Waits for the server's answer: the stream's read
				// channel is made, or taken from the connection.
				b, err := io.ReadAll(cs)
				if err != nil {
					t.Error(err)
				}
				got <- b
			}()
			synctest.Wait() // the reader waits
			ch, _ := cs.readReady.v.Load().(chan struct{})
			if ch == nil {
				t.Fatalf("stream %d: no read channel while its Read waits", i)
			}
			if i == 0 {
				first = ch
			} else if ch != first {
				t.Errorf("stream %d waits on a new channel, not the one the earlier streams released", i)
			}
			if _, err := cs.Write([]byte("ping")); err != nil {
				t.Fatal(err)
			}
			cs.Close()
			ss, err := server.AcceptStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if b, err := io.ReadAll(ss); err != nil || string(b) != "ping" {
				t.Fatalf("server read %q, %v", b, err)
			}
			ss.Write([]byte("pong"))
			ss.Close()
			if b := <-got; string(b) != "pong" {
				t.Fatalf("stream %d: client read %q", i, b)
			}
			if ch, _ := cs.readReady.v.Load().(chan struct{}); ch != nil {
				t.Errorf("stream %d keeps its read channel after EOF", i)
			}
		}
	})
}

// A waiter woken on a channel its stream released meanwhile (two Reads
// at once on one stream, one of which saw the end) passes the wake-up on
// to the stream that took the channel, which would otherwise miss it.
func TestSignalWokenPassesOn(t *testing.T) {
	var cache waitChans
	var a, b signal
	ch, _ := a.channel(&cache)
	a.release(&cache) // a's other reader saw the end
	if got, _ := b.channel(&cache); got != ch {
		t.Fatal("b did not take the channel a released")
	}
	b.notify()
	<-ch // a's stale waiter took b's wake-up
	a.woken(ch)
	select {
	case <-ch:
	default:
		t.Fatal("the wake-up meant for b was lost")
	}
	// A waiter whose signal still holds the channel passes nothing on.
	b.notify()
	<-ch
	b.woken(ch)
	select {
	case <-ch:
		t.Fatal("a wake-up passed on by the channel's own waiter")
	default:
	}
}
