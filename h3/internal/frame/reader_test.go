package frame

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// readers returns the ways a stream may deliver b: all at once, one byte per
// Read, and with the last byte returned together with io.EOF.
func readers(b []byte) map[string]io.Reader {
	return map[string]io.Reader{
		"whole":    bytes.NewReader(b),
		"onebyte":  iotest.OneByteReader(bytes.NewReader(b)),
		"dataeof":  iotest.DataErrReader(bytes.NewReader(b)),
		"halfread": iotest.HalfReader(bytes.NewReader(b)),
	}
}

func TestReaderRoundTripAllFrames(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 100)
	section := []byte{0x00, 0x00, 0xd1, 0xd7} // :method GET, :scheme https (static)
	var b []byte
	b = AppendData(b, data)
	b = AppendHeaders(b, section)
	b = AppendCancelPush(b, 17)
	s := Settings{MaxFieldSectionSize: 1 << 20, H3Datagram: true}
	b = AppendSettings(b, &s)
	b = AppendPushPromise(b, 1<<40, section)
	b = AppendGoAway(b, 4000)
	b = AppendMaxPushID(b, MaxVarint)
	b = AppendFrame(b, Type(Reserved(3)), []byte("grease"))
	b = AppendData(b, nil)
	b = AppendGreaseFrame(b)
	b = AppendGreaseFrame(b)

	for name, src := range readers(b) {
		t.Run(name, func(t *testing.T) {
			r := NewReader(src)
			f, err := r.Next()
			if err != nil || f.Type != TypeData || f.Length != uint64(len(data)) {
				t.Fatalf("DATA: %+v, %v", f, err)
			}
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("DATA payload: %d bytes, %v", len(got), err)
			}
			f, err = r.Next()
			if err != nil || f.Type != TypeHeaders || !bytes.Equal(f.FieldSection, section) {
				t.Fatalf("HEADERS: %+v, %v", f, err)
			}
			f, err = r.Next()
			if err != nil || f.Type != TypeCancelPush || f.ID != 17 {
				t.Fatalf("CANCEL_PUSH: %+v, %v", f, err)
			}
			f, err = r.Next()
			if err != nil || f.Type != TypeSettings || f.Settings.MaxFieldSectionSize != 1<<20 || !f.Settings.H3Datagram {
				t.Fatalf("SETTINGS: %+v, %v", f, err)
			}
			f, err = r.Next()
			if err != nil || f.Type != TypePushPromise || f.ID != 1<<40 || !bytes.Equal(f.FieldSection, section) {
				t.Fatalf("PUSH_PROMISE: %+v, %v", f, err)
			}
			f, err = r.Next()
			if err != nil || f.Type != TypeGoAway || f.ID != 4000 {
				t.Fatalf("GOAWAY: %+v, %v", f, err)
			}
			f, err = r.Next()
			if err != nil || f.Type != TypeMaxPushID || f.ID != MaxVarint {
				t.Fatalf("MAX_PUSH_ID: %+v, %v", f, err)
			}
			f, err = r.Next()
			if err != nil || f.Type != TypeData || f.Length != 0 || f.Skipped != 1 {
				t.Fatalf("empty DATA after a reserved frame: %+v, %v", f, err)
			}
			if n, err := r.Read(make([]byte, 10)); n != 0 || err != io.EOF {
				t.Fatalf("empty DATA read: %d, %v", n, err)
			}
			if f, err = r.Next(); err != io.EOF {
				t.Fatalf("end: %+v, %v (two grease frames skipped)", f, err)
			}
		})
	}
}

func TestReaderSkipsUnreadData(t *testing.T) {
	b := AppendData(nil, bytes.Repeat([]byte{'x'}, 1000))
	b = AppendGoAway(b, 8)
	for name, src := range readers(b) {
		r := NewReader(src)
		if f, err := r.Next(); err != nil || f.Type != TypeData {
			t.Fatalf("%s: %+v %v", name, f, err)
		}
		if _, err := r.Read(make([]byte, 10)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.DataRemaining() >= 1000 {
			t.Fatalf("%s: DataRemaining %d", name, r.DataRemaining())
		}
		if f, err := r.Next(); err != nil || f.Type != TypeGoAway || f.ID != 8 {
			t.Fatalf("%s: %+v %v", name, f, err)
		}
	}
}

// A large unknown frame is skipped without being buffered.
func TestReaderSkipsLargeUnknownFrame(t *testing.T) {
	b := AppendFrame(nil, 0x4242, make([]byte, 1<<20))
	b = AppendMaxPushID(b, 3)
	r := NewReader(bytesReader(b))
	f, err := r.Next()
	if err != nil || f.Type != TypeMaxPushID || f.Skipped != 1 {
		t.Fatalf("%+v %v", f, err)
	}
	if cap(r.payload) != 0 {
		t.Fatalf("payload buffer grew to %d", cap(r.payload))
	}
}

// RFC 9114 §7.1: "When a stream terminates cleanly, if the last frame on the
// stream was truncated, this MUST be treated as a connection error of type
// H3_FRAME_ERROR."
func TestReaderTruncatedFrame(t *testing.T) {
	frames := [][]byte{
		AppendHeaders(nil, make([]byte, 300)),
		AppendFrame(nil, 0x4242, make([]byte, 300)),
		AppendSettings(nil, &Settings{MaxFieldSectionSize: 100000}),
		AppendGoAway(nil, 1<<40),
		AppendPushPromise(nil, 1<<20, []byte{1, 2}),
		AppendFrameHeader(nil, 0x4242, 1<<20),
	}
	for _, full := range frames {
		for cut := 1; cut < len(full); cut++ {
			_, err := NewReader(bytesReader(full[:cut])).Next()
			wantCode(t, err, ErrCodeFrameError)
		}
	}
	// DATA: the header is complete, the payload is cut.
	full := AppendData(nil, make([]byte, 300))
	for cut := 3; cut < len(full); cut++ {
		r := NewReader(iotest.OneByteReader(bytesReader(full[:cut])))
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		_, err := io.ReadAll(r)
		wantCode(t, err, ErrCodeFrameError)
		_, err = r.Next()
		wantCode(t, err, ErrCodeFrameError)
	}
}

func TestReaderCleanEOF(t *testing.T) {
	if _, err := NewReader(bytesReader(nil)).Next(); err != io.EOF {
		t.Fatalf("empty stream: %v", err)
	}
	r := NewReader(bytesReader(AppendGoAway(nil, 0)))
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after last frame: %v", err)
	}
}

