package streambuf

import "sync"

// ChunkSize is the unit of storage: beyond its first buffer a stream's
// storage grows by chunks, and holds at most its data and a chunk at each
// end (tests bound storage with it). 64 KiB holds about 45 full-size
// packets of data, so a fast stream touches the pool rarely; and a packet
// whose data crosses from one chunk into the next, which the connection
// must copy instead of sealing it from the send buffer (SliceHead) and
// which carries two STREAM frames instead of one, comes once in 45 packets
// rather than once in 11 with 16 KiB chunks (1.3% of the instructions of
// the connection's BenchmarkBulkInMemory, sender and receiver together).
const ChunkSize = 64 << 10

// A chunk's buffer is one of these sizes. The first chunk of a buffer that
// held nothing takes the smallest size that holds what is written, and
// the next size up when it fills (copying what it holds, at most 16 KiB),
// so a stream with a few bytes buffered holds a few hundred bytes, not
// 64 KiB; every other chunk is full size, so a bulk stream never copies.
const (
	sizeTiny  = 256
	sizeSmall = 1 << 10
	sizeMid   = 4 << 10
	sizeLarge = 16 << 10
)

type chunk [ChunkSize]byte

// One pool per size, of pointers to arrays (a Put of a pointer does not
// allocate).
var (
	chunkPool = sync.Pool{New: func() any { return new(chunk) }}
	tinyPool  = sync.Pool{New: func() any { return new([sizeTiny]byte) }}
	smallPool = sync.Pool{New: func() any { return new([sizeSmall]byte) }}
	midPool   = sync.Pool{New: func() any { return new([sizeMid]byte) }}
	largePool = sync.Pool{New: func() any { return new([sizeLarge]byte) }}
)

// getBuf returns a buffer of the smallest size that holds n bytes.
func getBuf(n int) []byte {
	switch {
	case n <= sizeTiny:
		return tinyPool.Get().(*[sizeTiny]byte)[:]
	case n <= sizeSmall:
		return smallPool.Get().(*[sizeSmall]byte)[:]
	case n <= sizeMid:
		return midPool.Get().(*[sizeMid]byte)[:]
	case n <= sizeLarge:
		return largePool.Get().(*[sizeLarge]byte)[:]
	}
	return chunkPool.Get().(*chunk)[:]
}

// putBuf returns a buffer getBuf made to its pool. Nothing may use it
// afterwards.
func putBuf(b []byte) {
	switch len(b) {
	case sizeTiny:
		tinyPool.Put((*[sizeTiny]byte)(b))
	case sizeSmall:
		smallPool.Put((*[sizeSmall]byte)(b))
	case sizeMid:
		midPool.Put((*[sizeMid]byte)(b))
	case sizeLarge:
		largePool.Put((*[sizeLarge]byte)(b))
	case ChunkSize:
		chunkPool.Put((*chunk)(b))
	}
}

// bitmap marks the bytes of one chunk received out of order (Recv): one
// bit per byte, 8 KiB, only for chunks beyond the first gap.
type bitmap [ChunkSize / 64]uint64

var bitmapPool = sync.Pool{New: func() any { return new(bitmap) }}

// indexPool holds the one-entry chunk indexes (chunks.c) of buffers that
// held nothing: most streams never hold more than one chunk at once, and
// a stream's buffer empties whenever everything was read or acknowledged,
// so a stream taking its index here and giving it back when it empties
// costs no allocation.
var indexPool = sync.Pool{New: func() any { return new([1][]byte) }}

// chunks is a run of chunks holding the bytes of a stream from offset base
// (a multiple of ChunkSize) onwards: chunk i holds the offsets from
// base+i*ChunkSize, in a buffer of one of the sizes above. Entries may be
// nil where nothing has been stored yet.
type chunks struct {
	base uint64
	c    [][]byte
	// marks, on the receive side, has chunk i's bitmap of bytes received
	// out of order at index i (nil: none).
	marks []*bitmap
	// spare is one released full-size chunk kept back, so a busy stream
	// cycles through its own memory rather than the pool; or a smaller
	// buffer that grew (room), kept until the buffer empties (free).
	spare []byte
}

