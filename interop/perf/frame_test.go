package perf

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	data := Pattern(100000)
	var wire []byte
	for rest, k := data, 1; len(rest) > 0; k = k*3 + 1 {
		k = min(k, len(rest), maxFrameLen)
		wire = appendFrame(wire, rest[:k])
		rest = rest[k:]
	}
	wire = append(wire, 0, 0)                // FIN
	wire = append(wire, 0, 3, 'n', 'e', 'x') // the next stream, untouched
	f := frameReader{r: bytes.NewReader(wire)}
	got, err := io.ReadAll(&f)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes, %v; want the %d bytes sent", len(got), err, len(data))
	}
}

func TestFrameTruncated(t *testing.T) {
	for _, wire := range [][]byte{
		{},              // no FIN
		{0},             // half a header
		{0, 5, 1, 2},    // short frame
		{0, 1, 9, 0, 0}, // zero-length frame after data is fine...
	} {
		f := frameReader{r: bytes.NewReader(wire)}
		_, err := io.ReadAll(&f)
		if len(wire) == 5 {
			if err != nil {
				t.Errorf("%x: %v", wire, err)
			}
			continue
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%x: got %v, want io.ErrUnexpectedEOF", wire, err)
		}
	}
}

// FuzzFrameReader: whatever the peer sends, the reader returns no more
// bytes than it was given, never panics, and stops at the first FIN.
func FuzzFrameReader(f *testing.F) {
	f.Add([]byte{0, 3, 'a', 'b', 'c', 0, 0})
	f.Add([]byte{0xff, 0xff, 1})
	f.Add([]byte{0, 0, 0, 1, 'x'})
	f.Fuzz(func(t *testing.T, wire []byte) {
		fr := frameReader{r: bytes.NewReader(wire)}
		got, err := io.ReadAll(&fr)
		if len(got)+frameHeaderLen > len(wire) && len(got) > 0 {
			t.Fatalf("read %d payload bytes out of %d wire bytes", len(got), len(wire))
		}
		if err == nil && !fr.fin {
			t.Fatal("clean end without a FIN")
		}
	})
}
