package dns

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
)

// MaxUDPSize is the EDNS0 UDP payload size queries advertise: the DNS Flag
// Day 2020 value, which avoids IP fragmentation on common paths.
const MaxUDPSize = 1232

const (
	headerLen = 12
	// minRRLen is the smallest resource record: a root owner name, type,
	// class, TTL and RDLENGTH. Section counts are checked against it so
	// that a hostile count cannot make the parser allocate.
	minRRLen = 11
)

// Header flag bits (RFC 1035 §4.1.1).
const (
	flagQR = 1 << 15
	flagAA = 1 << 10
	flagTC = 1 << 9
	flagRD = 1 << 8
	flagRA = 1 << 7
)

// NewQuery returns a recursive query for name and type with a random ID and
// an OPT record advertising MaxUDPSize (RFC 6891 §6.2.5). The ID comes from
// math/rand/v2, whose generator is seeded from the operating system: an
// off-path attacker must not guess it (RFC 5452 §9.2).
func NewQuery(name string, t Type) (*Message, error) {
	if _, err := appendName(nil, name); err != nil {
		return nil, err
	}
	return &Message{
		Header:    Header{ID: uint16(rand.Uint32()), RecursionDesired: true},
		Questions: []Question{{Name: absolute(name), Type: t, Class: ClassINET}},
		EDNS:      &EDNS{UDPSize: MaxUDPSize},
	}, nil
}

// ParseMessage decodes a message (RFC 1035 §4). Names may use compression
// pointers, which must point backwards. RDATA of known types that does not
// decode is kept as Invalid; anything else wrong fails with *ParseError.
// Bytes after the last record are ignored. The result shares no memory
// with b.
func ParseMessage(b []byte) (*Message, error) {
	if len(b) < headerLen {
		return nil, &ParseError{Offset: len(b), Reason: "shorter than a header"}
	}
	flags := binary.BigEndian.Uint16(b[2:])
	m := &Message{Header: Header{
		ID:                 binary.BigEndian.Uint16(b),
		Response:           flags&flagQR != 0,
		Opcode:             uint8(flags>>11) & 0xF,
		Authoritative:      flags&flagAA != 0,
		Truncated:          flags&flagTC != 0,
		RecursionDesired:   flags&flagRD != 0,
		RecursionAvailable: flags&flagRA != 0,
		Rcode:              Rcode(flags & 0xF),
	}}
	var counts [4]int
	total := 0
	for i := range counts {
		counts[i] = int(binary.BigEndian.Uint16(b[4+2*i:]))
		total += counts[i]
	}
	// A question takes at least 5 octets and a record 11: counts that
	// cannot fit are malformed, and bounding them bounds every slice below.
	if counts[0]*5+(total-counts[0])*minRRLen > len(b)-headerLen {
		return nil, &ParseError{Offset: 4, Reason: "section counts exceed the message"}
	}
	off := headerLen
	if counts[0] > 0 {
		m.Questions = make([]Question, 0, counts[0])
	}
	for range counts[0] {
		name, next, err := readName(b, off)
		if err != nil {
			return nil, err
		}
		if next+4 > len(b) {
			return nil, &ParseError{Offset: next, Reason: "question runs past the end"}
		}
		m.Questions = append(m.Questions, Question{
			Name:  name,
			Type:  Type(binary.BigEndian.Uint16(b[next:])),
			Class: Class(binary.BigEndian.Uint16(b[next+2:])),
		})
		off = next + 4
	}
	sections := []*[]RR{&m.Answers, &m.Authorities, &m.Additionals}
	for s, sec := range sections {
		for range counts[s+1] {
			rr, next, err := readRR(b, off)
			if err != nil {
				return nil, err
			}
			if rr.Type == TypeOPT {
				if err := m.setEDNS(rr, s == 2, off); err != nil {
					return nil, err
				}
			} else {
				*sec = append(*sec, rr)
			}
			off = next
		}
	}
	return m, nil
}

