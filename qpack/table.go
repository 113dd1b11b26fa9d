package qpack

// The dynamic table, RFC 9204 §3.2: a FIFO of entries addressed by absolute
// index (the insertion number, §3.2.4), with the size of each entry the
// length of its name and value plus 32 (§3.2.1). Both the decoder and the
// encoder keep one.

// entryOverhead is the per-entry overhead of RFC 9204 §3.2.1.
const entryOverhead = 32

func entrySize(name, value string) uint64 {
	return uint64(len(name)) + uint64(len(value)) + entryOverhead
}

type tableEntry struct {
	name, value string
	// refs counts the unacknowledged field sections that reference the
	// entry (encoder side only; RFC 9204 §2.1.1 forbids evicting it while
	// this is non-zero).
	refs int
}

type dynamicTable struct {
	ring     []tableEntry // ring buffer; its length is a power of two
	head     int          // ring index of the oldest entry
	count    int          // number of entries
	size     uint64       // sum of entry sizes, §3.2.1
	capacity uint64       // current capacity, §3.2.3
	inserted uint64       // Insert Count: absolute index of the next entry
}

// dropped is the absolute index of the oldest entry still in the table.
func (t *dynamicTable) dropped() uint64 { return t.inserted - uint64(t.count) }

// has reports whether absolute index abs is in the table.
func (t *dynamicTable) has(abs uint64) bool {
	return abs < t.inserted && abs >= t.dropped()
}

// entry returns the entry with absolute index abs; the caller checks has.
func (t *dynamicTable) entry(abs uint64) *tableEntry {
	i := (t.head + int(abs-t.dropped())) & (len(t.ring) - 1)
	return &t.ring[i]
}

// oldest returns the oldest entry; the table must not be empty.
func (t *dynamicTable) oldest() *tableEntry { return &t.ring[t.head] }

// evictOldest removes the oldest entry.
func (t *dynamicTable) evictOldest() {
	e := &t.ring[t.head]
	t.size -= entrySize(e.name, e.value)
	*e = tableEntry{}
	t.head = (t.head + 1) & (len(t.ring) - 1)
	t.count--
}

// add appends an entry; the caller has made room for it.
func (t *dynamicTable) add(name, value string) {
	if t.count == len(t.ring) {
		t.grow()
	}
	i := (t.head + t.count) & (len(t.ring) - 1)
	t.ring[i] = tableEntry{name: name, value: value}
	t.count++
	t.size += entrySize(name, value)
	t.inserted++
}

func (t *dynamicTable) grow() {
	n := 2 * len(t.ring)
	if n == 0 {
		n = 16
	}
	ring := make([]tableEntry, n)
	for i := 0; i < t.count; i++ {
		ring[i] = t.ring[(t.head+i)&(len(t.ring)-1)]
	}
	t.ring, t.head = ring, 0
}
