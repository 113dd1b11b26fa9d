package qtrace

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// PacketType is a QUIC packet type, named as qlog names them.
type PacketType string

// The packet types (RFC 9000 §17).
const (
	Initial            PacketType = "initial"
	ZeroRTT            PacketType = "0RTT"
	Handshake          PacketType = "handshake"
	Retry              PacketType = "retry"
	OneRTT             PacketType = "1RTT"
	VersionNegotiation PacketType = "version_negotiation"
)

// header is the unprotected part of a packet: for long headers everything
// up to the packet number (RFC 9000 §17.2), for short headers the first
// byte (RFC 9000 §17.3; the Destination Connection ID's length is not in
// the packet and is found by the caller).
type header struct {
	typ        PacketType
	version    uint32
	dcid, scid []byte
	token      []byte // Initial and Retry
	pnOffset   int    // long headers with a packet number
	length     int    // bytes of this packet in the datagram
}

var errShort = errors.New("qtrace: truncated packet")

// longType maps the two type bits of a long header (RFC 9000 §17.2; RFC
// 9369 §3.2 reorders them for version 2).
func longType(version uint32, bits byte) PacketType {
	v1 := [4]PacketType{Initial, ZeroRTT, Handshake, Retry}
	if version == Version2 {
		return [4]PacketType{Retry, Initial, ZeroRTT, Handshake}[bits]
	}
	return v1[bits]
}

// parseLongHeader parses the long header packet at the start of b.
func parseLongHeader(b []byte) (*header, error) {
	if len(b) < 7 {
		return nil, errShort
	}
	h := &header{version: binary.BigEndian.Uint32(b[1:5])}
	p := 5
	var err error
	if h.dcid, p, err = readCID(b, p); err != nil {
		return nil, err
	}
	if h.scid, p, err = readCID(b, p); err != nil {
		return nil, err
	}
	if h.version == 0 {
		h.typ, h.length = VersionNegotiation, len(b)
		return h, nil
	}
	if h.version != Version1 && h.version != Version2 {
		return nil, fmt.Errorf("qtrace: unknown version %#x", h.version)
	}
	h.typ = longType(h.version, (b[0]>>4)&3)
	switch h.typ {
	case Retry:
		if len(b)-p < 16 {
			return nil, errShort
		}
		h.token, h.length = b[p:len(b)-16], len(b)
		return h, nil
	case Initial:
		n, q, err := readVarint(b, p)
		if err != nil || uint64(len(b)-q) < n {
			return nil, errShort
		}
		h.token, p = b[q:q+int(n)], q+int(n)
	}
	n, q, err := readVarint(b, p)
	if err != nil || uint64(len(b)-q) < n {
		return nil, errShort
	}
	h.pnOffset, h.length = q, q+int(n)
	return h, nil
}

func readCID(b []byte, p int) ([]byte, int, error) {
	if p >= len(b) {
		return nil, 0, errShort
	}
	n := int(b[p])
	if n > 20 || p+1+n > len(b) {
		return nil, 0, fmt.Errorf("qtrace: connection ID of %d bytes", n)
	}
	return b[p+1 : p+1+n], p + 1 + n, nil
}

// readVarint reads a variable-length integer (RFC 9000 §16) at b[p:].
func readVarint(b []byte, p int) (uint64, int, error) {
	if p >= len(b) {
		return 0, 0, errShort
	}
	n := 1 << (b[p] >> 6)
	if p+n > len(b) {
		return 0, 0, errShort
	}
	v := uint64(b[p] & 0x3f)
	for i := 1; i < n; i++ {
		v = v<<8 | uint64(b[p+i])
	}
	return v, p + n, nil
}

func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, byte(v>>8)|0x40, byte(v))
	case v < 1<<30:
		return append(b, byte(v>>24)|0x80, byte(v>>16), byte(v>>8), byte(v))
	}
	return append(b, byte(v>>56)|0xc0, byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
