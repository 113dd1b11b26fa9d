package protect

// Error is the type of every error this package returns. The values are
// constants, so callers compare with == or errors.Is, and returning one never
// allocates.
//
// None of these is a connection error by itself: RFC 9001 §5.5 and RFC 9000
// §12.2 tell an endpoint to discard a packet that cannot be unprotected. The
// connection counts authentication failures against the integrity limit
// (RFC 9001 §6.6) and reports AEAD_LIMIT_REACHED when that limit is passed.
type Error string

func (e Error) Error() string { return "protect: " + string(e) }

const (
	// ErrAuthentication: the AEAD tag did not verify (RFC 9001 §5.3), or a
	// Retry Integrity Tag did not match (RFC 9001 §5.8).
	ErrAuthentication Error = "packet authentication failed"
	// ErrShortPacket: the packet is too short to hold the 16-byte header
	// protection sample taken 4 bytes after the packet number offset
	// (RFC 9001 §5.4.2), or too short for a tag.
	ErrShortPacket Error = "packet too short for header protection sample"
	// ErrOffset: the packet number offset or header length lies outside the
	// packet.
	ErrOffset Error = "packet number offset or header length out of range"
	// ErrBufferTooSmall: the packet slice has no spare capacity for the
	// 16-byte AEAD tag that sealing appends.
	ErrBufferTooSmall Error = "no capacity for the authentication tag"
	// ErrUnsupportedVersion: the QUIC version is neither 1 nor 2.
	ErrUnsupportedVersion Error = "unsupported QUIC version"
	// ErrUnsupportedSuite: the TLS cipher suite is not one of the three
	// TLS 1.3 suites QUIC uses (RFC 9001 §5.3).
	ErrUnsupportedSuite Error = "unsupported cipher suite"
	// ErrSecretLength: a traffic secret does not have the length of the
	// suite's hash.
	ErrSecretLength Error = "traffic secret has the wrong length"
	// ErrConnectionIDLength: a connection ID is longer than the 20 bytes
	// of QUIC versions 1 and 2 (RFC 9000 §17.2), given for Initial keys
	// or a Retry integrity tag.
	ErrConnectionIDLength Error = "connection ID too long"
)
