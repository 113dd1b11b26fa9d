package quic

import (
	"container/list"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/skiffnet/skiff/quic/internal/wire"
)

// Address validation tokens from NEW_TOKEN frames (RFC 9000 §8.1.3).
//
// A server gives each client one token after the handshake. The client
// keeps it (Config.TokenStore) and sends it in the Initials of its next
// connection to the server, whose address is then validated at once: no
// amplification limit, and no Retry round trip when the server requires
// address validation. A token is good for newTokenLifetime, for the QUIC
// version of the connection that issued it (RFC 9369 §5), from the IP
// address it was issued to (not the port: NATs change it between
// connections), once per endpoint.
//
// Token format (41 bytes):
//
//	'N' || nonce (12 random bytes) ||
//	AES-128-GCM_Seal(issued (8 bytes: Unix seconds) || version (4),
//	                 additional data = the client's IP address, 16 bytes)
//
// The key is derived with HKDF-SHA256 from Config.TokenKey when set
// (servers sharing it accept each other's tokens), else from the
// endpoint's random secret (info "skiff new token"): a server that shares
// no key with the issuer cannot open the token. Retry tokens (retry.go)
// are at least 54 bytes and never start a 41-byte token with 'N' that
// opens, so the two kinds are told apart (§8.1.3).

const (
	newTokenMarker   = 'N'
	newTokenNonceLen = 12
	newTokenLen      = 1 + newTokenNonceLen + 8 + 4 + 16
	// newTokenLifetime is how long a client may use a token: long enough
	// for a client that comes back the next day.
	newTokenLifetime = 24 * time.Hour
	// maxUsedTokens bounds the tokens an endpoint remembers as used;
	// beyond, tokens are refused (the client is then validated as if it
	// had none) until entries expire.
	maxUsedTokens = 1 << 16
)

// newTokenState is a server endpoint's NEW_TOKEN key and the tokens used.
type newTokenState struct {
	once sync.Once
	aead cipher.AEAD

	mu   sync.Mutex
	used map[[newTokenNonceLen]byte]time.Time // nonce → when the entry expires
}

// newTokenAEAD returns the AEAD sealing the endpoint's NEW_TOKEN tokens.
func (e *Endpoint) newTokenAEAD() cipher.AEAD {
	e.newTokens.once.Do(func() {
		secret := e.resetKey[:]
		if e.server != nil && e.server.TokenKey != nil {
			secret = e.server.TokenKey[:]
		}
		key, err := hkdf.Key(sha256.New, secret, nil, "skiff new token", 16)
		if err != nil {
			panic(err) // unreachable: a 16-byte key from SHA-256
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			panic(err) // unreachable: 16 is a valid AES key size
		}
		e.newTokens.aead, err = cipher.NewGCM(block)
		if err != nil {
			panic(err) // unreachable: AES has a 16-byte block
		}
	})
	return e.newTokens.aead
}

// sealNewToken makes a token for a client at addr on a connection of
// version v.
func (e *Endpoint) sealNewToken(now time.Time, addr netip.Addr, v wire.Version) []byte {
	b := make([]byte, 1+newTokenNonceLen, newTokenLen)
	b[0] = newTokenMarker
	randomBytes(b[1:])
	var pt [12]byte
	binary.BigEndian.PutUint64(pt[:], uint64(now.Unix()))
	binary.BigEndian.PutUint32(pt[8:], uint32(v))
	ad := addr.Unmap().As16()
	return e.newTokenAEAD().Seal(b, b[1:], pt[:], ad[:])
}

// isNewToken reports whether tok has the shape of a NEW_TOKEN token.
func isNewToken(tok []byte) bool { return len(tok) == newTokenLen && tok[0] == newTokenMarker }

// openNewToken reports whether tok is a NEW_TOKEN token of ours, issued
// to addr's IP address for version v within its lifetime, and not used
// before; it records it as used.
func (e *Endpoint) openNewToken(tok []byte, now time.Time, addr netip.AddrPort, v wire.Version) bool {
	if !isNewToken(tok) {
		return false
	}
	ad := addr.Addr().Unmap().As16()
	var buf [12]byte
	pt, err := e.newTokenAEAD().Open(buf[:0], tok[1:1+newTokenNonceLen], tok[1+newTokenNonceLen:], ad[:])
	if err != nil || len(pt) != 12 {
		return false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(pt)), 0)
	if wire.Version(binary.BigEndian.Uint32(pt[8:])) != v {
		return false // RFC 9369 §5
	}
	if age := now.Sub(issued); age < -time.Minute || age > newTokenLifetime {
		return false
	}
	return e.newTokens.useOnce([newTokenNonceLen]byte(tok[1:]), now, issued.Add(newTokenLifetime))
}

