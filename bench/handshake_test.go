package bench

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/mlkem"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/skiffnet/skiff/internal/hkdf"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// BenchmarkHandshake measures complete handshakes (1-RTT, X25519MLKEM768,
// ECDSA P-256 certificate): each connection closes as soon as Dial returns.
func BenchmarkHandshake(b *testing.B) {
	b.Run("mode=sequential", func(b *testing.B) { benchHandshakes(b, 1) })
	// 32 goroutines dialing at once from one client endpoint.
	b.Run("mode=parallel", func(b *testing.B) { benchHandshakes(b, 32) })
	b.Run("mode=resumed", benchResumedHandshakes)
}

// benchResumedHandshakes measures sequential handshakes that resume a
// session (psk_dhe_ke: no certificate, no signature), each with the ticket
// the previous connection received: a connection closes once its ticket
// has arrived, which follows the handshake by half a round trip.
func benchResumedHandshakes(b *testing.B) {
	p := getPeer(b)
	p.settle(b)
	ep, conf := newClient(b), p.clientConfig()
	tickets := &ticketSignal{inner: tls13.NewLRUClientSessionCache(1), arrived: make(chan struct{}, 1)}
	conf.TLS.ClientSessionCache = tickets
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	next := func() *quic.Conn {
		c, err := ep.Dial(ctx, p.quicAddr, conf)
		if err != nil {
			b.Fatal(err)
		}
		select {
		case <-tickets.arrived:
		case <-ctx.Done():
			b.Fatal("no session ticket arrived")
		}
		return c
	}
	next().Close() // a full handshake for the first ticket
	floorBefore := floorCPU(b)
	b.ReportAllocs()
	used := p.startUsage(b)
	resumed := 0
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		c := next()
		if c.ConnectionState().DidResume {
			resumed++
		}
		c.Close()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if resumed != b.N {
		b.Fatalf("%d of %d handshakes resumed", resumed, b.N)
	}
	cl, sv := used()
	floor := (floorBefore + floorCPU(b)) / 2
	reportPerOp(b, "handshakes/s", elapsed, cl, sv)
	reportHandshakeCPU(b, cl, sv, floor)
}

// ticketSignal is a client session cache that says when a session
// arrives.
type ticketSignal struct {
	inner   tls13.ClientSessionCache
	arrived chan struct{}
}

func (s *ticketSignal) Get(key string) (*tls13.ClientSession, bool) { return s.inner.Get(key) }

func (s *ticketSignal) Put(key string, cs *tls13.ClientSession) {
	s.inner.Put(key, cs)
	if cs != nil {
		select {
		case s.arrived <- struct{}{}:
		default:
		}
	}
}

func benchHandshakes(b *testing.B, parallel int) {
	p := getPeer(b)
	p.settle(b)
	ep, conf := newClient(b), p.clientConfig()
	dial(b, ep, p.quicAddr, conf).Close() // the endpoint's buffers and pools
	floorBefore := floorCPU(b)
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	b.ReportAllocs()
	used := p.startUsage(b)
	b.ResetTimer()
	start := time.Now()
	if parallel == 1 {
		for range b.N {
			c, err := ep.Dial(ctx, p.quicAddr, conf)
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	} else {
		b.SetParallelism((parallel + 1) / 2)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c, err := ep.Dial(ctx, p.quicAddr, conf)
				if err != nil {
					b.Error(err)
					return
				}
				c.Close()
			}
		})
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cl, sv := used()
	floor := (floorBefore + floorCPU(b)) / 2
	reportPerOp(b, "handshakes/s", elapsed, cl, sv)
	reportHandshakeCPU(b, cl, sv, floor)
}

// reportHandshakeCPU reports both sides' CPU per handshake as a multiple
// of the floor, and each side's system time: the kernel's part (sending and
// receiving, the loopback's delivery, context switches), which the floor
// has none of.
func reportHandshakeCPU(b *testing.B, cl, sv usage, floor time.Duration) {
	if !haveCPU {
		return
	}
	n := float64(b.N)
	b.ReportMetric((cl.cpu+sv.cpu).Seconds()/n/floor.Seconds(), "x-floor")
	b.ReportMetric(cl.sys.Seconds()*1e6/n, "client-sys-us/op")
	b.ReportMetric(sv.sys.Seconds()*1e6/n, "server-sys-us/op")
}

// floorCPU is the process CPU time of one handshakeFloor (200 rounds,
// about a tenth of a second), so that the handshake benchmarks can report
// their CPU as a multiple of it. They time it just before and just after
// their loop and take the mean: on a shared machine the cost of the same
// work drifts with the load, and a floor timed once per run, minutes away
// from some of the handshakes it was compared with, moved x-floor by ±0.2
// between runs of the same binary.
func floorCPU(tb testing.TB) time.Duration {
	tb.Helper()
	if !haveCPU {
		return 1 // avoid dividing by zero; the ratio is not reported
	}
	fl, err := newFloor()
	if err != nil {
		tb.Fatal(err)
	}
	const rounds = 200
	start := processCPU()
	for range rounds {
		if err := fl.handshake(); err != nil {
			tb.Fatal(err)
		}
	}
	return (processCPU() - start) / rounds
}

// BenchmarkHandshakeFloor measures what no handshake of skiff's defaults
// can avoid, for both sides together; see doc.go.
func BenchmarkHandshakeFloor(b *testing.B) {
	fl, err := newFloor()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := processCPU()
	for b.Loop() {
		if err := fl.handshake(); err != nil {
			b.Fatal(err)
		}
	}
	if haveCPU {
		b.ReportMetric((processCPU()-start).Seconds()*1e6/float64(b.N), "CPU-us/op")
	}
}

