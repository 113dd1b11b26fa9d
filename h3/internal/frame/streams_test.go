package frame

import (
	"io"
	"testing"
)

// controlStream reads the frames in b as the peer's control stream and
// returns the first error.
func controlStream(isClient bool, b []byte) error {
	r := NewReader(bytesReader(b))
	c := ControlStream{IsClient: isClient}
	for {
		f, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := c.OnFrame(&f); err != nil {
			return err
		}
	}
}

func settingsFrame() []byte { return AppendSettings(nil, &Settings{QPACKBlockedStreams: 1}) }

// h3spec case 35: MUST send H3_FRAME_UNEXPECTED if DATA is received before
// HEADERS [HTTP/3 4.1].
func TestH3Spec_Case35_DataBeforeHeaders(t *testing.T) {
	r := NewReader(bytesReader(AppendData(nil, []byte("body"))))
	f, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckAllowed(StreamRequest, f.Type, false); err != nil {
		t.Fatal(err)
	}
	var m MessageState
	wantCode(t, m.OnFrame(f.Type), ErrCodeFrameUnexpected)
}

// h3spec case 40: MUST send H3_MISSING_SETTINGS if the first control frame
// is not SETTINGS [HTTP/3 6.2.1].
func TestH3Spec_Case40_FirstControlFrameNotSettings(t *testing.T) {
	for _, isClient := range []bool{false, true} {
		for _, first := range [][]byte{
			AppendGoAway(nil, 0),
			AppendMaxPushID(nil, 0),
			AppendCancelPush(nil, 0),
			AppendData(nil, nil),
			AppendHeaders(nil, []byte{0, 0}),
			AppendFrame(nil, Type(Reserved(0)), nil), // even an unknown frame
		} {
			wantCode(t, controlStream(isClient, append(first, settingsFrame()...)), ErrCodeMissingSettings)
		}
	}
}

// h3spec case 41: MUST send H3_FRAME_UNEXPECTED if a DATA frame is received
// on a control stream [HTTP/3 7.2.1].
func TestH3Spec_Case41_DataOnControlStream(t *testing.T) {
	wantCode(t, controlStream(false, AppendData(settingsFrame(), []byte("x"))), ErrCodeFrameUnexpected)
}

// h3spec case 42: MUST send H3_FRAME_UNEXPECTED if a HEADERS frame is
// received on a control stream [HTTP/3 7.2.2].
func TestH3Spec_Case42_HeadersOnControlStream(t *testing.T) {
	wantCode(t, controlStream(false, AppendHeaders(settingsFrame(), []byte{0, 0})), ErrCodeFrameUnexpected)
}

// h3spec case 43: MUST send H3_FRAME_UNEXPECTED if a second SETTINGS frame
// is received [HTTP/3 7.2.4].
func TestH3Spec_Case43_SecondSettings(t *testing.T) {
	b := AppendGoAway(settingsFrame(), 0)
	b = AppendSettings(b, &Settings{})
	wantCode(t, controlStream(false, b), ErrCodeFrameUnexpected)
}

// h3spec case 46: MUST send H3_FRAME_UNEXPECTED if CANCEL_PUSH is received
// in a request stream [HTTP/3 7.2.5].
func TestH3Spec_Case46_CancelPushOnRequestStream(t *testing.T) {
	f, err := NewReader(bytesReader(AppendCancelPush(nil, 0))).Next()
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, CheckAllowed(StreamRequest, f.Type, false), ErrCodeFrameUnexpected)
}

