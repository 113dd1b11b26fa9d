package wire

import (
	"bytes"
	"testing"
)

// ParseStreamFrameInto overwrites every field of the frame it is given,
// agrees with ParseStreamFrame, and leaves the zero frame on error.
func TestParseStreamFrameIntoOverwrites(t *testing.T) {
	in := StreamFrame{StreamID: 4, Offset: 1 << 20, Data: []byte("hello"), Fin: true}
	b := in.Append(nil)
	typ, n, err := ParseFrameType(b)
	if err != nil {
		t.Fatal(err)
	}
	stale := StreamFrame{StreamID: 99, Offset: 7, Data: []byte("stale"), Fin: false, NoLength: true}
	m, err := ParseStreamFrameInto(&stale, typ, b[n:])
	if err != nil {
		t.Fatal(err)
	}
	want, wm, err := ParseStreamFrame(typ, b[n:])
	if err != nil || m != wm {
		t.Fatalf("ParseStreamFrame: %d, %v; Into used %d", wm, err, m)
	}
	if stale.StreamID != in.StreamID || stale.Offset != in.Offset || !bytes.Equal(stale.Data, in.Data) ||
		stale.Fin != in.Fin || stale.NoLength != want.NoLength || stale.NoLength {
		t.Fatalf("parsed %+v, want %+v", stale, want)
	}
	if _, err := ParseStreamFrameInto(&stale, typ, b[n:n+2]); err == nil {
		t.Fatal("a truncated frame parsed")
	}
	if stale.StreamID != 0 || stale.Offset != 0 || stale.Data != nil || stale.Fin || stale.NoLength {
		t.Fatalf("after an error: %+v, want the zero frame", stale)
	}
}