// RFC 9114 §7.1: a payload with bytes after, or fewer than, its fields is an
// H3_FRAME_ERROR.
func TestReaderSingleVarintFrameLength(t *testing.T) {
	for _, typ := range []Type{TypeCancelPush, TypeGoAway, TypeMaxPushID} {
		for _, payload := range [][]byte{
			{},                 // no varint
			{0x05, 0x00},       // one byte more than the varint
			{0x40},             // a two-byte varint cut short
			{0x80, 0, 0, 1, 0}, // four-byte varint and a trailing byte
			make([]byte, 9),    // longer than any varint
			make([]byte, 1000), // much longer
		} {
			_, err := NewReader(bytesReader(AppendFrame(nil, typ, payload))).Next()
			wantCode(t, err, ErrCodeFrameError)
		}
		// A non-minimal encoding is self-consistent and accepted.
		f, err := NewReader(bytesReader(AppendFrame(nil, typ, []byte{0x40, 0x05}))).Next()
		if err != nil || f.ID != 5 {
			t.Fatalf("%v non-minimal: %+v %v", typ, f, err)
		}
	}
	_, err := NewReader(bytesReader(AppendFrame(nil, TypePushPromise, []byte{0x80, 0}))).Next()
	wantCode(t, err, ErrCodeFrameError)
}

// RFC 9114 §7.2.8: frame types reserved from HTTP/2 are H3_FRAME_UNEXPECTED.
func TestReaderHTTP2FrameTypes(t *testing.T) {
	for _, typ := range []Type{0x02, 0x06, 0x08, 0x09} {
		_, err := NewReader(bytesReader(AppendFrame(nil, typ, []byte{0}))).Next()
		wantCode(t, err, ErrCodeFrameUnexpected)
		wantCode(t, CheckAllowed(StreamRequest, typ, true), ErrCodeFrameUnexpected)
	}
}

func TestReaderPayloadLimits(t *testing.T) {
	r := NewReader(bytesReader(AppendFrameHeader(nil, TypeHeaders, DefaultMaxFieldSectionPayload+1)))
	_, err := r.Next()
	wantCode(t, err, ErrCodeExcessiveLoad)
	if cap(r.payload) != 0 {
		t.Fatal("payload buffered before the limit check")
	}

	r = NewReader(bytesReader(AppendHeaders(nil, make([]byte, 101))))
	r.MaxFieldSectionPayload = 100
	_, err = r.Next()
	wantCode(t, err, ErrCodeExcessiveLoad)

	r = NewReader(bytesReader(AppendHeaders(nil, make([]byte, 100))))
	r.MaxFieldSectionPayload = 100
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}

	_, err = NewReader(bytesReader(AppendFrameHeader(nil, TypePushPromise, 1<<40))).Next()
	wantCode(t, err, ErrCodeExcessiveLoad)
	_, err = NewReader(bytesReader(AppendFrameHeader(nil, TypeSettings, MaxSettingsPayload+1))).Next()
	wantCode(t, err, ErrCodeExcessiveLoad)
}

func TestReaderErrorIsSticky(t *testing.T) {
	b := AppendFrame(nil, 0x02, nil)
	b = AppendGoAway(b, 0)
	r := NewReader(bytesReader(b))
	_, err1 := r.Next()
	_, err2 := r.Next()
	if err1 == nil || err1 != err2 {
		t.Fatalf("%v then %v", err1, err2)
	}
}

func TestReaderSourceError(t *testing.T) {
	boom := errors.New("stream reset")
	b := AppendData(nil, []byte("hello"))
	r := NewReader(io.MultiReader(bytesReader(b[:4]), iotest.ErrReader(boom)))
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if string(got) != "he" || err != boom {
		t.Fatalf("read %q, %v", got, err)
	}
	if _, err := r.Next(); err != boom {
		t.Fatalf("Next: %v", err)
	}
	if IsFrameError(boom) || !IsFrameError(errTruncated) {
		t.Fatal("IsFrameError")
	}
}

