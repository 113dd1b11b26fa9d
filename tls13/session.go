package tls13

import (
	"container/list"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ClientSession is what a client keeps to resume a session: a ticket from
// a NewSessionTicket (RFC 8446 §4.6.1), the PSK derived for it, what the
// original connection negotiated and authenticated, and what the layers
// above remember of the server for 0-RTT. A ClientSession holds a secret
// (the PSK): whoever has it can resume as the client, so persist it as
// you would a private key. A session is used once (RFC 8446 §C.4).
type ClientSession struct {
	suite          uint16
	ticket         []byte
	psk            []byte
	ageAdd         uint32
	lifetime       uint32
	receivedAt     time.Time
	maxEarlyData   uint32
	alpn           string
	serverCerts    []*x509.Certificate
	verifiedChains [][]*x509.Certificate

	// TransportParameters are the server's QUIC transport parameters of
	// the connection that received the ticket; a client sending 0-RTT
	// must respect them (RFC 9000 §7.4.1). tls13 fills them in.
	TransportParameters []byte
	// AppData is opaque data the application keeps with the session
	// (Conn.SetSessionAppData); an HTTP/3 client keeps the server's
	// SETTINGS here, which 0-RTT requests must respect
	// (RFC 9114 §7.2.4.2). MarshalBinary keeps up to 16 MiB of it.
	AppData []byte
}

// CipherSuite is the suite of the connection that received the ticket.
func (cs *ClientSession) CipherSuite() uint16 { return cs.suite }

// NegotiatedProtocol is the ALPN protocol of that connection; 0-RTT is
// attempted only when it is offered again (RFC 8446 §4.2.10).
func (cs *ClientSession) NegotiatedProtocol() string { return cs.alpn }

// ReceivedAt is when the ticket arrived (Config.Time).
func (cs *ClientSession) ReceivedAt() time.Time { return cs.receivedAt }

// Expires is when the server stops accepting the ticket, by its lifetime.
func (cs *ClientSession) Expires() time.Time {
	return cs.receivedAt.Add(time.Duration(cs.lifetime) * time.Second)
}

// EarlyDataAllowed says whether the ticket allows 0-RTT (RFC 9001 §4.6.1).
func (cs *ClientSession) EarlyDataAllowed() bool { return cs.maxEarlyData == maxEarlyDataQUIC }

// PeerCertificates is the server's chain of the original connection.
func (cs *ClientSession) PeerCertificates() []*x509.Certificate { return cs.serverCerts }

// withAppData returns a copy of cs carrying data.
func (cs *ClientSession) withAppData(data []byte) *ClientSession {
	n := *cs
	n.AppData = data
	return &n
}

// Persisted form of a ClientSession. Version 1:
//
//	u8  version (1)
//	u16 cipher suite
//	u64 received at (Unix milliseconds)
//	u32 lifetime (seconds)  u32 ticket_age_add  u32 max_early_data_size
//	ticket<1..2^16-1>  psk<0..255>  alpn<0..255>
//	certificates<0..2^24-1>: certificate<1..2^24-1>, leaf first
//	verified chains<0..2^24-1>: chain<1..2^24-1>: certificate<1..2^24-1>
//	transport parameters<0..2^24-1>  app data<0..2^24-1>
const (
	sessionFormatVersion = 1
	// maxSessionAppData bounds AppData and TransportParameters.
	maxSessionAppData = 1<<24 - 1
	// maxSessionChains bounds the verified chains kept and parsed.
	maxSessionChains = 8
)

// MarshalBinary encodes the session for a persistent ClientSessionCache;
// ParseClientSession decodes it. The encoding holds the PSK.
func (cs *ClientSession) MarshalBinary() ([]byte, error) {
	if len(cs.ticket) == 0 || len(cs.ticket) > 1<<16-1 || len(cs.psk) > 255 || len(cs.alpn) > 255 {
		return nil, errors.New("tls13: ClientSession is not a session received from a server")
	}
	if len(cs.AppData) > maxSessionAppData || len(cs.TransportParameters) > maxSessionAppData {
		return nil, errors.New("tls13: ClientSession.AppData or TransportParameters too large to persist")
	}
	b := make([]byte, 0, 64+len(cs.ticket)+len(cs.psk)+len(cs.TransportParameters)+len(cs.AppData))
	b = append(b, sessionFormatVersion)
	b = appendU16(b, cs.suite)
	b = appendU64(b, uint64(cs.receivedAt.UnixMilli()))
	b = appendU32(b, cs.lifetime)
	b = appendU32(b, cs.ageAdd)
	b = appendU32(b, cs.maxEarlyData)
	b = appendVec16(b, cs.ticket)
	b = appendVec8(b, cs.psk)
	b = appendVec8(b, []byte(cs.alpn))
	b = appendCertList(b, cs.serverCerts)
	b, start := beginVec(b, 3)
	for i, chain := range cs.verifiedChains {
		if i == maxSessionChains {
			break
		}
		b = appendCertList(b, chain)
	}
	b = endVec(b, start, 3)
	b = appendVec24(b, cs.TransportParameters)
	return appendVec24(b, cs.AppData), nil
}

func appendCertList(b []byte, certs []*x509.Certificate) []byte {
	b, start := beginVec(b, 3)
	for _, c := range certs {
		b = appendVec24(b, c.Raw)
	}
	return endVec(b, start, 3)
}

// ParseClientSession decodes a session encoded by MarshalBinary. It
// rejects anything malformed, from an unknown format version or not
// consistent (a PSK whose length does not fit the suite, a lifetime over
// seven days); the caller should then drop it and do a full handshake.
// An expired session parses: the handshake does not offer it.
func ParseClientSession(data []byte) (*ClientSession, error) {
	if len(data) == 0 {
		return nil, errors.New("tls13: empty session")
	}
	if data[0] != sessionFormatVersion {
		return nil, fmt.Errorf("tls13: session in unknown format version %d", data[0])
	}
	// Fields alias one private copy of data.
	r := newReader(append([]byte(nil), data[1:]...))
	cs := &ClientSession{}
	cs.suite = r.u16()
	cs.receivedAt = time.UnixMilli(int64(r.u64()))
	cs.lifetime = r.u32()
	cs.ageAdd = r.u32()
	cs.maxEarlyData = r.u32()
	cs.ticket = r.vec16()
	cs.psk = r.vec8()
	cs.alpn = string(r.vec8())
	certsRaw := r.vec24()
	chainsRaw := r.vec24()
	cs.TransportParameters = r.vec24()
	cs.AppData = r.vec24()
	if !r.ok || !r.empty() {
		return nil, errors.New("tls13: malformed session")
	}
	suite := cipherSuiteByID(cs.suite)
	switch {
	case suite == nil:
		return nil, fmt.Errorf("tls13: session with unknown cipher suite 0x%04x", cs.suite)
	case len(cs.psk) != suite.size:
		return nil, errors.New("tls13: session PSK does not fit its cipher suite")
	case len(cs.ticket) == 0:
		return nil, errors.New("tls13: session without a ticket")
	case cs.lifetime > maxTicketLifetime:
		return nil, errors.New("tls13: session lifetime over seven days (RFC 8446 §4.6.1)")
	case cs.maxEarlyData != 0 && cs.maxEarlyData != maxEarlyDataQUIC:
		return nil, errors.New("tls13: session max_early_data_size is neither 0 nor 0xffffffff (RFC 9001 §4.6.1)")
	}
	parsed := map[string]*x509.Certificate{}
	var err error
	if cs.serverCerts, err = parseCertList(certsRaw, parsed); err != nil {
		return nil, err
	}
	chains := newReader(chainsRaw)
	for !chains.empty() {
		if len(cs.verifiedChains) == maxSessionChains {
			return nil, errors.New("tls13: session with too many verified chains")
		}
		raw := chains.vec24()
		if !chains.ok || len(raw) == 0 {
			return nil, errors.New("tls13: malformed session")
		}
		chain, err := parseCertList(raw, parsed)
		if err != nil {
			return nil, err
		}
		cs.verifiedChains = append(cs.verifiedChains, chain)
	}
	if len(cs.verifiedChains) > 0 && len(cs.serverCerts) == 0 {
		return nil, errors.New("tls13: session with verified chains but no certificate")
	}
	return cs, nil
}

// parseCertList parses a list of DER certificates; parsed shares the
// certificates that appear more than once (the leaf in every chain).
func parseCertList(raw []byte, parsed map[string]*x509.Certificate) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	r := newReader(raw)
	for !r.empty() {
		der := r.vec24()
		if !r.ok || len(der) == 0 {
			return nil, errors.New("tls13: malformed session")
		}
		c, ok := parsed[string(der)]
		if !ok {
			var err error
			if c, err = x509.ParseCertificate(der); err != nil {
				return nil, fmt.Errorf("tls13: session certificate: %w", err)
			}
			parsed[string(der)] = c
		}
		certs = append(certs, c)
	}
	return certs, nil
}

