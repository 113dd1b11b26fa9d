package dns

// MaxUDPSize is the EDNS0 UDP payload size queries advertise: the DNS Flag
// Day 2020 value, which avoids IP fragmentation on common paths.
const MaxUDPSize = 1232

// NewQuery returns a recursive query for name and type with a random ID and
// an OPT record advertising MaxUDPSize (RFC 6891).
func NewQuery(name string, t Type) (*Message, error) {
	return nil, errNotImplemented
}

// ParseMessage decodes a message (RFC 1035 §4). Names may use compression
// pointers, which must point backwards. RDATA of known types that does not
// decode is kept as Invalid; anything else wrong fails with *ParseError.
func ParseMessage(b []byte) (*Message, error) {
	return nil, errNotImplemented
}

// Append appends the wire format of m to b, without name compression.
func (m *Message) Append(b []byte) ([]byte, error) {
	return nil, errNotImplemented
}
