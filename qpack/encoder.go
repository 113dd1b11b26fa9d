package qpack

import "slices"

// Encoder is the encoding half of a QPACK connection, RFC 9204 §2.1: it
// encodes field sections, writes our encoder stream, and reads the peer's
// decoder stream. It is not safe for concurrent use.
//
// Indexing policy (what goes into the dynamic table):
//   - A field that matches a static entry exactly is always indexed from the
//     static table.
//   - A field is inserted when it is likely to be used again before it is
//     evicted: its name is one whose value is stable across the requests of
//     a connection (:authority, user-agent, cookie, authorization), or the
//     same name and value were seen among the last historySize fields
//     encoded, with fewer bytes inserted into the table since then than 3/8
//     of its capacity (so that it would likely survive until its next use).
//   - Never inserted: NeverIndex fields (RFC 9204 §7.1.3) and fields larger
//     than 3/8 of the table capacity, which would flush the table.
//   - A section that may not block cannot use what it inserts until the
//     decoder acknowledges it; such inserts stop while 16 inserts are
//     unacknowledged, so an encoder whose peer never acknowledges does not
//     fill the encoder stream for nothing.
//   - An entry is evicted only when no unacknowledged field section
//     references it (RFC 9204 §2.1.1); when no room can be made the field is
//     sent as a literal instead.
//   - Entries among the oldest 3/8 of the table's bytes, when it is more
//     than half full, are draining (§2.1.1.1): new sections do not reference them,
//     so they can be evicted soon; a draining entry that is still wanted is
//     re-inserted with Duplicate.
//   - A section references entries the decoder has not acknowledged only
//     while fewer than SETTINGS_QPACK_BLOCKED_STREAMS streams are at risk of
//     blocking (§2.1.2); otherwise it uses literals and acknowledged entries.
//
// The zero value encodes with the static table only, which is also what the
// encoder must do before the peer's SETTINGS arrive (RFC 9204 §3.2.3).
type Encoder struct {
	peerMaxCapacity uint64 // the peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY
	peerBlocked     uint64 // the peer's SETTINGS_QPACK_BLOCKED_STREAMS
	maxCapacity     uint64 // our own ceiling on the capacity we use
	limitSet        bool   // maxCapacity was set by SetMaxTableCapacity
	capacitySent    bool   // the Set Dynamic Table Capacity has been written
	noHuffman       bool   // send all strings raw (RFC examples)

	table dynamicTable
	// knownReceived is the Known Received Count, RFC 9204 §2.1.4.
	knownReceived uint64
	// names lists, per name, the absolute indices of its entries, oldest
	// first: one string-keyed lookup finds both name and exact matches.
	names map[string][]uint64

	drainValid bool   // drainBelow is up to date
	drainBelow uint64 // entries below this absolute index are draining

	unacked     []sectionRecord // unacknowledged sections that reference the table
	unackedMem  []sectionRecord // unacked's memory from its start (record)
	blockingIDs []uint64        // scratch for blockingStreams
	freeRefs    [][]uint64      // recycled refs slices

	history       [historySize]historyEntry // recently encoded fields
	historyPos    int
	insertedBytes uint64 // sum of the sizes of all inserted entries

	encStream  []byte // encoder stream bytes not yet taken
	decPending []byte // a decoder stream instruction split across writes
	lines      []byte // field lines of the section being encoded
	err        error  // sticky decoder stream error
}

// maxUnackedSections bounds the sections with dynamic table references
// that await acknowledgment. A decoder must acknowledge or cancel every one
// (RFC 9204 §4.4); one that does not would otherwise grow the encoder's
// records without end. At the bound, new sections use the static table and
// literals only.
const maxUnackedSections = 1024

// historySize is how many recent fields the indexing policy remembers.
const historySize = 64

// historyEntry remembers a field: a hash of its name and value, and
// insertedBytes+1 when it was last seen (0 for an unused slot).
type historyEntry struct {
	hash  uint32
	stamp uint64
}

// sectionRecord is an encoded field section with dynamic table references,
// kept until the decoder acknowledges or cancels it.
type sectionRecord struct {
	streamID            uint64
	requiredInsertCount uint64
	refs                []uint64 // absolute indices, one per reference
}

// SetPeerSettings applies the peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY and
// SETTINGS_QPACK_BLOCKED_STREAMS (RFC 9204 §5). Call it once, before any
// section that may use the dynamic table. The capacity used is the smaller of
// the peer's maximum and the limit set with SetMaxTableCapacity.
func (e *Encoder) SetPeerSettings(maxTableCapacity, blockedStreams uint64) {
	e.peerMaxCapacity = maxTableCapacity
	e.peerBlocked = blockedStreams
}

// SetMaxTableCapacity caps the dynamic table capacity this encoder will use,
// whatever the peer allows; 0 restricts it to the static table. Without a
// call, the encoder uses up to 4096 bytes.
func (e *Encoder) SetMaxTableCapacity(c uint64) {
	e.maxCapacity, e.limitSet = c, true
}

// defaultMaxCapacity is the capacity used when SetMaxTableCapacity was not
// called: large enough for the usual repeated request fields, small enough to
// keep per-connection memory modest.
const defaultMaxCapacity = 4096

// capacity is the dynamic table capacity the encoder works with. Once sent
// to the decoder (Set Dynamic Table Capacity) it no longer changes.
func (e *Encoder) capacity() uint64 {
	if e.capacitySent {
		return e.table.capacity
	}
	c := uint64(defaultMaxCapacity)
	if e.limitSet {
		c = e.maxCapacity
	}
	return min(c, e.peerMaxCapacity)
}

