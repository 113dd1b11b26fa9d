package frame

import "github.com/skiffnet/skiff/internal/quicvarint"

// HTTP/3 uses QUIC's variable-length integers (RFC 9114 §1.2, RFC 9000
// §16); the encoding lives in internal/quicvarint, shared with the QUIC
// wire format.

// MaxVarint is the largest value a variable-length integer can carry,
// 2^62-1.
const MaxVarint = quicvarint.Max

func varintLen(v uint64) int                 { return quicvarint.Len(v) }
func appendVarint(b []byte, v uint64) []byte { return quicvarint.Append(b, v) }

// AppendVarint appends v as a QUIC variable-length integer; the h3 layer
// uses it for unidirectional stream headers (RFC 9114 §6.2). v must be <=
// MaxVarint.
func AppendVarint(b []byte, v uint64) []byte { return quicvarint.Append(b, v) }

// parseVarint decodes the variable-length integer at the start of b. It
// returns the value and its encoded length, or n == 0 if b is too short.
func parseVarint(b []byte) (v uint64, n int) { return quicvarint.Parse(b) }
