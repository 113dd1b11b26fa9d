package frame

import (
	"errors"
	"io"
	"os"
	"testing"
)

// stallReader returns its bytes, then blocks: it reports a deadline error
// the way a stream with a read deadline in the past does, or err once set.
type stallReader struct {
	b   []byte
	err error
}

func (s *stallReader) Read(p []byte) (int, error) {
	if len(s.b) > 0 {
		n := copy(p, s.b)
		s.b = s.b[n:]
		return n, nil
	}
	if s.err != nil {
		return 0, s.err
	}
	return 0, os.ErrDeadlineExceeded
}

// A HEADERS frame that declares 2 MiB and brings a few bytes costs what
// arrived, not what was declared (RFC 9114 §10.5).
func TestReaderHeadersGrowWithWhatArrives(t *testing.T) {
	const declared = 2 << 20
	for _, arrived := range []int{0, 1, 5000, 100 << 10} {
		hdr := AppendFrameHeader(nil, TypeHeaders, declared)
		src := &stallReader{b: append(hdr, make([]byte, arrived)...)}
		r := NewReader(src)
		r.MaxFieldSectionPayload = 4 << 20
		if _, err := r.Next(); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("arrived %d: Next: %v, want the stream's deadline error", arrived, err)
		}
		// At most a quarter more than arrived, or one chunk.
		if limit := arrived + max(arrived/4, payloadChunk); cap(r.payload) > limit {
			t.Errorf("arrived %d of %d: payload buffer of %d bytes, want at most %d", arrived, declared, cap(r.payload), limit)
		}
	}
}

// A large field section's buffer can be released once decoded.
func TestReaderReleasePayload(t *testing.T) {
	big := AppendHeaders(nil, make([]byte, 64<<10))
	r := NewReader(&stallReader{b: append(big, AppendHeaders(nil, []byte{1, 2})...), err: io.EOF})
	r.MaxFieldSectionPayload = 1 << 20
	f, err := r.Next()
	if err != nil || len(f.FieldSection) != 64<<10 {
		t.Fatalf("Next: %d bytes, %v", len(f.FieldSection), err)
	}
	r.ReleasePayload()
	if r.payload != nil {
		t.Fatalf("payload of %d bytes kept after ReleasePayload", cap(r.payload))
	}
	if f, err = r.Next(); err != nil || string(f.FieldSection) != "\x01\x02" {
		t.Fatalf("next frame after ReleasePayload: %x, %v", f.FieldSection, err)
	}
}

// Await fills the read-ahead without consuming it, reports the stream's
// end or reset, and leaves a deadline error out of the Reader's state.
func TestReaderAwait(t *testing.T) {
	data := AppendData(nil, []byte("abc"))
	src := &stallReader{b: data}
	r := NewReader(src)
	if err := r.Await(); err != nil {
		t.Fatalf("Await with bytes to read: %v", err)
	}
	if err := r.Await(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Await interrupted: %v", err)
	}
	reset := errors.New("stream reset")
	src.err = reset
	if err := r.Await(); err != reset {
		t.Fatalf("Await on a reset stream: %v", err)
	}
	// What arrived before the reset is still read in order.
	f, err := r.Next()
	if err != nil || f.Type != TypeData {
		t.Fatalf("Next: %v %v", f.Type, err)
	}
	b, err := io.ReadAll(r)
	if string(b) != "abc" || err != nil {
		t.Fatalf("DATA payload %q, %v", b, err)
	}
	if _, err := r.Next(); err != reset {
		t.Fatalf("Next after the data: %v, want the reset", err)
	}

	// A full buffer cannot be watched further.
	r = NewReader(&stallReader{b: make([]byte, 2*readBufSize)})
	var err2 error
	for range readBufSize + 1 {
		if err2 = r.Await(); err2 != nil {
			break
		}
	}
	if err2 != ErrBufferFull {
		t.Fatalf("Await with a full buffer: %v, want ErrBufferFull", err2)
	}
}
