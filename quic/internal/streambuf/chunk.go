package streambuf

import "sync"

// chunkSize is the unit of storage. 16 KiB holds about a dozen full-size
// packets of data, so a fast stream touches the pool rarely, and an idle
// stream with a few bytes buffered holds one chunk.
const chunkSize = 16 << 10

type chunk [chunkSize]byte

var chunkPool = sync.Pool{New: func() any { return new(chunk) }}

func getChunk() *chunk { return chunkPool.Get().(*chunk) }

func putChunk(c *chunk) { chunkPool.Put(c) }

// chunks is a run of chunks holding the bytes of a stream from offset base
// (a multiple of chunkSize) onwards. Entries may be nil where nothing has
// been stored yet.
type chunks struct {
	base  uint64
	c     []*chunk
	spare *chunk // one released chunk kept back, so a busy stream cycles through its own memory rather than the pool
}

func (cs *chunks) get() *chunk {
	if c := cs.spare; c != nil {
		cs.spare = nil
		return c
	}
	return getChunk()
}

func (cs *chunks) put(c *chunk) {
	if cs.spare == nil {
		cs.spare = c
		return
	}
	putChunk(c)
}

// at returns the chunk holding offset off, allocating it if needed.
func (cs *chunks) at(off uint64) *chunk {
	i := int((off - cs.base) / chunkSize)
	for len(cs.c) <= i {
		cs.c = append(cs.c, nil)
	}
	if cs.c[i] == nil {
		cs.c[i] = cs.get()
	}
	return cs.c[i]
}

// write copies b to offset off onwards.
func (cs *chunks) write(off uint64, b []byte) {
	for len(b) > 0 {
		c := cs.at(off)
		n := copy(c[off%chunkSize:], b)
		b = b[n:]
		off += uint64(n)
	}
}

// slice returns the bytes from off up to at most end, stopping at the end of
// off's chunk. The chunk must exist.
func (cs *chunks) slice(off, end uint64) []byte {
	c := cs.c[(off-cs.base)/chunkSize]
	lo := off % chunkSize
	hi := min(uint64(chunkSize), lo+(end-off))
	return c[lo:hi]
}

// release returns to the pool every chunk wholly below off.
func (cs *chunks) release(off uint64) {
	n := 0
	for n < len(cs.c) && cs.base+chunkSize*uint64(n+1) <= off {
		if cs.c[n] != nil {
			cs.put(cs.c[n])
		}
		n++
	}
	if n == 0 {
		return
	}
	copy(cs.c, cs.c[n:])
	for i := len(cs.c) - n; i < len(cs.c); i++ {
		cs.c[i] = nil
	}
	cs.c = cs.c[:len(cs.c)-n]
	cs.base += chunkSize * uint64(n)
}

// free returns every chunk to the pool.
func (cs *chunks) free() {
	for i, c := range cs.c {
		if c != nil {
			putChunk(c)
		}
		cs.c[i] = nil
	}
	cs.c = cs.c[:0]
	if cs.spare != nil {
		putChunk(cs.spare)
		cs.spare = nil
	}
}
