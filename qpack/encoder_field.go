package qpack

// Choosing and writing the representation of each field, and the encoder's
// side of the dynamic table.

// maxUnackedInserts bounds the inserts not yet acknowledged made for
// sections that cannot reference them (they may not block): such inserts pay
// off only once acknowledged, so without acknowledgments the encoder stops.
const maxUnackedInserts = 16

// alwaysIndexed names fields whose value is usually the same on every
// request of a connection, so they are inserted on first sight.
func alwaysIndexed(name string) bool {
	switch name {
	case ":authority", "user-agent", "cookie", "authorization":
		return true
	}
	return false
}

func (e *Encoder) huffman() bool { return !e.noHuffman }

// encodeField appends the representation of f to e.lines.
func (e *Encoder) encodeField(s *sectionState, f *HeaderField) {
	sname, staticNameOK, sidx, staticExactOK := staticLookup(f.Name, f.Value)
	if f.NeverIndex {
		// RFC 9204 §4.5.4: the N bit exists only on literals, and such a
		// field must stay a literal through every hop (§7.1.3).
		e.encodeLiteral(s, f, sname, staticNameOK)
		return
	}
	if staticExactOK {
		// §4.5.2 Indexed Field Line, static: 11 Index(6).
		e.lines = appendInteger(e.lines, 0xc0, 6, uint64(sidx))
		return
	}
	if !s.dynamic {
		e.encodeLiteral(s, f, sname, staticNameOK)
		return
	}
	abs, inTable := e.lookup(f.Name, f.Value)
	if inTable && !e.draining(abs) && e.canReference(s, abs) {
		// The common case of a repeated field; it skips the history,
		// whose bookkeeping would cost more than it gains here.
		e.appendIndexed(s, abs)
		return
	}
	size := entrySize(f.Name, f.Value)
	wanted := e.remember(f, size) && size <= e.capacity()*3/8
	if inTable {
		if e.draining(abs) && wanted && e.canReference(s, e.table.inserted) && e.makeRoomKeeping(size, abs) {
			// §2.1.1.1: refresh a draining entry rather than keep it alive.
			e.duplicate(abs)
			e.appendIndexed(s, e.table.inserted-1)
			return
		}
		if e.canReference(s, abs) {
			e.appendIndexed(s, abs)
			return
		}
		// In the table but not usable yet (unacknowledged, and this
		// section may not block): a second copy would only waste room.
		wanted = false
	}
	if wanted && (s.mayBlock || e.table.inserted-e.knownReceived < maxUnackedInserts) && e.makeRoom(size) {
		e.insertField(f, sname, staticNameOK)
		if abs := e.table.inserted - 1; e.canReference(s, abs) {
			e.appendIndexed(s, abs)
			return
		}
	}
	e.encodeLiteral(s, f, sname, staticNameOK)
}

// encodeLiteral appends a literal representation of f, with a name reference
// when one is usable.
func (e *Encoder) encodeLiteral(s *sectionState, f *HeaderField, sname uint8, staticNameOK bool) {
	var never byte
	if f.NeverIndex {
		never = 0x20
	}
	switch {
	case staticNameOK:
		// §4.5.4 Literal Field Line with Name Reference, static: 01 N 1 Index(4).
		e.lines = appendInteger(e.lines, 0x50|never, 4, uint64(sname))
	default:
		abs, ok := e.lookupName(f.Name)
		if ok && !e.draining(abs) && e.canReference(s, abs) {
			e.reference(s, abs)
			if abs < s.base {
				// §4.5.4, dynamic: 01 N 0 Index(4), relative to Base.
				e.lines = appendInteger(e.lines, 0x40|never, 4, s.base-1-abs)
			} else {
				// §4.5.5 Literal Field Line with Post-Base Name Reference.
				e.lines = appendInteger(e.lines, 0x00|never>>2, 3, abs-s.base)
			}
		} else {
			// §4.5.6 Literal Field Line with Literal Name: 001 N H Length(3).
			e.lines = appendString(e.lines, 0x20|never>>1, 3, f.Name, e.huffman())
		}
	}
	e.lines = appendString(e.lines, 0x00, 7, f.Value, e.huffman())
}

// appendIndexed appends an indexed field line for dynamic entry abs.
func (e *Encoder) appendIndexed(s *sectionState, abs uint64) {
	e.reference(s, abs)
	if abs < s.base {
		// §4.5.2 Indexed Field Line, dynamic: 10 Index(6), relative to Base.
		e.lines = appendInteger(e.lines, 0x80, 6, s.base-1-abs)
	} else {
		// §4.5.3 Indexed Field Line with Post-Base Index: 0001 Index(4).
		e.lines = appendInteger(e.lines, 0x10, 4, abs-s.base)
	}
}

// reference records that the section being encoded references entry abs.
func (e *Encoder) reference(s *sectionState, abs uint64) {
	e.table.entry(abs).refs++
	s.refs = append(s.refs, abs)
	s.ric = max(s.ric, abs+1)
}

// canReference reports whether the section may reference entry abs (which
// may be the next one to be inserted): acknowledged entries always, others
// only if the section may block.
func (e *Encoder) canReference(s *sectionState, abs uint64) bool {
	return s.dynamic && (abs < e.knownReceived || s.mayBlock)
}

// draining reports whether entry abs should no longer be referenced so that
// it can be evicted: it is among the oldest 3/8 of the bytes of a table that
// is more than half full.
func (e *Encoder) draining(abs uint64) bool {
	if !e.drainValid {
		e.drainValid = true
		e.drainBelow = e.table.dropped()
		c := e.table.capacity
		if e.table.size > c/2 {
			var acc uint64
			for i := e.table.dropped(); i < e.table.inserted; i++ {
				en := e.table.entry(i)
				if acc += entrySize(en.name, en.value); acc > c*3/8 {
					break
				}
				e.drainBelow = i + 1
			}
		}
	}
	return abs < e.drainBelow
}