func TestReaderStreamHeaderAndRaw(t *testing.T) {
	b := AppendPushStreamHeader(nil, 1000)
	r := NewReader(bytesReader(b))
	if st, err := r.ReadStreamType(); err != nil || st != StreamTypePush {
		t.Fatalf("%v %v", st, err)
	}
	if id, err := r.ReadVarint(); err != nil || id != 1000 {
		t.Fatalf("%v %v", id, err)
	}

	qpackBytes := []byte{0x3f, 0xe1, 0x1f, 0x01, 0x02}
	b = append(AppendStreamType(nil, StreamTypeQPACKEncoder), qpackBytes...)
	for name, src := range readers(b) {
		r := NewReader(src)
		if st, err := r.ReadStreamType(); err != nil || st != StreamTypeQPACKEncoder {
			t.Fatalf("%s: %v %v", name, st, err)
		}
		got, err := io.ReadAll(readerFunc(r.ReadRaw))
		if err != nil || !bytes.Equal(got, qpackBytes) {
			t.Fatalf("%s: % x %v", name, got, err)
		}
	}

	if _, err := NewReader(bytesReader(nil)).ReadStreamType(); err != io.EOF {
		t.Fatalf("empty: %v", err)
	}
	if _, err := NewReader(bytesReader([]byte{0x40})).ReadStreamType(); err != io.ErrUnexpectedEOF {
		t.Fatalf("cut: %v", err)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestReaderReset(t *testing.T) {
	r := NewReader(bytesReader(AppendHeaders(nil, []byte{1, 2, 3})))
	r.MaxFieldSectionPayload = 10
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	r.Reset(bytesReader(AppendHeaders(nil, make([]byte, 11))))
	_, err := r.Next()
	wantCode(t, err, ErrCodeExcessiveLoad)
}

// loopReader serves the same bytes forever, for allocation tests.
type loopReader struct {
	b []byte
	i int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.b[l.i:])
	l.i = (l.i + n) % len(l.b)
	return n, nil
}

// Reading DATA frames — header and payload into the caller's buffer — must
// not allocate.
func TestReaderDataNoAllocs(t *testing.T) {
	frame := AppendData(nil, make([]byte, 1200))
	r := NewReader(&loopReader{b: frame})
	buf := make([]byte, 4096)
	n := testing.AllocsPerRun(1000, func() {
		f, err := r.Next()
		if err != nil || f.Type != TypeData {
			t.Fatalf("%+v %v", f, err)
		}
		for {
			if _, err := r.Read(buf); err == io.EOF {
				break
			}
		}
	})
	if n != 0 {
		t.Fatalf("%v allocations per DATA frame", n)
	}
}

// After the first HEADERS frame the payload buffer is reused.
func TestReaderHeadersReusesBuffer(t *testing.T) {
	r := NewReader(&loopReader{b: AppendHeaders(nil, make([]byte, 500))})
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = r.Next() }); n != 0 {
		t.Fatalf("%v allocations per HEADERS frame", n)
	}
}

func TestErrCodeString(t *testing.T) {
	for c, want := range map[ErrCode]string{
		ErrCodeNoError:         "H3_NO_ERROR",
		ErrCodeMessageError:    "H3_MESSAGE_ERROR",
		ErrCodeVersionFallback: "H3_VERSION_FALLBACK",
		0x21:                   "H3_RESERVED(0x21)",
		0x200:                  "QPACK_DECOMPRESSION_FAILED",
		0x202:                  "QPACK_DECODER_STREAM_ERROR",
		0x99:                   "0x99",
	} {
		if c.String() != want {
			t.Errorf("%#x: %q, want %q", uint64(c), c.String(), want)
		}
	}
	err := error(newError(ErrCodeIDError, "x"))
	if ErrorCode(err) != ErrCodeIDError || ErrorCode(errors.New("y")) != ErrCodeInternalError {
		t.Fatal("ErrorCode")
	}
	if ErrorCode(errors.Join(errors.New("z"), err)) != ErrCodeIDError {
		t.Fatal("ErrorCode on a joined error")
	}
}

// A zero Reader given its source with Init reads what NewReader's does.
func TestReaderInit(t *testing.T) {
	b := AppendHeaders(nil, []byte("section"))
	b = AppendFrameHeader(b, TypeData, 3)
	b = append(b, "abc"...)
	var r Reader
	r.Init(bytes.NewReader(b))
	f, err := r.Next()
	if err != nil || f.Type != TypeHeaders || string(f.FieldSection) != "section" {
		t.Fatalf("first frame: %+v, %v", f, err)
	}
	if f, err = r.Next(); err != nil || f.Type != TypeData || f.Length != 3 {
		t.Fatalf("second frame: %+v, %v", f, err)
	}
	data, err := io.ReadAll(&r)
	if err != nil || string(data) != "abc" {
		t.Fatalf("DATA payload %q, %v", data, err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
}
