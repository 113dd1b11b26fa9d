package frame

import "testing"

func TestVarintRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 63, 64, 16383, 16384, 1<<30 - 1, 1 << 30, MaxVarint} {
		b := appendVarint(nil, v)
		if len(b) != varintLen(v) {
			t.Errorf("%d: encoded in %d bytes, varintLen says %d", v, len(b), varintLen(v))
		}
		got, n := parseVarint(b)
		if got != v || n != len(b) {
			t.Errorf("%d: parsed %d in %d bytes", v, got, n)
		}
		if _, n := parseVarint(b[:len(b)-1]); n != 0 {
			t.Errorf("%d: truncated encoding parsed", v)
		}
	}
}

// RFC 9000 §A.1 sample encodings.
func TestVarintRFC9000Samples(t *testing.T) {
	for _, c := range []struct {
		b []byte
		v uint64
	}{
		{[]byte{0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c}, 151288809941952652},
		{[]byte{0x9d, 0x7f, 0x3e, 0x7d}, 494878333},
		{[]byte{0x7b, 0xbd}, 15293},
		{[]byte{0x25}, 37},
		{[]byte{0x40, 0x25}, 37},
	} {
		if v, n := parseVarint(c.b); v != c.v || n != len(c.b) {
			t.Errorf("% x: got %d/%d", c.b, v, n)
		}
	}
}

func TestAppendVarintPanicsAboveMax(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	AppendVarint(nil, MaxVarint+1)
}
