package wire

import (
	"errors"
	"testing"
)

func TestVarintBoundaries(t *testing.T) {
	for _, c := range []struct {
		v uint64
		n int
	}{
		{0, 1}, {63, 1}, {64, 2}, {16383, 2}, {16384, 4}, {1<<30 - 1, 4}, {1 << 30, 8}, {MaxVarint, 8},
	} {
		b := AppendVarint([]byte{0xee}, c.v)
		if len(b) != 1+c.n || VarintLen(c.v) != c.n {
			t.Errorf("AppendVarint(%d) = %x, VarintLen %d; want %d bytes", c.v, b, VarintLen(c.v), c.n)
			continue
		}
		v, n, err := ParseVarint(b[1:])
		if err != nil || v != c.v || n != c.n {
			t.Errorf("ParseVarint(%x) = %d, %d, %v", b[1:], v, n, err)
		}
		// Every prefix is a truncation error, never a panic.
		for i := 0; i < c.n; i++ {
			if _, _, err := ParseVarint(b[1 : 1+i]); !errors.Is(err, ErrTruncatedVarint) {
				t.Errorf("ParseVarint(%x) error = %v, want ErrTruncatedVarint", b[1:1+i], err)
			}
		}
		// Longer encodings decode to the same value.
		for _, w := range []int{1, 2, 4, 8} {
			if w < c.n {
				continue
			}
			if v, n, _ := ParseVarint(AppendVarintLen(nil, c.v, w)); v != c.v || n != w {
				t.Errorf("AppendVarintLen(%d, %d) decodes to %d, %d", c.v, w, v, n)
			}
		}
	}
}

func TestAppendVarintPanicsOnOverflow(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("AppendVarint(2^62) did not panic")
		}
	}()
	AppendVarint(nil, 1<<62)
}
