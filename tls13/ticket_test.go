package tls13

import (
	"crypto/sha256"
	"testing"
	"time"
)

// countingCache keeps every session put, as a cache keeping several
// tickets per server would.
type countingCache struct{ sessions []*ClientSession }

func (c *countingCache) Get(string) (*ClientSession, bool) { return nil, false }
func (c *countingCache) Put(_ string, cs *ClientSession) {
	if cs != nil {
		c.sessions = append(c.sessions, cs)
	}
}

// TestSendSessionTickets: a server issues n tickets on request after the
// handshake, each with its own PSK, allowing 0-RTT with
// max_early_data_size 0xffffffff (RFC 9001 §4.6.1) or not at all.
func TestSendSessionTickets(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	for _, early := range []bool{true, false} {
		scfg := baseServerConfig(cert)
		ccfg := baseClientConfig()
		cache := &countingCache{}
		ccfg.ClientSessionCache = cache
		h, c, s := ourClientOurServer(t, ccfg, scfg)
		h.check(t)
		if err := s.SendSessionTickets(3, early); err != nil {
			t.Fatal(err)
		}
		run(ourEndpoint{c}, ourEndpoint{s}, h.cr, h.sr)
		if h.cr.err != nil {
			t.Fatal(h.cr.err)
		}
		sent := h.sr.sent[LevelApplication]
		if len(sent) != 3 || len(cache.sessions) != 3 {
			t.Fatalf("early=%v: %d messages sent, %d sessions stored", early, len(sent), len(cache.sessions))
		}
		psks := map[string]bool{}
		for i, msg := range sent {
			m, err := parseNewSessionTicket(msg[4:])
			if err != nil {
				t.Fatal(err)
			}
			if m.hasEarlyData != early || (early && m.maxEarlyData != 0xffffffff) {
				t.Errorf("ticket %d: early_data %v, max %#x", i, m.hasEarlyData, m.maxEarlyData)
			}
			cs := cache.sessions[i]
			if cs.EarlyDataAllowed() != early {
				t.Errorf("session %d: EarlyDataAllowed %v", i, cs.EarlyDataAllowed())
			}
			psks[string(cs.psk)] = true
		}
		if len(psks) != 3 {
			t.Errorf("tickets share PSKs")
		}
	}
	t.Run("clientRefused", func(t *testing.T) {
		h, c, _ := ourClientOurServer(t, baseClientConfig(), baseServerConfig(cert))
		h.check(t)
		if c.SendSessionTickets(1, false) == nil {
			t.Error("a client sent a ticket")
		}
	})
}

// zeroRTTHello returns the first flight of a client offering 0-RTT with a
// ticket from a server of scfg.
func zeroRTTHello(t *testing.T, scfg *Config) []byte {
	t.Helper()
	ccfg := baseClientConfig()
	ccfg.ClientSessionCache = NewLRUClientSessionCache(1)
	resumeOurs(t, ccfg, scfg, true)
	c := newOurClient(t, ccfg, clientParams)
	if c.EarlySession() == nil {
		t.Fatal("client does not attempt 0-RTT")
	}
	ev := c.NextEvent()
	if ev.Kind != EventWriteData || ev.Level != LevelInitial {
		t.Fatalf("first event %+v", ev)
	}
	return ev.Data
}

// acceptsEarly feeds a ClientHello to a new server of cfg and reports
// whether it resumed and accepted 0-RTT.
func acceptsEarly(t *testing.T, cfg *Config, hello []byte) (resumed, early bool) {
	t.Helper()
	s := newOurServer(t, cfg, serverParams)
	if err := s.HandleData(LevelInitial, hello); err != nil {
		t.Fatal(err)
	}
	return s.ConnectionState().DidResume, s.ConnectionState().EarlyDataAccepted
}

