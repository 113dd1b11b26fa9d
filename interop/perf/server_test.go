package perf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// memStream is a Stream whose peer sent in, and which accepts at most
// limit bytes of writes (then fails, as a reset stream would).
type memStream struct {
	in     io.Reader
	out    bytes.Buffer
	limit  int
	closed bool
}

var errLimit = errors.New("write limit reached")

func (m *memStream) Read(p []byte) (int, error) { return m.in.Read(p) }
func (m *memStream) Close() error               { m.closed = true; return nil }
func (m *memStream) Write(p []byte) (int, error) {
	if m.out.Len()+len(p) > m.limit {
		return 0, errLimit
	}
	return m.out.Write(p)
}

func TestServeStreamAnswers(t *testing.T) {
	req := binary.BigEndian.AppendUint64(nil, 100000)
	req = append(req, Pattern(3000)...)
	m := &memStream{in: bytes.NewReader(req), limit: 1 << 20}
	var got Upload
	s := &Server{VerifyUpload: true, OnStream: func(u Upload) { got = u }}
	if err := s.serveStream(m); err != nil {
		t.Fatal(err)
	}
	if got.Requested != 100000 || got.Bytes != 3000 {
		t.Errorf("saw %+v, want 100000 requested and 3000 uploaded", got)
	}
	if !m.closed || !bytes.Equal(m.out.Bytes(), Pattern(100000)) {
		t.Errorf("answer: %d bytes, closed %v; want the 100000-byte pattern and FIN", m.out.Len(), m.closed)
	}
}

// TestServeStreamUnlimited: §2.3.1, the maximum size means "until the
// client stops reading"; the server stops at the first failed write.
func TestServeStreamUnlimited(t *testing.T) {
	m := &memStream{in: bytes.NewReader(binary.BigEndian.AppendUint64(nil, Unlimited)), limit: 5 * PatternLen}
	if err := (&Server{}).serveStream(m); !errors.Is(err, errLimit) {
		t.Fatalf("got %v, want the write error", err)
	}
	if m.out.Len() != 5*PatternLen {
		t.Errorf("sent %d bytes before the limit, want %d", m.out.Len(), 5*PatternLen)
	}
}

// FuzzServeStream: whatever a client sends on a stream, the server neither
// panics nor answers with more than it was asked for, and its answer is the
// pattern.
func FuzzServeStream(f *testing.F) {
	f.Add(binary.BigEndian.AppendUint64(nil, 10))
	f.Add([]byte{1, 2, 3})
	f.Add(append(binary.BigEndian.AppendUint64(nil, Unlimited), Pattern(100)...))
	f.Fuzz(func(t *testing.T, in []byte) {
		m := &memStream{in: bytes.NewReader(in), limit: 1 << 18}
		(&Server{VerifyUpload: true}).serveStream(m)
		if len(in) < 8 {
			if m.out.Len() != 0 || !m.closed {
				t.Fatalf("short request answered with %d bytes, closed %v", m.out.Len(), m.closed)
			}
			return
		}
		want := binary.BigEndian.Uint64(in)
		if uint64(m.out.Len()) > want {
			t.Fatalf("sent %d bytes, asked for %d", m.out.Len(), want)
		}
		if !bytes.Equal(m.out.Bytes(), Pattern(m.out.Len())) {
			t.Fatal("answer is not the pattern")
		}
	})
}
