package headers

import (
	"strconv"
	"testing"
)

// RFC 9114 §4.1.2: Content-Length must equal the sum of DATA lengths.
func TestContentLength(t *testing.T) {
	c := NewContentLength(10)
	if err := c.Add(4); err != nil {
		t.Fatal(err)
	}
	wantMessageError(t, c.End()) // 4 < 10
	if err := c.Add(6); err != nil || c.End() != nil || c.Received() != 10 {
		t.Fatal("exact length refused")
	}
	wantMessageError(t, c.Add(1))

	none := NewContentLength(-1)
	if none.Add(1<<40) != nil || none.End() != nil {
		t.Fatal("no Content-Length: nothing to check")
	}
	zero := NewContentLength(0)
	if zero.End() != nil {
		t.Fatal("empty body")
	}
	wantMessageError(t, zero.Add(1))
}

// LengthText formats like strconv, reuses the text of a repeated length,
// and a nil one still formats.
func TestLengthText(t *testing.T) {
	var lt LengthText
	for _, n := range []int64{0, 4096, 4096, 7, 1 << 40} {
		if got := lt.Format(n); got != strconv.FormatInt(n, 10) {
			t.Errorf("Format(%d) = %q", n, got)
		}
	}
	lt.Format(1024)
	if allocs := testing.AllocsPerRun(10, func() { lt.Format(1024) }); allocs != 0 {
		t.Errorf("repeated length: %v allocations", allocs)
	}
	if got := (*LengthText)(nil).Format(12); got != "12" {
		t.Errorf("nil: %q", got)
	}
}
