package qpack

import (
	"unsafe"
)

// HeaderField is one field line: a name and a value. NeverIndex carries the
// N bit of the literal representations (RFC 9204 §4.5.4): an intermediary
// must keep encoding the field as a literal, and the encoder never inserts it
// into the dynamic table.
type HeaderField struct {
	Name, Value string
	NeverIndex  bool
}

// Size is the field's size as RFC 9114 §4.2.2 counts it for
// SETTINGS_MAX_FIELD_SECTION_SIZE: name + value + 32.
func (f HeaderField) Size() uint64 { return entrySize(f.Name, f.Value) }

// DecodedSection is a field section that had been blocked and has now been
// decoded; see Decoder.AppendUnblocked.
type DecodedSection struct {
	StreamID uint64
	Fields   []HeaderField
	// Err is nil or ErrFieldSectionTooLarge.
	Err error
}

// Decoder is the decoding half of a QPACK connection, RFC 9204 §2.2: it reads
// the peer's encoder stream and the field sections of request streams, and
// produces the instructions for our decoder stream. It is not safe for
// concurrent use. The zero value is a decoder with a dynamic table capacity
// of 0 and no blocked streams allowed; the Set methods, which mirror our
// SETTINGS, must be called before any input.
type Decoder struct {
	maxTableCapacity    uint64 // SETTINGS_QPACK_MAX_TABLE_CAPACITY we sent
	maxBlockedStreams   uint64 // SETTINGS_QPACK_BLOCKED_STREAMS we sent
	maxFieldSectionSize uint64 // SETTINGS_MAX_FIELD_SECTION_SIZE we sent; 0 = none

	table dynamicTable
	// knownReceived is the insert count the encoder has been told about,
	// through Section Acknowledgments and Insert Count Increments.
	knownReceived uint64

	encPending []byte // an encoder stream instruction split across writes
	encNeed    int    // encPending cannot complete before reaching this length
	out        []byte // decoder stream instructions not yet taken
	strBuf     []byte // Huffman decoding scratch, reused per section
	entryBuf   []byte // scratch to build an inserted entry's name+value

	blocked    []blockedSection
	minBlocked uint64 // smallest Required Insert Count in blocked
	unblocked  []DecodedSection
	err        error // sticky connection error
}

// blockedSection is a held field section: its prefix, already decoded
// (the Required Insert Count decoding depends on the insert count at
// arrival), and a copy of its field lines.
type blockedSection struct {
	streamID            uint64
	requiredInsertCount uint64
	base                uint64
	lines               []byte
}

// SetMaxTableCapacity sets the SETTINGS_QPACK_MAX_TABLE_CAPACITY we announce
// (RFC 9204 §5): the encoder may not set a larger capacity, and it fixes
// MaxEntries for the Required Insert Count encoding (§4.5.1.1).
func (d *Decoder) SetMaxTableCapacity(c uint64) { d.maxTableCapacity = c }

// SetMaxBlockedStreams sets the SETTINGS_QPACK_BLOCKED_STREAMS we announce.
func (d *Decoder) SetMaxBlockedStreams(n uint64) { d.maxBlockedStreams = n }

// SetMaxFieldSectionSize sets the SETTINGS_MAX_FIELD_SECTION_SIZE we announce
// (RFC 9114 §4.2.2); 0 means no limit. Larger sections fail with
// ErrFieldSectionTooLarge, and no string longer than the limit is decoded.
func (d *Decoder) SetMaxFieldSectionSize(n uint64) { d.maxFieldSectionSize = n }

// InsertCount is the number of entries ever inserted in the dynamic table.
func (d *Decoder) InsertCount() uint64 { return d.table.inserted }

// TableSize is the current size of the dynamic table, RFC 9204 §3.2.1.
func (d *Decoder) TableSize() uint64 { return d.table.size }

// TableCapacity is the dynamic table capacity the encoder last set.
func (d *Decoder) TableCapacity() uint64 { return d.table.capacity }

// TableEntry returns the dynamic table entry with absolute index abs, if it
// is still in the table.
func (d *Decoder) TableEntry(abs uint64) (HeaderField, bool) {
	if !d.table.has(abs) {
		return HeaderField{}, false
	}
	e := d.table.entry(abs)
	return HeaderField{Name: e.name, Value: e.value}, true
}

// BlockedStreams is the number of streams whose field section waits for
// encoder stream data.
func (d *Decoder) BlockedStreams() int { return len(d.blocked) }

// AppendDecoderStream appends the pending decoder stream instructions
// (RFC 9204 §4.4) to dst: Section Acknowledgments and Stream Cancellations in
// the order they arose, then an Insert Count Increment for inserts that no
// acknowledgment has covered.
func (d *Decoder) AppendDecoderStream(dst []byte) []byte {
	dst = append(dst, d.out...)
	d.out = d.out[:0]
	if d.table.inserted > d.knownReceived {
		// RFC 9204 §4.4.3: Insert Count Increment.
		dst = appendInteger(dst, 0x00, 6, d.table.inserted-d.knownReceived)
		d.knownReceived = d.table.inserted
	}
	return dst
}

