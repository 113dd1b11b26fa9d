package tls13

// Handshake message types (RFC 8446 §4).
const (
	typeClientHello         uint8 = 1
	typeServerHello         uint8 = 2
	typeNewSessionTicket    uint8 = 4
	typeEndOfEarlyData      uint8 = 5
	typeEncryptedExtensions uint8 = 8
	typeCertificate         uint8 = 11
	typeCertificateRequest  uint8 = 13
	typeCertificateVerify   uint8 = 15
	typeFinished            uint8 = 20
	typeKeyUpdate           uint8 = 24
	typeMessageHash         uint8 = 254
)

// Extension types (RFC 8446 §4.2, RFC 9001 §8.2).
const (
	extServerName              uint16 = 0
	extSupportedGroups         uint16 = 10
	extSignatureAlgorithms     uint16 = 13
	extALPN                    uint16 = 16
	extPreSharedKey            uint16 = 41
	extEarlyData               uint16 = 42
	extSupportedVersions       uint16 = 43
	extCookie                  uint16 = 44
	extPSKKeyExchangeModes     uint16 = 45
	extCertificateAuthorities  uint16 = 47
	extSignatureAlgorithmsCert uint16 = 50
	extKeyShare                uint16 = 51
	extQUICTransportParameters uint16 = 0x39
)

const (
	versionTLS12 uint16 = 0x0303
	versionTLS13 uint16 = 0x0304

	// pskModeDHE is psk_dhe_ke (RFC 8446 §4.2.9); psk_ke is never used
	// because it gives up forward secrecy.
	pskModeDHE uint8 = 1

	// maxEarlyDataQUIC is the max_early_data_size a QUIC server must send
	// in a NewSessionTicket that allows 0-RTT (RFC 9001 §4.6.1).
	maxEarlyDataQUIC uint32 = 0xffffffff

	// maxTicketLifetime is seven days in seconds (RFC 8446 §4.6.1).
	maxTicketLifetime uint32 = 604800

	// defaultMaxMessageSize bounds one handshake message.
	defaultMaxMessageSize = 64 << 10
)

// helloRetryRequestRandom is the special ServerHello.random that marks a
// HelloRetryRequest (RFC 8446 §4.1.3).
var helloRetryRequestRandom = [32]byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11,
	0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E,
	0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// Level is a QUIC encryption level (RFC 9001 §4.1.4); handshake bytes are
// carried in CRYPTO frames of the matching packet number space.
type Level uint8

const (
	LevelInitial Level = iota
	LevelEarly
	LevelHandshake
	LevelApplication
)

func (l Level) String() string {
	switch l {
	case LevelInitial:
		return "Initial"
	case LevelEarly:
		return "Early"
	case LevelHandshake:
		return "Handshake"
	case LevelApplication:
		return "Application"
	}
	return "Level(?)"
}
