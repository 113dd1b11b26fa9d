package quicinterop

import (
	"context"
	"crypto/tls"
	"sync"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/qlog"
	"github.com/quic-go/quic-go/qlogwriter"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// ECN with quic-go (RFC 9000 §13.4): each side marks its packets ECT(0)
// and validates the other's ACK frames' ECN counts. skiff's verdict is
// Stats.ECN; quic-go's comes from its qlog events (ecn_state_updated),
// caught by a trace that keeps only those.

// ecnTrace records quic-go's ECN validation states, in order.
type ecnTrace struct {
	mu     sync.Mutex
	states []qlog.ECNState
}

func (t *ecnTrace) AddProducer() qlogwriter.Recorder { return t }
func (t *ecnTrace) Close() error                     { return nil }

func (t *ecnTrace) RecordEvent(e qlogwriter.Event) {
	if ev, ok := e.(qlog.ECNStateUpdated); ok {
		t.mu.Lock()
		t.states = append(t.states, ev.State)
		t.mu.Unlock()
	}
}

func (t *ecnTrace) all() []qlog.ECNState {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]qlog.ECNState(nil), t.states...)
}

func (t *ecnTrace) tracer() func(context.Context, bool, quicgo.ConnectionID) qlogwriter.Trace {
	return func(context.Context, bool, quicgo.ConnectionID) qlogwriter.Trace { return t }
}

// checkECN asserts both verdicts after a transfer: quic-go validated
// skiff's counts and marks went on; skiff validated quic-go's.
func checkECN(t *testing.T, skiff quic.Stats, trace *ecnTrace) {
	t.Helper()
	states := trace.all()
	t.Logf("skiff: ECN %s; quic-go ECN states %v", skiff.ECN, states)
	if skiff.ECN == quic.ECNOff {
		t.Skip("skiff's socket cannot mark here (portable udpio path)")
	}
	if skiff.ECN != quic.ECNCapable {
		t.Errorf("skiff's validation of quic-go's counts: %v, want capable", skiff.ECN)
	}
	if len(states) == 0 {
		t.Skip("quic-go does not use ECN on this socket")
	}
	if last := states[len(states)-1]; last != qlog.ECNStateCapable {
		t.Errorf("quic-go's validation of skiff's counts ends %q, want capable", last)
	}
}

func TestECNSkiffClientQuicGoServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, std, _, skClient := certs(t)
	trace := &ecnTrace{}
	ln, err := quicgo.ListenAddr("127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{std}, NextProtos: []string{alpn}},
		&quicgo.Config{Tracer: trace.tracer()})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	serveAll(ctx, ln.Accept, func(c *quicgo.Conn) func(context.Context) (*quicgo.Stream, error) { return c.AcceptStream })
	conn, err := quic.Dial(ctx, "udp", ln.Addr().String(), &quic.Config{TLS: skClient})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseWithError(0, "")
	s, err := conn.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := runClientStream(s, payload(1, 4<<20), 4<<20); err != nil {
		t.Fatal(err)
	}
	checkECN(t, conn.Stats(), trace)
}

func TestECNQuicGoClientSkiffServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	skCert, _, goClient, _ := certs(t)
	ln, err := quic.Listen("udp", "127.0.0.1:0", &quic.Config{
		TLS: &tls13.Config{Certificates: []tls13.Certificate{skCert}, NextProtos: []string{alpn}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan *quic.Conn, 1)
	serveAll(ctx, func(ctx context.Context) (*quic.Conn, error) {
		c, err := ln.Accept(ctx)
		if err == nil {
			accepted <- c
		}
		return c, err
	}, func(c *quic.Conn) func(context.Context) (*quic.Stream, error) { return c.AcceptStream })
	trace := &ecnTrace{}
	conn, err := quicgo.DialAddr(ctx, ln.Addr().String(), goClient, &quicgo.Config{Tracer: trace.tracer()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseWithError(0, "")
	s, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := runClientStream(s, payload(1, 4<<20), 4<<20); err != nil {
		t.Fatal(err)
	}
	var server *quic.Conn
	select {
	case server = <-accepted:
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	checkECN(t, server.Stats(), trace)
}
