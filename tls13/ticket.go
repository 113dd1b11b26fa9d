package tls13

import (
	"container/list"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/x509"
	"io"
	"sync"
	"time"
)

// Session tickets (RFC 8446 §4.6.1). The server keeps no per-session state:
// a ticket is the session itself, sealed with AES-256-GCM under a ticket
// key. Layout: key id (4) | nonce (12) | ciphertext of sessionState.

const ticketKeyIDLen = 4

type ticketKey struct {
	id   [ticketKeyIDLen]byte
	aead cipher.AEAD
}

func newTicketKey(k [32]byte) (ticketKey, error) {
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return ticketKey{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return ticketKey{}, err
	}
	sum := sha256.Sum256(k[:])
	tk := ticketKey{aead: aead}
	copy(tk.id[:], sum[:])
	return tk, nil
}

// sessionState is what a ticket carries.
type sessionState struct {
	suite        uint16
	createdAt    uint64 // Unix milliseconds
	ageAdd       uint32
	lifetime     uint32 // seconds
	psk          []byte
	alpn         string
	earlyData    bool
	appData      []byte
	peerCertsDER [][]byte
}

const sessionStateVersion = 1

func (s *sessionState) marshal() []byte {
	b := make([]byte, 0, 64+len(s.psk)+len(s.appData))
	b = append(b, sessionStateVersion)
	b = appendU16(b, s.suite)
	b = appendU64(b, s.createdAt)
	b = appendU32(b, s.ageAdd)
	b = appendU32(b, s.lifetime)
	b = appendVec8(b, s.psk)
	b = appendVec8(b, []byte(s.alpn))
	if s.earlyData {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendVec16(b, s.appData)
	b, start := beginVec(b, 3)
	for _, c := range s.peerCertsDER {
		b = appendVec24(b, c)
	}
	return endVec(b, start, 3)
}

func parseSessionState(b []byte) (*sessionState, bool) {
	r := newReader(b)
	s := &sessionState{}
	if r.u8() != sessionStateVersion {
		return nil, false
	}
	s.suite = r.u16()
	s.createdAt = r.u64()
	s.ageAdd = r.u32()
	s.lifetime = r.u32()
	s.psk = r.vec8()
	s.alpn = string(r.vec8())
	s.earlyData = r.u8() == 1
	s.appData = r.vec16()
	certs := newReader(r.vec24())
	for r.ok && certs.ok && !certs.empty() {
		s.peerCertsDER = append(s.peerCertsDER, certs.vec24())
	}
	if !r.ok || !certs.ok || !r.empty() || cipherSuiteByID(s.suite) == nil {
		return nil, false
	}
	return s, true
}

// sealTicket encrypts a session under the first (current) ticket key.
func sealTicket(keys []ticketKey, s *sessionState, rand io.Reader) ([]byte, error) {
	k := keys[0]
	out := make([]byte, ticketKeyIDLen+12, ticketKeyIDLen+12+200+len(s.appData))
	copy(out, k.id[:])
	if _, err := io.ReadFull(rand, out[ticketKeyIDLen:]); err != nil {
		return nil, err
	}
	return k.aead.Seal(out, out[ticketKeyIDLen:], s.marshal(), out[:ticketKeyIDLen]), nil
}

// openTicket decrypts a ticket with whichever key its id names. Tickets are
// attacker-controlled: any failure just means no resumption.
func openTicket(keys []ticketKey, ticket []byte) (*sessionState, bool) {
	if len(ticket) < ticketKeyIDLen+12+16 {
		return nil, false
	}
	for _, k := range keys {
		if string(k.id[:]) != string(ticket[:ticketKeyIDLen]) {
			continue
		}
		pt, err := k.aead.Open(nil, ticket[ticketKeyIDLen:ticketKeyIDLen+12], ticket[ticketKeyIDLen+12:], ticket[:ticketKeyIDLen])
		if err != nil {
			return nil, false
		}
		return parseSessionState(pt)
	}
	return nil, false
}

// replayFilter records the binders of ClientHellos whose 0-RTT was accepted
// (RFC 8446 §8.2). Only ClientHellos inside the freshness window can have
// 0-RTT accepted (§8.3), and a replay carries the same obfuscated age, so
// entries need only outlive that window. The filter is bounded: when full,
// 0-RTT is refused rather than risk a replay.
type replayFilter struct {
	mu      sync.Mutex
	seen    map[[16]byte]time.Time
	order   [][16]byte
	maxSize int
}

const (
	replayWindow        = 10 * time.Second
	replayFilterMaxSize = 1 << 16
)

// check reports whether binder is new, and records it.
func (f *replayFilter) check(binder []byte, now time.Time) bool {
	var key [16]byte
	sum := sha256.Sum256(binder)
	copy(key[:], sum[:])
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil {
		f.seen = make(map[[16]byte]time.Time)
		f.maxSize = replayFilterMaxSize
	}
	for len(f.order) > 0 && now.Sub(f.seen[f.order[0]]) > 2*replayWindow {
		delete(f.seen, f.order[0])
		f.order = f.order[1:]
	}
	if _, dup := f.seen[key]; dup {
		return false
	}
	if len(f.order) >= f.maxSize {
		return false
	}
	f.seen[key] = now
	f.order = append(f.order, key)
	return true
}

// ClientSession is a ticket a client keeps to resume a session.
type ClientSession struct {
	suite        uint16
	ticket       []byte
	psk          []byte
	ageAdd       uint32
	lifetime     uint32
	receivedAt   time.Time
	maxEarlyData uint32
	alpn         string
	serverCerts  []*x509.Certificate
	// TransportParameters are the server's QUIC transport parameters of
	// the connection that received the ticket; a client sending 0-RTT
	// must remember them (RFC 9000 §7.4.1).
	TransportParameters []byte
}

// ClientSessionCache stores ClientSessions by server name. Put with a nil
// session removes the entry. Implementations must be safe for concurrent use.
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

// NewLRUClientSessionCache returns a ClientSessionCache holding at most
// capacity sessions (64 when capacity < 1).
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