// floor is the public-key and key-schedule work of one handshake with
// skiff's defaults: X25519MLKEM768 key exchange, the server's ECDSA P-256
// CertificateVerify, TLS 1.3 and QUIC key derivations, on both sides.
type floor struct {
	key        *ecdsa.PrivateKey // the server certificate's key
	transcript []byte            // stands for each transcript hash
	// derived is Derive-Secret(Early Secret, "derived", "") without a
	// PSK: a constant, which tls13 computes once (not a floor cost).
	derived []byte
}

func newFloor() (*floor, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	emptyHash := sha256.Sum256(nil)
	early := extract(make([]byte, sha256.Size), nil)
	derived := expandLabel(early, "derived", emptyHash[:], sha256.Size)
	return &floor{key: key, transcript: make([]byte, sha256.Size), derived: derived}, nil
}

var errFloor = errors.New("floor: the two sides disagree")

func (f *floor) handshake() error {
	// X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem): the client's share is
	// an ML-KEM-768 encapsulation key and an X25519 public key; the
	// server encapsulates and answers with its own X25519 key.
	dk, err := mlkem.GenerateKey768()
	if err != nil {
		return err
	}
	cx, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	clientShare := append(dk.EncapsulationKey().Bytes(), cx.PublicKey().Bytes()...)

	ek, err := mlkem.NewEncapsulationKey768(clientShare[:mlkem.EncapsulationKeySize768])
	if err != nil {
		return err
	}
	serverKEM, ct := ek.Encapsulate()
	sx, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	cpub, err := ecdh.X25519().NewPublicKey(clientShare[mlkem.EncapsulationKeySize768:])
	if err != nil {
		return err
	}
	serverECDH, err := sx.ECDH(cpub)
	if err != nil {
		return err
	}
	serverShared := append(serverKEM, serverECDH...)

	clientKEM, err := dk.Decapsulate(ct)
	if err != nil {
		return err
	}
	spub, err := ecdh.X25519().NewPublicKey(sx.PublicKey().Bytes())
	if err != nil {
		return err
	}
	clientECDH, err := cx.ECDH(spub)
	if err != nil {
		return err
	}
	clientShared := append(clientKEM, clientECDH...)
	if !bytes.Equal(clientShared, serverShared) {
		return errFloor
	}

	// CertificateVerify (RFC 8446 §4.4.3): the server signs, the client
	// verifies, each hashing the signed content.
	content := append(bytes.Repeat([]byte{0x20}, 64), "TLS 1.3, server CertificateVerify\x00"...)
	content = append(content, f.transcript...)
	digest := sha256.Sum256(content)
	sig, err := ecdsa.SignASN1(rand.Reader, f.key, digest[:])
	if err != nil {
		return err
	}
	digest = sha256.Sum256(content)
	if !ecdsa.VerifyASN1(&f.key.PublicKey, digest[:], sig) {
		return errFloor
	}

	// Both sides run the whole key schedule.
	if !bytes.Equal(f.keySchedule(serverShared), f.keySchedule(clientShared)) {
		return errFloor
	}
	return nil
}

// quicV1Salt is RFC 9001 §5.2's initial_salt.
var quicV1Salt = []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a}

// keySchedule is one side's HKDF work with TLS_AES_128_GCM_SHA256: the
// Initial secrets (RFC 9001 §5.2), the TLS 1.3 key schedule up to the
// application traffic secrets (RFC 8446 §7.1), the two Finished MACs
// (§4.4.4), and the QUIC key, IV and header protection key of every
// traffic secret (RFC 9001 §5.1); the early secret without a PSK is a
// constant (newFloor). It returns the last secret.
func (f *floor) keySchedule(shared []byte) []byte {
	zeros := make([]byte, sha256.Size)
	emptyHash := sha256.Sum256(nil)
	initial := extract(make([]byte, 8), quicV1Salt)
	for _, label := range []string{"client in", "server in"} {
		quicKeys(expandLabel(initial, label, nil, sha256.Size))
	}
	hs := extract(shared, f.derived)
	for _, label := range []string{"c hs traffic", "s hs traffic"} {
		secret := expandLabel(hs, label, f.transcript, sha256.Size)
		quicKeys(secret)
		hkdf.SHA256.MAC(expandLabel(secret, "finished", nil, sha256.Size), f.transcript)
	}
	master := extract(zeros, expandLabel(hs, "derived", emptyHash[:], sha256.Size))
	var secret []byte
	for _, label := range []string{"c ap traffic", "s ap traffic"} {
		secret = expandLabel(master, label, f.transcript, sha256.Size)
		quicKeys(secret)
	}
	return secret
}

func quicKeys(secret []byte) {
	expandLabel(secret, "quic key", nil, 16)
	expandLabel(secret, "quic iv", nil, 12)
	expandLabel(secret, "quic hp", nil, 16)
}

// extract and expandLabel are HKDF-Extract and HKDF-Expand-Label (RFC
// 8446 §7.1) as skiff computes them (internal/hkdf, pooled HMAC state):
// the floor counts what the work costs done well, not crypto/hkdf's
// per-call setup.
func extract(secret, salt []byte) []byte { return hkdf.SHA256.Extract(salt, secret) }

func expandLabel(secret []byte, label string, context []byte, length int) []byte {
	return hkdf.SHA256.ExpandLabel(secret, label, context, length)
}