// CancelStream is called when the stream's request or response is reset or
// abandoned before all its field sections were read. RFC 9204 §4.4.2: a
// Stream Cancellation tells the encoder to release the references of that
// stream's sections; a section held as blocked is dropped. A decoder whose
// maximum capacity is 0 sends none (the encoder cannot have referenced the
// dynamic table).
func (d *Decoder) CancelStream(streamID uint64) {
	for i := range d.blocked {
		if d.blocked[i].streamID == streamID {
			d.removeBlocked(i)
			break
		}
	}
	if d.maxTableCapacity > 0 {
		d.out = appendInteger(d.out, 0x40, 6, streamID)
	}
}

// DecodeFieldSection decodes the encoded field section b of stream streamID
// and appends its fields to appendTo. Names and values that come from the
// static or dynamic table are shared, not copied; literals are allocated.
//
// If the section needs dynamic table entries that have not arrived yet
// (RFC 9204 §2.1.2), the decoder keeps a copy of b and returns blocked =
// true; the section is decoded when WriteEncoderStream brings those entries
// and then reported by AppendUnblocked.
//
// Errors are *Error with code QPACK_DECOMPRESSION_FAILED (a connection error)
// or ErrFieldSectionTooLarge; the fields appended before the error are
// returned too, and are to be discarded.
func (d *Decoder) DecodeFieldSection(streamID uint64, b []byte, appendTo []HeaderField) ([]HeaderField, bool, error) {
	blocked, err := d.decodeSection(streamID, b, func(name string, nameB []byte, value string, valueB []byte, never bool) {
		appendTo = append(appendTo, makeField(name, nameB, value, valueB, never))
	})
	return appendTo, blocked, err
}

// DecodeFieldSectionFunc is DecodeFieldSection without allocation: each field
// is handed to fn as byte slices that are valid only during the call and must
// not be modified. A blocked section is held as with DecodeFieldSection and
// reported, decoded into strings, by AppendUnblocked.
func (d *Decoder) DecodeFieldSectionFunc(streamID uint64, b []byte, fn func(name, value []byte, neverIndex bool)) (bool, error) {
	return d.decodeSection(streamID, b, func(name string, nameB []byte, value string, valueB []byte, never bool) {
		if nameB == nil {
			nameB = readOnlyBytes(name)
		}
		if valueB == nil {
			valueB = readOnlyBytes(value)
		}
		fn(nameB, valueB, never)
	})
}

// AppendUnblocked appends the sections that were blocked and have been
// decoded since the last call, in the order they were unblocked.
func (d *Decoder) AppendUnblocked(dst []DecodedSection) []DecodedSection {
	dst = append(dst, d.unblocked...)
	clear(d.unblocked)
	d.unblocked = d.unblocked[:0]
	return dst
}

// lineFunc receives one decoded field. Its name and value are given both
// ways they may exist: as a string when it comes from a table (the []byte is
// then nil), otherwise as bytes that are valid only during the call.
type lineFunc func(name string, nameB []byte, value string, valueB []byte, never bool)

// readOnlyBytes views s as bytes without copying; the callback contract of
// DecodeFieldSectionFunc forbids writing through the result.
func readOnlyBytes(s string) []byte {
	if len(s) == 0 {
		return []byte{}
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// removeBlocked drops blocked[i], keeping the arrival order of the rest.
func (d *Decoder) removeBlocked(i int) {
	copy(d.blocked[i:], d.blocked[i+1:])
	d.blocked[len(d.blocked)-1] = blockedSection{}
	d.blocked = d.blocked[:len(d.blocked)-1]
	d.minBlocked = 0
	for _, s := range d.blocked {
		if d.minBlocked == 0 || s.requiredInsertCount < d.minBlocked {
			d.minBlocked = s.requiredInsertCount
		}
	}
}

// decodeUnblocked decodes every held section whose Required Insert Count the
// table has now reached. It runs after each insert so that a section is
// decoded before any later instruction could evict what it references.
func (d *Decoder) decodeUnblocked() error {
	for i := 0; i < len(d.blocked); {
		s := d.blocked[i]
		if s.requiredInsertCount > d.table.inserted {
			i++
			continue
		}
		d.removeBlocked(i)
		var fields []HeaderField
		err := d.decodeBody(s.streamID, s.lines, s.requiredInsertCount, s.base, func(name string, nameB []byte, value string, valueB []byte, never bool) {
			fields = append(fields, makeField(name, nameB, value, valueB, never))
		})
		if err != nil && err != ErrFieldSectionTooLarge {
			return err
		}
		d.unblocked = append(d.unblocked, DecodedSection{StreamID: s.streamID, Fields: fields, Err: err})
	}
	return nil
}

func makeField(name string, nameB []byte, value string, valueB []byte, never bool) HeaderField {
	if nameB != nil {
		name = string(nameB)
	}
	if valueB != nil {
		value = string(valueB)
	}
	return HeaderField{Name: name, Value: value, NeverIndex: never}
}
