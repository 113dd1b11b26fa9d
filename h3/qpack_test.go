package h3

import (
	"io"
	"net/http"
	"testing"
)

// TestDynamicTableOnTheWire: over 100 similar requests, both encoders
// insert into the dynamic table (bytes on the encoder streams, entries in
// the peers' decoders) and the HEADERS on request streams shrink.
func TestDynamicTableOnTheWire(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Cache-Control", "private, max-age=0, must-revalidate")
		h.Set("X-Request-Trace", "edge-fra-7f3a9c2e-cluster-blue")
		h.Set("Server", "skiff-test/1.0")
		io.WriteString(w, `{"ok":true}`)
	}))
	var serverSC *serverConn
	const n = 100
	var firstReq, lastReq, firstResp, lastResp uint64
	for i := range n {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/api/items", nil)
		req.Header.Set("User-Agent", "skiff-h3-test/0.1 (linux; amd64)")
		req.Header.Set("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.c2tpZmYtdGVzdA.dGVzdA")
		req.Header.Set("Cookie", "session=7c1f0a9e4b2d; theme=dark")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("X-Client-Version", "2026.11.27")

		var cc *clientConn
		var before, beforeResp uint64
		if i > 0 {
			cc = e.onlyConn(t)
			before = cc.c.headerBytes.Load()
			beforeResp = serverSC.c.headerBytes.Load()
		}
		resp, err := e.tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if i == 0 {
			cc = e.onlyConn(t)
			e.srv.mu.Lock()
			for sc := range e.srv.conns {
				serverSC = sc
			}
			e.srv.mu.Unlock()
		}
		reqBytes := cc.c.headerBytes.Load() - before
		respBytes := serverSC.c.headerBytes.Load() - beforeResp
		switch i {
		case 0:
			firstReq, firstResp = reqBytes, respBytes
		case n - 1:
			lastReq, lastResp = reqBytes, respBytes
		}
	}
	cc := e.onlyConn(t)
	clientIns, serverIns := cc.c.encoderStreamBytes.Load(), serverSC.c.encoderStreamBytes.Load()
	t.Logf("request HEADERS: first %d bytes, last %d bytes (ratio %.2f); client encoder stream %d bytes",
		firstReq, lastReq, float64(lastReq)/float64(firstReq), clientIns)
	t.Logf("response HEADERS: first %d bytes, last %d bytes (ratio %.2f); server encoder stream %d bytes",
		firstResp, lastResp, float64(lastResp)/float64(firstResp), serverIns)
	if clientIns == 0 || serverIns == 0 {
		t.Errorf("encoder streams carried %d and %d bytes; want inserts both ways", clientIns, serverIns)
	}
	if lastReq*2 > firstReq || lastResp*2 > firstResp {
		t.Errorf("header sections did not shrink to half: requests %d -> %d, responses %d -> %d", firstReq, lastReq, firstResp, lastResp)
	}
	// The decoders hold what the encoders inserted.
	serverSC.c.mu.Lock()
	serverTable := serverSC.c.dec.InsertCount()
	serverSC.c.mu.Unlock()
	cc.c.mu.Lock()
	clientTable := cc.c.dec.InsertCount()
	cc.c.mu.Unlock()
	if serverTable == 0 || clientTable == 0 {
		t.Errorf("decoder insert counts: server %d, client %d", serverTable, clientTable)
	}
}

// TestSettingsExchanged: each side learns the other's SETTINGS (RFC 9114
// §7.2.4), greased setting and frame included, without error.
func TestSettingsExchanged(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, okHandler(), func(e *testEnv) {
		e.srv.MaxHeaderBytes = 5000
		e.tr.MaxResponseHeaderBytes = 7000
	})
	if code, _ := e.get(t, ctx, "/"); code != 200 {
		t.Fatal(code)
	}
	cc := e.onlyConn(t)
	e.srv.mu.Lock()
	var sc *serverConn
	for c := range e.srv.conns {
		sc = c
	}
	e.srv.mu.Unlock()
	for _, side := range []struct {
		name string
		c    *conn
		want uint64
	}{{"client", cc.c, 5000}, {"server", sc.c, 7000}} {
		select {
		case <-side.c.settingsReceived:
		case <-ctx.Done():
			t.Fatalf("%s: no SETTINGS", side.name)
		}
		s, _ := side.c.peerSettings()
		if s.QPACKMaxTableCapacity != qpackMaxTableCapacity || s.QPACKBlockedStreams != qpackBlockedStreams || s.MaxFieldSectionSize != side.want {
			t.Errorf("%s received %+v", side.name, s)
		}
	}
}
