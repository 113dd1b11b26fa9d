package quic

import "sync"

// sendBufferPool holds the send buffers drivers take while they flush: a
// reserve of up to a fixed number of buffers in front of a sync.Pool. The
// garbage collector empties a sync.Pool (what it holds survives one
// collection, in the victim cache, unless taken back first): with 32
// handshakes at a time the buffers beyond those in use at the moment of a
// collection went, and the next handshakes to flush at once made new
// ones, zeroed, a 64 KB buffer every 50 handshakes on the client of
// BenchmarkHandshake/mode=parallel and a 23 KB one every 20 on its server,
// 1.8 KB a handshake on each side, a twentieth of all they allocated. The
// reserve, which collections leave alone, covers the drivers that flush
// at once on a busy machine; the pool takes the rest.
//
// The reserve is the endpoints' spare memory, as the receive buffer pools
// are (rxbuf.go), and goes when they shrink (trimPools): when the last
// connection ends or one goes idle, so that idle connections hold none of
// it.
type sendBufferPool struct {
	reserve     chan *sendBuffer
	maxReserved int // the largest buffer the reserve keeps, in bytes
	pool        sync.Pool
}

// newSendBufferPool returns a pool of buffers of size bytes, with a
// reserve of up to reserve of them.
func newSendBufferPool(reserve, size int) *sendBufferPool {
	p := &sendBufferPool{reserve: make(chan *sendBuffer, reserve), maxReserved: size}
	p.pool.New = func() any { return &sendBuffer{b: make([]byte, 0, size)} }
	return p
}

// get returns a buffer from the reserve, else from the pool.
func (p *sendBufferPool) get() *sendBuffer {
	select {
	case sb := <-p.reserve:
		return sb
	default:
		return p.pool.Get().(*sendBuffer)
	}
}

// put gives sb back, to the reserve while it has room, unless a bulk
// transfer grew it beyond what it started with (sendBufPool's 372 KB
// ones): a reserve refilled after the last idle trim keeps its buffers
// while the process is idle, 64 KB at the most for each.
func (p *sendBufferPool) put(sb *sendBuffer) {
	if cap(sb.b) <= p.maxReserved {
		select {
		case p.reserve <- sb:
			return
		default:
		}
	}
	p.pool.Put(sb)
}

// trim moves the reserve into the pool, which the next collections empty
// unless drivers take the buffers back first.
func (p *sendBufferPool) trim() {
	for {
		select {
		case sb := <-p.reserve:
			p.pool.Put(sb)
		default:
			return
		}
	}
}
