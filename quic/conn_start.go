package quic

import (
	"context"
	"sync/atomic"
	"time"
)

// driverStackFrame is the stack frame presizeStack takes. A goroutine
// starts with a 2 KB stack, and a client's handshake runs ML-KEM-768 key
// generation and decapsulation, X25519 and the ECDSA P-256 verification
// (tls13 through conn.HandleDatagramHeld) 16 to 20 KB deep: grown a
// doubling at a time, the stack was copied four times per handshake
// (2→4→8→16→32 KB, every copy walking and adjusting the frames already on
// it), about 3 % of a handshake's CPU. One frame this large, taken while
// the stack is still nearly empty, makes the runtime grow it once,
// straight to 32 KB (newstack doubles until the frame fits), copying
// almost nothing.
const driverStackFrame = 16 << 10

// serverStackFrame is driverStackFrame for a server's driver: a server's
// handshake (ML-KEM-768 encapsulation, X25519, the ECDSA P-256 signature)
// stays within 16 KB, which this frame grows a new goroutine's stack to.
// A 16 KB stack comes from the processor's stack cache; a 32 KB one, as
// every server connection took before, from the heap, under its lock, and
// went back there when the connection ended (stackalloc and stackfree,
// ~2 µs a handshake at 32 at a time). A handshake that goes deeper (an
// RSA certificate, ML-KEM-1024) grows the stack once more, from inside.
const serverStackFrame = 8 << 10

// start is the connection's goroutine: the driver loop on a stack sized
// for the handshake. Once the connection is idle the garbage collector
// shrinks the stack again (it halves stacks that use less than a quarter),
// so an idle connection keeps no more than it would have anyway.
func (c *Conn) start() {
	liveConns.Add(1)
	if c.isClient {
		presizeStack() // DialEarly's driver
	} else {
		presizeServerStack()
	}
	newDriver(c).run()
}

// dialDriver drives a client connection's handshake on Dial's goroutine,
// which would otherwise only wait for it, and reports true once the
// handshake has completed: the driver loop goes on on a goroutine of its
// own. It reports false when the handshake failed, or ctx ended first:
// the connection has ended by then (c.closeError says why).
//
// A driver goroutine from the start cost every handshake two hand-offs
// between goroutines: the driver woke Dial's caller when the handshake
// completed, and the caller's first act (its request, or Close) woke the
// driver again; and the driver's stack grew to the handshake's depth while
// the caller's, already that deep (it made the key share), sat idle. Now
// the endpoint's reader hands the server's flight to Dial's caller
// directly, and the goroutine that takes over starts shallow, with the
// caller's first request waiting for it. 0-RTT (DialEarly) returns before
// the handshake completes and keeps a driver goroutine from the start.
func (c *Conn) dialDriver(ctx context.Context) bool {
	liveConns.Add(1)
	d := newDriver(c)
	if d.loop(ctx.Done()) {
		return false // ended within a turn
	}
	if c.handshakeOK.Load() {
		go d.runAfterDial()
		return true
	}
	// Failed or given up: the connection sends what CONNECTION_CLOSE it
	// owes and ends now, without the closing or draining period (RFC 9000
	// §10.2), which would only keep a socket, or a goroutine, for a
	// connection nobody holds. The server learns of the failure from that
	// CONNECTION_CLOSE, or at its own timeout if it is lost.
	now := time.Now()
	if !c.isClosing() && c.setCloseError(ctx.Err()) {
		c.sm.Close(now, 0, "dial canceled")
	}
	c.sm.CloseNow(now)
	d.loop(nil)
	return false
}

// runAfterDial is the driver goroutine of a client connection whose
// handshake dialDriver ran. Its first turn sends our Finished behind the
// caller's first request (a Close at the least: a CONNECTION_CLOSE that
// acknowledges the server's packets), and that turn, on a new goroutine's
// 2 KB stack, grew it twice (2→4→8 KB), 9 µs a handshake at 32 dials at
// a time; presizing it to 8 KB at once, from the stack cache, copies
// nothing (driverStackFrame says how).
func (d *driver) runAfterDial() {
	presizeStackShallow()
	d.run()
}

// isClosing reports whether the connection has started to close
// (c.closed is closed).
func (c *Conn) isClosing() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// liveConns counts the connections whose driver runs, in all endpoints:
// the receive buffer pools (rxbuf.go) are shared by all of them.
var liveConns atomic.Int64

// trimPoolsAtEnd is the driver's last act. The last connection to end
// shrinks the receive buffer pools to their idle size and lets the send
// buffers' reserves go (trimPools); one that ends while
// others run leaves them: a datagram of a GRO run (a handshake flight is
// two) holds a 64 KiB buffer until its driver has handled it, and with 32
// handshakes in flight each end trimmed the spares below what the others
// were about to need, so that the reader made new ones: 26 KB of zeroed
// buffers per handshake on the client of BenchmarkHandshake/mode=parallel,
// a third of all it allocated. The pools stay bounded by their per-reader
// limit meanwhile, and an idle connection still trims them (trimIdle).
func trimPoolsAtEnd() {
	if liveConns.Add(-1) == 0 {
		trimPools()
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

// presizeHandshakeStack presizes a client's driver stack again before it
// hands the state machine the server's flight, at the loop's shallow
// depth. Between flights the driver waits, and a garbage collection in the
// meantime halves the stack of a goroutine that waits using less than a
// quarter of it (Dial's caller, presized to 32 KB, waits a few KB deep):
// the server's flight then grew it back from inside ML-KEM decapsulation,
// copying and adjusting some twenty frames, about 4 µs a handshake on the
// client of BenchmarkHandshake/mode=parallel, whose collections come every
// 200 handshakes or so. A server's deep work (encapsulation, the
// signature) comes with its first datagram, right after start presized its
// stack, so it needs no second presize. Where the stack has room it costs
// a call.
func (c *Conn) presizeHandshakeStack() {
	if c.isClient {
		presizeStack()
	}
}

// presizeServerStack is presizeStack with a serverStackFrame.
//
//go:noinline
func presizeServerStack() {
	if presizeUse {
		var frame [serverStackFrame]byte
		stackSink(frame[:])
	}
}

// presizeStackShallow is presizeStack for a driver whose handshake
// has completed: a frame of shallowStackFrame bytes grows a new
// goroutine's 2 KB stack to 8 KB.
//
//go:noinline
func presizeStackShallow() {
	if presizeUse {
		var frame [shallowStackFrame]byte
		stackSink(frame[:])
	}
}

const shallowStackFrame = 5 << 10

// presizeUse is always false; a variable, so that the compiler keeps
// presizeStack's frame.
var presizeUse = false

// stackSink keeps presizeStack's frame from being optimised away; it
// neither keeps nor leaks the slice, so the array stays in the frame.
//
//go:noinline
func stackSink(b []byte) byte { return b[len(b)-1] }
