package protect

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"testing"
	"time"
)

var benchSuites = []struct {
	name  string
	suite Suite
}{
	{"aes128", TLS_AES_128_GCM_SHA256},
	{"aes256", TLS_AES_256_GCM_SHA384},
	{"chacha20", TLS_CHACHA20_POLY1305_SHA256},
}

// sealBench seals the 1452-byte 1-RTT packet of oneRTTPacket over and over
// in one buffer, with header protection.
type sealBench struct {
	keys   *Keys
	header []byte
	buf    []byte
	pn     uint64
}

func newSealBench(b *testing.B, suite Suite) *sealBench {
	header, payload := oneRTTPacket()
	buf := make([]byte, 0, len(header)+len(payload)+TagLen)
	return &sealBench{keys: testKeys(b, suite), header: header, buf: append(append(buf, header...), payload...)}
}

func (s *sealBench) seal(b *testing.B) {
	// Header protection masked the header last time: write it again, as
	// the connection writes a new header for each packet.
	copy(s.buf, s.header)
	if _, err := s.keys.SealPacket(s.buf, 1+benchDCIDLen, s.pn); err != nil {
		b.Fatal(err)
	}
	s.pn++
}

// bareSealBench is the same work without this package: one
// cipher.AEAD.Seal of the same payload, in place, with the same header as
// associated data and the same key.
type bareSealBench struct {
	aead   cipher.AEAD
	nonce  []byte
	header []byte
	buf    []byte
	pn     uint64
}

func newBareSealBench(b *testing.B) *bareSealBench {
	p, _ := paramsFor(Version1)
	m := deriveKeyMaterial(p, TLS_AES_128_GCM_SHA256, testSecret(TLS_AES_128_GCM_SHA256, 5), false)
	block, err := aes.NewCipher(m.key)
	if err != nil {
		b.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	header, payload := oneRTTPacket()
	buf := make([]byte, 0, len(header)+len(payload)+TagLen)
	return &bareSealBench{aead: aead, nonce: m.iv, header: header, buf: append(append(buf, header...), payload...)}
}

func (s *bareSealBench) seal() {
	copy(s.buf, s.header)
	binary.BigEndian.PutUint64(s.nonce[4:], s.pn)
	payload := s.buf[len(s.header):]
	s.aead.Seal(payload[:0], s.nonce, payload, s.buf[:len(s.header)])
	s.pn++
}

// BenchmarkSeal1RTT seals a 1452-byte 1-RTT packet in place and applies
// header protection. Bytes/s count the payload.
func BenchmarkSeal1RTT(b *testing.B) {
	for _, bs := range benchSuites {
		b.Run(bs.name, func(b *testing.B) {
			s := newSealBench(b, bs.suite)
			b.SetBytes(int64(len(s.buf) - len(s.header)))
			b.ReportAllocs()
			for b.Loop() {
				s.seal(b)
			}
		})
	}
}

// BenchmarkBareAESGCMSeal is the baseline for BenchmarkSeal1RTT/aes128:
// cipher.AEAD.Seal alone on the same bytes.
func BenchmarkBareAESGCMSeal(b *testing.B) {
	s := newBareSealBench(b)
	b.SetBytes(int64(len(s.buf) - len(s.header)))
	b.ReportAllocs()
	for b.Loop() {
		s.seal()
	}
}

// BenchmarkSealOverhead reports the cost of SealPacket (AES-128-GCM with
// header protection) relative to the bare AES-128-GCM seal. The two run in
// alternating batches within one benchmark, so that load from other
// processes on the machine hits both alike. Metrics: "x-bare" is the ratio
// of the fastest batch of each kind, the figure least disturbed by other
// processes (its budget is 1.15); "x-bare-mean" the ratio of total times;
// and the mean time of one seal of each kind.
func BenchmarkSealOverhead(b *testing.B) {
	full, bare := newSealBench(b, TLS_AES_128_GCM_SHA256), newBareSealBench(b)
	const batch = 16
	var fullTime, bareTime time.Duration
	fullMin, bareMin := time.Duration(1<<62), time.Duration(1<<62)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		for range batch {
			bare.seal()
		}
		t1 := time.Now()
		for range batch {
			full.seal(b)
		}
		t2 := time.Now()
		bareTime += t1.Sub(t0)
		fullTime += t2.Sub(t1)
		bareMin = min(bareMin, t1.Sub(t0))
		fullMin = min(fullMin, t2.Sub(t1))
		n += batch
	}
	b.ReportMetric(float64(fullMin)/float64(bareMin), "x-bare")
	b.ReportMetric(float64(fullTime)/float64(bareTime), "x-bare-mean")
	b.ReportMetric(float64(fullTime.Nanoseconds())/float64(n), "ns/seal")
	b.ReportMetric(float64(bareTime.Nanoseconds())/float64(n), "ns/bare-seal")
}

// BenchmarkOpen1RTT removes header protection from a 1452-byte 1-RTT packet,
// decodes its packet number and decrypts it in place. Each iteration first
// copies the protected packet into the buffer (opening destroys it).
func BenchmarkOpen1RTT(b *testing.B) {
	for _, bs := range benchSuites {
		b.Run(bs.name, func(b *testing.B) {
			s := newSealBench(b, bs.suite)
			s.pn = 0x1234
			s.seal(b)
			protected := bytes.Clone(s.buf[:len(s.buf)+TagLen])
			receiver := testKeys(b, bs.suite)
			pkt := make([]byte, len(protected))
			b.SetBytes(int64(len(protected) - len(s.header) - TagLen))
			b.ReportAllocs()
			for b.Loop() {
				copy(pkt, protected)
				if _, _, err := receiver.OpenPacket(pkt, 1+benchDCIDLen, 0x1200); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHeaderMask computes one header protection mask.
func BenchmarkHeaderMask(b *testing.B) {
	for _, bs := range benchSuites {
		b.Run(bs.name, func(b *testing.B) {
			k := testKeys(b, bs.suite)
			sample := make([]byte, SampleLen)
			b.ReportAllocs()
			for b.Loop() {
				k.hp.computeMask(sample)
				sample[0]++
			}
		})
	}
}

// BenchmarkVerifyRetry verifies the Retry Integrity Tag of RFC 9001 A.4.
func BenchmarkVerifyRetry(b *testing.B) {
	retry := mustHex("ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba")
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyRetryIntegrity(Version1, appendixDCID, retry); err != nil {
			b.Fatal(err)
		}
	}
}
