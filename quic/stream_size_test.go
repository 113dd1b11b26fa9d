package quic

import (
	"testing"
	"unsafe"
)

// TestStreamSize keeps a Stream, with the state machine's stream inside
// it (allocStream), within the 768-byte allocation size class: the next
// is 896, and every stream of a busy HTTP/3 connection (two per request,
// one on each side) pays for it. An object of more than 512 bytes with
// pointers carries an 8-byte header in its allocation: 760 bytes at most.
func TestStreamSize(t *testing.T) {
	if n := unsafe.Sizeof(Stream{}); n > 768-8 {
		t.Errorf("Stream is %d bytes, more than the 768-byte size class holds", n)
	}
}
