package h3

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/qpack"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// rawClient is a QUIC connection to a test server on which a test writes
// HTTP/3 bytes by hand, to see how the server answers malformed input.
type rawClient struct {
	t   testing.TB
	ctx context.Context
	qc  *quic.Conn
	enc qpack.Encoder // static table only: no SETTINGS from the peer
}

func dialRaw(t testing.TB, ctx context.Context, e *testEnv) *rawClient {
	t.Helper()
	_, pool := testCertificate(t)
	qc, err := quic.Dial(ctx, "udp", e.ln.Addr().String(), &quic.Config{
		TLS: &tls13.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{NextProtoH3}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { qc.CloseWithError(0, "") })
	return &rawClient{t: t, ctx: ctx, qc: qc}
}

// openControl opens the client's control stream and writes b after the
// stream type.
func (c *rawClient) openUni(typ frame.StreamType, b []byte) *quic.Stream {
	c.t.Helper()
	s, err := c.qc.OpenUniStream(c.ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := s.Write(append(frame.AppendStreamType(nil, typ), b...)); err != nil {
		c.t.Fatal(err)
	}
	return s
}

// settingsFrame returns a SETTINGS frame, with no spare capacity so that
// appending to it copies.
func settingsFrame(s frame.Settings) []byte {
	b := frame.AppendSettings(nil, &s)
	return b[:len(b):len(b)]
}

// headersFrame encodes fields (static table and literals only).
func (c *rawClient) headersFrame(fields ...string) []byte {
	var hf []qpack.HeaderField
	for i := 0; i+1 < len(fields); i += 2 {
		hf = append(hf, qpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return frame.AppendHeaders(nil, c.enc.EncodeFieldSection(nil, 0, hf))
}

// getFields are the pseudo-headers of a valid GET.
func getFields(extra ...string) []string {
	return append([]string{":method", "GET", ":scheme", "https", ":authority", "127.0.0.1", ":path", "/"}, extra...)
}

// request opens a request stream, writes b and, if fin, ends it.
func (c *rawClient) request(b []byte, fin bool) *quic.Stream {
	c.t.Helper()
	s, err := c.qc.OpenStream(c.ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := s.Write(b); err != nil {
		c.t.Fatal(err)
	}
	if fin {
		s.Close()
	}
	return s
}

// connectionError waits for the server to close the connection and
// returns the HTTP/3 code it closed it with.
func (c *rawClient) connectionError() ErrCode {
	c.t.Helper()
	_, err := c.qc.AcceptStream(c.ctx)
	var ae *quic.ApplicationError
	if !errors.As(err, &ae) || !ae.Remote {
		c.t.Fatalf("connection did not close with an application error: %v", err)
	}
	return ErrCode(ae.Code)
}

// streamError reads s until the server resets it and returns the code.
func (c *rawClient) streamError(s *quic.Stream) ErrCode {
	c.t.Helper()
	_, err := io.Copy(io.Discard, s)
	var se *quic.StreamError
	if !errors.As(err, &se) || !se.Remote {
		c.t.Fatalf("stream not reset by the server: %v", err)
	}
	return ErrCode(se.Code)
}

// response reads a whole response from s and returns its status.
func (c *rawClient) responseStatus(s *quic.Stream) string {
	c.t.Helper()
	r := frame.NewReader(s)
	f, err := r.Next()
	if err != nil {
		c.t.Fatalf("reading response: %v", err)
	}
	if f.Type != frame.TypeHeaders {
		c.t.Fatalf("response starts with %v", f.Type)
	}
	var d qpack.Decoder
	fields, _, err := d.DecodeFieldSection(s.ID(), f.FieldSection, nil)
	if err != nil || len(fields) == 0 || fields[0].Name != ":status" {
		c.t.Fatalf("response fields %v, %v", fields, err)
	}
	return fields[0].Value
}
