package tls13

import (
	"bytes"
	"sync"
	"testing"
)

// persistentCache stores sessions as bytes, as a cache backed by a file
// or a database would.
type persistentCache struct {
	mu   sync.Mutex
	blob map[string][]byte
	puts int
}

func newPersistentCache() *persistentCache { return &persistentCache{blob: map[string][]byte{}} }

func (p *persistentCache) Get(key string) (*ClientSession, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.blob[key]
	if !ok {
		return nil, false
	}
	cs, err := ParseClientSession(b)
	return cs, err == nil
}

func (p *persistentCache) Put(key string, cs *ClientSession) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cs == nil {
		delete(p.blob, key)
		return
	}
	b, err := cs.MarshalBinary()
	if err != nil {
		panic(err)
	}
	p.blob[key] = b
	p.puts++
}

// firstHandshake runs a handshake that leaves a 0-RTT ticket with the
// client; the client sets app data after the ticket arrived.
func firstHandshake(t *testing.T, ccfg, scfg *Config, appData string) {
	t.Helper()
	h, c, s := ourClientOurServer(t, ccfg, scfg)
	h.check(t)
	if err := s.SendSessionTickets(1, true); err != nil {
		t.Fatal(err)
	}
	run(ourEndpoint{c}, ourEndpoint{s}, h.cr, h.sr)
	if h.cr.err != nil {
		t.Fatal(h.cr.err)
	}
	if appData != "" {
		c.SetSessionAppData([]byte(appData))
	}
}

// TestPersistedSession: a session that went through MarshalBinary and
// ParseClientSession resumes with 0-RTT, and carries what QUIC and HTTP/3
// must remember of the server (RFC 9000 §7.4.1, RFC 9114 §7.2.4.2).
func TestPersistedSession(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	scfg := baseServerConfig(cert)
	ccfg := baseClientConfig()
	cache := newPersistentCache()
	ccfg.ClientSessionCache = cache
	firstHandshake(t, ccfg, scfg, "server SETTINGS")
	if cache.puts != 2 {
		t.Errorf("%d Puts, want the ticket and its update with app data", cache.puts)
	}

	c := newOurClient(t, ccfg, clientParams)
	es := c.EarlySession()
	if es == nil || string(es.AppData) != "server SETTINGS" || string(es.TransportParameters) != string(serverParams) {
		t.Fatalf("early session %+v", es)
	}
	if !es.EarlyDataAllowed() || es.NegotiatedProtocol() != "h3" || es.CipherSuite() != TLS_AES_128_GCM_SHA256 ||
		!es.Expires().After(es.ReceivedAt()) || len(es.PeerCertificates()) != 1 {
		t.Errorf("session accessors: %v %q %x %v %d", es.EarlyDataAllowed(), es.NegotiatedProtocol(), es.CipherSuite(), es.Expires(), len(es.PeerCertificates()))
	}
	if _, ok := cache.Get(testServerName); ok {
		t.Error("the session offered is still cached (tickets are used once)")
	}
	s := newOurServer(t, scfg, serverParams)
	h := handshakeResult{newRecord(), newRecord()}
	run(ourEndpoint{c}, ourEndpoint{s}, h.cr, h.sr)
	h.check(t, LevelEarly, LevelHandshake, LevelApplication)
	cs := c.ConnectionState()
	if !cs.DidResume || !cs.EarlyDataAccepted || len(cs.VerifiedChains) != 1 || len(cs.PeerCertificates) != 1 {
		t.Errorf("resumed state %+v", cs)
	}
}

// TestSessionAppDataOrder: the application may learn what to keep before
// the ticket arrives or after; a session already used is not stored again.
func TestSessionAppDataOrder(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	scfg := baseServerConfig(cert)
	t.Run("before", func(t *testing.T) {
		ccfg := baseClientConfig()
		ccfg.ClientSessionCache = NewLRUClientSessionCache(4)
		h, c, s := ourClientOurServer(t, ccfg, scfg)
		h.check(t)
		c.SetSessionAppData([]byte("early"))
		if err := s.SendSessionTicket(true); err != nil {
			t.Fatal(err)
		}
		run(ourEndpoint{c}, ourEndpoint{s}, h.cr, h.sr)
		cs, ok := ccfg.ClientSessionCache.Get(testServerName)
		if !ok || string(cs.AppData) != "early" {
			t.Errorf("session app data %q", cs.AppData)
		}
	})
	t.Run("afterUse", func(t *testing.T) {
		ccfg := baseClientConfig()
		ccfg.ClientSessionCache = NewLRUClientSessionCache(4)
		h, c, s := ourClientOurServer(t, ccfg, scfg)
		h.check(t)
		if err := s.SendSessionTicket(true); err != nil {
			t.Fatal(err)
		}
		run(ourEndpoint{c}, ourEndpoint{s}, h.cr, h.sr)
		newOurClient(t, ccfg, clientParams) // takes the session
		c.SetSessionAppData([]byte("late"))
		if _, ok := ccfg.ClientSessionCache.Get(testServerName); ok {
			t.Error("a used session was stored again")
		}
	})
}

