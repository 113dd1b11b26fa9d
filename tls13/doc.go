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
// Errors keep their cause and say what happened, e.g. "tls13: certificate
// signed by unknown authority (alert unknown_ca)": errors.As finds the
// AlertError and whatever caused it, such as crypto/x509's
// UnknownAuthorityError, HostnameError or CertificateInvalidError (inside a
// [CertificateVerificationError]) or the error of a verification hook. An
// alert the peer sent is a [PeerAlertError], which QUIC builds from the
// peer's CONNECTION_CLOSE ([AlertFromQUICErrorCode]). A misconfiguration is
// a [ConfigError] naming the field: QUIC calls [Config.ValidateClient] and
// [Config.ValidateServer] when dialing and listening; Start checks only what
// would make every handshake fail.
//
// How QUIC drives a connection: [Client] or [Server] with its transport
// parameters, then Start, HandleData for CRYPTO frames and NextEvent until
// EventNone, after every call. After EventHandshakeDone a server calls
// [Conn.SendSessionTickets] (with [Conn.SetTicketAppData] first to choose
// what tickets remember) and a client calls [Conn.SetSessionAppData] when
// the application knows what to keep. A server may set, before Start,
// [Conn.SetTransportParametersFunc] (to answer the client's transport
// parameters with others: compatible version negotiation, RFC 9368) and
// [Conn.SetTicketFunc] (to refuse a ticket, or 0-RTT with it, by what it
// remembers). [Conn.ConnectionState] reports the outcome; package
// tls13/tlsconv converts it to a tls.ConnectionState.
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
//   - session tickets sealed with AES-256-GCM under rotatable keys
//     ([Config.SetSessionTicketKeys]; servers sharing keys accept each
//     other's tickets), issued on request after the handshake, several at
//     a time ([Conn.SendSessionTickets]); PSK resumption with psk_dhe_ke
//     and binders (RFC 8446 §4.2.11), and 0-RTT (RFC 8446 §4.2.10,
//     RFC 9001 §4.6) with max_early_data_size 0xffffffff, ticket-age
//     freshness checks and a ClientHello replay filter (RFC 8446 §8). The
//     filter is per Config unless [Config.ReplayFilter] is set: servers
//     that share ticket keys must share a [ReplayFilter] too
//     ([NewReplayFilter] within a process), or a 0-RTT flight replayed to
//     another server is accepted there;
//   - client sessions in a [ClientSessionCache] ([NewLRUClientSessionCache]
//     by default), keyed by server name or by [Conn.SetSessionCacheKey],
//     persistable ([ClientSession.MarshalBinary], [ParseClientSession]),
//     carrying the server's transport parameters (RFC 9000 §7.4.1) and
//     opaque application data such as HTTP/3 SETTINGS (RFC 9114
//     §7.2.4.2), offered only to the server name they authenticated;
//   - PEM loading ([LoadX509KeyPair], [X509KeyPair]); conversions from and
//     to crypto/tls live in package tls13/tlsconv, so that this package
//     does not import crypto/tls;
//   - a per-Config cache of verified certificate chains (32 entries),
//     used while every certificate of the chain is valid, so that a client
//     reconnecting to a server checks the chain's signatures once;
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
// Defaults: ticket lifetime seven days; 0-RTT freshness window ±10 s; a
// Config's own replay filter holds 65536 ClientHellos; handshake messages
// up to 64 KiB; peer chains up to 10 certificates.
//
// Not implemented: TLS 1.2 and below; a record layer; psk_ke (PSK without
// (EC)DHE); external PSKs; post-handshake client authentication; OCSP
// stapling and SCTs; the certificate_authorities extension; RSA-PSS-PSS
// (rsa_pss_pss_*) signatures; exporters; Encrypted Client Hello. KeyUpdate and EndOfEarlyData are
// refused as QUIC requires (RFC 9001 §6, §8.3).
package tls13
