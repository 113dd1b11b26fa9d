// Package hkdf is the HMAC-based key derivation of TLS 1.3 and QUIC:
// HKDF-Extract and HKDF-Expand (RFC 5869 §2.2, §2.3), HKDF-Expand-Label
// (RFC 8446 §7.1) and HMAC itself (RFC 2104), for SHA-256 and SHA-384.
//
// It exists because crypto/hkdf and crypto/hmac make new hash states for
// every call, about ten allocations each, and a handshake expands some
// thirty labels on each side (the TLS key schedule plus the QUIC key, IV
// and header protection keys of every encryption level). Here the two hash
// states of an HMAC are pooled per hash, so an operation allocates only
// its output, of exactly its length, and AppendExpandLabel not even that:
// QUIC derives its packet protection keys into buffers on its stack. The
// pooled states keep nothing of a key or an output once an operation
// returns.
//
// Limits: keys longer than the hash block are hashed first (RFC 2104 §3);
// an HkdfLabel context is at most 255 bytes (RFC 8446 §7.1), as is
// "tls13 " plus the label. Lengths beyond 255 hash outputs are not
// defined by RFC 5869 and are the caller's bug; callers in this module
// ask only for secret, key and IV lengths.
package hkdf
