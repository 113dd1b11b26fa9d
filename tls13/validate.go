package tls13

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// ConfigError is a setting of a Config that cannot work; Field names it as
// a user writes it ("NextProtos", "Certificates[1]").
type ConfigError struct {
	Field   string
	Problem string
}

func (e *ConfigError) Error() string { return "tls13: Config." + e.Field + ": " + e.Problem }

// ValidateClient reports every problem that would make c fail or misbehave
// as a client Config, as ConfigErrors joined with errors.Join; nil when
// there is none. QUIC calls it when dialing, so that a misconfiguration
// fails at once and says which field is wrong, rather than as a failed
// handshake. It requires ServerName unless InsecureSkipVerify is set: a
// caller that dials a host name should put it there first (crypto/tls and
// net/http take it from the address).
func (c *Config) ValidateClient() error { return c.check(false, true) }

// ValidateServer is ValidateClient for a server Config: it also requires
// a certificate whose key matches its leaf, and NextProtos.
func (c *Config) ValidateServer() error { return c.check(true, true) }

// check collects the problems of c for one role. Start runs it with strict
// false: only what makes every handshake fail. The strict checks add what
// QUIC requires of a deployment (ALPN, RFC 9001 §8.1) and what is wrong but
// would otherwise surface only in some handshakes (a certificate that does
// not match its key, a lifetime out of range).
func (c *Config) check(isServer, strict bool) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &ConfigError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	for i, id := range c.CipherSuites {
		if cipherSuiteByID(id) == nil {
			bad(fmt.Sprintf("CipherSuites[%d]", i), "0x%04x is not a TLS 1.3 cipher suite this package implements", id)
		}
	}
	for i, g := range c.CurvePreferences {
		if !isSupportedGroup(g) {
			bad(fmt.Sprintf("CurvePreferences[%d]", i), "unsupported key exchange group %d", uint16(g))
		}
	}
	alpnLen := 0
	for i, p := range c.NextProtos {
		if len(p) == 0 || len(p) > 255 {
			bad(fmt.Sprintf("NextProtos[%d]", i), "an ALPN protocol name is 1 to 255 bytes (RFC 7301 §3.1), not %d", len(p))
		}
		alpnLen += 1 + len(p)
	}
	if alpnLen > 1<<16-1 {
		bad("NextProtos", "the list does not fit in the ALPN extension (RFC 7301 §3.1)")
	}
	if !isServer && c.ServerName == "" && !c.InsecureSkipVerify {
		bad("ServerName", "a client needs the server's name to verify its certificate; set it (or InsecureSkipVerify, for tests only)")
	}
	if isServer && len(c.Certificates) == 0 && c.GetCertificate == nil {
		bad("Certificates", "a server needs a certificate: set Certificates or GetCertificate")
	}
	if strict {
		errs = append(errs, c.checkStrict(isServer)...)
	}
	return errors.Join(errs...)
}

func (c *Config) checkStrict(isServer bool) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &ConfigError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if len(c.NextProtos) == 0 {
		bad("NextProtos", "empty; QUIC requires an application protocol negotiated with ALPN (RFC 9001 §8.1)")
	}
	for i := range c.Certificates {
		if err := c.Certificates[i].Validate(); err != nil {
			bad(fmt.Sprintf("Certificates[%d]", i), "%s", causeText(err))
		}
	}
	if isServer && (c.ClientAuth < NoClientCert || c.ClientAuth > RequireAndVerifyClientCert) {
		bad("ClientAuth", "unknown policy %d", int(c.ClientAuth))
	}
	if c.TicketLifetime < 0 || c.TicketLifetime > time.Duration(maxTicketLifetime)*time.Second {
		bad("TicketLifetime", "%v is outside 0 to seven days (RFC 8446 §4.6.1)", c.TicketLifetime)
	}
	if c.MaxHandshakeMessageSize < 0 {
		bad("MaxHandshakeMessageSize", "negative")
	}
	if c.MaxCertificateChainLength < 0 {
		bad("MaxCertificateChainLength", "negative")
	}
	return errs
}

// Validate checks that a chain can be used: not empty, a leaf that parses,
// a private key that can sign in TLS 1.3 and matches the leaf.
func (cert *Certificate) Validate() error {
	if len(cert.Certificate) == 0 {
		return errors.New("tls13: empty certificate chain")
	}
	leaf := cert.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return fmt.Errorf("tls13: leaf certificate does not parse: %w", err)
		}
	}
	signer, err := signerOf(cert)
	if err != nil {
		return fmt.Errorf("tls13: private key %T is not an ECDSA (P-256, P-384, P-521), RSA or Ed25519 crypto.Signer", cert.PrivateKey)
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(leaf.PublicKey) {
		return errors.New("tls13: private key does not match the leaf certificate's public key")
	}
	return nil
}
