package h3

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// TestUnreadDecoderStream (found by make soak): a client that never reads
// the server's QPACK decoder stream, and cancels request after request,
// makes the server write a Stream Cancellation for each (RFC 9204
// §4.4.2). Once the client's flow control stops taking them, the server
// must not block with the connection's lock held (a goroutine per
// request piled up behind it, hundreds of thousands in the soak): the
// goroutines stay few, and once the backlog passes its bound the server
// closes the connection with H3_EXCESSIVE_LOAD.
func TestUnreadDecoderStream(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, okHandler())
	_, pool := testCertificate(t)
	// A small window for the server's streams: the decoder stream fills
	// after a thousand instructions.
	qc, err := quic.Dial(ctx, "udp", e.ln.Addr().String(), &quic.Config{
		TLS:                 &tls13.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{NextProtoH3}},
		InitialStreamWindow: 4 << 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer qc.CloseWithError(0, "")
	base := runtime.NumGoroutine()
	peak, streams := 0, 0
	for ; streams < 40000 && qc.Context().Err() == nil; streams++ {
		octx, cancel := context.WithTimeout(ctx, 5*time.Second)
		s, err := qc.OpenStream(octx)
		cancel()
		if err != nil {
			break
		}
		// The start of a HEADERS frame, then the request is abandoned.
		s.Write([]byte{0x01, 0x40, 100, 0, 0})
		s.Reset(uint64(ErrCodeRequestCancelled))
		s.CloseRead(uint64(ErrCodeRequestCancelled))
		if streams%500 == 0 {
			peak = max(peak, runtime.NumGoroutine()-base)
		}
	}
	select {
	case <-qc.Context().Done():
	case <-ctx.Done():
		t.Fatalf("after %d canceled requests the connection is still open", streams)
	}
	var ae *quic.ApplicationError
	_, err = qc.OpenStream(ctx) // the connection's error
	if !errors.As(err, &ae) || ae.Code != uint64(ErrCodeExcessiveLoad) {
		t.Fatalf("the connection ended with %v, want H3_EXCESSIVE_LOAD", err)
	}
	t.Logf("closed with H3_EXCESSIVE_LOAD after %d canceled requests; at most %d goroutines above the start", streams, peak)
	if peak > 1000 {
		t.Fatalf("%d goroutines above the start while the decoder stream was full", peak)
	}
}

// TestUnreadControlStream: a server that never reads the client's control
// stream, while a request is in flight whose priority the application
// keeps changing (each change a PRIORITY_UPDATE, RFC 9218 §7), must not
// make RequestPriority.Set block once the stream's flow control credit is
// spent: every Set returns, and once the backlog passes its bound the
// client closes the connection with H3_EXCESSIVE_LOAD.
func TestUnreadControlStream(t *testing.T) {
	ctx := testContext(t)
	release := make(chan struct{})
	defer close(release)
	conf := &quic.Config{InitialStreamWindow: 4 << 10, MaxStreamWindow: 4 << 10}
	url, _ := rawServerConfig(t, ctx, conf, func(qc *quic.Conn) {
		s, err := qc.OpenUniStream(ctx)
		if err == nil {
			s.Write(append(frame.AppendStreamType(nil, frame.StreamTypeControl), settingsFrame(frame.Settings{})...))
		}
	}, func(s *quic.Stream) []byte {
		// The response's header, and a body that does not end: the
		// request stays in flight.
		s.Write(statusSection(":status", "200"))
		<-release
		return nil
	})
	_, pool := testCertificate(t)
	tr := &Transport{Mode: ModeHTTP3Only, TLSClientConfig: &tls13.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	rp := NewRequestPriority(Priority{Urgency: 1})
	req, _ := http.NewRequestWithContext(WithPriority(ctx, rp), http.MethodGet, url, nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ended := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(resp.Body)
		ended <- err
	}()
	// Each update is 8 bytes: the 4 KiB window and the stream's 64 KiB
	// send cushion take some 8,700, the backlog 8,000 more (what the
	// backlog's goroutine is writing counts in it), 16,900 in all.
	check := func(err error, sets int) {
		var ae *quic.ApplicationError
		if !errors.As(err, &ae) || ErrCode(ae.Code) != ErrCodeExcessiveLoad {
			t.Fatalf("the response ended with %v after %d changes, want H3_EXCESSIVE_LOAD", err, sets)
		}
		t.Logf("closed with H3_EXCESSIVE_LOAD after %d priority changes", sets)
	}
	for sets := 0; sets < 20000; sets++ {
		select {
		case err := <-ended:
			check(err, sets)
			return
		default:
		}
		rp.Set(Priority{Urgency: uint8(sets % 2)})
	}
	select {
	case err := <-ended:
		check(err, 20000)
	case <-ctx.Done():
		t.Fatal("20000 priority changes on an unread control stream and the connection is still open")
	}
}
