package quic

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// Server address validation with Retry (RFC 9000 §8.1.2, §17.2.5).
//
// When Config.RequireAddressValidation is set, a client's first Initial
// without a token gets a Retry: a new connection ID for the client to send
// to, and a token that the endpoint validates statelessly when the client
// sends its Initial again. Nothing is kept between the two.
//
// Token format (retryTokenNonceLen + sealed plaintext + AEAD tag):
//
//	nonce (12 random bytes) ||
//	AES-128-GCM_Seal(plaintext, additional data = client address) where
//	plaintext = issued (8 bytes: Unix nanoseconds, big endian) ||
//	            ODCID length (1) || Original Destination Connection ID ||
//	            Retry SCID length (1) || Retry Source Connection ID
//
// The AEAD key is derived with HKDF-SHA256 from the endpoint's random
// stateless reset key (info "skiff retry token"), so it never leaves the
// endpoint and dies with it. The client's address (16-byte IP and port) is
// the additional data: a token presented from another address does not
// open.

const (
	// retryTokenLifetime bounds how long after a Retry the client may come
	// back with its token: a round trip, with room for a slow one.
	retryTokenLifetime = 10 * time.Second
	retryTokenNonceLen = 12
	retryTokenMaxLen   = retryTokenNonceLen + 8 + 2*(1+wire.MaxConnectionIDLen) + 16
)

// tokenAEAD returns the AEAD that seals Retry tokens, made on first use.
func (e *Endpoint) tokenAEAD() cipher.AEAD {
	e.retryOnce.Do(func() {
		key, err := hkdf.Key(sha256.New, e.resetKey[:], nil, "skiff retry token", 16)
		if err != nil {
			panic(err) // unreachable: a 16-byte key from SHA-256
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			panic(err) // unreachable: 16 is a valid AES key size
		}
		e.retryAEAD, err = cipher.NewGCM(block)
		if err != nil {
			panic(err) // unreachable: AES has a 16-byte block
		}
	})
	return e.retryAEAD
}

// tokenAddress is the additional data binding a token to the client's
// address.
func tokenAddress(a netip.AddrPort) [18]byte {
	var b [18]byte
	ip := a.Addr().Unmap().As16()
	copy(b[:16], ip[:])
	binary.BigEndian.PutUint16(b[16:], a.Port())
	return b
}

// sealRetryToken appends a token for a client at addr whose first Initial
// went to odcid and that we send on to retrySCID.
func (e *Endpoint) sealRetryToken(b []byte, now time.Time, addr netip.AddrPort, odcid, retrySCID wire.ConnectionID) []byte {
	var pt [8 + 2*(1+wire.MaxConnectionIDLen)]byte
	p := binary.BigEndian.AppendUint64(pt[:0], uint64(now.UnixNano()))
	p = append(p, byte(odcid.Len()))
	p = append(p, odcid.Bytes()...)
	p = append(p, byte(retrySCID.Len()))
	p = append(p, retrySCID.Bytes()...)
	start := len(b)
	b = append(b, make([]byte, retryTokenNonceLen)...)
	randomBytes(b[start:])
	ad := tokenAddress(addr)
	return e.tokenAEAD().Seal(b, b[start:start+retryTokenNonceLen], p, ad[:])
}

// openRetryToken checks a token from a client at addr. ok is false when it
// does not authenticate (forged, damaged, from another endpoint or for
// another address); expired is true when it does but is older than its
// lifetime (or from the future).
func (e *Endpoint) openRetryToken(tok []byte, now time.Time, addr netip.AddrPort) (info conn.RetryInfo, ok, expired bool) {
	if len(tok) < retryTokenNonceLen+16 || len(tok) > retryTokenMaxLen {
		return info, false, false
	}
	var buf [retryTokenMaxLen]byte
	ad := tokenAddress(addr)
	p, err := e.tokenAEAD().Open(buf[:0], tok[:retryTokenNonceLen], tok[retryTokenNonceLen:], ad[:])
	if err != nil || len(p) < 8+1 {
		return info, false, false
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(p)))
	p = p[8:]
	var ids [2]wire.ConnectionID
	for i := range ids {
		if len(p) < 1 || len(p) < 1+int(p[0]) {
			return info, false, false
		}
		id, err := wire.MakeConnectionID(p[1 : 1+int(p[0])])
		if err != nil {
			return info, false, false
		}
		ids[i] = id
		p = p[1+int(p[0]):]
	}
	if len(p) != 0 {
		return info, false, false
	}
	info = conn.RetryInfo{ODCID: ids[0], RetrySCID: ids[1]}
	age := now.Sub(issued)
	return info, true, age < 0 || age > retryTokenLifetime
}

// sendRetry answers a client's Initial (hdr, from d) with a Retry: a fresh
// connection ID and a token (RFC 9000 §17.2.5), protected by the Retry
// Integrity Tag over the client's original Destination Connection ID (RFC
// 9001 §5.8). The caller only asks for Initials of at least 1200 bytes, and
// one Retry per Initial: a Retry (under 120 bytes) amplifies nothing.
func (e *Endpoint) sendRetry(d *datagram, hdr *wire.Header) {
	retrySCID := newConnectionID()
	var tokBuf [retryTokenMaxLen]byte
	tok := e.sealRetryToken(tokBuf[:0], time.Now(), d.from, hdr.DCID, retrySCID)
	var buf [256]byte
	// RFC 9000 §17.2.5.1: the Retry goes to the client's Source Connection
	// ID, from the new one.
	out := wire.AppendRetry(buf[:0], hdr.Version, hdr.SCID, retrySCID, tok)
	tag, err := protect.RetryIntegrityTag(uint32(hdr.Version), hdr.DCID.Bytes(), out)
	if err != nil {
		return
	}
	out = append(out, tag[:]...)
	e.retriesSent.Add(1)
	e.write(out, d.from)
}

// validateAddress decides what becomes of a client's first Initial when
// the server requires address validation. It returns the Retry details for
// the connection to create when the Initial carries a valid token, and
// proceed false when the Initial was answered with a Retry or dropped.
//
//   - No token: a Retry.
//   - A token that does not open (not ours, damaged, or presented from
//     another address): as if there were none (RFC 9000 §8.1.3), a Retry.
//     A client that already had a Retry ignores a second one (§17.2.5.2).
//   - A token that opens but is expired, or names another connection ID
//     than the Initial is sent to: dropped. RFC 9000 §8.1.2 also allows
//     closing with INVALID_TOKEN; dropping tells an attacker nothing.
func (e *Endpoint) validateAddress(d *datagram, hdr *wire.Header) (info *conn.RetryInfo, proceed bool) {
	if len(hdr.Token) == 0 {
		e.sendRetry(d, hdr)
		return nil, false
	}
	ri, ok, expired := e.openRetryToken(hdr.Token, time.Now(), d.from)
	switch {
	case !ok:
		e.sendRetry(d, hdr)
		return nil, false
	case expired || ri.RetrySCID != hdr.DCID:
		e.invalidTokens.Add(1)
		return nil, false
	}
	return &ri, true
}