// useOnce records a token's nonce until the token expires, and reports
// false when it was used before or the record is full (RFC 9000 §8.1.4:
// tokens from NEW_TOKEN should not be accepted more than once).
func (s *newTokenState) useOnce(nonce [newTokenNonceLen]byte, now, expires time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used == nil {
		s.used = map[[newTokenNonceLen]byte]time.Time{}
	}
	if _, ok := s.used[nonce]; ok {
		return false
	}
	if len(s.used) >= maxUsedTokens {
		for n, exp := range s.used {
			if !now.Before(exp) {
				delete(s.used, n)
			}
		}
		if len(s.used) >= maxUsedTokens {
			return false
		}
	}
	s.used[nonce] = expires
	return true
}

// newTokenValidates reports whether a client's first Initial carries a
// valid NEW_TOKEN token, which validates its address. An invalid one is
// as if there were none (RFC 9000 §8.1.3).
func (e *Endpoint) newTokenValidates(d *datagram, hdr *wire.Header) bool {
	if !isNewToken(hdr.Token) {
		return false
	}
	if !e.openNewToken(hdr.Token, time.Now(), d.from, hdr.Version) {
		e.invalidTokens.Add(1)
		return false
	}
	e.newTokensAccepted.Add(1)
	return true
}

// issueNewToken gives a server connection's client a token, once its
// handshake is complete (on the driver's goroutine).
func (c *Conn) issueNewToken() {
	e := c.endpoint
	if e.server == nil || c.sm.Closing() {
		// A client that closes in the datagram that completes the
		// handshake gets no token: it could not be sent.
		return
	}
	c.sm.QueueNewToken(e.sealNewToken(time.Now(), c.sm.PeerAddr().Addr(), c.sm.Version()))
}

// onNewToken keeps a token from the server for the next connection to it
// (on the driver's goroutine).
func (c *Conn) onNewToken(token []byte) {
	if c.early.tokenStore != nil {
		c.early.tokenStore.Put(tokenKey(c.early.sessionKey, c.sm.Version()), token)
	}
}

// tokenKey is where a client keeps the tokens of a server for a version:
// a token is good only for the version that issued it (RFC 9369 §5).
func tokenKey(server string, v wire.Version) string {
	return server + " " + strconv.FormatUint(uint64(v), 16)
}

// TokenStore keeps a client's address validation tokens from NEW_TOKEN
// frames, by server. Implementations must be safe for concurrent use.
type TokenStore interface {
	// Put keeps a token for the server key names.
	Put(key string, token []byte)
	// Pop returns a token for key, or nil, and forgets it: a token is
	// used once, since reusing one would let observers link connections
	// (RFC 9000 §8.1.3).
	Pop(key string) []byte
}

// NewTokenStore returns an in-memory TokenStore holding up to perServer
// tokens (the newest) for each of up to servers servers (the most
// recently used); 1 and 100 when less than 1.
func NewTokenStore(servers, perServer int) TokenStore {
	return &lruTokenStore{
		servers:   max(servers, 1),
		perServer: max(perServer, 1),
		m:         map[string]*list.Element{},
	}
}

type lruTokenStore struct {
	servers, perServer int

	mu    sync.Mutex
	m     map[string]*list.Element // → *tokenEntry
	order list.List                // most recently used first
}

type tokenEntry struct {
	key    string
	tokens [][]byte // oldest first
}

func (s *lruTokenStore) Put(key string, token []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.m[key]
	if !ok {
		if s.order.Len() >= s.servers {
			last := s.order.Back()
			delete(s.m, last.Value.(*tokenEntry).key)
			s.order.Remove(last)
		}
		el = s.order.PushFront(&tokenEntry{key: key})
		s.m[key] = el
	}
	s.order.MoveToFront(el)
	e := el.Value.(*tokenEntry)
	if len(e.tokens) >= s.perServer {
		e.tokens = e.tokens[1:]
	}
	e.tokens = append(e.tokens, append([]byte(nil), token...))
}

func (s *lruTokenStore) Pop(key string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.m[key]
	if !ok {
		return nil
	}
	e := el.Value.(*tokenEntry)
	tok := e.tokens[len(e.tokens)-1]
	e.tokens = e.tokens[:len(e.tokens)-1]
	if len(e.tokens) == 0 {
		delete(s.m, key)
		s.order.Remove(el)
	} else {
		s.order.MoveToFront(el)
	}
	return tok
}