// room returns the buffer of the chunk holding off, grown if needed to
// hold n bytes from off, which must not cross the chunk's end.
//
// A buffer that grows is copied into a larger one. The old one goes back
// to its pool at once when the caller says that no one copies from it
// outside the lock (unshared: a RecvPart whose Read is not copying).
// Else it must stay valid: a reader (RecvPart) or the connection
// (SendPart) may still be copying from it. It is then kept as the spare,
// when there is none, and pooled when the buffer empties (free): the side
// that copies outside the lock is then the one freeing, done with its
// copy. (Else it goes to the garbage collector.)
func (cs *chunks) room(off uint64, n int, unshared bool) []byte {
	i := int((off - cs.base) / ChunkSize)
	if cs.c == nil {
		cs.c = indexPool.Get().(*[1][]byte)[:0]
	}
	for len(cs.c) <= i {
		cs.c = append(cs.c, nil)
	}
	need := int(off%ChunkSize) + n
	b := cs.c[i]
	if len(b) >= need {
		return b
	}
	var nb []byte
	if len(cs.c) > 1 || need > sizeLarge {
		nb = cs.getFull()
	} else {
		nb = getBuf(need)
	}
	copy(nb, b)
	cs.c[i] = nb
	switch {
	case b == nil:
	case unshared:
		putBuf(b)
	case cs.spare == nil:
		cs.spare = b
	}
	return nb
}

func (cs *chunks) getFull() []byte {
	if c := cs.spare; len(c) == ChunkSize {
		cs.spare = nil
		return c
	}
	return chunkPool.Get().(*chunk)[:]
}

// put returns a released buffer: a full-size one is kept as the spare if
// there is none.
func (cs *chunks) put(b []byte) {
	if len(b) == ChunkSize && cs.spare == nil {
		cs.spare = b
		return
	}
	putBuf(b)
}

// write copies b to offset off onwards; unshared is room's.
func (cs *chunks) write(off uint64, b []byte, unshared bool) {
	for len(b) > 0 {
		k := int(min(uint64(len(b)), chunkEnd(off)-off))
		c := cs.room(off, k, unshared)
		copy(c[off%ChunkSize:], b[:k])
		b = b[k:]
		off += uint64(k)
	}
}

// slice returns the bytes from off up to at most end, stopping at the end of
// off's chunk. The bytes must have been written.
func (cs *chunks) slice(off, end uint64) []byte {
	c := cs.c[(off-cs.base)/ChunkSize]
	lo := off % ChunkSize
	hi := min(uint64(ChunkSize), lo+(end-off))
	return c[lo:hi]
}

// release returns to the pool every chunk wholly below off, with its
// bitmap.
func (cs *chunks) release(off uint64) {
	n := 0
	for n < len(cs.c) && cs.base+ChunkSize*uint64(n+1) <= off {
		if cs.c[n] != nil {
			cs.put(cs.c[n])
		}
		n++
	}
	if n == 0 {
		return
	}
	copy(cs.c, cs.c[n:])
	clear(cs.c[len(cs.c)-n:])
	cs.c = cs.c[:len(cs.c)-n]
	if len(cs.marks) > 0 {
		k := min(n, len(cs.marks))
		for i := range k {
			cs.dropMarks(i)
		}
		copy(cs.marks, cs.marks[k:])
		clear(cs.marks[len(cs.marks)-k:])
		cs.marks = cs.marks[:len(cs.marks)-k]
	}
	cs.base += ChunkSize * uint64(n)
}

// dropMarks returns chunk i's bitmap, if any.
func (cs *chunks) dropMarks(i int) {
	if m := cs.marks[i]; m != nil {
		bitmapPool.Put(m)
		cs.marks[i] = nil
	}
}

// free returns every chunk and bitmap to the pools.
func (cs *chunks) free() {
	for i, c := range cs.c {
		if c != nil {
			putBuf(c)
		}
		cs.c[i] = nil
	}
	if cap(cs.c) == 1 {
		indexPool.Put((*[1][]byte)(cs.c[:1]))
		cs.c = nil
	} else {
		cs.c = cs.c[:0]
	}
	for i := range cs.marks {
		cs.dropMarks(i)
	}
	cs.marks = cs.marks[:0]
	if cs.spare != nil {
		putBuf(cs.spare)
		cs.spare = nil
	}
}

// held is the number of bytes of storage the chunks hold, bitmaps included.
func (cs *chunks) held() int {
	n := len(cs.spare)
	for _, c := range cs.c {
		n += len(c)
	}
	for _, m := range cs.marks {
		if m != nil {
			n += len(m) * 8
		}
	}
	return n
}
