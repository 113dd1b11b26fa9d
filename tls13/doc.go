// Package tls13 is a sans-I/O TLS 1.3 handshake (RFC 8446) for QUIC
// (RFC 9001 §4), in both roles.
//
// There is no record layer. QUIC hands the bytes of CRYPTO frames to
// [Conn.HandleData] together with their encryption level, and reads
// [Event]s from [Conn.NextEvent]: handshake bytes to send at a level,
// read and write secrets per level and direction (from which QUIC derives
// its packet protection keys, RFC 9001 §5.1), the peer's transport
// parameters (the quic_transport_parameters extension, RFC 9001 §8.2),
// 0-RTT rejection and handshake completion. Initial secrets are not
// produced here: QUIC derives them from the connection ID (RFC 9001 §5.2).
// Fatal errors wrap an [AlertError]; QUIC closes the connection with
// CRYPTO_ERROR 0x100+alert (RFC 9001 §4.8).
//
// Implemented:
//   - cipher suites TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384 and
//     TLS_CHACHA20_POLY1305_SHA256 (RFC 8446 §B.4);
//   - key exchange X25519, P-256, P-384, P-521 and the hybrids
//     X25519MLKEM768, SecP256r1MLKEM768 and SecP384r1MLKEM1024
//     (draft-ietf-tls-ecdhe-mlkem), with HelloRetryRequest (and an optional cookie)
//     when the client's key share does not suit the server (RFC 8446 §4.1.4);
//   - certificates with ECDSA (P-256, P-384, P-521), RSA-PSS and Ed25519
//     keys, verified with crypto/x509; client certificates
//     (RFC 8446 §4.3.2); ALPN (RFC 7301) and SNI (RFC 6066);
//   - session tickets sealed with AES-256-GCM under rotatable keys, PSK
//     resumption with psk_dhe_ke and binders (RFC 8446 §4.2.11), and 0-RTT
//     (RFC 8446 §4.2.10, RFC 9001 §4.6) with ticket-age freshness checks and
//     a bounded ClientHello replay filter (RFC 8446 §8);
//   - an NSS key log (Config.KeyLogWriter);
//   - [ExpandLabel] and [Extract], the HKDF functions QUIC needs for its
//     packet protection keys (RFC 9001 §5).
//
// At completion each side drops what only the handshake needed, so that a
// long-lived connection keeps little: the ClientHello (bytes and parsed
// form), key shares and private keys, the transcript and the intermediate
// secrets; a server drops its whole handshake state. What stays is what
// ConnectionState reports (including the peer's parsed certificates) and
// what session tickets need: the suite and the resumption secret.
//
// Interoperability is tested in memory against crypto/tls's QUIC API in
// both roles. Note: crypto/tls's client (Go 1.26) computes the binder of a
// second ClientHello before dropping early_data from it, so resuming a
// 0-RTT ticket after a HelloRetryRequest fails against crypto/tls's server
// and against this one alike (decrypt_error).
//
// Not implemented: TLS 1.2 and below; a record layer; psk_ke (PSK without
// (EC)DHE); external PSKs; post-handshake client authentication; OCSP
// stapling and SCTs; the certificate_authorities extension; RSA-PSS-PSS
// (rsa_pss_pss_*) signatures; exporters. KeyUpdate and EndOfEarlyData are
// refused as QUIC requires (RFC 9001 §6, §8.3).
package tls13
