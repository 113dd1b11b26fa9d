package quicvarint

import (
	"testing"
)

// RFC 9000 Appendix A.1's examples.
func TestRFC9000Examples(t *testing.T) {
	for _, tc := range []struct {
		enc []byte
		v   uint64
	}{
		{[]byte{0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c}, 151288809941952652},
		{[]byte{0x9d, 0x7f, 0x3e, 0x7d}, 494878333},
		{[]byte{0x7b, 0xbd}, 15293},
		{[]byte{0x25}, 37},
		{[]byte{0x40, 0x25}, 37},
	} {
		v, n := Parse(tc.enc)
		if v != tc.v || n != len(tc.enc) {
			t.Errorf("Parse(%x) = %d, %d; want %d, %d", tc.enc, v, n, tc.v, len(tc.enc))
		}
		if got := AppendLen(nil, tc.v, len(tc.enc)); string(got) != string(tc.enc) {
			t.Errorf("AppendLen(%d, %d) = %x", tc.v, len(tc.enc), got)
		}
	}
	if _, n := Parse([]byte{0x9d, 0x7f}); n != 0 {
		t.Error("truncated input parsed")
	}
}

func FuzzVarint(f *testing.F) {
	f.Add(uint64(0))
	f.Add(uint64(Max))
	f.Fuzz(func(t *testing.T, v uint64) {
		v &= Max
		b := Append(nil, v)
		if len(b) != Len(v) {
			t.Fatalf("Append(%d) is %d bytes, Len says %d", v, len(b), Len(v))
		}
		got, n := Parse(b)
		if got != v || n != len(b) {
			t.Fatalf("round trip of %d: %d, %d", v, got, n)
		}
	})
}

func TestBoundaries(t *testing.T) {
	for _, v := range []uint64{0, 63, 64, 16383, 16384, 1<<30 - 1, 1 << 30, Max} {
		b := Append(nil, v)
		if len(b) != Len(v) {
			t.Errorf("%d: encoded in %d bytes, Len says %d", v, len(b), Len(v))
		}
		if got, n := Parse(b); got != v || n != len(b) {
			t.Errorf("%d: parsed %d in %d bytes", v, got, n)
		}
		if _, n := Parse(b[:len(b)-1]); n != 0 {
			t.Errorf("%d: truncated encoding parsed", v)
		}
	}
}

func TestAppendPanicsAboveMax(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	Append(nil, Max+1)
}