// TestSharedTicketKeysAndReplay: servers sharing ticket keys resume each
// other's tickets; a replayed 0-RTT ClientHello is refused by the server
// that saw it and by every server sharing its ReplayFilter, but not by a
// server with a filter of its own (issue 20; RFC 8446 §8).
func TestSharedTicketKeysAndReplay(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	keys := [][32]byte{{7}}
	newServer := func(filter ReplayFilter) *Config {
		c := baseServerConfig(cert)
		c.SessionTicketKeys = keys
		c.ReplayFilter = filter
		return c
	}
	shared := NewReplayFilter(0)
	a, b := newServer(shared), newServer(shared)
	hello := zeroRTTHello(t, a)

	if resumed, early := acceptsEarly(t, b, hello); !resumed || !early {
		t.Fatalf("B with A's keys: resumed %v, 0-RTT %v", resumed, early)
	}
	for name, cfg := range map[string]*Config{"same server": b, "other server sharing the filter": a} {
		resumed, early := acceptsEarly(t, cfg, hello)
		if !resumed || early {
			t.Errorf("replay to %s: resumed %v, 0-RTT %v; want resumed without 0-RTT", name, resumed, early)
		}
	}
	// What a deployment must share: a server with its own filter accepts
	// the replay.
	if _, early := acceptsEarly(t, newServer(nil), hello); !early {
		t.Error("a server with its own filter refused a ClientHello it never saw")
	}
	// Without the keys, the ticket means nothing.
	stranger := baseServerConfig(cert)
	if resumed, _ := acceptsEarly(t, stranger, hello); resumed {
		t.Error("resumed without the ticket keys")
	}
}

// TestSetSessionTicketKeys: keys of a Config in use rotate; Clone keeps
// the rotated keys.
func TestSetSessionTicketKeys(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	k1, k2 := [32]byte{1}, [32]byte{2}
	scfg := baseServerConfig(cert)
	scfg.SessionTicketKeys = [][32]byte{k1}
	ccfg := baseClientConfig()
	ccfg.ClientSessionCache = NewLRUClientSessionCache(1)
	resumeOurs(t, ccfg, scfg, false)
	if err := scfg.SetSessionTicketKeys([][32]byte{k2, k1}); err != nil {
		t.Fatal(err)
	}
	h, _, s := ourClientOurServer(t, ccfg, scfg)
	h.check(t)
	if !s.ConnectionState().DidResume {
		t.Error("a ticket under the previous key no longer resumes")
	}
	if clone := scfg.Clone(); len(clone.SessionTicketKeys) != 2 || clone.SessionTicketKeys[0] != k2 {
		t.Errorf("clone keys %v", clone.SessionTicketKeys)
	}
	resumeOurs(t, ccfg, scfg, false) // a ticket under k2
	if err := scfg.SetSessionTicketKeys([][32]byte{k1}); err != nil {
		t.Fatal(err)
	}
	h, _, s = ourClientOurServer(t, ccfg, scfg)
	h.check(t)
	if s.ConnectionState().DidResume {
		t.Error("resumed with a retired key")
	}
	if scfg.SetSessionTicketKeys(nil) == nil {
		t.Error("no keys accepted")
	}
}

func TestMemoryReplayFilter(t *testing.T) {
	f := NewReplayFilter(3)
	id := func(i byte) [32]byte { return sha256.Sum256([]byte{i}) }
	now := testNow
	ttl := 20 * time.Second
	if !f.Accept(id(1), now, now.Add(ttl)) || f.Accept(id(1), now, now.Add(ttl)) {
		t.Fatal("a repeated id accepted, or a new one refused")
	}
	f.Accept(id(2), now, now.Add(ttl))
	f.Accept(id(3), now, now.Add(ttl))
	if f.Accept(id(4), now, now.Add(ttl)) {
		t.Error("a full filter accepted an id it cannot record")
	}
	later := now.Add(ttl + time.Second)
	if !f.Accept(id(1), later, later.Add(ttl)) || !f.Accept(id(4), later, later.Add(ttl)) {
		t.Error("expired entries still block")
	}
	// Bounded memory over a long run.
	m := newMemoryReplayFilter(1 << 10)
	for i := 0; i < 100000; i++ {
		at := now.Add(time.Duration(i) * 10 * time.Millisecond)
		var k [32]byte
		k[0], k[1], k[2] = byte(i), byte(i>>8), byte(i>>16)
		if !m.Accept(k, at, at.Add(time.Second)) {
			t.Fatalf("id %d refused", i)
		}
	}
	if len(m.seen) > 101 || cap(m.order) > 1<<10 {
		t.Errorf("filter holds %d ids, queue capacity %d", len(m.seen), cap(m.order))
	}
}
