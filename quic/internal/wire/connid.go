package wire

import (
	"encoding/hex"
	"errors"
)

// MaxConnectionIDLen is the largest connection ID QUIC version 1 and 2 allow
// (RFC 9000 §17.2).
const MaxConnectionIDLen = 20

// ErrConnectionIDTooLong is returned when a connection ID longer than
// MaxConnectionIDLen is given or received.
var ErrConnectionIDTooLong = errors.New("wire: connection ID longer than 20 bytes")

// ConnectionID is a connection ID of 0 to 20 bytes, held by value so that
// parsing a header does not allocate. The zero value is the empty connection
// ID. ConnectionID is comparable and can be used as a map key.
type ConnectionID struct {
	b [MaxConnectionIDLen]byte
	n uint8
}

// MakeConnectionID copies b into a ConnectionID. It returns
// ErrConnectionIDTooLong if b is longer than 20 bytes.
func MakeConnectionID(b []byte) (ConnectionID, error) {
	var c ConnectionID
	if len(b) > MaxConnectionIDLen {
		return c, ErrConnectionIDTooLong
	}
	c.n = uint8(copy(c.b[:], b))
	return c, nil
}

// set copies b into c in place; filling the destination directly, rather
// than returning a ConnectionID by value, keeps the header parsers fast.
func (c *ConnectionID) set(b []byte) error {
	if len(b) > MaxConnectionIDLen {
		return ErrConnectionIDTooLong
	}
	c.n = uint8(copy(c.b[:], b))
	return nil
}

// Len returns the length of the connection ID in bytes.
func (c *ConnectionID) Len() int { return int(c.n) }

// Bytes returns the connection ID's bytes. The slice aliases c, and its
// capacity ends with them: an append copies rather than writing into c's
// spare bytes, which == compares too.
func (c *ConnectionID) Bytes() []byte { return c.b[:c.n:c.n] }

// String returns the connection ID in hexadecimal.
func (c ConnectionID) String() string { return hex.EncodeToString(c.b[:c.n]) }
