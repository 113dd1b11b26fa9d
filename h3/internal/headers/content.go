package headers

import (
	"strconv"
	"sync/atomic"
)

// LengthText formats content lengths in decimal, reusing the text of the
// last length when it is the same: messages of one size, the common case,
// share it. The zero value is ready; it is safe for concurrent use.
type LengthText struct {
	last atomic.Pointer[lengthText]
}

// lengthText is a content length and its decimal text.
type lengthText struct {
	n    int64
	text string
}

// Format returns n in decimal; a nil LengthText formats it anew.
func (lt *LengthText) Format(n int64) string {
	if lt == nil {
		return strconv.FormatInt(n, 10)
	}
	if l := lt.last.Load(); l != nil && l.n == n {
		return l.text
	}
	l := &lengthText{n: n, text: strconv.FormatInt(n, 10)}
	lt.last.Store(l)
	return l.text
}

// ContentLength checks the content of a message against its Content-Length
// field, RFC 9114 §4.1.2: a message "is malformed if the value of the
// Content-Length header field does not equal the sum of the DATA frame
// lengths received". The zero value checks nothing; set Declared from
// Request.ContentLength or Response.ContentLength, except for responses
// that never have content (to HEAD, 204, 304), where it must stay -1.
type ContentLength struct {
	// Declared is the Content-Length value, or -1 for none.
	Declared int64
	received uint64
}

// NewContentLength returns a checker for a declared length (-1 for none).
func NewContentLength(declared int64) ContentLength {
	return ContentLength{Declared: declared}
}

// Add counts n more bytes of DATA payload; more than declared is a
// malformed message (H3_MESSAGE_ERROR), reported as soon as it is seen.
func (c *ContentLength) Add(n uint64) error {
	c.received += n
	if c.Declared >= 0 && c.received > uint64(c.Declared) {
		return malformed("more content than Content-Length")
	}
	return nil
}

// End checks the total when the stream ends cleanly: less content than
// declared is a malformed message.
func (c *ContentLength) End() error {
	if c.Declared >= 0 && c.received != uint64(c.Declared) {
		return malformed("less content than Content-Length")
	}
	return nil
}

// Received is the number of content bytes counted.
func (c *ContentLength) Received() uint64 { return c.received }