// setEDNS takes the OPT pseudo-record (RFC 6891 §6.1.1): one at most, with
// the root as owner, in the additional section.
func (m *Message) setEDNS(rr RR, additional bool, off int) error {
	switch {
	case !additional:
		return &ParseError{Offset: off, Reason: "OPT record outside the additional section"}
	case m.EDNS != nil:
		return &ParseError{Offset: off, Reason: "more than one OPT record"} // RFC 6891 §6.1.1: FORMERR
	case rr.Name != ".":
		return &ParseError{Offset: off, Reason: "OPT record owner is not the root"}
	}
	// The OPT record's CLASS is the UDP payload size and its TTL holds the
	// extended RCODE, the version and the DO bit (RFC 6891 §6.1.3).
	m.EDNS = &EDNS{
		UDPSize:       uint16(rr.Class),
		ExtendedRcode: uint8(rr.TTL >> 24),
		Version:       uint8(rr.TTL >> 16),
		DNSSECOK:      rr.TTL&(1<<15) != 0,
		Options:       rr.Data.(Unknown).Data,
	}
	m.Rcode |= Rcode(m.EDNS.ExtendedRcode) << 4
	return nil
}

// readRR decodes the resource record at off.
func readRR(b []byte, off int) (RR, int, error) {
	name, next, err := readName(b, off)
	if err != nil {
		return RR{}, 0, err
	}
	if next+10 > len(b) {
		return RR{}, 0, &ParseError{Offset: next, Reason: "record header runs past the end"}
	}
	rr := RR{
		Name:  name,
		Type:  Type(binary.BigEndian.Uint16(b[next:])),
		Class: Class(binary.BigEndian.Uint16(b[next+2:])),
		TTL:   binary.BigEndian.Uint32(b[next+4:]),
	}
	start := next + 10
	end := start + int(binary.BigEndian.Uint16(b[next+8:]))
	if end > len(b) {
		return RR{}, 0, &ParseError{Offset: next + 8, Reason: "RDATA runs past the end"}
	}
	data, err := readRData(b[:end], start, rr.Type)
	if err != nil {
		data = Invalid{Data: clone(b[start:end]), Err: err}
	}
	rr.Data = data
	return rr, end, nil
}

// readRData decodes the RDATA in msg[start:]; msg ends where the RDATA
// does, so that names cannot run past it, and starts where the message
// does, so that compressed names can point before it.
func readRData(msg []byte, start int, t Type) (RData, error) {
	rdata := msg[start:]
	switch t {
	case TypeA:
		if len(rdata) != 4 {
			return nil, &ParseError{Offset: start, Reason: "A RDATA is not 4 octets"}
		}
		return A{Addr: netip.AddrFrom4([4]byte(rdata))}, nil
	case TypeAAAA:
		if len(rdata) != 16 {
			return nil, &ParseError{Offset: start, Reason: "AAAA RDATA is not 16 octets"}
		}
		return AAAA{Addr: netip.AddrFrom16([16]byte(rdata))}, nil
	case TypeCNAME:
		// RFC 3597 §4: CNAME is one of the types whose RDATA names may
		// be compressed.
		target, next, err := readName(msg, start)
		if err != nil {
			return nil, err
		}
		if next != len(msg) {
			return nil, &ParseError{Offset: next, Reason: "octets after the CNAME target"}
		}
		return CNAME{Target: target}, nil
	case TypeSOA:
		return readSOA(msg, start)
	case TypeSVCB, TypeHTTPS:
		return parseSVCB(rdata)
	}
	return Unknown{Data: clone(rdata)}, nil
}

func readSOA(msg []byte, start int) (RData, error) {
	var soa SOA
	var err error
	off := start
	if soa.MName, off, err = readName(msg, off); err != nil {
		return nil, err
	}
	if soa.RName, off, err = readName(msg, off); err != nil {
		return nil, err
	}
	if len(msg)-off != 20 {
		return nil, &ParseError{Offset: off, Reason: "SOA RDATA does not end with 5 32-bit fields"}
	}
	f := msg[off:]
	soa.Serial = binary.BigEndian.Uint32(f)
	soa.Refresh = binary.BigEndian.Uint32(f[4:])
	soa.Retry = binary.BigEndian.Uint32(f[8:])
	soa.Expire = binary.BigEndian.Uint32(f[12:])
	soa.Minimum = binary.BigEndian.Uint32(f[16:])
	return soa, nil
}

// clone copies b out of a message buffer; empty is nil.
func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// errEncode is the cause of Append failures other than bad names: a
// message that this package was asked to write but that cannot exist on the
// wire.
var errEncode = fmt.Errorf("%w: cannot encode", ErrMalformed)

