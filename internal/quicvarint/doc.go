// Package quicvarint is the QUIC variable-length integer encoding
// (RFC 9000 §16), shared by the QUIC wire format (quic/internal/wire) and
// HTTP/3 framing (h3/internal/frame), which uses the same integers.
package quicvarint
