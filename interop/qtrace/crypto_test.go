package qtrace

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/skiffnet/skiff/tls13"
)

func vectors(t *testing.T) map[string][]byte {
	t.Helper()
	data, err := os.ReadFile("testdata/rfc9001-appendixA.txt")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<16)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && !strings.HasPrefix(f[0], "#") {
			b, err := hex.DecodeString(f[1])
			if err != nil {
				t.Fatal(err)
			}
			out[f[0]] = b
		}
	}
	return out
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// The RFC 9001 Appendix A packets open with keys from the connection ID,
// and their CRYPTO frames hold the ClientHello and ServerHello.
func TestRFC9001InitialPackets(t *testing.T) {
	v := vectors(t)
	dcid := unhex("8394c8f03e515708")
	client, server := initialKeys(Version1, dcid)
	if got := client.hpKey; !bytes.Equal(got, unhex("9f50449e04a0e810283a1e9933adedd2")) {
		t.Fatalf("client hp key %x", got)
	}

	h, err := parseLongHeader(v["client_initial"])
	if err != nil || h.typ != Initial || !bytes.Equal(h.dcid, dcid) || h.length != 1200 {
		t.Fatalf("client Initial header %+v, %v", h, err)
	}
	hdr, pn, err := client.unprotect(v["client_initial"], h.pnOffset, -1)
	if err != nil || pn != 2 || !bytes.Equal(hdr, unhex("c300000001088394c8f03e5157080000449e00000002")) {
		t.Fatalf("client Initial header %x pn %d: %v", hdr, pn, err)
	}
	payload, err := client.decrypt(hdr, v["client_initial"][len(hdr):h.length], pn)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parseFrames(payload)
	if err != nil || len(f.Crypto) != 1 || f.Crypto[0].Offset != 0 {
		t.Fatalf("frames %+v: %v", f, err)
	}
	var cs cryptoStream
	msgs := cs.add(f.Crypto[0])
	if len(msgs) != 1 || msgs[0].typ != msgClientHello {
		t.Fatalf("messages %v", msgs)
	}
	ch, err := parseClientHello(msgs[0].body)
	if err != nil || !bytes.Equal(ch.Random[:4], unhex("ebf8fa56")) || len(ch.CipherSuites) != 2 || ch.CipherSuites[0] != tls13.TLS_AES_128_GCM_SHA256 || ch.PSK {
		t.Fatalf("ClientHello %+v: %v", ch, err)
	}

	h, err = parseLongHeader(v["server_initial"])
	if err != nil || h.typ != Initial || !bytes.Equal(h.scid, unhex("f067a5502a4262b5")) {
		t.Fatalf("server Initial header %+v, %v", h, err)
	}
	hdr, pn, err = server.unprotect(v["server_initial"], h.pnOffset, -1)
	if err != nil || pn != 1 {
		t.Fatalf("server Initial pn %d: %v", pn, err)
	}
	payload, err = server.decrypt(hdr, v["server_initial"][len(hdr):h.length], pn)
	if err != nil {
		t.Fatal(err)
	}
	f, err = parseFrames(payload)
	if err != nil || f.ACKs != 1 || len(f.Crypto) != 1 {
		t.Fatalf("frames %+v: %v", f, err)
	}
	var ss cryptoStream
	msgs = ss.add(f.Crypto[0])
	sh, err := parseServerHello(msgs[0].body)
	if err != nil || sh.CipherSuite != tls13.TLS_AES_128_GCM_SHA256 || sh.PSK {
		t.Fatalf("ServerHello %+v: %v", sh, err)
	}

	h, err = parseLongHeader(v["retry"])
	if err != nil || h.typ != Retry || string(h.token) != "token" {
		t.Fatalf("Retry %+v: %v", h, err)
	}
}

// RFC 9001 §A.5: a ChaCha20-Poly1305 short header packet, and its next
// key generation.
func TestRFC9001ChaCha20ShortHeader(t *testing.T) {
	secret := unhex("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b")
	k, err := newKeys(tls13.TLS_CHACHA20_POLY1305_SHA256, Version1, secret)
	if err != nil {
		t.Fatal(err)
	}
	pkt := unhex("4cfe4189655e5cd55c41f69080575d7999c25a5bfb")
	hdr, pn, err := k.unprotect(pkt, 1, 654360563)
	if err != nil || pn != 654360564 || !bytes.Equal(hdr, unhex("4200bff4")) {
		t.Fatalf("header %x pn %d: %v", hdr, pn, err)
	}
	payload, err := k.decrypt(hdr, pkt[len(hdr):], pn)
	if err != nil || !bytes.Equal(payload, []byte{framePing}) {
		t.Fatalf("payload %x: %v", payload, err)
	}
	if got := k.seal(hdr, 1, pn, payload); !bytes.Equal(got, pkt) {
		t.Errorf("seal: %x, want %x", got, pkt)
	}
	next, err := k.next()
	if err != nil || !bytes.Equal(next.secret, unhex("1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9")) {
		t.Fatalf("next secret %x: %v", next.secret, err)
	}
}

func TestDecodePacketNumber(t *testing.T) {
	// RFC 9000 §A.3's example.
	if got := decodePacketNumber(0xa82f30ea, 0x9b32, 16); got != 0xa82f9b32 {
		t.Errorf("got %#x", got)
	}
}
