package quic

import "sync/atomic"

// driverStackFrame is the stack frame presizeStack takes. A goroutine
// starts with a 2 KB stack, and the driver's handshake runs ML-KEM-768,
// X25519 and ECDSA P-256 (tls13 through conn.HandleDatagramHeld) about 20
// KB deep: grown a doubling at a time, the stack was copied four times
// per handshake on each side (2→4→8→16→32 KB, every copy walking and
// adjusting the frames already on it), about 3 % of a handshake's CPU.
// One frame this large, taken while the stack is still nearly empty, makes
// the runtime grow it once, straight to 32 KB (newstack doubles until the
// frame fits), copying almost nothing.
const driverStackFrame = 16 << 10

// start is the connection's goroutine: the driver loop on a stack sized
// for the handshake. Once the connection is idle the garbage collector
// shrinks the stack again (it halves stacks that use less than a quarter),
// so an idle connection keeps no more than it would have anyway.
func (c *Conn) start() {
	liveConns.Add(1)
	presizeStack()
	c.run()
}

// liveConns counts the connections whose driver runs, in all endpoints:
// the receive buffer pools (rxbuf.go) are shared by all of them.
var liveConns atomic.Int64

// trimRxPoolsAtEnd is the driver's last act. The last connection to end
// shrinks the receive buffer pools to their idle size; one that ends while
// others run leaves them: a datagram of a GRO run (a handshake flight is
// two) holds a 64 KiB buffer until its driver has handled it, and with 32
// handshakes in flight each end trimmed the spares below what the others
// were about to need, so that the reader made new ones: 26 KB of zeroed
// buffers per handshake on the client of BenchmarkHandshake/mode=parallel,
// a third of all it allocated. The pools stay bounded by their per-reader
// limit meanwhile, and an idle connection still trims them (trimIdle).
func trimRxPoolsAtEnd() {
	if liveConns.Add(-1) == 0 {
		trimRxPools()
	}
}

// presizeStack grows the calling goroutine's stack to fit a
// driverStackFrame-byte frame (see driverStackFrame). Dial calls it too,
// before it makes the client's key share: the caller's stack may have
// been shrunk by the garbage collector since its last Dial, and growing it
// here copies a few frames rather than the key generation's deep ones.
// Where the stack is already large enough it costs a call.
//
//go:noinline
func presizeStack() {
	// The frame is reserved on entry, which is when the stack grows; the
	// branch that would zero and use it never runs, so that a stack with
	// room already costs nothing (zeroing 16 KB of cold stack took 3 µs).
	if presizeUse {
		var frame [driverStackFrame]byte
		stackSink(frame[:])
	}
}

// presizeUse is always false; a variable, so that the compiler keeps
// presizeStack's frame.
var presizeUse = false

// stackSink keeps presizeStack's frame from being optimised away; it
// neither keeps nor leaks the slice, so the array stays in the frame.
//
//go:noinline
func stackSink(b []byte) byte { return b[len(b)-1] }
