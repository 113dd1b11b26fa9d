package endpoint

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"
)

// ProbeVersion is the version the simulator's readiness probe carries
// (0x57414954, "WAIT"): reserved by no one, so a server must answer it with
// Version Negotiation (RFC 9000 §6.1).
const ProbeVersion = 0x57414954

// ProbeSize is the size of the probe datagram, above the 1200 bytes below
// which a server may ignore an unknown version (RFC 9000 §14.1).
const ProbeSize = 1207

// ProbeDatagram is the readiness probe: a long header with ProbeVersion,
// empty connection IDs, and padding to ProbeSize.
func ProbeDatagram() []byte {
	b := make([]byte, ProbeSize)
	b[0] = 0xc0 // long header, fixed bit
	binary.BigEndian.PutUint32(b[1:5], ProbeVersion)
	// b[5] = 0: empty Destination Connection ID; b[6] = 0: empty Source.
	return b
}

// ParseVersionNegotiation returns the versions a Version Negotiation
// packet lists, checking that it echoes the probe's empty connection IDs.
func ParseVersionNegotiation(b []byte) ([]uint32, error) {
	if len(b) < 7 || b[0]&0x80 == 0 || binary.BigEndian.Uint32(b[1:5]) != 0 {
		return nil, errors.New("endpoint: not a Version Negotiation packet")
	}
	if b[5] != 0 || b[6] != 0 {
		return nil, errors.New("endpoint: the Version Negotiation does not echo empty connection IDs")
	}
	rest := b[7:]
	if len(rest) == 0 || len(rest)%4 != 0 {
		return nil, fmt.Errorf("endpoint: a Version Negotiation with %d bytes of versions", len(rest))
	}
	var vs []uint32
	for ; len(rest) > 0; rest = rest[4:] {
		vs = append(vs, binary.BigEndian.Uint32(rest))
	}
	return vs, nil
}

// WaitReady sends the readiness probe on c (a UDP socket connected to
// the server) every interval, as the simulator does before it starts a
// test, until a Version Negotiation packet comes back; it returns the
// versions listed.
func WaitReady(ctx context.Context, c net.Conn, interval time.Duration) ([]uint32, error) {
	probe := ProbeDatagram()
	buf := make([]byte, 1500)
	for ctx.Err() == nil {
		if _, err := c.Write(probe); err != nil {
			// The server's port may not be open yet (an ICMP error):
			// try again after the interval.
			select {
			case <-ctx.Done():
			case <-time.After(interval):
			}
			continue
		}
		c.SetReadDeadline(time.Now().Add(interval))
		if n, err := c.Read(buf); err == nil {
			if vs, err := ParseVersionNegotiation(buf[:n]); err == nil {
				return vs, nil
			}
		}
	}
	return nil, fmt.Errorf("no Version Negotiation from %v: %w", c.RemoteAddr(), ctx.Err())
}
