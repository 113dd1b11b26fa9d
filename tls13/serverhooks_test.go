package tls13

import (
	"bytes"
	"errors"
	"testing"
)

// SetTransportParametersFunc: the server sees the client's transport
// parameters before it answers and may send others; the client receives
// those, and tickets remember them. An error from the hook ends the
// handshake with that very error.
func TestServerTransportParametersFunc(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	ccfg := baseClientConfig()
	ccfg.ClientSessionCache = NewLRUClientSessionCache(4)
	c := newOurClient(t, ccfg, clientParams)
	s := newOurServer(t, baseServerConfig(cert), serverParams)
	replaced := []byte("negotiated parameters")
	var seen []byte
	s.SetTransportParametersFunc(func(p []byte) ([]byte, error) {
		seen = append([]byte(nil), p...)
		return replaced, nil
	})
	h := handshakeResult{newRecord(), newRecord()}
	run(ourEndpoint{c}, ourEndpoint{s}, h.cr, h.sr)
	if !h.cr.done || !h.sr.done {
		t.Fatalf("handshake failed: %v / %v", h.cr.err, h.sr.err)
	}
	if !bytes.Equal(seen, clientParams) || !bytes.Equal(h.cr.params, replaced) {
		t.Fatalf("hook saw %q; client received %q", seen, h.cr.params)
	}
	if err := s.SendSessionTicket(false); err != nil {
		t.Fatal(err)
	}
	run(ourEndpoint{c}, ourEndpoint{s}, h.cr, h.sr)
	if cs, ok := ccfg.ClientSessionCache.Get(testServerName); !ok || !bytes.Equal(cs.TransportParameters, replaced) {
		t.Fatal("the ticket does not remember the parameters sent")
	}

	boom := errors.New("version negotiation error")
	c = newOurClient(t, baseClientConfig(), clientParams)
	s = newOurServer(t, baseServerConfig(cert), serverParams)
	s.SetTransportParametersFunc(func([]byte) ([]byte, error) { return nil, boom })
	h = handshakeResult{newRecord(), newRecord()}
	run(ourEndpoint{c}, ourEndpoint{s}, h.cr, h.sr)
	if !errors.Is(h.sr.err, boom) {
		t.Fatalf("server ended with %v, want the hook's error", h.sr.err)
	}
}

// SetTicketFunc: a ticket refused for resumption gives a full handshake;
// one refused for 0-RTT only resumes without it.
func TestServerTicketFunc(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	scfg := baseServerConfig(cert)
	for _, tc := range []struct{ resume, early bool }{{false, false}, {true, false}, {true, true}} {
		ccfg := baseClientConfig()
		ccfg.ClientSessionCache = NewLRUClientSessionCache(4)
		resumeOurs(t, ccfg, scfg, true)
		c := newOurClient(t, ccfg, clientParams)
		s := newOurServer(t, scfg, serverParams)
		var got []byte
		s.SetTicketFunc(func(appData []byte) (bool, bool) {
			got = appData
			return tc.resume, tc.early
		})
		h := handshakeResult{newRecord(), newRecord()}
		run(ourEndpoint{c}, ourEndpoint{s}, h.cr, h.sr)
		if !h.cr.done || !h.sr.done {
			t.Fatalf("%+v: handshake failed: %v / %v", tc, h.cr.err, h.sr.err)
		}
		st := s.ConnectionState()
		if !bytes.Equal(got, serverParams) || st.DidResume != tc.resume || st.EarlyDataAccepted != tc.early {
			t.Fatalf("%+v: hook saw %q; resumed %v, 0-RTT %v", tc, got, st.DidResume, st.EarlyDataAccepted)
		}
		if h.cr.rejectedEarly == tc.early {
			t.Fatalf("%+v: client saw 0-RTT rejected: %v", tc, h.cr.rejectedEarly)
		}
	}
}