// Append appends the wire format of m to b, without name compression. A
// message that cannot be encoded fails with an error matching ErrMalformed.
func (m *Message) Append(b []byte) ([]byte, error) {
	nAdd := len(m.Additionals)
	if m.EDNS != nil {
		nAdd++
	}
	if m.Rcode > 0xF && m.EDNS == nil || m.Rcode > 0xFFF {
		return nil, fmt.Errorf("%w: response code %d without an OPT record", errEncode, m.Rcode)
	}
	var flags uint16
	for _, f := range []struct {
		on  bool
		bit uint16
	}{{m.Response, flagQR}, {m.Authoritative, flagAA}, {m.Truncated, flagTC}, {m.RecursionDesired, flagRD}, {m.RecursionAvailable, flagRA}} {
		if f.on {
			flags |= f.bit
		}
	}
	flags |= uint16(m.Opcode&0xF)<<11 | uint16(m.Rcode&0xF)
	b = binary.BigEndian.AppendUint16(b, m.ID)
	b = binary.BigEndian.AppendUint16(b, flags)
	for _, n := range []int{len(m.Questions), len(m.Answers), len(m.Authorities), nAdd} {
		if n > 0xFFFF {
			return nil, fmt.Errorf("%w: more than 65535 entries in a section", errEncode)
		}
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	}
	var err error
	for _, q := range m.Questions {
		if b, err = appendName(b, q.Name); err != nil {
			return nil, err
		}
		b = binary.BigEndian.AppendUint16(b, uint16(q.Type))
		b = binary.BigEndian.AppendUint16(b, uint16(q.Class))
	}
	for _, sec := range [][]RR{m.Answers, m.Authorities, m.Additionals} {
		for _, rr := range sec {
			if b, err = appendRR(b, rr); err != nil {
				return nil, err
			}
		}
	}
	if e := m.EDNS; e != nil {
		ttl := uint32(m.Rcode>>4)<<24 | uint32(e.Version)<<16
		if e.DNSSECOK {
			ttl |= 1 << 15
		}
		opt := RR{Name: ".", Type: TypeOPT, Class: Class(e.UDPSize), TTL: ttl, Data: Unknown{Data: e.Options}}
		if b, err = appendRR(b, opt); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// appendRR appends a record; the RDATA must be of the record's type.
func appendRR(b []byte, rr RR) ([]byte, error) {
	b, err := appendName(b, rr.Name)
	if err != nil {
		return nil, err
	}
	b = binary.BigEndian.AppendUint16(b, uint16(rr.Type))
	b = binary.BigEndian.AppendUint16(b, uint16(rr.Class))
	b = binary.BigEndian.AppendUint32(b, rr.TTL)
	lenAt := len(b)
	b = append(b, 0, 0)
	mismatch := fmt.Errorf("%w: %T RDATA in a %s record", errEncode, rr.Data, rr.Type)
	switch d := rr.Data.(type) {
	case A:
		if rr.Type != TypeA || !d.Addr.Is4() {
			return nil, mismatch
		}
		b = append(b, d.Addr.AsSlice()...)
	case AAAA:
		if rr.Type != TypeAAAA || !d.Addr.Is6() {
			return nil, mismatch
		}
		a := d.Addr.As16()
		b = append(b, a[:]...)
	case CNAME:
		if rr.Type != TypeCNAME {
			return nil, mismatch
		}
		b, err = appendName(b, d.Target)
	case SOA:
		if rr.Type != TypeSOA {
			return nil, mismatch
		}
		b, err = appendSOA(b, d)
	case SVCB:
		if rr.Type != TypeSVCB && rr.Type != TypeHTTPS {
			return nil, mismatch
		}
		b, err = d.appendRData(b)
	case Unknown:
		b = append(b, d.Data...)
	case Invalid:
		b = append(b, d.Data...)
	default:
		return nil, mismatch
	}
	if err != nil {
		return nil, err
	}
	n := len(b) - lenAt - 2
	if n > 0xFFFF {
		return nil, fmt.Errorf("%w: RDATA longer than 65535 octets", errEncode)
	}
	binary.BigEndian.PutUint16(b[lenAt:], uint16(n))
	return b, nil
}

func appendSOA(b []byte, s SOA) ([]byte, error) {
	b, err := appendName(b, s.MName)
	if err != nil {
		return nil, err
	}
	if b, err = appendName(b, s.RName); err != nil {
		return nil, err
	}
	for _, v := range []uint32{s.Serial, s.Refresh, s.Retry, s.Expire, s.Minimum} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b, nil
}
