package h3

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/qpack"
	"github.com/skiffnet/skiff/quic"
)

// The H3 server cases of h3spec (../shared/testdata/h3spec-cases.txt,
// cases 35-50), end to end: a raw QUIC client sends the malformed input to
// a running skiff server, and the test checks the connection close code or
// the stream reset code the server answers with.

func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
}

// clientSettings is a valid SETTINGS frame of a client.
var clientSettings = settingsFrame(frame.Settings{QPACKMaxTableCapacity: 0})

func TestH3Spec(t *testing.T) {
	type kind int
	const (
		connErr kind = iota
		streamErr
	)
	cases := []struct {
		n    int
		name string
		send func(c *rawClient) *quic.Stream // returns the request stream for stream errors
		kind kind
		want ErrCode
	}{
		{35, "DATA before HEADERS", func(c *rawClient) *quic.Stream {
			return c.request(frame.AppendData(nil, []byte("x")), true)
		}, connErr, ErrCodeFrameUnexpected},
		{36, "duplicated pseudo-header", func(c *rawClient) *quic.Stream {
			return c.request(c.headersFrame(getFields(":path", "/again")...), true)
		}, streamErr, ErrCodeMessageError},
		{37, "mandatory pseudo-header absent", func(c *rawClient) *quic.Stream {
			return c.request(c.headersFrame(":method", "GET", ":scheme", "https", ":authority", "127.0.0.1"), true)
		}, streamErr, ErrCodeMessageError},
		{38, "prohibited pseudo-header present", func(c *rawClient) *quic.Stream {
			return c.request(c.headersFrame(append(getFields(), ":status", "200")...), true)
		}, streamErr, ErrCodeMessageError},
		{39, "pseudo-header after a regular field", func(c *rawClient) *quic.Stream {
			return c.request(c.headersFrame(":method", "GET", ":scheme", "https", "accept", "*/*", ":authority", "127.0.0.1", ":path", "/"), true)
		}, streamErr, ErrCodeMessageError},
		{40, "first control frame not SETTINGS", func(c *rawClient) *quic.Stream {
			c.openUni(frame.StreamTypeControl, frame.AppendMaxPushID(nil, 1))
			return nil
		}, connErr, ErrCodeMissingSettings},
		{41, "DATA on the control stream", func(c *rawClient) *quic.Stream {
			c.openUni(frame.StreamTypeControl, append(clientSettings, frame.AppendData(nil, []byte("x"))...))
			return nil
		}, connErr, ErrCodeFrameUnexpected},
		{42, "HEADERS on the control stream", func(c *rawClient) *quic.Stream {
			c.openUni(frame.StreamTypeControl, append(clientSettings, c.headersFrame(getFields()...)...))
			return nil
		}, connErr, ErrCodeFrameUnexpected},
		{43, "second SETTINGS", func(c *rawClient) *quic.Stream {
			c.openUni(frame.StreamTypeControl, append(clientSettings, clientSettings...))
			return nil
		}, connErr, ErrCodeFrameUnexpected},
		{44, "duplicate setting identifier", func(c *rawClient) *quic.Stream {
			c.openUni(frame.StreamTypeControl, frame.AppendFrame(nil, frame.TypeSettings, []byte{0x06, 0x10, 0x06, 0x20}))
			return nil
		}, connErr, ErrCodeSettingsError},
		{45, "HTTP/2 setting", func(c *rawClient) *quic.Stream {
			// SETTINGS_ENABLE_PUSH (0x02) is reserved from HTTP/2 (§7.2.4.1).
			c.openUni(frame.StreamTypeControl, frame.AppendFrame(nil, frame.TypeSettings, []byte{0x02, 0x00}))
			return nil
		}, connErr, ErrCodeSettingsError},
		{46, "CANCEL_PUSH on a request stream", func(c *rawClient) *quic.Stream {
			return c.request(append(c.headersFrame(getFields()...), frame.AppendCancelPush(nil, 0)...), false)
		}, connErr, ErrCodeFrameUnexpected},
		{47, "invalid static table index", func(c *rawClient) *quic.Stream {
			// Required Insert Count 0, Base 0, then an indexed field line
			// with static index 63+36 = 99, beyond the 99-entry table.
			return c.request(frame.AppendHeaders(nil, []byte{0x00, 0x00, 0xff, 0x24}), true)
		}, connErr, ErrCode(qpack.ErrCodeDecompressionFailed)},
		{48, "dynamic table capacity above the limit", func(c *rawClient) *quic.Stream {
			// Set Dynamic Table Capacity 4097 (001 prefix, 5-bit integer):
			// the server allows 4096.
			c.openUni(frame.StreamTypeQPACKEncoder, []byte{0x3f, 0xe2, 0x1f})
			return nil
		}, connErr, ErrCode(qpack.ErrCodeEncoderStreamError)},
		{49, "control stream closed", func(c *rawClient) *quic.Stream {
			c.openUni(frame.StreamTypeControl, clientSettings).Close()
			return nil
		}, connErr, ErrCodeClosedCriticalStream},
		{50, "Insert Count Increment of 0", func(c *rawClient) *quic.Stream {
			c.openUni(frame.StreamTypeQPACKDecoder, []byte{0x00})
			return nil
		}, connErr, ErrCode(qpack.ErrCodeDecoderStreamError)},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			ctx := testContext(t)
			e := newTestEnv(t, okHandler())
			c := dialRaw(t, ctx, e)
			s := tc.send(c)
			switch tc.kind {
			case connErr:
				if got := c.connectionError(); got != tc.want {
					t.Errorf("case %d: connection closed with %v, want %v", tc.n, got, tc.want)
				}
			case streamErr:
				if got := c.streamError(s); got != tc.want {
					t.Errorf("case %d: stream reset with %v, want %v", tc.n, got, tc.want)
				}
				// A stream error leaves the connection usable.
				if got := c.responseStatus(c.request(c.headersFrame(getFields()...), true)); got != "200" {
					t.Errorf("case %d: next request got %s", tc.n, got)
				}
			}
		})
	}
}

