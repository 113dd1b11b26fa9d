package tls13

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/mlkem"
	"crypto/rand"
	"crypto/sha256"
	"runtime"
	"testing"
	"time"
)

// handshakeFloor does, once, the work no TLS 1.3 handshake with these
// parameters can avoid (issue 14's "floor"): an X25519MLKEM768 key
// exchange on both sides, one ECDSA P-256 signature and its verification,
// and the HKDF key schedule of RFC 8446 §7.1 on both sides. Parsing,
// message building, transcript hashing and chain validation are left out:
// they are the overhead the full handshake is measured against.
func handshakeFloor(tb testing.TB, key *ecdsa.PrivateKey, content []byte) {
	// Client: its key share.
	dk, err := mlkem.GenerateKey768()
	if err != nil {
		tb.Fatal(err)
	}
	cx, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	clientShare := append(dk.EncapsulationKey().Bytes(), cx.PublicKey().Bytes()...)

	// Server: encapsulate and ECDH.
	ek, err := mlkem.NewEncapsulationKey768(clientShare[:mlkem.EncapsulationKeySize768])
	if err != nil {
		tb.Fatal(err)
	}
	serverKEM, ct := ek.Encapsulate()
	sx, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	cpub, err := ecdh.X25519().NewPublicKey(clientShare[mlkem.EncapsulationKeySize768:])
	if err != nil {
		tb.Fatal(err)
	}
	serverEC, err := sx.ECDH(cpub)
	if err != nil {
		tb.Fatal(err)
	}

	// Client: decapsulate and ECDH.
	clientKEM, err := dk.Decapsulate(ct)
	if err != nil {
		tb.Fatal(err)
	}
	spub, err := ecdh.X25519().NewPublicKey(sx.PublicKey().Bytes())
	if err != nil {
		tb.Fatal(err)
	}
	clientEC, err := cx.ECDH(spub)
	if err != nil {
		tb.Fatal(err)
	}

	// CertificateVerify: one signature, one verification.
	d := sha256.Sum256(content)
	sig, err := ecdsa.SignASN1(rand.Reader, key, d[:])
	if err != nil {
		tb.Fatal(err)
	}
	if !ecdsa.VerifyASN1(&key.PublicKey, d[:], sig) {
		tb.Fatal("signature does not verify")
	}

	// The key schedule, once per side.
	th := d[:]
	floorKeySchedule(append(serverKEM, serverEC...), th)
	floorKeySchedule(append(clientKEM, clientEC...), th)
}

// floorKeySchedule derives every secret a side of a full handshake derives
// (RFC 8446 §7.1): early, handshake and master secrets, both handshake and
// application traffic secrets, both Finished MACs and the resumption
// master secret.
func floorKeySchedule(shared, th []byte) {
	s := suiteAES128
	early := s.earlySecret(nil)
	hsSecret := s.handshakeSecret(nil, early, shared)
	chs := s.deriveSecret(hsSecret, labelClientHS, th)
	shs := s.deriveSecret(hsSecret, labelServerHS, th)
	master := s.masterSecret(nil, hsSecret)
	s.deriveSecret(master, labelClientAP, th)
	s.deriveSecret(master, labelServerAP, th)
	s.finishedMAC(nil, shs, th)
	s.finishedMAC(nil, chs, th)
	s.deriveSecret(master, labelResumption, th)
}

// BenchmarkHandshakeFloor measures the floor alone.
func BenchmarkHandshakeFloor(b *testing.B) {
	key := testLeaf(leafOpts{key: "p256"}).PrivateKey.(*ecdsa.PrivateKey)
	content := newSignedContent(serverSignatureContext, make([]byte, 32)).bytes()
	b.ReportAllocs()
	start := processCPUTime()
	for b.Loop() {
		handshakeFloor(b, key, content)
	}
	reportCPU(b, start)
}

// BenchmarkHandshakeVsFloor alternates one floor and one full in-memory
// handshake (client and server, as in BenchmarkHandshake/skiff) and
// reports their ratio (issue 14: full ≤ 1.25× floor). On Linux the time
// counted is the benchmark thread's CPU time (the goroutine is locked to
// its thread), so that other processes on a shared machine do not skew
// one side; elsewhere it is wall time. "reconnect" keeps one client
// Config, as a client talking to the same server all day does, so the
// server's chain is verified once (verifycache.go); "first-contact" makes
// a new client Config per handshake, so every handshake also verifies the
// chain: one ECDSA verification more than the floor counts.
func BenchmarkHandshakeVsFloor(b *testing.B) {
	cert := testLeaf(leafOpts{key: "p256"})
	key := cert.PrivateKey.(*ecdsa.PrivateKey)
	content := newSignedContent(serverSignatureContext, make([]byte, 32)).bytes()
	for _, mode := range []string{"reconnect", "first-contact"} {
		b.Run(mode, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			clock := func() time.Duration {
				if d, ok := threadCPUTime(); ok {
					return d
				}
				return time.Duration(time.Now().UnixNano())
			}
			ccfg, scfg := baseClientConfig(), baseServerConfig(cert)
			var floor, full time.Duration
			for b.Loop() {
				if mode == "first-contact" {
					ccfg = baseClientConfig()
				}
				t0 := clock()
				handshakeFloor(b, key, content)
				t1 := clock()
				c := newOurClient(b, ccfg, clientParams)
				s := newOurServer(b, scfg, serverParams)
				if !benchRun(b, ourEndpoint{c}, ourEndpoint{s}) {
					b.Fatal("handshake failed")
				}
				t2 := clock()
				floor += t1 - t0
				full += t2 - t1
			}
			if floor > 0 {
				b.ReportMetric(float64(floor.Nanoseconds())/float64(b.N), "floor-ns/op")
				b.ReportMetric(float64(full.Nanoseconds())/float64(b.N), "full-ns/op")
				b.ReportMetric(float64(full)/float64(floor), "full/floor")
			}
		})
	}
}
