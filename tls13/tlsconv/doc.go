// Package tlsconv converts between crypto/tls and tls13, for programs that
// already hold a *tls.Config, tls.Certificates or code that reads a
// tls.ConnectionState (net/http's Request.TLS and Response.TLS).
//
// It is a package of its own so that tls13, the handshake QUIC runs, does
// not import crypto/tls: only programs that ask for the conversion link it.
//
// [FromConfig] carries over every setting that means the same in TLS 1.3
// over QUIC and rejects, with an error naming the field, every setting it
// cannot honour, rather than dropping it:
//
//   - carried over: Rand, Time, Certificates, GetCertificate,
//     GetClientCertificate, RootCAs, ClientCAs, ClientAuth, ServerName,
//     NextProtos, InsecureSkipVerify, VerifyPeerCertificate,
//     VerifyConnection, KeyLogWriter, CurvePreferences,
//     SessionTicketsDisabled, SessionTicketKey (as the only session ticket
//     key; tickets are not readable by crypto/tls servers, nor theirs by
//     ours);
//   - ignored because crypto/tls ignores them for TLS 1.3 too:
//     CipherSuites (TLS 1.3 suites are not configurable in crypto/tls, so
//     the result allows all three, as a crypto/tls connection would),
//     PreferServerCipherSuites, DynamicRecordSizingDisabled (there is no
//     record layer in QUIC);
//   - rejected: MinVersion above TLS 1.3, MaxVersion below it,
//     Renegotiation other than RenegotiateNever, ClientSessionCache (its
//     sessions are crypto/tls's; set tls13.Config.ClientSessionCache on the
//     result instead), WrapSession and UnwrapSession, GetConfigForClient,
//     NameToCertificate, and the Encrypted Client Hello settings — none of
//     which tls13 implements;
//   - not visible, so not carried: session ticket keys set with
//     (*tls.Config).SetSessionTicketKeys (use
//     (*tls13.Config).SetSessionTicketKeys).
//
// The hooks see what tls13 knows: a tls.ClientHelloInfo with ServerName,
// SupportedProtos, SignatureSchemes, CipherSuites, SupportedCurves and
// SupportedVersions (TLS 1.3) but no Conn, and whose Context method returns
// nil (a sans-I/O handshake has no context); a tls.CertificateRequestInfo
// with SignatureSchemes and Version but no AcceptableCAs.
//
// [ToConnectionState] fills the tls.ConnectionState fields that mean the
// same. Its ExportKeyingMaterial method must not be called: tls13 does not
// implement exporters, and crypto/tls's unexported exporter is nil.
package tlsconv