// More malformed input beyond h3spec's list.
func TestServerRejects(t *testing.T) {
	t.Run("content-length mismatch", func(t *testing.T) {
		ctx := testContext(t)
		readErr := make(chan error, 1)
		e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b := make([]byte, 100)
			_, err := r.Body.Read(b)
			for err == nil {
				_, err = r.Body.Read(b)
			}
			readErr <- err
		}))
		c := dialRaw(t, ctx, e)
		b := c.headersFrame(append(getFields(), "content-length", "10")...)
		s := c.request(append(b, frame.AppendData(nil, []byte("short"))...), true)
		if got := c.streamError(s); got != ErrCodeMessageError {
			t.Errorf("stream reset with %v, want H3_MESSAGE_ERROR", got)
		}
		var fe *frame.Error
		if err := <-readErr; !errors.As(err, &fe) || fe.Code != ErrCodeMessageError {
			t.Errorf("handler's body read failed with %v", err)
		}
	})
	t.Run("stream ends before HEADERS", func(t *testing.T) {
		ctx := testContext(t)
		c := dialRaw(t, ctx, newTestEnv(t, okHandler()))
		if got := c.streamError(c.request(nil, true)); got != ErrCodeRequestIncomplete {
			t.Errorf("stream reset with %v, want H3_REQUEST_INCOMPLETE", got)
		}
	})
	t.Run("second control stream", func(t *testing.T) {
		ctx := testContext(t)
		c := dialRaw(t, ctx, newTestEnv(t, okHandler()))
		c.openUni(frame.StreamTypeControl, clientSettings)
		c.openUni(frame.StreamTypeControl, clientSettings)
		if got := c.connectionError(); got != ErrCodeStreamCreationError {
			t.Errorf("connection closed with %v, want H3_STREAM_CREATION_ERROR", got)
		}
	})
	t.Run("unknown stream type", func(t *testing.T) {
		ctx := testContext(t)
		c := dialRaw(t, ctx, newTestEnv(t, okHandler()))
		s := c.openUni(frame.GreaseStreamType(), []byte("ignored"))
		// §6.2: the server aborts reading with H3_STREAM_CREATION_ERROR;
		// our writes then fail with its STOP_SENDING code.
		var err error
		for err == nil {
			_, err = s.Write(make([]byte, 1024))
		}
		var se *quic.StreamError
		if !errors.As(err, &se) || ErrCode(se.Code) != ErrCodeStreamCreationError {
			t.Errorf("write error %v, want STOP_SENDING with H3_STREAM_CREATION_ERROR", err)
		}
		// The connection is still fine.
		if got := c.responseStatus(c.request(c.headersFrame(getFields()...), true)); got != "200" {
			t.Errorf("request after the unknown stream: %s", got)
		}
	})
	t.Run("push stream from a client", func(t *testing.T) {
		ctx := testContext(t)
		c := dialRaw(t, ctx, newTestEnv(t, okHandler()))
		c.openUni(frame.StreamTypePush, []byte{0x00})
		if got := c.connectionError(); got != ErrCodeStreamCreationError {
			t.Errorf("connection closed with %v, want H3_STREAM_CREATION_ERROR", got)
		}
	})
	t.Run("frame reserved from HTTP/2 on a request stream", func(t *testing.T) {
		ctx := testContext(t)
		c := dialRaw(t, ctx, newTestEnv(t, okHandler()))
		c.request(append(c.headersFrame(getFields()...), frame.AppendFrame(nil, 0x06, make([]byte, 8))...), false)
		if got := c.connectionError(); got != ErrCodeFrameUnexpected {
			t.Errorf("connection closed with %v, want H3_FRAME_UNEXPECTED", got)
		}
	})
}
