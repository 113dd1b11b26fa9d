package tls13

import (
	"testing"
	"time"
)

// BenchmarkHandshake runs one full in-memory handshake, client and server,
// with our implementation and, in the same run, with crypto/tls's QUIC
// client and server: ECDSA P-256 certificate verified against a root,
// default groups (X25519MLKEM768), ALPN and transport parameters.
func BenchmarkHandshake(b *testing.B) {
	cert := testLeaf(leafOpts{key: "p256"})
	b.Run("skiff", func(b *testing.B) {
		ccfg, scfg := baseClientConfig(), baseServerConfig(cert)
		b.ReportAllocs()
		start := processCPUTime()
		for b.Loop() {
			c := newOurClient(b, ccfg, clientParams)
			s := newOurServer(b, scfg, serverParams)
			if !benchRun(b, ourEndpoint{c}, ourEndpoint{s}) {
				b.Fatal("handshake failed")
			}
		}
		reportCPU(b, start)
	})
	b.Run("cryptotls", func(b *testing.B) {
		ccfg, scfg := theirClientConfig(), theirServerConfig(cert)
		b.ReportAllocs()
		start := processCPUTime()
		for b.Loop() {
			c := newTheirClient(b, ccfg, clientParams)
			s := newTheirServer(b, scfg, serverParams)
			if !benchRun(b, theirEndpoint{q: c}, theirEndpoint{q: s}) {
				b.Fatal("handshake failed")
			}
		}
		reportCPU(b, start)
	})
}

// benchRun shuttles CRYPTO data between the two sides until both are done,
// without the bookkeeping of run.
func benchRun(b *testing.B, client, server endpoint) bool {
	done := 0
	for i := 0; i < 20 && done < 2; i++ {
		progress := false
		for _, pair := range [2][2]endpoint{{client, server}, {server, client}} {
			for {
				ev := pair[0].next()
				if ev.kind == EventNone {
					break
				}
				progress = true
				switch ev.kind {
				case EventWriteData:
					if err := pair[1].handle(ev.level, ev.data); err != nil {
						b.Fatal(err)
					}
				case EventHandshakeDone:
					done++
				}
			}
		}
		if !progress {
			break
		}
	}
	return done == 2
}

// reportCPU adds the process CPU time per handshake (cpu-ns/op), which
// other processes on a shared machine disturb less than wall time.
func reportCPU(b *testing.B, start time.Duration) {
	if used := processCPUTime() - start; used > 0 && b.N > 0 {
		b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
