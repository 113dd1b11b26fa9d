package tls13

import (
	"context"
	"crypto/tls"
	"testing"
	"time"
)

func newTheirServerEvents(t *testing.T, cfg *tls.Config, params []byte) *tls.QUICConn {
	q := tls.QUICServer(&tls.QUICConfig{TLSConfig: cfg, EnableSessionEvents: true})
	q.SetTransportParameters(params)
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return q
}

// TestInteropResumptionOurClient: crypto/tls's server issues a ticket, our
// client resumes with it, with and without 0-RTT, and 0-RTT refused.
func TestInteropResumptionOurClient(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	for _, mode := range []string{"resume", "0rtt-accepted", "0rtt-rejected"} {
		t.Run(mode, func(t *testing.T) {
			scfg := theirServerConfig(cert)
			ccfg := baseClientConfig()
			ccfg.ClientSessionCache = NewLRUClientSessionCache(4)
			early := mode != "resume"

			h, c, s := ourClientTheirServer(t, ccfg, scfg)
			h.check(t)
			if err := s.SendSessionTicket(tls.QUICSessionTicketOptions{EarlyData: early}); err != nil {
				t.Fatal(err)
			}
			run(ourEndpoint{c}, theirEndpoint{q: s}, h.cr, h.sr)
			if h.cr.err != nil {
				t.Fatalf("client on ticket: %v", h.cr.err)
			}
			if _, ok := ccfg.ClientSessionCache.Get(testServerName); !ok {
				t.Fatal("no session cached")
			}

			c2 := newOurClient(t, ccfg, clientParams)
			var s2 *tls.QUICConn
			if mode == "0rtt-rejected" {
				s2 = newTheirServerEvents(t, scfg, serverParams)
			} else {
				s2 = newTheirServer(t, scfg, serverParams)
			}
			h2 := handshakeResult{newRecord(), newRecord()}
			run(ourEndpoint{c2}, theirEndpoint{q: s2, rejectEarly: mode == "0rtt-rejected"}, h2.cr, h2.sr)
			if !c2.ConnectionState().DidResume || !s2.ConnectionState().DidResume {
				t.Fatalf("not resumed: ours %v theirs %v (errs %v / %v)", c2.ConnectionState().DidResume, s2.ConnectionState().DidResume, h2.cr.err, h2.sr.err)
			}
			switch mode {
			case "resume":
				h2.check(t)
				if h2.cr.write[LevelEarly] != nil {
					t.Errorf("0-RTT attempted with a ticket that does not allow it")
				}
			case "0rtt-accepted":
				h2.check(t, LevelEarly, LevelHandshake, LevelApplication)
				if !c2.ConnectionState().EarlyDataAccepted || h2.cr.rejectedEarly {
					t.Errorf("0-RTT not accepted")
				}
				if string(c2.EarlyTransportParameters()) != string(serverParams) {
					t.Errorf("remembered transport parameters %q", c2.EarlyTransportParameters())
				}
			case "0rtt-rejected":
				h2.check(t)
				if h2.cr.write[LevelEarly] == nil || !h2.cr.rejectedEarly || c2.ConnectionState().EarlyDataAccepted {
					t.Errorf("expected 0-RTT offered then rejected")
				}
				if h2.sr.read[LevelEarly] != nil {
					t.Errorf("server installed 0-RTT keys")
				}
			}
		})
	}
}

