package tls13

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"io"
	"sync"
	"time"
)

// Certificate is a certificate chain and its private key.
type Certificate struct {
	// Certificate is the DER chain, leaf first.
	Certificate [][]byte
	// PrivateKey must implement crypto.Signer with an ECDSA (P-256, P-384,
	// P-521), RSA or Ed25519 key.
	PrivateKey crypto.PrivateKey
	// Leaf is the parsed leaf; it is parsed on demand when nil.
	Leaf *x509.Certificate
}

// ClientAuthType says whether a server asks for and verifies a client
// certificate; the values mean what they mean in crypto/tls.
type ClientAuthType int

const (
	NoClientCert ClientAuthType = iota
	RequestClientCert
	RequireAnyClientCert
	VerifyClientCertIfGiven
	RequireAndVerifyClientCert
)

// ClientHelloInfo is what a server's GetCertificate hook sees of the
// ClientHello; the fields mean what they mean in crypto/tls and must not be
// kept or modified after the hook returns.
type ClientHelloInfo struct {
	// ServerName is the server_name (SNI) asked for, if any.
	ServerName string
	// SupportedProtos are the ALPN protocols offered.
	SupportedProtos []string
	// SignatureSchemes are the schemes of signature_algorithms.
	SignatureSchemes []SignatureScheme
	// CipherSuites are the suites offered, in the client's order.
	CipherSuites []uint16
	// SupportedCurves are the groups of supported_groups.
	SupportedCurves []CurveID
}

// CertificateRequestInfo is what a client's GetClientCertificate hook sees.
type CertificateRequestInfo struct {
	SignatureSchemes []SignatureScheme
}

// Config configures a client or server handshake. A Config may be shared by
// many connections once in use and must not be modified or copied then.
type Config struct {
	// Rand is the source of randomness; crypto/rand when nil.
	Rand io.Reader
	// Time returns the current time, for certificate validity and ticket
	// ages; time.Now when nil.
	Time func() time.Time

	// Certificates are the chains a server presents (the first one whose
	// key suits the client's signature_algorithms), or the chain a client
	// presents when asked.
	Certificates []Certificate
	// GetCertificate, when set, chooses the server certificate; when it
	// returns nil and no error, Certificates decide, as in crypto/tls.
	GetCertificate func(*ClientHelloInfo) (*Certificate, error)
	// GetClientCertificate, when set, chooses the client certificate.
	GetClientCertificate func(*CertificateRequestInfo) (*Certificate, error)

	// RootCAs verifies server certificates; the system pool when nil.
	RootCAs *x509.CertPool
	// ServerName is sent in server_name and checked against the server's
	// certificate.
	ServerName string
	// InsecureSkipVerify disables verification of the server's chain and
	// name. VerifyPeerCertificate still runs.
	InsecureSkipVerify bool
	// VerifyPeerCertificate, when set, is called after the normal checks
	// with the peer's DER chain and the verified chains (nil when not
	// verified). An error aborts with bad_certificate; errors.As finds
	// it in the handshake's error.
	VerifyPeerCertificate func(rawCerts [][]byte, verifiedChains [][]*x509.Certificate) error
	// VerifyConnection, when set, is called on both sides, also on
	// resumed connections, once the peer's Finished has verified and
	// before the handshake completes, with the state it will complete
	// with (HandshakeComplete still false). An error aborts with
	// bad_certificate; errors.As finds it in the handshake's error.
	VerifyConnection func(ConnectionState) error

	// ClientAuth is the server's policy for client certificates.
	ClientAuth ClientAuthType
	// ClientCAs verifies client certificates.
	ClientCAs *x509.CertPool

	// NextProtos lists ALPN protocols in preference order.
	NextProtos []string
	// CipherSuites lists the allowed TLS 1.3 suites in preference order;
	// all three when empty.
	CipherSuites []uint16
	// CurvePreferences lists key exchange groups in preference order.
	CurvePreferences []CurveID
	// HelloRetryCookie makes a server put a random cookie in its
	// HelloRetryRequests, which the client must echo (RFC 8446 §4.2.2).
	HelloRetryCookie bool

	// KeyLogWriter receives every secret in the NSS key log format.
	KeyLogWriter io.Writer

	// SessionTicketsDisabled stops a server from accepting tickets and a
	// client from offering them.
	SessionTicketsDisabled bool
	// SessionTicketKeys encrypt tickets: the first encrypts, all decrypt,
	// so keys can be rotated. Servers that share keys accept each
	// other's tickets; share a ReplayFilter too if they accept 0-RTT.
	// When empty, a random key is made per Config. See also
	// SetSessionTicketKeys.
	SessionTicketKeys [][32]byte
	// TicketLifetime is the advertised ticket lifetime; seven days when zero.
	TicketLifetime time.Duration
	// ClientSessionCache stores sessions on the client, keyed by server
	// name unless Conn.SetSessionCacheKey says otherwise. Without it a
	// client neither offers nor keeps tickets.
	ClientSessionCache ClientSessionCache
	// AcceptEarlyData, on a server, may refuse 0-RTT for a ticket by
	// returning false; it is given the application data stored with the
	// ticket (see Conn.SetTicketAppData).
	AcceptEarlyData func(ticketAppData []byte) bool
	// ReplayFilter, on a server, records the ClientHellos whose 0-RTT was
	// accepted so that a replayed one is refused (RFC 8446 §8). When nil,
	// each Config has its own in-memory filter: servers that share ticket
	// keys must then share one ReplayFilter (NewReplayFilter), or a
	// ClientHello replayed to another server would have its 0-RTT
	// accepted there too.
	ReplayFilter ReplayFilter

	// MaxHandshakeMessageSize bounds one handshake message; 64 KiB when 0.
	MaxHandshakeMessageSize int
	// MaxCertificateChainLength bounds the peer's chain; 10 when 0.
	MaxCertificateChainLength int

	mu     sync.Mutex
	shared *sharedState
	// verified remembers successful chain verifications (verifycache.go).
	verified verifyCache
}