// h3spec case 49: MUST send H3_CLOSED_CRITICAL_STREAM if a control stream is
// closed. The Reader reports the clean end of the stream as io.EOF; the
// connection turns it into this error.
func TestH3Spec_Case49_ControlStreamClosed(t *testing.T) {
	r := NewReader(bytesReader(append(AppendStreamType(nil, StreamTypeControl), settingsFrame()...)))
	if st, err := r.ReadStreamType(); err != nil || st != StreamTypeControl {
		t.Fatal(st, err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatal(err)
	}
	wantCode(t, ErrClosedCriticalStream, ErrCodeClosedCriticalStream)
}

func TestControlStreamAcceptsValidSequence(t *testing.T) {
	b := AppendSettings(nil, &Settings{MaxFieldSectionSize: 8192, Extra: []Setting{GreaseSetting()}})
	b = AppendGreaseFrame(b)
	b = AppendGoAway(b, 400)
	b = AppendGoAway(b, 400)
	b = AppendGoAway(b, 8)
	r := NewReader(bytesReader(b))
	c := ControlStream{IsClient: true}
	for {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := c.OnFrame(&f); err != nil {
			t.Fatal(err)
		}
	}
	if !c.HaveSettings || c.Settings.MaxFieldSectionSize != 8192 {
		t.Fatalf("settings %+v", c.Settings)
	}
	if id, ok := c.GoAway(); !ok || id != 8 {
		t.Fatalf("GOAWAY %d %v", id, ok)
	}
}

// RFC 9114 §5.2: a GOAWAY identifier larger than a previous one is
// H3_ID_ERROR.
func TestControlStreamGoAwayIncrease(t *testing.T) {
	for _, isClient := range []bool{true, false} {
		b := AppendGoAway(settingsFrame(), 4)
		b = AppendGoAway(b, 8)
		wantCode(t, controlStream(isClient, b), ErrCodeIDError)
	}
}

// RFC 9114 §7.2.6: a server's GOAWAY carries a client-initiated
// bidirectional stream ID; a client's carries a push ID, any value.
func TestControlStreamGoAwayStreamID(t *testing.T) {
	for _, id := range []uint64{1, 2, 3, 5, 6, 7, MaxVarint} {
		wantCode(t, controlStream(true, AppendGoAway(settingsFrame(), id)), ErrCodeIDError)
		if err := controlStream(false, AppendGoAway(settingsFrame(), id)); err != nil {
			t.Fatalf("client GOAWAY push ID %d: %v", id, err)
		}
	}
	if err := controlStream(true, AppendGoAway(settingsFrame(), 1<<62-4)); err != nil {
		t.Fatal(err)
	}
}

// RFC 9114 §7.2.7.
func TestControlStreamMaxPushID(t *testing.T) {
	b := AppendMaxPushID(settingsFrame(), 10)
	b = AppendMaxPushID(b, 10)
	b = AppendMaxPushID(b, 20)
	if err := controlStream(false, b); err != nil {
		t.Fatal(err)
	}
	wantCode(t, controlStream(false, AppendMaxPushID(b, 19)), ErrCodeIDError)
	c := ControlStream{}
	for _, f := range []Frame{{Type: TypeSettings}, {Type: TypeMaxPushID, ID: 7}} {
		if err := c.OnFrame(&f); err != nil {
			t.Fatal(err)
		}
	}
	if id, ok := c.MaxPushID(); !ok || id != 7 {
		t.Fatalf("MaxPushID %d %v", id, ok)
	}
	wantCode(t, controlStream(true, AppendMaxPushID(settingsFrame(), 1)), ErrCodeFrameUnexpected)
}

// RFC 9114 §7.2.3: skiff never allows or promises pushes.
func TestControlStreamCancelPush(t *testing.T) {
	for _, isClient := range []bool{true, false} {
		wantCode(t, controlStream(isClient, AppendCancelPush(settingsFrame(), 0)), ErrCodeIDError)
	}
}

func TestControlStreamPushPromise(t *testing.T) {
	wantCode(t, controlStream(true, AppendPushPromise(settingsFrame(), 0, []byte{0, 0})), ErrCodeFrameUnexpected)
}

// RFC 9114 Table 1, checked cell by cell, for both roles.
func TestCheckAllowedTable(t *testing.T) {
	const (
		ok  = 0
		bad = 1
	)
	type row struct{ control, request, push int }
	table := map[Type]row{
		TypeData:        {bad, ok, ok},
		TypeHeaders:     {bad, ok, ok},
		TypeCancelPush:  {ok, bad, bad},
		TypeSettings:    {ok, bad, bad},
		TypePushPromise: {bad, ok, bad}, // request: client only
		TypeGoAway:      {ok, bad, bad},
		TypeMaxPushID:   {ok, bad, bad}, // control: server only
		Type(0x21):      {ok, ok, ok},
		Type(0x1234):    {ok, ok, ok},
	}
	for typ, want := range table {
		for _, isClient := range []bool{true, false} {
			for kind, w := range []int{want.control, want.request, want.push} {
				if typ == TypePushPromise && kind == int(StreamRequest) && !isClient {
					w = bad
				}
				if typ == TypeMaxPushID && kind == int(StreamControl) && isClient {
					w = bad
				}
				err := CheckAllowed(StreamKind(kind), typ, isClient)
				if typ == TypePushPromise && kind == int(StreamRequest) && isClient {
					wantCode(t, err, ErrCodeIDError) // no MAX_PUSH_ID sent
					continue
				}
				if w == ok && err != nil {
					t.Errorf("%v on kind %d (client %v): %v", typ, kind, isClient, err)
				}
				if w == bad {
					wantCode(t, err, ErrCodeFrameUnexpected)
				}
			}
		}
	}
}

func TestMessageState(t *testing.T) {
	var m MessageState
	// Interim response, final response, body, trailers.
	for _, step := range []struct {
		t       Type
		interim bool
	}{{TypeHeaders, true}, {TypeHeaders, false}, {TypeData, false}, {Type(0x21), false}, {TypeData, false}, {TypeHeaders, false}} {
		if err := m.OnFrame(step.t); err != nil {
			t.Fatalf("%v: %v", step.t, err)
		}
		if step.interim {
			m.Interim()
			if m.HeadersReceived() {
				t.Fatal("interim response counted as the header section")
			}
		}
	}
	if !m.InTrailers() || !m.HeadersReceived() {
		t.Fatal("not in trailers")
	}
	wantCode(t, m.OnFrame(TypeData), ErrCodeFrameUnexpected)
	wantCode(t, m.OnFrame(TypeHeaders), ErrCodeFrameUnexpected)

	var c MessageState
	if err := c.OnFrame(TypeHeaders); err != nil {
		t.Fatal(err)
	}
	c.Tunnel()
	if err := c.OnFrame(TypeData); err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.OnFrame(TypeHeaders), ErrCodeFrameUnexpected)
}

func TestUniStreams(t *testing.T) {
	server := UniStreams{}
	for _, st := range []StreamType{StreamTypeControl, StreamTypeQPACKEncoder, StreamTypeQPACKDecoder} {
		if known, err := server.Accept(st); !known || err != nil {
			t.Fatalf("%v: %v %v", st, known, err)
		}
	}
	for _, st := range []StreamType{StreamTypeControl, StreamTypeQPACKEncoder, StreamTypeQPACKDecoder, StreamTypePush} {
		_, err := server.Accept(st)
		wantCode(t, err, ErrCodeStreamCreationError)
	}
	for _, st := range []StreamType{GreaseStreamType(), 0x04, 0x54} {
		if known, err := server.Accept(st); known || err != nil {
			t.Fatalf("%v: %v %v", st, known, err)
		}
	}
	// RFC 9114 §4.6: skiff clients send no MAX_PUSH_ID.
	client := UniStreams{IsClient: true}
	known, err := client.Accept(StreamTypePush)
	if !known {
		t.Fatal("push stream unknown")
	}
	wantCode(t, err, ErrCodeIDError)
}
