package h3

import (
	"bytes"
	"net/http"
	"sync/atomic"
)

// sniffLen is how much of a response's content http.DetectContentType
// looks at: "at most the first 512 bytes of data".
const sniffLen = 512

// sniffCache remembers the bytes the last content-type sniff looked at and
// what it found, so that a server sending the same content again (a file,
// an API's fixed reply) answers a comparison rather than a sniff through
// some forty signatures, a microsecond a response. The answer is
// http.DetectContentType's own: it depends on those bytes only. Every
// sixteenth miss replaces the entry, so varied content costs an
// allocation only that often.
type sniffCache struct {
	last   atomic.Pointer[sniffed]
	misses atomic.Uint32
}

type sniffed struct {
	prefix      []byte
	contentType string
}

// detect returns http.DetectContentType(p).
func (c *sniffCache) detect(p []byte) string {
	if len(p) > sniffLen {
		p = p[:sniffLen]
	}
	if s := c.last.Load(); s != nil && bytes.Equal(s.prefix, p) {
		return s.contentType
	}
	ct := http.DetectContentType(p)
	if c.misses.Add(1)%16 == 1 {
		c.last.Store(&sniffed{prefix: bytes.Clone(p), contentType: ct})
	}
	return ct
}
