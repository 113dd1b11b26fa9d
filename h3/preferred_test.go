package h3

import (
	"crypto/sha256"
	"io"
	"net/http"
	"net/netip"
	"testing"

	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// A server that announces a preferred address (RFC 9000 §9.6): the
// Transport's connection moves there after the handshake and its requests
// go on over the same connection, with the bodies intact.
func TestTransportFollowsPreferredAddress(t *testing.T) {
	ctx := testContext(t)
	cert, pool := testCertificate(t)
	body := make([]byte, 64<<10)
	for i := range body {
		body[i] = byte(i * 7)
	}
	want := sha256.Sum256(body)
	srvTLS := &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{NextProtoH3}}
	ln, err := quic.Listen("udp", "127.0.0.1:0", &quic.Config{
		TLS:              srvTLS,
		PreferredAddress: &quic.PreferredAddress{IPv4: netip.MustParseAddrPort("127.0.0.1:0")},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	preferred, _ := ln.Endpoint().PreferredAddresses()
	if !preferred.IsValid() || preferred == ln.Addr() {
		t.Fatalf("preferred address %v beside the listener's %v", preferred, ln.Addr())
	}
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) })}
	defer srv.Close()
	accepted := make(chan *quic.Conn, 4)
	go func() {
		for {
			qc, err := ln.Accept(ctx)
			if err != nil {
				return
			}
			accepted <- qc
			go srv.ServeConn(qc)
		}
	}()
	tr := &Transport{Mode: ModeHTTP3Only, TLSClientConfig: &tls13.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var server *quic.Conn
	// The client moves once the handshake is confirmed and the new path
	// validated: a round trip or two, so a few requests see it.
	const requests = 50
	moved := -1
	for i := range requests {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+ln.Addr().String()+"/", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || sha256.Sum256(b) != want || resp.ProtoMajor != 3 {
			t.Fatalf("request %d: %d bytes over %s, %v: not the body", i, len(b), resp.Proto, err)
		}
		if server == nil {
			server = <-accepted
		}
		if server.LocalAddr() == preferred {
			moved = i
			break
		}
	}
	if moved < 0 {
		t.Fatalf("after %d requests the server's connection is still at %v, not its preferred address %v", requests, server.LocalAddr(), preferred)
	}
	t.Logf("on the preferred address %v after %d requests", preferred, moved+1)
	select {
	case qc := <-accepted:
		t.Errorf("a second connection from %v: the requests should have stayed on one", qc.RemoteAddr())
	default:
	}
}
