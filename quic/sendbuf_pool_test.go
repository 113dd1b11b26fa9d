package quic

import (
	"runtime"
	"testing"
)

// TestSendBufferPoolReserve checks that the reserve keeps buffers through
// garbage collections, up to its size, and that trim lets them go.
func TestSendBufferPoolReserve(t *testing.T) {
	const sendBufferReserve = 8
	made := 0
	p := newSendBufferPool(sendBufferReserve, 16)
	p.pool.New = func() any { made++; return &sendBuffer{b: make([]byte, 0, 16)} }
	var held []*sendBuffer
	for range sendBufferReserve + 2 {
		held = append(held, p.get())
	}
	if made != sendBufferReserve+2 {
		t.Fatalf("made %d buffers for %d gets from an empty pool", made, sendBufferReserve+2)
	}
	for _, sb := range held {
		p.put(sb)
	}
	runtime.GC()
	runtime.GC()
	for range sendBufferReserve {
		p.get()
	}
	if made != sendBufferReserve+2 {
		t.Errorf("made %d buffers after two collections, want none beyond the %d made before: the reserve should have kept %d", made-sendBufferReserve-2, sendBufferReserve+2, sendBufferReserve)
	}
	p.put(&sendBuffer{b: make([]byte, 0, 32)})
	if n := len(p.reserve); n != 0 {
		t.Errorf("the reserve took a buffer larger than the pool makes")
	}
	for range sendBufferReserve {
		p.put(&sendBuffer{})
	}
	p.trim()
	if n := len(p.reserve); n != 0 {
		t.Errorf("reserve holds %d buffers after trim, want 0", n)
	}
}