// TestSessionCacheKey: a connection may file its sessions under its own
// key, and a session is offered only to the server name it authenticated.
func TestSessionCacheKey(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	scfg := baseServerConfig(cert)
	ccfg := baseClientConfig()
	cache := NewLRUClientSessionCache(4)
	ccfg.ClientSessionCache = cache
	// A client keyed by address.
	c := Client(ccfg, clientParams)
	c.SetSessionCacheKey("192.0.2.1:443")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	s := newOurServer(t, scfg, serverParams)
	h := handshakeResult{newRecord(), newRecord()}
	run(ourEndpoint{c}, ourEndpoint{s}, h.cr, h.sr)
	h.check(t)
	if err := s.SendSessionTicket(false); err != nil {
		t.Fatal(err)
	}
	run(ourEndpoint{c}, ourEndpoint{s}, h.cr, h.sr)
	if _, ok := cache.Get(testServerName); ok {
		t.Error("session filed under the server name")
	}
	if _, ok := cache.Get("192.0.2.1:443"); !ok {
		t.Fatal("session not filed under the connection's key")
	}
	// The same key from a client that expects another server name: the
	// session authenticated server.skiff.test only.
	other := baseClientConfig()
	other.ServerName = "elsewhere.skiff.test"
	other.ClientSessionCache = cache
	c = Client(other, clientParams)
	c.SetSessionCacheKey("192.0.2.1:443")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	s = newOurServer(t, scfg, serverParams)
	h = handshakeResult{newRecord(), newRecord()}
	run(ourEndpoint{c}, ourEndpoint{s}, h.cr, h.sr)
	if s.ConnectionState().DidResume {
		t.Error("session offered to another server name")
	}
}

// validSessionBlob is a marshaled session from a real handshake.
func validSessionBlob(tb testing.TB) []byte {
	cert := testLeaf(leafOpts{key: "p256"})
	scfg := baseServerConfig(cert)
	ccfg := baseClientConfig()
	cache := newPersistentCache()
	ccfg.ClientSessionCache = cache
	c := newOurClient(tb, ccfg, clientParams)
	s := newOurServer(tb, scfg, serverParams)
	h := handshakeResult{newRecord(), newRecord()}
	run(ourEndpoint{c}, ourEndpoint{s}, h.cr, h.sr)
	if err := s.SendSessionTicket(true); err != nil {
		tb.Fatal(err)
	}
	c.SetSessionAppData([]byte("app"))
	run(ourEndpoint{c}, ourEndpoint{s}, h.cr, h.sr)
	b := cache.blob[testServerName]
	if b == nil {
		tb.Fatal("no session")
	}
	return b
}

func TestParseClientSessionRejects(t *testing.T) {
	good := validSessionBlob(t)
	if _, err := ParseClientSession(good); err != nil {
		t.Fatal(err)
	}
	edit := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	// Offsets: version 0, suite 1-2, received 3-10, lifetime 11-14,
	// age_add 15-18, max_early_data 19-22, ticket length 23-24.
	cases := map[string][]byte{
		"empty":         nil,
		"version":       edit(func(b []byte) []byte { b[0] = 2; return b }),
		"suite":         edit(func(b []byte) []byte { b[1], b[2] = 0xc0, 0x2f; return b }),
		"suiteHash":     edit(func(b []byte) []byte { b[2] = 0x02; return b }), // SHA-384 suite, 32-byte PSK
		"lifetime":      edit(func(b []byte) []byte { b[11], b[12] = 0x7f, 0xff; return b }),
		"maxEarlyData":  edit(func(b []byte) []byte { b[22] = 0; return b }),
		"trailing":      edit(func(b []byte) []byte { return append(b, 0) }),
		"emptyTicket":   edit(func(b []byte) []byte { b[23], b[24] = 0, 0; return b }),
		"truncatedLast": good[:len(good)-1],
	}
	for name, b := range cases {
		if _, err := ParseClientSession(b); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	for i := 0; i < len(good); i++ {
		if _, err := ParseClientSession(good[:i]); err == nil {
			t.Fatalf("prefix of %d bytes parsed", i)
		}
	}
	// The parsed session does not alias the input.
	in := append([]byte(nil), good...)
	cs, _ := ParseClientSession(in)
	for i := range in {
		in[i] = 0
	}
	out, err := cs.MarshalBinary()
	if err != nil || !bytes.Equal(out, good) {
		t.Errorf("round trip after clobbering the input: %v", err)
	}
	if _, err := (&ClientSession{}).MarshalBinary(); err == nil {
		t.Error("an empty ClientSession marshaled")
	}
}

// FuzzParseClientSession: stored sessions are read back from disk or a
// database; whatever is there must not panic, and what parses round-trips.
func FuzzParseClientSession(f *testing.F) {
	f.Add(validSessionBlob(f))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		cs, err := ParseClientSession(b)
		if err != nil {
			return
		}
		out, err := cs.MarshalBinary()
		if err != nil {
			t.Fatalf("parsed session does not marshal: %v", err)
		}
		cs2, err := ParseClientSession(out)
		if err != nil {
			t.Fatalf("marshaled session does not parse: %v", err)
		}
		out2, _ := cs2.MarshalBinary()
		if !bytes.Equal(out, out2) {
			t.Fatal("round trip differs")
		}
	})
}
