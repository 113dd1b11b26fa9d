// Package endpoint is the QUIC Interop Runner's endpoint contract, shared
// by skiff's endpoint (skiffep, cmd/skiff-endpoint, the Docker image) and
// the quic-go endpoint the local runner pairs it with (quicgoep,
// cmd/quicgo-endpoint), so that both behave the same way:
//
//   - one binary, both roles, driven by the runner's environment: ROLE,
//     TESTCASE, REQUESTS, SSLKEYLOGFILE (NSS key log), QLOGDIR (one file
//     per connection); the runner's fixed paths can be moved with WWW_DIR,
//     DOWNLOADS_DIR, CERTS_DIR and LISTEN_ADDR so that it runs outside
//     Docker, and VERIFY_PEER=1 makes the client verify the server's chain
//     against ca.pem (the local runner does; the real runner's throwaway
//     certificates name no host, so by default it does not);
//   - exit code 127 for a TESTCASE the implementation does not support in
//     its role and for any unknown one, before anything else (Impl.Cases is
//     the one table to edit as features land);
//   - HTTP/0.9 over QUIC (ALPN hq-interop, ServeHQ and FetchHQ) for every
//     test case but http3, which uses HTTP/3 (FileHandler, FetchHTTP);
//   - the client's connection plan (Env.Plan): one connection, or one per
//     file for multiconnect (a few at a time), or a first and a resumed
//     second connection for resumption and zerortt;
//   - the simulator's readiness probe (ProbeDatagram, WaitReady): a
//     1207-byte datagram of version 0x57414954 with empty connection IDs,
//     which a server answers with Version Negotiation (RFC 9000 §6.1).
//
// What each implementation does per test case (ChaCha20 only, Retry, a
// session cache, 0-RTT) lives in its Impl.
package endpoint
