package streambuf

import (
	"fmt"
	"testing"
)

// fuzzBuffer is one of the receive buffers of FuzzRecvHeld's endpoint:
// GRO-sized memory counted by references, that goes back to its pool when
// the last is dropped and is poisoned there, so that a slice read after
// its buffer was released reads 0xee, a byte the streams never carry.
type fuzzBuffer struct {
	b    []byte
	refs int
	pool *fuzzPool
}

func (d *fuzzBuffer) Hold() { d.refs++ }

func (d *fuzzBuffer) Release() { d.drop() }

func (d *fuzzBuffer) Size() int { return len(d.b) }

func (d *fuzzBuffer) drop() {
	d.refs--
	switch {
	case d.refs < 0:
		d.pool.err = fmt.Errorf("buffer %p released more often than held", d)
	case d.refs == 0:
		for i := range d.b {
			d.b[i] = 0xee
		}
		for _, f := range d.pool.free {
			if f == d {
				d.pool.err = fmt.Errorf("buffer %p put back in its pool twice", d)
			}
		}
		d.pool.free = append(d.pool.free, d)
	}
}

type fuzzPool struct {
	free []*fuzzBuffer
	all  []*fuzzBuffer
	err  error
}

// get takes a buffer from the pool, with the receiver's own reference.
func (p *fuzzPool) get() *fuzzBuffer {
	if len(p.free) == 0 {
		return nil
	}
	d := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	d.refs = 1
	return d
}

// fuzzStreamByte is byte i of stream k's data: never 0xee, the poison.
func fuzzStreamByte(k int, i uint64) byte { return byte((i + 97*uint64(k)) % 223) }

const (
	fuzzStreamLen = 1 << 16
	fuzzBufferLen = 12 << 10
)