// Clone returns a copy of c's settings. The copy has its own random
// session ticket key unless SessionTicketKeys is set, its own replay filter
// unless ReplayFilter is set, and its own cache of verified chains.
func (c *Config) Clone() *Config {
	n := &Config{
		Rand:                      c.Rand,
		Time:                      c.Time,
		Certificates:              c.Certificates,
		GetCertificate:            c.GetCertificate,
		GetClientCertificate:      c.GetClientCertificate,
		RootCAs:                   c.RootCAs,
		ServerName:                c.ServerName,
		InsecureSkipVerify:        c.InsecureSkipVerify,
		VerifyPeerCertificate:     c.VerifyPeerCertificate,
		VerifyConnection:          c.VerifyConnection,
		ClientAuth:                c.ClientAuth,
		ClientCAs:                 c.ClientCAs,
		NextProtos:                c.NextProtos,
		CipherSuites:              c.CipherSuites,
		CurvePreferences:          c.CurvePreferences,
		HelloRetryCookie:          c.HelloRetryCookie,
		KeyLogWriter:              c.KeyLogWriter,
		SessionTicketsDisabled:    c.SessionTicketsDisabled,
		SessionTicketKeys:         c.SessionTicketKeys,
		TicketLifetime:            c.TicketLifetime,
		ClientSessionCache:        c.ClientSessionCache,
		AcceptEarlyData:           c.AcceptEarlyData,
		ReplayFilter:              c.ReplayFilter,
		MaxHandshakeMessageSize:   c.MaxHandshakeMessageSize,
		MaxCertificateChainLength: c.MaxCertificateChainLength,
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shared != nil && c.shared.setKeys != nil {
		n.SessionTicketKeys = c.shared.setKeys
	}
	return n
}

// sharedState is what connections of one Config share: the ticket keys
// and the default 0-RTT replay filter.
type sharedState struct {
	// ticketKeys is replaced, never modified, so that a handshake may
	// keep using the slice it got.
	ticketKeys []ticketKey
	// setKeys are the keys of the last SetSessionTicketKeys, for Clone.
	setKeys [][32]byte
	replay  *memoryReplayFilter
}

func (c *Config) rand() io.Reader {
	if c.Rand != nil {
		return c.Rand
	}
	return rand.Reader
}

func (c *Config) now() time.Time {
	if c.Time != nil {
		return c.Time()
	}
	return time.Now()
}

func (c *Config) cipherSuites() []uint16 {
	if len(c.CipherSuites) > 0 {
		return c.CipherSuites
	}
	return defaultCipherSuites
}

func (c *Config) curves() []CurveID {
	if len(c.CurvePreferences) > 0 {
		return c.CurvePreferences
	}
	return defaultCurvePreferences
}

func (c *Config) maxMessageSize() int {
	if c.MaxHandshakeMessageSize > 0 {
		return c.MaxHandshakeMessageSize
	}
	return defaultMaxMessageSize
}

func (c *Config) maxChain() int {
	if c.MaxCertificateChainLength > 0 {
		return c.MaxCertificateChainLength
	}
	return 10
}

func (c *Config) ticketLifetime() uint32 {
	if c.TicketLifetime <= 0 || c.TicketLifetime > time.Duration(maxTicketLifetime)*time.Second {
		return maxTicketLifetime
	}
	return uint32(c.TicketLifetime / time.Second)
}

// state returns the shared state, creating it on first use. The caller
// must hold c.mu.
func (c *Config) state() (*sharedState, error) {
	if c.shared != nil {
		return c.shared, nil
	}
	s := &sharedState{replay: newMemoryReplayFilter(defaultReplayFilterSize)}
	keys := c.SessionTicketKeys
	if len(keys) == 0 {
		var k [32]byte
		if _, err := io.ReadFull(c.rand(), k[:]); err != nil {
			return nil, err
		}
		keys = [][32]byte{k}
	}
	var err error
	if s.ticketKeys, err = newTicketKeys(keys); err != nil {
		return nil, err
	}
	c.shared = s
	return s, nil
}

// ticketKeys returns the current session ticket keys, the first one for
// sealing.
func (c *Config) ticketKeys() ([]ticketKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, err := c.state()
	if err != nil {
		return nil, err
	}
	return s.ticketKeys, nil
}

// replayFilter returns Config.ReplayFilter or the Config's own filter.
func (c *Config) replayFilter() (ReplayFilter, error) {
	if c.ReplayFilter != nil {
		return c.ReplayFilter, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, err := c.state()
	if err != nil {
		return nil, err
	}
	return s.replay, nil
}

// SetSessionTicketKeys replaces the session ticket keys of a Config in use
// (Config.SessionTicketKeys is read only once): the first key seals new
// tickets, all of them open tickets. Rotating keys on a schedule bounds how
// long a stolen key can decrypt recorded tickets, and servers given the same
// keys accept each other's tickets. It is safe to call while handshakes run.
func (c *Config) SetSessionTicketKeys(keys [][32]byte) error {
	if len(keys) == 0 {
		return errors.New("tls13: SetSessionTicketKeys needs at least one key")
	}
	tks, err := newTicketKeys(keys)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, err := c.state()
	if err != nil {
		return err
	}
	s.ticketKeys = tks
	s.setKeys = append([][32]byte(nil), keys...)
	return nil
}
