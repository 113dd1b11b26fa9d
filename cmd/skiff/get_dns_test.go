package main

import (
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/skiffnet/skiff/internal/dns"
	"github.com/skiffnet/skiff/internal/dns/dnstest"
	"github.com/skiffnet/skiff/internal/selfsigned"
)

// TestGetHTTPSRecord: with --dns-servers pointing at a DNS server on
// loopback, an HTTPS record offering h3 sends the very first request over
// HTTP/3, and -v shows the record; without one, TCP. Every name is asked
// of that server, by both sides, so nothing is asked of the system's.
func TestGetHTTPSRecord(t *testing.T) {
	t.Parallel()
	cert, _, err := selfsigned.New("skiff.test")
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := writeCertificate(t.TempDir(), cert)
	if err != nil {
		t.Fatal(err)
	}
	p := startServe(t, "--cert", certFile, "--key", keyFile, serveDir(t, 100))
	ns := dnstest.NewServer(t)
	ns.AddA("skiff.test", netip.MustParseAddr("127.0.0.1"))
	// RFC 9460 §9.1: the record of an origin on another port than 443
	// lives at _PORT._https.host.
	port := strconv.Itoa(p.port)
	ns.AddHTTPS("_"+port+"._https.skiff.test", dns.SVCB{Priority: 1, Target: "skiff.test", ALPN: []string{"h3"}, Port: uint16(p.port)})
	url := "https://skiff.test:" + port + "/data.bin"
	get := []string{"get", "--dns-servers", ns.Addr().String(), "--cacert", certFile, "-v", "-o", os.DevNull, "-w", "%{http_version}", url}

	r := runSkiff(t, get...)
	if r.code != 0 || r.stdout != "3" {
		t.Fatalf("with an HTTPS record: %+v", r)
	}
	if !strings.Contains(r.stderr, "HTTPS record for https://skiff.test:"+port+": priority 1, target skiff.test, port "+port+", alpn h3") {
		t.Errorf("-v does not show the record:\n%s", r.stderr)
	}
	p.waitLine(t, regexp.MustCompile(`"GET /data\.bin HTTP/3\.0" 200 100 `))

	ns.Remove("_"+port+"._https.skiff.test", dns.TypeHTTPS)
	before := ns.Stats().UDP
	r = runSkiff(t, get...)
	if r.code != 0 || r.stdout != "2" {
		t.Fatalf("without an HTTPS record: %+v", r)
	}
	// The HTTPS lookup and the TCP side's address lookups came here.
	if n := ns.Stats().UDP - before; n < 2 {
		t.Errorf("the DNS server saw %d queries from the second run, want the HTTPS and address lookups", n)
	}
}