// FuzzRecvHeld runs a random sequence of operations on two streams'
// receive buffers fed from a pool of four refcounted datagram buffers:
// stream 0 a bare Recv (as a CRYPTO stream's, read by Peek and Consume),
// stream 1 a RecvPart (as an application stream's). Datagrams carry runs
// of STREAM frames (in order, repeated, out of order, around the hold
// threshold, for one stream or interleaved); the streams are read in any
// amounts, Unhold copies what they hold, the peer resets stream 1
// (RESET_STREAM), the application stops reading either (Discard,
// CloseRead). Every byte read is the stream's (none read from a buffer
// after its release, which poisons it), no buffer is released more often
// than held nor pooled twice, the hold budget never goes negative, and
// once both streams are closed every buffer is back in its pool exactly
// once and the budget is zero.
func FuzzRecvHeld(f *testing.F) {
	// Ops (op%8; bit 3 picks the stream where it matters): 0 a datagram
	// (stream bits, frame count, then per frame a placement and a length
	// byte), 1 Read, 2 Peek and Consume part (stream 0), 3 Unhold, 4 stop
	// reading (Discard, CloseRead), 5 a small budget limit, 6 the peer
	// resets stream 1 at a final size beyond what it sent.
	f.Add([]byte{0, 0, 3, 0, 120, 0, 120, 0, 120, 1, 200, 1, 255, 1, 255})
	f.Add([]byte{0, 0xff, 4, 0, 120, 0, 120, 0, 120, 0, 120, 9, 200, 9, 255, 9, 255, 6, 3, 9, 10})
	f.Add([]byte{0, 2, 4, 0, 100, 0, 100, 0, 100, 0, 100, 2, 30, 100, 1, 90, 2, 255, 255, 1, 255, 9, 255, 9, 255})
	f.Add([]byte{5, 3, 0, 0, 4, 0, 250, 0, 250, 0, 250, 0, 250, 0, 1, 4, 0, 250, 0, 250, 0, 250, 0, 250, 1, 255, 1, 255})
	f.Add([]byte{0, 0, 2, 0x85, 150, 0, 150, 0, 0, 2, 0x02, 120, 0, 120, 3, 1, 255, 1, 255})
	f.Add([]byte{0, 0, 4, 0, 120, 0, 120, 0, 120, 0, 120, 2, 10, 128, 4, 0, 0xff, 2, 0, 120, 0, 120, 1, 255, 12, 9, 255})
	f.Add([]byte{0, 0, 1, 0, 1, 0, 0, 1, 0, 20, 0, 0, 1, 0, 200, 1, 255, 1, 255})
	f.Add([]byte{0, 0xaa, 4, 0, 150, 0, 150, 0, 150, 0, 150, 11, 0, 0xff, 4, 0, 150, 0, 150, 0, 150, 0, 150, 1, 255, 9, 255})
	f.Fuzz(func(t *testing.T, ops []byte) {
		pool := &fuzzPool{}
		for range 4 {
			d := &fuzzBuffer{b: make([]byte, fuzzBufferLen), pool: pool}
			pool.all = append(pool.all, d)
			pool.free = append(pool.free, d)
		}
		var budget HoldBudget
		var recv Recv     // stream 0
		var part RecvPart // stream 1
		part.Init(2 * fuzzStreamLen)
		var sent [2]uint64 // the next offset a sender would send in order
		var closed [2]bool // the application stopped reading
		var rbuf [4096]byte
		next := func() int {
			if len(ops) == 0 {
				return 0
			}
			b := ops[0]
			ops = ops[1:]
			return int(b)
		}
		check := func(k int, off uint64, b []byte) {
			for i, c := range b {
				if want := fuzzStreamByte(k, off+uint64(i)); c != want {
					t.Fatalf("stream %d: byte %d is %#x, want %#x", k, off+uint64(i), c, want)
				}
			}
		}
		for len(ops) > 0 {
			op := next()
			k := op >> 3 & 1
			switch op % 8 {
			case 0:
				which, nframes := next(), 1+next()%4
				d := pool.get()
				if d == nil {
					continue
				}
				pos := 0
				for i := range nframes {
					k := (which >> i) & 1
					place, size := next(), 1+next()*9
					off := sent[k]
					switch {
					case place&0x80 != 0: // a repeat from before
						off -= min(off, uint64(place&0x7f)*64)
					case place != 0: // beyond a gap
						off += uint64(place) * 64
					}
					end := min(off+uint64(size), fuzzStreamLen)
					pos += 30 // the packet's header and other frames
					if off >= end || pos+int(end-off) > len(d.b) {
						continue
					}
					b := d.b[pos : pos+int(end-off)]
					for j := range b {
						b[j] = fuzzStreamByte(k, off+uint64(j))
					}
					pos += len(b)
					fin := end == fuzzStreamLen
					var err error
					if k == 0 {
						if !closed[0] {
							_, err = recv.WriteHeld(off, b, fin, d, &budget)
						}
					} else if _, err = part.WriteHeld(off, b, fin, d, &budget); err == ErrFinalSize && part.reset {
						err = nil // beyond the final size of a reset: the connection closes
					}
					if err != nil {
						t.Fatalf("stream %d: write [%d, %d): %v", k, off, end, err)
					}
					if place == 0 || place&0x80 != 0 {
						// Data beyond a gap leaves the sender's in-order
						// position where it was: what follows fills the gap.
						sent[k] = max(sent[k], end)
					}
				}
				d.drop() // processed: the receiver's own reference goes
			case 1:
				want := 1 + next()*16
				if k == 0 {
					if !closed[0] {
						off := recv.ReadOffset()
						n, _ := recv.Read(rbuf[:want])
						check(0, off, rbuf[:n])
					}
					continue
				}
				off := part.buf.ReadOffset()
				n, st, _, _ := part.Read(rbuf[:want])
				check(1, off, rbuf[:n])
				if closed[1] && st != Closed || !closed[1] && (st == ResetRemote) != part.reset {
					t.Fatalf("stream 1: read status %v (reset %v, closed %v)", st, part.reset, closed[1])
				}
			case 2:
				if closed[0] {
					continue
				}
				off := recv.ReadOffset()
				b := recv.Peek(1 + next()*16)
				check(0, off, b)
				recv.Consume(len(b) * next() / 255)
			case 3:
				if k == 0 {
					recv.Unhold()
				} else {
					part.Unhold()
				}
			case 4:
				closed[k] = true
				if k == 0 {
					recv.Discard()
				} else {
					part.CloseRead(7)
				}
			case 5:
				budget.SetLimit(fuzzBufferLen * (1 + next()%4))
			case 6:
				final := part.buf.Highest() + uint64(next())
				if _, err := part.Reset(final, 9); err != nil && err != ErrFinalSize {
					t.Fatalf("reset at %d: %v", final, err)
				}
			}
			if pool.err != nil {
				t.Fatal(pool.err)
			}
			if budget.Held() < 0 {
				t.Fatalf("%d bytes held", budget.Held())
			}
		}
		// The connection closing: both streams stop reading, and every
		// buffer is back, once.
		recv.Discard()
		part.CloseRead(0)
		if pool.err != nil {
			t.Fatal(pool.err)
		}
		if len(pool.free) != len(pool.all) || budget.Held() != 0 {
			t.Fatalf("%d of %d buffers back in the pool, %d bytes still counted", len(pool.free), len(pool.all), budget.Held())
		}
		for _, d := range pool.all {
			if d.refs != 0 {
				t.Fatalf("buffer %p: %d references left", d, d.refs)
			}
		}
	})
}