// TestInteropResumptionOurServer: our server issues a ticket to crypto/tls's
// client, which resumes with it.
func TestInteropResumptionOurServer(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	for _, mode := range []string{"resume", "0rtt-accepted", "0rtt-rejected"} {
		t.Run(mode, func(t *testing.T) {
			scfg := baseServerConfig(cert)
			var hookData []byte
			scfg.AcceptEarlyData = func(appData []byte) bool {
				hookData = appData
				return mode != "0rtt-rejected"
			}
			ccfg := theirClientConfig()
			ccfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			early := mode != "resume"

			h, c, s := theirClientOurServer(t, ccfg, scfg)
			h.check(t)
			if err := s.SendSessionTicket(early); err != nil {
				t.Fatal(err)
			}
			run(theirEndpoint{q: c}, ourEndpoint{s}, h.cr, h.sr)
			if h.cr.err != nil {
				t.Fatalf("crypto/tls client on our ticket: %v", h.cr.err)
			}

			c2 := newTheirClient(t, ccfg, clientParams)
			s2 := newOurServer(t, scfg, serverParams)
			h2 := handshakeResult{newRecord(), newRecord()}
			run(theirEndpoint{q: c2}, ourEndpoint{s2}, h2.cr, h2.sr)
			if !c2.ConnectionState().DidResume || !s2.ConnectionState().DidResume {
				t.Fatalf("not resumed: theirs %v ours %v (errs %v / %v)", c2.ConnectionState().DidResume, s2.ConnectionState().DidResume, h2.cr.err, h2.sr.err)
			}
			switch mode {
			case "resume":
				h2.check(t)
			case "0rtt-accepted":
				h2.check(t, LevelEarly, LevelHandshake, LevelApplication)
				if !s2.ConnectionState().EarlyDataAccepted {
					t.Errorf("0-RTT not accepted")
				}
				if string(hookData) != string(serverParams) {
					t.Errorf("ticket app data %q, want our transport parameters", hookData)
				}
			case "0rtt-rejected":
				h2.check(t)
				if h2.cr.write[LevelEarly] == nil || !h2.cr.rejectedEarly || h2.sr.read[LevelEarly] != nil {
					t.Errorf("expected 0-RTT offered then rejected")
				}
			}
		})
	}
}

// resumeOurs runs a full handshake and a ticket between our client and
// server, then returns a fresh client ready to resume.
func resumeOurs(t testing.TB, ccfg, scfg *Config, early bool) {
	t.Helper()
	c := newOurClient(t, ccfg, clientParams)
	s := newOurServer(t, scfg, serverParams)
	h := handshakeResult{newRecord(), newRecord()}
	run(ourEndpoint{c}, ourEndpoint{s}, h.cr, h.sr)
	if !h.cr.done || !h.sr.done {
		t.Fatalf("handshake failed: %v / %v", h.cr.err, h.sr.err)
	}
	if err := s.SendSessionTicket(early); err != nil {
		t.Fatal(err)
	}
	run(ourEndpoint{c}, ourEndpoint{s}, h.cr, h.sr)
	if h.cr.err != nil {
		t.Fatal(h.cr.err)
	}
}

