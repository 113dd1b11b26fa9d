package headers

import "testing"

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