// ClientSessionCache stores ClientSessions, like crypto/tls's cache of the
// same name. The key is the server name unless the connection was given
// another (Conn.SetSessionCacheKey). A client takes a session with Get
// and removes it with Put(key, nil) before using it, since a ticket is used
// once; Put with a session stores it. Implementations must be safe for
// concurrent use; a persistent one can store ClientSession.MarshalBinary
// and return ParseClientSession's result.
type ClientSessionCache interface {
	Get(key string) (*ClientSession, bool)
	Put(key string, cs *ClientSession)
}

type lruCache struct {
	mu       sync.Mutex
	capacity int
	entries  map[string]*list.Element
	order    *list.List
}

type lruEntry struct {
	key string
	cs  *ClientSession
}

// NewLRUClientSessionCache returns an in-memory ClientSessionCache holding
// at most capacity sessions (64 when capacity < 1), dropping the least
// recently used. It keeps one session per key: the newest ticket a server
// sent.
func NewLRUClientSessionCache(capacity int) ClientSessionCache {
	if capacity < 1 {
		capacity = 64
	}
	return &lruCache{capacity: capacity, entries: make(map[string]*list.Element), order: list.New()}
}

func (c *lruCache) Get(key string) (*ClientSession, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*lruEntry).cs, true
	}
	return nil, false
}

func (c *lruCache) Put(key string, cs *ClientSession) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		if cs == nil {
			c.order.Remove(e)
			delete(c.entries, key)
			return
		}
		e.Value.(*lruEntry).cs = cs
		c.order.MoveToFront(e)
		return
	}
	if cs == nil {
		return
	}
	if c.order.Len() >= c.capacity {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.entries, old.Value.(*lruEntry).key)
	}
	c.entries[key] = c.order.PushFront(&lruEntry{key, cs})
}
