package frame

import (
	"bytes"
	"io"
	"testing"
)

// A PRIORITY_UPDATE reads back as its element ID and field value.
func TestPriorityUpdateRoundTrip(t *testing.T) {
	b := AppendPriorityUpdate(nil, TypePriorityUpdate, 8, []byte("u=1, i"))
	r := NewReader(bytes.NewReader(b))
	f, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if f.Type != TypePriorityUpdate || f.ID != 8 || string(f.PriorityFieldValue) != "u=1, i" {
		t.Fatalf("got %v id %d value %q", f.Type, f.ID, f.PriorityFieldValue)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the frame: %v", err)
	}
}

// RFC 9218 §7.2 and RFC 9114 §10.5: the frame's payload errors.
func TestPriorityUpdateMalformed(t *testing.T) {
	empty := AppendFrame(nil, TypePriorityUpdate, nil)
	_, err := NewReader(bytes.NewReader(empty)).Next()
	wantCode(t, err, ErrCodeFrameError)
	truncatedID := AppendFrame(nil, TypePriorityUpdate, []byte{0x40})
	_, err = NewReader(bytes.NewReader(truncatedID)).Next()
	wantCode(t, err, ErrCodeFrameError)
	big := AppendPriorityUpdate(nil, TypePriorityUpdate, 0, make([]byte, MaxPriorityUpdatePayload))
	_, err = NewReader(bytes.NewReader(big)).Next()
	wantCode(t, err, ErrCodeExcessiveLoad)
}

// RFC 9218 §7.2: PRIORITY_UPDATE only on the client's control stream,
// for a request stream ID or a promised push ID.
func TestPriorityUpdateWhere(t *testing.T) {
	for _, typ := range []Type{TypePriorityUpdate, TypePriorityUpdatePush} {
		wantCode(t, CheckAllowed(StreamRequest, typ, false), ErrCodeFrameUnexpected)
		wantCode(t, CheckAllowed(StreamRequest, typ, true), ErrCodeFrameUnexpected)
		wantCode(t, CheckAllowed(StreamPush, typ, true), ErrCodeFrameUnexpected)
		// Received by a client on the server's control stream.
		wantCode(t, controlStream(true, AppendPriorityUpdate(settingsFrame(), typ, 0, nil)), ErrCodeFrameUnexpected)
	}
	if err := controlStream(false, AppendPriorityUpdate(settingsFrame(), TypePriorityUpdate, 4, []byte("u=0"))); err != nil {
		t.Fatalf("request-stream PRIORITY_UPDATE: %v", err)
	}
	for _, id := range []uint64{1, 2, 3, 6} { // not client-initiated bidirectional
		wantCode(t, controlStream(false, AppendPriorityUpdate(settingsFrame(), TypePriorityUpdate, id, nil)), ErrCodeIDError)
	}
	wantCode(t, controlStream(false, AppendPriorityUpdate(settingsFrame(), TypePriorityUpdatePush, 0, nil)), ErrCodeIDError)
	// Not before SETTINGS.
	wantCode(t, controlStream(false, AppendPriorityUpdate(nil, TypePriorityUpdate, 0, nil)), ErrCodeMissingSettings)
}
