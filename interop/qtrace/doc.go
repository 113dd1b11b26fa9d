// Package qtrace makes sense of the datagrams the relay captured, as the
// QUIC Interop Runner does with tshark and the endpoints' key logs.
//
// Analyze splits datagrams into QUIC packets (RFC 9000 §17, versions 1 and
// 2, coalesced packets), attributes them to connections by connection ID
// (long headers, NEW_CONNECTION_ID frames; by client address for
// zero-length IDs), removes header protection and decrypts: Initial packets
// with keys from the client's Destination Connection ID (or the Retry's
// Source Connection ID, RFC 9001 §5.2), the other levels with secrets from
// the NSS key log, found by the ClientHello's random, and key updates by
// deriving each next generation ("quic ku", RFC 9001 §6). It parses every
// RFC 9000 frame type and DATAGRAM, reassembles CRYPTO data into TLS
// handshake messages, and reads what the checks need of them:
// ClientHello (cipher suites, PSK and early_data offered,
// version_information), ServerHello (suite, PSK accepted), the server's
// transport parameters.
//
// The packet protection (AES-128/256-GCM, ChaCha20-Poly1305, AES and
// ChaCha20 header protection) is written here on crypto/aes and
// golang.org/x/crypto with tls13's exported ExpandLabel and Extract,
// because skiff's own quic/internal/protect cannot be imported from this
// module; RFC 9001 Appendix A's vectors test it.
//
// Builder makes synthetic, correctly protected traces for tests: the
// runner's checks are tested against deliberately broken ones.
//
// Limits: 0-RTT packets open only if the client's key log has
// CLIENT_EARLY_TRAFFIC_SECRET (crypto/tls does not write it for QUIC);
// the Retry integrity tag is not verified; packets are processed in
// capture order, so a packet that arrives before the keys it needs is
// retried only for 0-RTT (after the ServerHello).
package qtrace