// InsertCount is the number of entries ever inserted in the dynamic table.
func (e *Encoder) InsertCount() uint64 { return e.table.inserted }

// KnownReceivedCount is the RFC 9204 §2.1.4 Known Received Count.
func (e *Encoder) KnownReceivedCount() uint64 { return e.knownReceived }

// TableSize is the current size of the dynamic table, RFC 9204 §3.2.1.
func (e *Encoder) TableSize() uint64 { return e.table.size }

// AppendEncoderStream appends the encoder stream bytes written since the
// last call, to be sent on our encoder stream.
func (e *Encoder) AppendEncoderStream(dst []byte) []byte {
	dst = append(dst, e.encStream...)
	e.encStream = e.encStream[:0]
	return dst
}

// EncodeFieldSection encodes fields as the field section of stream streamID
// and appends it to dst. Any instructions it needs on the encoder stream are
// queued for AppendEncoderStream; they must be sent before, or along with,
// the section (a decoder that gets the section first holds it as blocked).
func (e *Encoder) EncodeFieldSection(dst []byte, streamID uint64, fields []HeaderField) []byte {
	s := e.beginSection(streamID)
	for i := range fields {
		e.encodeField(&s, &fields[i])
	}
	return e.finishSection(dst, &s)
}

// sectionState is the bookkeeping of the section being encoded.
type sectionState struct {
	streamID uint64
	base     uint64 // RFC 9204 §4.5.1.2 Base: the Insert Count at the start
	dynamic  bool   // the section may use the dynamic table
	mayBlock bool   // the section may reference unacknowledged entries
	ric      uint64 // Required Insert Count so far
	refs     []uint64
}

func (e *Encoder) beginSection(streamID uint64) sectionState {
	s := sectionState{streamID: streamID, base: e.table.inserted}
	if n := len(e.freeRefs); n > 0 {
		s.refs = e.freeRefs[n-1][:0]
		e.freeRefs = e.freeRefs[:n-1]
	}
	s.dynamic = e.capacity() > 0 && len(e.unacked) < maxUnackedSections
	switch {
	case !s.dynamic:
	case e.knownReceived >= e.table.inserted:
		// Every insert is acknowledged: no stream is at risk of blocking,
		// and looking through the unacknowledged sections (a hundred with
		// as many requests in flight) would find none.
		s.mayBlock = e.peerBlocked > 0
	default:
		// RFC 9204 §2.1.2: a stream already at risk of blocking may take more
		// risk; a new one only while under the peer's limit.
		s.mayBlock = e.isBlocking(streamID) || e.blockingStreams() < e.peerBlocked
	}
	e.lines = e.lines[:0]
	return s
}

// finishSection writes the prefix and lines of s to dst and records the
// section if it references the dynamic table.
func (e *Encoder) finishSection(dst []byte, s *sectionState) []byte {
	base := s.base
	// RFC 9204 §4.5.1.1: Required Insert Count, encoded modulo 2*MaxEntries.
	if s.ric == 0 {
		dst = append(dst, 0, 0)
	} else {
		maxEntries := e.peerMaxCapacity / entryOverhead
		dst = appendInteger(dst, 0, 8, s.ric%(2*maxEntries)+1)
		// §4.5.1.2: Delta Base with its sign bit.
		if base >= s.ric {
			dst = appendInteger(dst, 0x00, 7, base-s.ric)
		} else {
			dst = appendInteger(dst, 0x80, 7, s.ric-base-1)
		}
	}
	dst = append(dst, e.lines...)
	if len(s.refs) > 0 {
		e.record(sectionRecord{streamID: s.streamID, requiredInsertCount: s.ric, refs: s.refs})
	} else if s.refs != nil {
		e.freeRefs = append(e.freeRefs, s.refs)
	}
	return dst
}

// record appends r to the unacknowledged sections. Acknowledgments come
// mostly in order and release from the front (release), so unacked moves
// along its memory; when it reaches the end with at least half of the
// memory free, it moves back to the start instead of growing.
func (e *Encoder) record(r sectionRecord) {
	if len(e.unacked) == cap(e.unacked) {
		m := e.unackedMem[:cap(e.unackedMem)]
		if len(m) == 0 || len(e.unacked) > len(m)/2 {
			e.unacked = append(e.unacked, r) // new memory
			e.unackedMem = e.unacked[:0]
			return
		}
		n := copy(m, e.unacked)
		clear(m[n:])
		e.unacked = m[:n]
	}
	e.unacked = append(e.unacked, r)
}

// isBlocking reports whether streamID has a section that may block: one
// whose Required Insert Count is above the Known Received Count.
func (e *Encoder) isBlocking(streamID uint64) bool {
	for i := range e.unacked {
		r := &e.unacked[i]
		if r.streamID == streamID && r.requiredInsertCount > e.knownReceived {
			return true
		}
	}
	return false
}

// blockingStreams counts the streams that may block, stopping at the
// peer's limit (all that matters), so the cost stays O(unacked * limit).
func (e *Encoder) blockingStreams() uint64 {
	e.blockingIDs = e.blockingIDs[:0]
	for i := range e.unacked {
		r := &e.unacked[i]
		if r.requiredInsertCount <= e.knownReceived || slices.Contains(e.blockingIDs, r.streamID) {
			continue
		}
		e.blockingIDs = append(e.blockingIDs, r.streamID)
		if uint64(len(e.blockingIDs)) >= e.peerBlocked {
			break
		}
	}
	return uint64(len(e.blockingIDs))
}
