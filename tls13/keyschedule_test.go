package tls13

import (
	"bufio"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha512"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

func loadRFC8448(t *testing.T) map[string][]byte { return loadRFC8448Vectors(t) }

func loadRFC8448Vectors(t testing.TB) map[string][]byte {
	t.Helper()
	f, err := os.Open("testdata/rfc8448-vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := map[string][]byte{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		name, hx, _ := strings.Cut(line, " ")
		b, err := hex.DecodeString(hx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		v[name] = b
	}
	return v
}

func expectEqual(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if string(got) != string(want) {
		t.Errorf("%s:\n got %x\nwant %x", what, got, want)
	}
}

// TestRFC8448Simple1RTT reproduces the key schedule of RFC 8448 §3 from its
// messages and X25519 keys, and parses its messages.
func TestRFC8448Simple1RTT(t *testing.T) {
	v := loadRFC8448(t)
	s := suiteAES128
	priv, err := ecdh.X25519().NewPrivateKey(v["s3_client_priv"])
	if err != nil {
		t.Fatal(err)
	}
	ks := &clientKeyShare{group: X25519, ecdh: priv}
	shared, err := ks.sharedSecret(v["s3_server_pub"])
	if err != nil {
		t.Fatal(err)
	}
	expectEqual(t, "ECDHE", shared, v["s3_ecdhe"])

	ch, sh := v["s3_client_hello"], v["s3_server_hello"]
	chm, err := parseClientHello(ch[4:])
	if err != nil {
		t.Fatalf("ClientHello: %v", err)
	}
	if chm.serverName != "server" || len(chm.keyShares) != 1 || !containsU16(chm.supportedVersions, versionTLS13) {
		t.Errorf("ClientHello parsed wrongly: %+v", chm)
	}
	shm, err := parseServerHello(sh[4:])
	if err != nil {
		t.Fatalf("ServerHello: %v", err)
	}
	if shm.cipherSuite != TLS_AES_128_GCM_SHA256 || shm.keyShare.group != uint16(X25519) {
		t.Errorf("ServerHello parsed wrongly: %+v", shm)
	}
	if _, err := parseCertificate(v["s3_certificate"][4:], 10); err != nil {
		t.Errorf("Certificate: %v", err)
	}
	if cv, err := parseCertificateVerify(v["s3_certificate_verify"][4:]); err != nil || cv.scheme != uint16(PSSWithSHA256) {
		t.Errorf("CertificateVerify: %v", err)
	}
	if nst, err := parseNewSessionTicket(v["s3_new_session_ticket"][4:]); err != nil || !nst.hasEarlyData {
		t.Errorf("NewSessionTicket: %v %+v", err, nst)
	}

	early := s.earlySecret(nil)
	expectEqual(t, "early secret", early, v["s3_early_secret"])
	hsSecret := s.handshakeSecret(nil, early, shared)
	expectEqual(t, "handshake secret", hsSecret, v["s3_handshake_secret"])
	th := s.transcriptHashOf(ch, sh)
	cHS := s.deriveSecret(hsSecret, labelClientHS, th)
	sHS := s.deriveSecret(hsSecret, labelServerHS, th)
	expectEqual(t, "c hs traffic", cHS, v["s3_c_hs_traffic"])
	expectEqual(t, "s hs traffic", sHS, v["s3_s_hs_traffic"])
	master := s.masterSecret(nil, hsSecret)
	expectEqual(t, "master secret", master, v["s3_master_secret"])

	msgs := [][]byte{ch, sh, v["s3_encrypted_extensions"], v["s3_certificate"], v["s3_certificate_verify"]}
	sFin := s.finishedMAC(nil, sHS, s.transcriptHashOf(msgs...))
	expectEqual(t, "server Finished", marshalFinished(sFin), v["s3_server_finished"])
	msgs = append(msgs, v["s3_server_finished"])
	th = s.transcriptHashOf(msgs...)
	expectEqual(t, "c ap traffic", s.deriveSecret(master, labelClientAP, th), v["s3_c_ap_traffic"])
	expectEqual(t, "s ap traffic", s.deriveSecret(master, labelServerAP, th), v["s3_s_ap_traffic"])
	cFin := s.finishedMAC(nil, cHS, th)
	expectEqual(t, "client Finished", marshalFinished(cFin), v["s3_client_finished"])
	msgs = append(msgs, v["s3_client_finished"])
	res := s.deriveSecret(master, labelResumption, s.transcriptHashOf(msgs...))
	expectEqual(t, "res master", res, v["s3_res_master"])
	nst, _ := parseNewSessionTicket(v["s3_new_session_ticket"][4:])
	expectEqual(t, "resumption PSK", s.resumptionPSK(res, nst.nonce), v["s3_resumption_psk"])
}

// TestRFC8448Resumed0RTT reproduces RFC 8448 §4: the PSK from §3's ticket,
// the binder, the early traffic secret and the rest of the schedule.
func TestRFC8448Resumed0RTT(t *testing.T) {
	v := loadRFC8448(t)
	s := suiteAES128
	psk := v["s3_resumption_psk"]
	early := s.earlySecret(psk)
	expectEqual(t, "early secret", early, v["s4_early_secret"])

	ch := v["s4_client_hello"]
	chm, err := parseClientHello(ch[4:])
	if err != nil {
		t.Fatalf("ClientHello: %v", err)
	}
	if !chm.earlyData || len(chm.pskIdentities) != 1 || len(chm.pskBinders) != 1 {
		t.Fatalf("ClientHello PSK not parsed: %+v", chm)
	}
	nst, _ := parseNewSessionTicket(v["s3_new_session_ticket"][4:])
	expectEqual(t, "ticket", chm.pskIdentities[0].identity, nst.ticket)
	truncated := ch[:len(ch)-bindersLen(chm.pskBinders)]
	binderHash := s.transcriptHashOf(truncated)
	expectEqual(t, "binder hash", binderHash, v["s4_binder_hash"])
	binderKey := s.deriveSecret(early, labelResBinder, nil)
	expectEqual(t, "binder key", binderKey, v["s4_binder_key"])
	binder := s.finishedMAC(nil, binderKey, binderHash)
	expectEqual(t, "binder", binder, v["s4_binder"])
	expectEqual(t, "binder in ClientHello", chm.pskBinders[0], binder)

	expectEqual(t, "c e traffic", s.deriveSecret(early, labelClientEarly, s.transcriptHashOf(ch)), v["s4_c_e_traffic"])

	priv, err := ecdh.X25519().NewPrivateKey(v["s4_client_priv"])
	if err != nil {
		t.Fatal(err)
	}
	shared, err := (&clientKeyShare{group: X25519, ecdh: priv}).sharedSecret(v["s4_server_pub"])
	if err != nil {
		t.Fatal(err)
	}
	expectEqual(t, "ECDHE", shared, v["s4_ecdhe"])
	sh := v["s4_server_hello"]
	shm, err := parseServerHello(sh[4:])
	if err != nil || !shm.hasPSK || shm.selectedIdentity != 0 {
		t.Fatalf("ServerHello: %v %+v", err, shm)
	}
	hsSecret := s.handshakeSecret(nil, early, shared)
	expectEqual(t, "handshake secret", hsSecret, v["s4_handshake_secret"])
	th := s.transcriptHashOf(ch, sh)
	cHS := s.deriveSecret(hsSecret, labelClientHS, th)
	sHS := s.deriveSecret(hsSecret, labelServerHS, th)
	expectEqual(t, "c hs traffic", cHS, v["s4_c_hs_traffic"])
	expectEqual(t, "s hs traffic", sHS, v["s4_s_hs_traffic"])

	msgs := [][]byte{ch, sh, v["s4_encrypted_extensions"]}
	expectEqual(t, "server Finished", marshalFinished(s.finishedMAC(nil, sHS, s.transcriptHashOf(msgs...))), v["s4_server_finished"])
	msgs = append(msgs, v["s4_server_finished"])
	master := s.masterSecret(nil, hsSecret)
	th = s.transcriptHashOf(msgs...)
	expectEqual(t, "c ap traffic", s.deriveSecret(master, labelClientAP, th), v["s4_c_ap_traffic"])
	expectEqual(t, "s ap traffic", s.deriveSecret(master, labelServerAP, th), v["s4_s_ap_traffic"])
	// Over TCP the client sends EndOfEarlyData; QUIC omits it
	// (RFC 9001 §8.3), but the RFC 8448 transcript contains it.
	msgs = append(msgs, v["s4_end_of_early_data"])
	expectEqual(t, "client Finished", marshalFinished(s.finishedMAC(nil, cHS, s.transcriptHashOf(msgs...))), v["s4_client_finished"])
	msgs = append(msgs, v["s4_client_finished"])
	expectEqual(t, "res master", s.deriveSecret(master, labelResumption, s.transcriptHashOf(msgs...)), v["s4_res_master"])
}

// TestQUICInitialKeys checks the exported HKDF helpers against RFC 9001
// Appendix A.1.
func TestQUICInitialKeys(t *testing.T) {
	h := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	salt := h("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")
	initial := Extract(TLS_AES_128_GCM_SHA256, h("8394c8f03e515708"), salt)
	expectEqual(t, "initial_secret", initial, h("7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44"))
	client := ExpandLabel(TLS_AES_128_GCM_SHA256, initial, "client in", nil, 32)
	expectEqual(t, "client_initial_secret", client, h("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea"))
	expectEqual(t, "key", ExpandLabel(TLS_AES_128_GCM_SHA256, client, "quic key", nil, 16), h("1f369613dd76d5467730efcbe3b1a22d"))
	expectEqual(t, "iv", ExpandLabel(TLS_AES_128_GCM_SHA256, client, "quic iv", nil, 12), h("fa044b2f42a3fd3b46fb255c"))
	expectEqual(t, "hp", ExpandLabel(TLS_AES_128_GCM_SHA256, client, "quic hp", nil, 16), h("9f50449e04a0e810283a1e9933adedd2"))
	// Longer than one hash block: HKDF-Expand iterates (RFC 5869 §2.3).
	// Compared with crypto/hkdf given the HkdfLabel built by hand.
	long := ExpandLabel(TLS_AES_256_GCM_SHA384, initial, "long", []byte{7}, 100)
	info := string([]byte{0, 100, 10}) + "tls13 long" + string([]byte{1, 7})
	want, err := hkdf.Expand(sha512.New384, initial, info, 100)
	if err != nil {
		t.Fatal(err)
	}
	expectEqual(t, "100-byte expansion", long, want)
}
