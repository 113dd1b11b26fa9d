package h3

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/qpack"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// rawServer accepts one connection and answers its first request stream
// with the bytes respond returns, then waits for the connection to end
// and reports how it ended. Later connections are closed at once.
func rawServer(t *testing.T, ctx context.Context, respond func(*quic.Stream) []byte) (url string, closed <-chan error) {
	return rawServerSetup(t, ctx, nil, respond)
}

// rawServerSetup is rawServer that first calls setup with the connection.
func rawServerSetup(t *testing.T, ctx context.Context, setup func(*quic.Conn), respond func(*quic.Stream) []byte) (url string, closed <-chan error) {
	return rawServerConfig(t, ctx, &quic.Config{}, setup, respond)
}

// rawServerConfig is rawServerSetup with the server's quic configuration
// (its TLS field is set here).
func rawServerConfig(t *testing.T, ctx context.Context, conf *quic.Config, setup func(*quic.Conn), respond func(*quic.Stream) []byte) (url string, closed <-chan error) {
	t.Helper()
	cert, _ := testCertificate(t)
	conf.TLS = &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{NextProtoH3}}
	ln, err := quic.Listen("udp", "127.0.0.1:0", conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	done := make(chan error, 1)
	go func() {
		qc, err := ln.Accept(ctx)
		if err != nil {
			done <- err
			return
		}
		// A client whose first connection failed before its request went
		// out tries the request again on a new one (RFC 9114 §4.1.1,
		// h3Client.roundTrip): refuse those at once, or the request
		// would wait on them until ctx's deadline.
		go func() {
			for {
				other, err := ln.Accept(ctx)
				if err != nil {
					return
				}
				other.CloseWithError(uint64(ErrCodeNoError), "one connection per test")
			}
		}()
		if setup != nil {
			setup(qc)
		}
		s, err := qc.AcceptStream(ctx)
		if err != nil {
			done <- err
			return
		}
		s.Write(respond(s))
		s.Close()
		_, err = qc.AcceptStream(ctx) // until the connection ends
		done <- err
	}()
	return "https://" + ln.Addr().String() + "/", done
}

func statusSection(fields ...string) []byte {
	var enc qpack.Encoder
	var hf []qpack.HeaderField
	for i := 0; i+1 < len(fields); i += 2 {
		hf = append(hf, qpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return frame.AppendHeaders(nil, enc.EncodeFieldSection(nil, 0, hf))
}

func TestClientRejectsBadResponses(t *testing.T) {
	cases := []struct {
		name     string
		response []byte
		connCode ErrCode // the code the client closes the connection with, or 0
	}{
		{"DATA before HEADERS", frame.AppendData(nil, []byte("x")), ErrCodeFrameUnexpected},
		{"missing :status", statusSection("content-type", "text/plain"), 0},
		{"101 response", statusSection(":status", "101"), 0},
		{"PUSH_PROMISE", frame.AppendPushPromise(nil, 0, nil), ErrCodeIDError},
		{"HTTP/2 frame type", frame.AppendFrame(nil, 0x02, []byte{0}), ErrCodeFrameUnexpected},
		{"content-length mismatch", append(statusSection(":status", "200", "content-length", "5"), frame.AppendData(nil, []byte("abc"))...), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			url, closed := rawServer(t, ctx, func(s *quic.Stream) []byte { return tc.response })
			_, pool := testCertificate(t)
			tr := &Transport{Mode: ModeHTTP3Only, TLSClientConfig: &tls13.Config{RootCAs: pool}}
			defer tr.CloseIdleConnections()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			resp, err := tr.RoundTrip(req)
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if err == nil {
				t.Fatal("malformed response accepted")
			}
			if tc.connCode == 0 {
				return
			}
			var ae *quic.ApplicationError
			if cerr := <-closed; !errors.As(cerr, &ae) || ErrCode(ae.Code) != tc.connCode {
				t.Errorf("connection closed with %v, want %v", cerr, tc.connCode)
			}
		})
	}
}

// TestClientControlStreamErrors: the server's control stream is checked
// like the client's (RFC 9114 §6.2.1, §7.2.6).
func TestClientControlStreamErrors(t *testing.T) {
	serverSettings := settingsFrame(frame.Settings{})
	cases := []struct {
		name    string
		control []byte // after the stream type
		// later is written on the control stream once the request has
		// arrived: a GOAWAY that comes before any request may rightly
		// make the client close the idle connection and go elsewhere.
		later []byte
		close bool // end the control stream
		want  ErrCode
	}{
		{"control stream closed", serverSettings, nil, true, ErrCodeClosedCriticalStream},
		{"GOAWAY with a server stream ID", append(serverSettings, frame.AppendGoAway(nil, 1)...), nil, false, ErrCodeIDError},
		{"GOAWAY ID increased", serverSettings, append(frame.AppendGoAway(nil, 8), frame.AppendGoAway(nil, 12)...), false, ErrCodeIDError},
		{"MAX_PUSH_ID to a client", append(serverSettings, frame.AppendMaxPushID(nil, 1)...), nil, false, ErrCodeFrameUnexpected},
		{"no SETTINGS first", frame.AppendGoAway(nil, 0), nil, false, ErrCodeMissingSettings},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			var conn *quic.Conn
			var control *quic.Stream
			url, closed := rawServerSetup(t, ctx, func(qc *quic.Conn) {
				conn = qc
				s, err := qc.OpenUniStream(ctx)
				if err != nil {
					return
				}
				control = s
				s.Write(append(frame.AppendStreamType(nil, frame.StreamTypeControl), tc.control...))
				if tc.close {
					s.Close()
				}
			}, func(*quic.Stream) []byte {
				if control != nil && tc.later != nil {
					control.Write(tc.later)
				}
				// No response: the client's connection error ends the request.
				<-conn.Context().Done()
				return nil
			})
			_, pool := testCertificate(t)
			tr := &Transport{Mode: ModeHTTP3Only, TLSClientConfig: &tls13.Config{RootCAs: pool}}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if _, err := tr.RoundTrip(req); err == nil {
				t.Error("request succeeded")
			}
			var ae *quic.ApplicationError
			if cerr := <-closed; !errors.As(cerr, &ae) || ErrCode(ae.Code) != tc.want {
				t.Errorf("connection closed with %v, want %v", cerr, tc.want)
			}
		})
	}
}