func TestResumptionOurselves(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	now := testNow
	clock := func() time.Time { return now }

	t.Run("replayedClientHello", func(t *testing.T) {
		scfg := baseServerConfig(cert)
		ccfg := baseClientConfig()
		ccfg.ClientSessionCache = NewLRUClientSessionCache(4)
		resumeOurs(t, ccfg, scfg, true)
		c := newOurClient(t, ccfg, clientParams)
		hello := c.NextEvent()
		if hello.Kind != EventWriteData || hello.Level != LevelInitial {
			t.Fatalf("first event %+v", hello)
		}
		accepted := 0
		for i := 0; i < 2; i++ {
			s := newOurServer(t, scfg, serverParams)
			if err := s.HandleData(LevelInitial, hello.Data); err != nil {
				t.Fatal(err)
			}
			if s.ConnectionState().EarlyDataAccepted {
				accepted++
			}
			if !s.ConnectionState().DidResume {
				t.Errorf("replay %d not resumed", i)
			}
		}
		if accepted != 1 {
			t.Errorf("0-RTT accepted %d times for one ClientHello, want once (RFC 8446 §8)", accepted)
		}
	})

	t.Run("expiredTicket", func(t *testing.T) {
		now = testNow
		scfg := baseServerConfig(cert)
		scfg.Time = clock
		scfg.TicketLifetime = time.Hour
		ccfg := baseClientConfig()
		ccfg.Time = clock
		ccfg.ClientSessionCache = NewLRUClientSessionCache(4)
		resumeOurs(t, ccfg, scfg, false)
		now = testNow.Add(2 * time.Hour)
		h, c, s := ourClientOurServer(t, ccfg, scfg)
		h.check(t)
		if c.ConnectionState().DidResume || s.ConnectionState().DidResume {
			t.Errorf("resumed with an expired ticket")
		}
	})

	t.Run("staleTicketAgeRefuses0RTT", func(t *testing.T) {
		now = testNow
		scfg := baseServerConfig(cert)
		scfg.Time = clock
		ccfg := baseClientConfig()
		ccfg.ClientSessionCache = NewLRUClientSessionCache(4)
		ccfg.Time = func() time.Time { return testNow } // the client's clock stands still
		resumeOurs(t, ccfg, scfg, true)
		now = testNow.Add(time.Minute)
		h, c, s := ourClientOurServer(t, ccfg, scfg)
		h.check(t)
		if !s.ConnectionState().DidResume || s.ConnectionState().EarlyDataAccepted || !h.cr.rejectedEarly {
			t.Errorf("0-RTT accepted despite a ticket age off by a minute")
		}
		_ = c
	})

	t.Run("ticketKeyRotation", func(t *testing.T) {
		k1, k2 := [32]byte{1}, [32]byte{2}
		scfg := baseServerConfig(cert)
		scfg.SessionTicketKeys = [][32]byte{k1}
		ccfg := baseClientConfig()
		ccfg.ClientSessionCache = NewLRUClientSessionCache(4)
		resumeOurs(t, ccfg, scfg, false)
		rotated := baseServerConfig(cert)
		rotated.SessionTicketKeys = [][32]byte{k2, k1}
		h, _, s := ourClientOurServer(t, ccfg, rotated)
		h.check(t)
		if !s.ConnectionState().DidResume {
			t.Errorf("old key no longer decrypts")
		}
		resumeOurs(t, ccfg, scfg, false)
		dropped := baseServerConfig(cert)
		dropped.SessionTicketKeys = [][32]byte{k2}
		h, _, s = ourClientOurServer(t, ccfg, dropped)
		h.check(t)
		if s.ConnectionState().DidResume {
			t.Errorf("resumed with a retired key")
		}
	})

	t.Run("clientCertificateKept", func(t *testing.T) {
		scfg := baseServerConfig(cert)
		scfg.ClientAuth = RequireAndVerifyClientCert
		scfg.ClientCAs = getPKI().roots
		ccfg := baseClientConfig()
		ccfg.Certificates = []Certificate{testLeaf(leafOpts{key: "p256", client: true, dnsName: "client.test"})}
		ccfg.ClientSessionCache = NewLRUClientSessionCache(4)
		resumeOurs(t, ccfg, scfg, true)
		h, c, s := ourClientOurServer(t, ccfg, scfg)
		h.check(t, LevelEarly, LevelHandshake, LevelApplication)
		if !s.ConnectionState().DidResume || len(s.ConnectionState().PeerCertificates) != 1 {
			t.Errorf("resumed session lost the client certificate")
		}
		if len(c.ConnectionState().PeerCertificates) != 1 {
			t.Errorf("resumed session lost the server certificate")
		}
	})
}

