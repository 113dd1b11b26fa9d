package tls13

import (
	"crypto/sha256"
	"crypto/x509"
	"runtime"
	"sync"
	"time"
)

// A client reconnects to the same servers all day, and a server sees the
// same client certificates again: verifying the same chain each time costs
// a signature check per chain link and the parsing of every certificate,
// about as much as the handshake's own CertificateVerify. A Config
// therefore remembers its last successful verifications, as browsers'
// certificate verifiers do, keyed by everything the result depends on: the
// exact chain the peer sent (all certificates, so also the intermediates),
// the root pool, the name and the key usage. A remembered result is used
// only while the current time is within the validity of every certificate
// of its chains, which is what the rest of x509 verification depends on.
// The hooks (VerifyPeerCertificate, VerifyConnection) run every time.
//
// Not cached: verification against the system roots on platforms whose
// system verifier may check more than crypto/x509 does (revocation on
// Windows and Apple platforms).

// verifyCacheSize bounds the remembered verifications per Config.
const verifyCacheSize = 32

type verifyKey struct {
	chain [sha256.Size]byte // SHA-256 over the length-prefixed DER chain
	roots *x509.CertPool
	name  string
	usage x509.ExtKeyUsage
}

type verifyEntry struct {
	certs               []*x509.Certificate
	chains              [][]*x509.Certificate
	notBefore, notAfter time.Time
}

// verifyCache is a bounded map; when full, the oldest entry goes.
// Entries outside their validity stay until replaced or evicted.
type verifyCache struct {
	mu      sync.Mutex
	entries map[verifyKey]*verifyEntry
	order   []verifyKey
}

// newVerifyKey returns the cache key of a verification, and false when it
// must not be cached.
func newVerifyKey(der [][]byte, roots *x509.CertPool, name string, usage x509.ExtKeyUsage) (verifyKey, bool) {
	if roots == nil && (runtime.GOOS == "windows" || runtime.GOOS == "darwin" || runtime.GOOS == "ios") {
		return verifyKey{}, false
	}
	h := sha256.New()
	var n [3]byte
	for _, d := range der {
		n[0], n[1], n[2] = byte(len(d)>>16), byte(len(d)>>8), byte(len(d))
		h.Write(n[:])
		h.Write(d)
	}
	k := verifyKey{roots: roots, name: name, usage: usage}
	h.Sum(k.chain[:0])
	return k, true
}

// get returns a remembered verification still valid at now. The returned
// certs slice is the caller's; the certificates and chains are shared and
// must not be modified.
func (c *verifyCache) get(k verifyKey, now time.Time) ([]*x509.Certificate, [][]*x509.Certificate, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return nil, nil, false
	}
	if now.Before(e.notBefore) || now.After(e.notAfter) {
		// A new verification will fail or replace the entry.
		return nil, nil, false
	}
	return append([]*x509.Certificate(nil), e.certs...), e.chains, true
}

// put remembers a successful verification.
func (c *verifyCache) put(k verifyKey, certs []*x509.Certificate, chains [][]*x509.Certificate) {
	e := &verifyEntry{certs: append([]*x509.Certificate(nil), certs...), chains: chains}
	first := true
	for _, chain := range chains {
		for _, cert := range chain {
			if first || cert.NotBefore.After(e.notBefore) {
				e.notBefore = cert.NotBefore
			}
			if first || cert.NotAfter.Before(e.notAfter) {
				e.notAfter = cert.NotAfter
			}
			first = false
		}
	}
	if first {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[verifyKey]*verifyEntry)
	}
	// order holds exactly the keys of entries, oldest first.
	if _, ok := c.entries[k]; !ok {
		if len(c.order) >= verifyCacheSize {
			delete(c.entries, c.order[0])
			c.order = append(c.order[:0], c.order[1:]...)
		}
		c.order = append(c.order, k)
	}
	c.entries[k] = e
}
