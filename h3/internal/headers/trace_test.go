package headers

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/qpack"
)

// serverRequestStream plays the server's side of a request stream carrying
// the given field sections and DATA: frames read by frame.Reader, checked by
// CheckAllowed and MessageState, HEADERS decoded by QPACK (static table
// only) and validated by ParseRequest. It returns the first error.
func serverRequestStream(t *testing.T, stream []byte) (*Request, error) {
	t.Helper()
	var dec qpack.Decoder
	r := frame.NewReader(bytesReader(stream))
	var m frame.MessageState
	var req *Request
	for {
		f, err := r.Next()
		if err == io.EOF {
			return req, nil
		}
		if err != nil {
			return nil, err
		}
		if err := frame.CheckAllowed(frame.StreamRequest, f.Type, false); err != nil {
			return nil, err
		}
		if err := m.OnFrame(f.Type); err != nil {
			return nil, err
		}
		if f.Type != frame.TypeHeaders {
			continue
		}
		fields, blocked, err := dec.DecodeFieldSection(0, f.FieldSection, nil)
		if err != nil || blocked {
			t.Fatalf("QPACK: %v, blocked %v", err, blocked)
		}
		if m.InTrailers() {
			if _, err := ParseTrailers(fields); err != nil {
				return nil, err
			}
			continue
		}
		if req, err = ParseRequest(fields, false); err != nil {
			return nil, err
		}
	}
}

func headersFrame(fields []qpack.HeaderField) []byte {
	var enc qpack.Encoder
	return frame.AppendHeaders(nil, enc.EncodeFieldSection(nil, 0, fields))
}

func TestTraceRequestStream(t *testing.T) {
	req, _ := http.NewRequest("POST", "https://example.com/upload", nil)
	req.Header.Set("Content-Type", "text/plain")
	fields, err := AppendRequest(nil, req)
	if err != nil {
		t.Fatal(err)
	}
	stream := headersFrame(fields)
	stream = frame.AppendGreaseFrame(stream)
	stream = frame.AppendData(stream, []byte("hello"))
	stream = append(stream, headersFrame(fl("x-checksum", "abc"))...)
	got, err := serverRequestStream(t, stream)
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != "POST" || got.URL.Path != "/upload" || got.ContentLength != 0 || got.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("%+v", got)
	}
}

// The h3spec cases 35-39 as a client sends them on a request stream.
func TestTraceH3SpecRequestCases(t *testing.T) {
	cases := []struct {
		name   string
		stream []byte
		code   frame.ErrCode
	}{
		{"Case35_DataBeforeHeaders", append(frame.AppendData(nil, []byte("x")), headersFrame(get())...), frame.ErrCodeFrameUnexpected},
		{"Case36_DuplicatePseudoHeader", headersFrame(fl(":method", "GET", ":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/")), frame.ErrCodeMessageError},
		{"Case37_MissingPseudoHeader", headersFrame(fl(":method", "GET", ":scheme", "https", ":authority", "a")), frame.ErrCodeMessageError},
		{"Case38_ProhibitedPseudoHeader", headersFrame(append(fl(":status", "200"), get()...)), frame.ErrCodeMessageError},
		{"Case39_PseudoHeaderAfterField", headersFrame(fl(":method", "GET", "accept", "*/*", ":scheme", "https", ":authority", "a", ":path", "/")), frame.ErrCodeMessageError},
		{"Case46_CancelPush", append(headersFrame(get()), frame.AppendCancelPush(nil, 0)...), frame.ErrCodeFrameUnexpected},
		{"PseudoHeaderInTrailers", append(headersFrame(get()), headersFrame(fl(":path", "/"))...), frame.ErrCodeMessageError},
		{"HeadersAfterTrailers", append(append(headersFrame(get()), headersFrame(fl("a", "b"))...), headersFrame(fl("a", "b"))...), frame.ErrCodeFrameUnexpected},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := serverRequestStream(t, c.stream)
			if got := frame.ErrorCode(err); got != c.code {
				t.Fatalf("got %v (%v), want %v", got, err, c.code)
			}
		})
	}
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