// TestInteropResumptionWithHelloRetryRequest: the binder is recomputed over
// message_hash | HelloRetryRequest | ClientHello2 (RFC 8446 §4.2.11.2), and
// 0-RTT offered in the first ClientHello is rejected (RFC 8446 §4.2.10).
func TestInteropResumptionWithHelloRetryRequest(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	t.Run("ourClient", func(t *testing.T) {
		scfg := theirServerConfig(cert)
		scfg.CurvePreferences = []tls.CurveID{tls.CurveP256}
		ccfg := baseClientConfig()
		ccfg.CurvePreferences = []CurveID{X25519, CurveP256}
		ccfg.ClientSessionCache = NewLRUClientSessionCache(4)
		h, c, s := ourClientTheirServer(t, ccfg, scfg)
		h.check(t)
		if err := s.SendSessionTicket(tls.QUICSessionTicketOptions{EarlyData: true}); err != nil {
			t.Fatal(err)
		}
		run(ourEndpoint{c}, theirEndpoint{q: s}, h.cr, h.sr)
		h2, c2, s2 := ourClientTheirServer(t, ccfg, scfg)
		h2.check(t)
		if h2.cr.writes[LevelInitial] != 2 || !c2.ConnectionState().DidResume || !s2.ConnectionState().DidResume {
			t.Errorf("want HelloRetryRequest and resumption: %d hellos, resumed %v/%v", h2.cr.writes[LevelInitial], c2.ConnectionState().DidResume, s2.ConnectionState().DidResume)
		}
		if !h2.cr.rejectedEarly || h2.sr.read[LevelEarly] != nil {
			t.Errorf("0-RTT not rejected after HelloRetryRequest")
		}
	})
	t.Run("ourServer", func(t *testing.T) {
		scfg := baseServerConfig(cert)
		scfg.CurvePreferences = []CurveID{CurveP384}
		ccfg := theirClientConfig()
		ccfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
		h, c, s := theirClientOurServer(t, ccfg, scfg)
		h.check(t)
		if err := s.SendSessionTicket(false); err != nil {
			t.Fatal(err)
		}
		run(theirEndpoint{q: c}, ourEndpoint{s}, h.cr, h.sr)
		h2, c2, s2 := theirClientOurServer(t, ccfg, scfg)
		h2.check(t)
		if h2.cr.writes[LevelInitial] != 2 || !c2.ConnectionState().DidResume || !s2.ConnectionState().DidResume {
			t.Errorf("want HelloRetryRequest and resumption: %d hellos, resumed %v/%v", h2.cr.writes[LevelInitial], c2.ConnectionState().DidResume, s2.ConnectionState().DidResume)
		}
	})
	// crypto/tls's client (Go 1.26) computes the binder of its second
	// ClientHello before removing early_data from it, so the binder does
	// not cover the message it sends. Its own server refuses that binder;
	// ours must too (RFC 8446 §4.2.11.2), with decrypt_error. Should
	// crypto/tls fix this, both servers must accept.
	t.Run("theirClientBinderAfterRetryWith0RTTTicket", func(t *testing.T) {
		var errs [2]error
		for i, ours := range []bool{true, false} {
			ccfg := theirClientConfig()
			ccfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			var sErr error
			if ours {
				scfg := baseServerConfig(cert)
				scfg.CurvePreferences = []CurveID{CurveP384}
				h, c, s := theirClientOurServer(t, ccfg, scfg)
				h.check(t)
				_ = s.SendSessionTicket(true)
				run(theirEndpoint{q: c}, ourEndpoint{s}, h.cr, h.sr)
				h2, _, _ := theirClientOurServer(t, ccfg, scfg)
				sErr = h2.sr.err
			} else {
				scfg := theirServerConfig(cert)
				scfg.CurvePreferences = []tls.CurveID{tls.CurveP384}
				c := newTheirClient(t, ccfg, clientParams)
				s := newTheirServer(t, scfg, serverParams)
				cr, sr := newRecord(), newRecord()
				run(theirEndpoint{q: c}, theirEndpoint{q: s}, cr, sr)
				_ = s.SendSessionTicket(tls.QUICSessionTicketOptions{EarlyData: true})
				run(theirEndpoint{q: c}, theirEndpoint{q: s}, cr, sr)
				c2 := newTheirClient(t, ccfg, clientParams)
				s2 := newTheirServer(t, scfg, serverParams)
				cr, sr = newRecord(), newRecord()
				run(theirEndpoint{q: c2}, theirEndpoint{q: s2}, cr, sr)
				sErr = sr.err
			}
			errs[i] = sErr
		}
		ourErr, theirErr := errs[0], errs[1]
		if theirErr == nil {
			if ourErr != nil {
				t.Errorf("crypto/tls's server resumes but ours fails: %v", ourErr)
			}
		} else if a, ok := alertOf(ourErr); !ok || AlertError(a) != AlertDecryptError {
			t.Errorf("crypto/tls's server fails (%v); ours: %v, want decrypt_error", theirErr, ourErr)
		}
	})
}
