package tls13

import (
	"crypto/tls"
	"testing"
)

// handshakeResult is one in-memory handshake between two endpoints.
type handshakeResult struct {
	cr, sr *record
}

func (h handshakeResult) check(t *testing.T, levels ...Level) {
	t.Helper()
	if h.cr.err != nil || h.sr.err != nil {
		t.Fatalf("handshake failed: client err %v, server err %v", h.cr.err, h.sr.err)
	}
	if !h.cr.done || !h.sr.done {
		t.Fatalf("handshake incomplete: client %v server %v", h.cr.done, h.sr.done)
	}
	if len(levels) == 0 {
		levels = []Level{LevelHandshake, LevelApplication}
	}
	checkSecrets(t, h.cr, h.sr, levels...)
	if string(h.cr.params) != string(serverParams) {
		t.Errorf("client received transport parameters %q", h.cr.params)
	}
	if string(h.sr.params) != string(clientParams) {
		t.Errorf("server received transport parameters %q", h.sr.params)
	}
}

// ourClientTheirServer runs our client against crypto/tls's QUIC server.
func ourClientTheirServer(t *testing.T, ccfg *Config, scfg *tls.Config) (handshakeResult, *Conn, *tls.QUICConn) {
	t.Helper()
	c := newOurClient(t, ccfg, clientParams)
	s := newTheirServer(t, scfg, serverParams)
	cr, sr := newRecord(), newRecord()
	run(ourEndpoint{c}, theirEndpoint{q: s}, cr, sr)
	return handshakeResult{cr, sr}, c, s
}

// theirClientOurServer runs crypto/tls's QUIC client against our server.
func theirClientOurServer(t *testing.T, ccfg *tls.Config, scfg *Config) (handshakeResult, *tls.QUICConn, *Conn) {
	t.Helper()
	c := newTheirClient(t, ccfg, clientParams)
	s := newOurServer(t, scfg, serverParams)
	cr, sr := newRecord(), newRecord()
	run(theirEndpoint{q: c}, ourEndpoint{s}, cr, sr)
	return handshakeResult{cr, sr}, c, s
}

func ourClientOurServer(t *testing.T, ccfg, scfg *Config) (handshakeResult, *Conn, *Conn) {
	t.Helper()
	c := newOurClient(t, ccfg, clientParams)
	s := newOurServer(t, scfg, serverParams)
	cr, sr := newRecord(), newRecord()
	run(ourEndpoint{c}, ourEndpoint{s}, cr, sr)
	return handshakeResult{cr, sr}, c, s
}

func TestInteropBasic(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	t.Run("ourClient", func(t *testing.T) {
		h, c, s := ourClientTheirServer(t, baseClientConfig(), theirServerConfig(cert))
		h.check(t)
		cs, ts := c.ConnectionState(), s.ConnectionState()
		if cs.NegotiatedProtocol != "h3" || ts.NegotiatedProtocol != "h3" {
			t.Errorf("ALPN: ours %q theirs %q", cs.NegotiatedProtocol, ts.NegotiatedProtocol)
		}
		if cs.CipherSuite != ts.CipherSuite || uint16(cs.Group) != uint16(ts.CurveID) {
			t.Errorf("suite/group: ours %x/%v theirs %x/%v", cs.CipherSuite, cs.Group, ts.CipherSuite, ts.CurveID)
		}
		if len(cs.PeerCertificates) != 1 || len(cs.VerifiedChains) != 1 {
			t.Errorf("peer certificates not recorded")
		}
		if ts.ServerName != testServerName {
			t.Errorf("SNI: server saw %q", ts.ServerName)
		}
	})
	t.Run("ourServer", func(t *testing.T) {
		h, c, s := theirClientOurServer(t, theirClientConfig(), baseServerConfig(cert))
		h.check(t)
		cs, ss := c.ConnectionState(), s.ConnectionState()
		if ss.NegotiatedProtocol != "h3" || cs.NegotiatedProtocol != "h3" {
			t.Errorf("ALPN: ours %q theirs %q", ss.NegotiatedProtocol, cs.NegotiatedProtocol)
		}
		if ss.ServerName != testServerName {
			t.Errorf("SNI: server saw %q", ss.ServerName)
		}
		if uint16(ss.Group) != uint16(cs.CurveID) || ss.Group != X25519MLKEM768 {
			t.Errorf("group: ours %v theirs %v", ss.Group, cs.CurveID)
		}
	})
	t.Run("ourself", func(t *testing.T) {
		h, _, _ := ourClientOurServer(t, baseClientConfig(), baseServerConfig(cert))
		h.check(t)
	})
}