// makeRoomKeeping is makeRoom that must not evict entry keep (the source of
// a Duplicate).
func (e *Encoder) makeRoomKeeping(size, keep uint64) bool {
	en := e.table.entry(keep)
	en.refs++
	ok := e.makeRoom(size)
	en.refs--
	return ok
}

// makeRoom evicts entries until one of the given size fits, but only if it
// can: entries still referenced by unacknowledged sections (including the
// one being encoded) are not evictable, RFC 9204 §2.1.1.
func (e *Encoder) makeRoom(size uint64) bool {
	c := e.capacity()
	if size > c {
		return false
	}
	need := e.table.size + size
	free := uint64(0)
	for i := e.table.dropped(); need-free > c && i < e.table.inserted; i++ {
		en := e.table.entry(i)
		if en.refs > 0 {
			return false
		}
		free += entrySize(en.name, en.value)
	}
	if need-free > c {
		return false
	}
	for e.table.size+size > c {
		e.evict()
	}
	return true
}

func (e *Encoder) evict() {
	en := e.table.oldest()
	// The oldest entry is the first of its name's list.
	if l := e.names[en.name]; len(l) <= 1 {
		delete(e.names, en.name)
	} else {
		copy(l, l[1:])
		e.names[en.name] = l[:len(l)-1]
	}
	e.table.evictOldest()
	e.drainValid = false
}

// writeCapacity sends Set Dynamic Table Capacity (§4.3.1) before the first
// insert.
func (e *Encoder) writeCapacity() {
	if e.capacitySent {
		return
	}
	e.table.capacity = e.capacity()
	e.capacitySent = true
	e.encStream = appendInteger(e.encStream, 0x20, 5, e.table.capacity)
}

// add inserts into the encoder's table and indexes; room has been made.
func (e *Encoder) add(name, value string) {
	if e.names == nil {
		e.names = make(map[string][]uint64)
	}
	abs := e.table.inserted
	e.table.add(name, value)
	e.names[name] = append(e.names[name], abs)
	e.drainValid = false
	e.insertedBytes += entrySize(name, value)
}

// duplicate writes a Duplicate instruction (§4.3.4) for entry abs and adds
// the copy; room has been made without evicting abs.
func (e *Encoder) duplicate(abs uint64) {
	e.writeCapacity()
	e.encStream = appendInteger(e.encStream, 0x00, 5, e.table.inserted-1-abs)
	en := e.table.entry(abs)
	e.add(en.name, en.value)
}

// lookup returns the newest entry with name and value.
func (e *Encoder) lookup(name, value string) (uint64, bool) {
	l := e.names[name]
	for i := len(l) - 1; i >= 0; i-- {
		if e.table.entry(l[i]).value == value {
			return l[i], true
		}
	}
	return 0, false
}

// lookupName returns the newest entry with name.
func (e *Encoder) lookupName(name string) (uint64, bool) {
	l := e.names[name]
	if len(l) == 0 {
		return 0, false
	}
	return l[len(l)-1], true
}

// insertField writes an insert instruction for f and adds it to the table.
func (e *Encoder) insertField(f *HeaderField, sname uint8, staticNameOK bool) {
	e.writeCapacity()
	switch abs, ok := e.lookupName(f.Name); {
	case staticNameOK:
		// §4.3.2 Insert with Name Reference, static: 1 1 Index(6).
		e.encStream = appendInteger(e.encStream, 0xc0, 6, uint64(sname))
	case ok:
		// §4.3.2, dynamic: 1 0 Index(6), relative to the Insert Count. The
		// referenced entry may be evicted by this very insert; the decoder
		// reads the name first (§3.2.2).
		e.encStream = appendInteger(e.encStream, 0x80, 6, e.table.inserted-1-abs)
	default:
		// §4.3.3 Insert with Literal Name: 01 H Length(5).
		e.encStream = appendString(e.encStream, 0x40, 5, f.Name, e.huffman())
	}
	e.encStream = appendString(e.encStream, 0x00, 7, f.Value, e.huffman())
	e.add(f.Name, f.Value)
}

// remember records f in the history and reports whether it is worth
// inserting. A field is worth it when it will likely be used again before it
// is evicted: it was seen recently, and fewer bytes were inserted into the
// table since then than the table holds (so, inserted now, it would survive
// until a similar next use; 3/8 of the capacity, since other inserts compete
// for the same room, did best on the QPACK interop corpus). Names in alwaysIndexed qualify on first sight.
func (e *Encoder) remember(f *HeaderField, size uint64) bool {
	h := uint32(2166136261) // FNV-1a over name, a separator, and value
	for i := 0; i < len(f.Name); i++ {
		h = (h ^ uint32(f.Name[i])) * 16777619
	}
	h = (h ^ 0xff) * 16777619
	for i := 0; i < len(f.Value); i++ {
		h = (h ^ uint32(f.Value[i])) * 16777619
	}
	for i := range e.history {
		x := &e.history[i]
		if x.hash == h && x.stamp != 0 {
			distance := e.insertedBytes - (x.stamp - 1)
			x.stamp = e.insertedBytes + 1
			return alwaysIndexed(f.Name) || distance+size <= e.capacity()*3/8
		}
	}
	e.history[e.historyPos] = historyEntry{hash: h, stamp: e.insertedBytes + 1}
	e.historyPos = (e.historyPos + 1) % historySize
	return alwaysIndexed(f.Name)
}
