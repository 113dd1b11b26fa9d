// Package protect implements QUIC packet protection: the keys of RFC 9001
// §5 for QUIC version 1 and of RFC 9369 §3.3 for QUIC version 2, the AEAD
// protection of packet payloads, header protection, key updates and the
// Retry Integrity Tag.
//
// # Keys
//
// A Keys value protects packets in one direction at one encryption level.
// InitialKeys derives the client and server Initial keys from the client's
// first Destination Connection ID (RFC 9001 §5.2). NewKeys derives keys from
// a TLS traffic secret for one of the TLS 1.3 cipher suites QUIC uses:
// TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384 and
// TLS_CHACHA20_POLY1305_SHA256 (RFC 9001 §5.1, §5.3). NextGeneration derives
// the keys of the next key phase, keeping the header protection key
// (RFC 9001 §6.1). HKDF-Expand-Label (RFC 8446 §7.1) is internal/hkdf's,
// the one tls13 uses too; this package does not depend on tls13.
//
// # Packets
//
// Everything happens in place in the caller's packet buffer, and nothing
// allocates per packet:
//
//   - SealPacket encrypts the payload that follows the header, appends the
//     16-byte tag into the slice's spare capacity and applies header
//     protection. SealPacketFrom does the same for a payload that lies
//     elsewhere (the sender's stream buffer), writing the ciphertext after
//     the header: the one pass over the bytes is also the copy into the
//     datagram.
//   - UnprotectHeader removes header protection and returns the truncated
//     packet number and its length; Open then decrypts the payload with the
//     full packet number. The connection uses the two steps for 1-RTT
//     packets, whose key phase bit, visible only after UnprotectHeader,
//     picks the generation of keys to Open with.
//   - OpenPacket does both with one generation of keys and decodes the
//     packet number with DecodePacketNumber (RFC 9000 Appendix A.3).
//
// Keys.Rest lets an idle connection's keys drop their cipher states (about
// 1.3 KB per direction with AES-GCM), keeping the secret, IV and header
// protection key; the next packet sealed or opened makes them again, the
// one allocation outside Keys' construction. New Keys start so, without
// cipher states: keys that protect no packet (a connection closed as its
// handshake completes) never make them.
//
// The package does not parse headers: callers pass the offset of the Packet
// Number field (and, to Open, the header length), which the wire format
// knows. The Packet Number Length is read from the first byte.
//
// # Errors and limits
//
// Errors are constants of type Error. None is a connection error by itself:
// a packet that fails to unprotect is discarded (RFC 9001 §5.5). The
// connection counts failures against the suite's IntegrityLimit and sealed
// packets against its ConfidentialityLimit (RFC 9001 §6.6), and closes with
// AEAD_LIMIT_REACHED or updates keys accordingly. After a successful open it
// must also check that the reserved bits of the first byte are zero
// (RFC 9000 §17.2, §17.3.1: PROTOCOL_VIOLATION otherwise).
//
// RetryIntegrityTag and VerifyRetryIntegrity compute and check the Retry
// Integrity Tag of RFC 9001 §5.8 and RFC 9369 §3.3.3.
//
// # Concurrency
//
// A Keys holds the scratch space of one packet (nonce, header protection
// mask), so it must be used by one goroutine at a time: the connection's.
// The Retry functions are safe for concurrent use.
//
// # Not done
//
// TLS_AES_128_CCM_SHA256 is not supported (QUIC implementations rarely
// offer it). Secrets are not wiped from memory when keys are dropped. The
// keeping of old and next key generations, the key phase bit and the
// counting of packets against the AEAD limits belong to the connection.
package protect
