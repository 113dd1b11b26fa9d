package frame

import (
	"io"
	"testing"
)

// BenchmarkReadDataFrameHeader reads a stream of 1200-byte DATA frames: the
// frame header through Next, the payload into the caller's buffer.
func BenchmarkReadDataFrameHeader(b *testing.B) {
	frame := AppendData(nil, make([]byte, 1200))
	r := NewReader(&loopReader{b: frame})
	buf := make([]byte, 2048)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	var f Frame
	for b.Loop() {
		if err := r.NextInto(&f); err != nil || f.Type != TypeData {
			b.Fatal(f, err)
		}
		for {
			if _, err := r.Read(buf); err == io.EOF {
				break
			}
		}
	}
}

func BenchmarkParseSettings(b *testing.B) {
	p := settingsPayload(0x01, 4096, 0x06, 16384, 0x07, 100, 0x08, 1, 0x33, 1, 0x21, 5)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseSettings(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendDataFrameHeader(b *testing.B) {
	buf := make([]byte, 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendFrameHeader(buf[:0], TypeData, 1200)
	}
}
