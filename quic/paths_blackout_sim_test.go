package quic

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
)

// A NAT rebinding mid-transfer, with the new path from the server to the
// client dark for a while right after it (the NAT's new mapping not
// working yet): the server's first datagrams to the client's new address
// are lost. The server sends the unvalidated address at most three times
// what came from it (RFC 9000 §8.1, §9.3.1). A client that only receives
// sends nothing more once the data in flight to its old address is
// acknowledged, so what the server spends there must keep room for the
// PATH_CHALLENGEs that validate the path once it clears (§8.2.1, §9.4):
// spent on stream data that was lost, the budget left nothing to
// challenge with, and the connection stalled into the idle timeout.

// rebindBlackout rebinds the client's socket (to a new port, or to a new
// host when newHost is valid) with the links dark for blackout, which
// starts now.
func rebindBlackout(sn *simNet, newHost netip.Addr, imp netsim.Impairment, blackout time.Duration, dark ...*netsim.Link) {
	for _, l := range dark {
		l.Set(netsim.Impairment{Blackhole: true})
	}
	if newHost.IsValid() {
		sn.net.RebindAddr(sn.clientSock, newHost)
	} else {
		sn.net.Rebind(sn.clientSock)
	}
	time.AfterFunc(blackout, func() {
		for _, l := range dark {
			l.Set(imp)
		}
	})
}

// newBlackoutNet is a simulated network where the client's host after an
// address rebinding, newHost, has links of its own to and from the
// server, returned; with newHost invalid (a port rebinding) they are the
// client's uplink and downlink.
func newBlackoutNet(t *testing.T, imp netsim.Impairment, seed uint64, newHost netip.Addr) (sn *simNet, down, up *netsim.Link) {
	cc, sc := testConfigs(t)
	return newBlackoutNetSockets(t, imp, seed, newHost, cc, sc, func(c *netsim.Conn) packetConn { return simSocket{c} })
}

// newBlackoutNetSockets is newBlackoutNet with the configurations and the
// sockets that sock makes of the simulated network's.
func newBlackoutNetSockets(t *testing.T, imp netsim.Impairment, seed uint64, newHost netip.Addr, cc, sc *Config, sock func(*netsim.Conn) packetConn) (sn *simNet, down, up *netsim.Link) {
	sn = newSimNetSockets(t, imp, seed, cc, sc, sock)
	if !newHost.IsValid() {
		return sn, sn.down, sn.up
	}
	down, up = netsim.NewLink(imp, seed+7), netsim.NewLink(imp, seed+8)
	sn.net.SetLink(newHost, serverAddr.Addr(), up)
	sn.net.SetLink(serverAddr.Addr(), newHost, down)
	return sn, down, up
}

// TestSimRebindBlackout: the client's address changes half way through a
// 20 MB download, the new path dark for 50 ms, 200 ms and 1 s. The
// download goes on once the path clears, the bytes intact, after a pause
// of at most twice the blackout (the challenges' intervals double) and a
// second.
func TestSimRebindBlackout(t *testing.T) {
	for _, blackout := range []time.Duration{50 * time.Millisecond, 200 * time.Millisecond, time.Second} {
		t.Run(blackout.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
				defer cancel()
				imp := netsim.Impairment{Delay: 10 * time.Millisecond, RateBitsPerSec: 200e6, QueueBytes: 512 << 10}
				newHost := netip.MustParseAddr("198.18.0.9")
				sn, down, _ := newBlackoutNet(t, imp, 3, newHost)
				client, server := sn.connect(t, ctx)
				data := payload(5, 20<<20)
				sum, gap := download(t, ctx, client, server, data, func() {
					rebindBlackout(sn, newHost, imp, blackout, down)
				})
				if sum != sha256.Sum256(data) {
					t.Fatal("the downloaded bytes differ")
				}
				st := server.Stats()
				t.Logf("new path dark for %v: the data paused %v; path changes %d, validations %d, failures %d",
					blackout, gap, st.PathChanges, st.PathValidations, st.PathValidationFailures)
				if bound := 2*blackout + time.Second; gap > bound {
					t.Errorf("the data paused %v, more than %v", gap, bound)
				}
				if st.PathValidationFailures > 1 {
					// The previous path, which the server validates again
					// (§9.3.3), is gone with the old mapping; the new one
					// must not fail.
					t.Errorf("%d path validations failed", st.PathValidationFailures)
				}
				client.Close()
			})
		})
	}
}

// TestSimRebindBlackoutVariants: the same over a lossy path (0.2% each
// way, several seeds), for a download and an upload, a rebinding of the
// port and of the address, and blackouts from 20 ms to 1 s. In an upload
// the client keeps sending, so the server has the budget; what is dark
// there is the server's ACKs and challenges. In "download-both" the new
// mapping drops the client's packets too: the server learns of the new
// address only from the client's quiet probe (or the PTO probes after
// it) that gets through once the blackout ends.
func TestSimRebindBlackoutVariants(t *testing.T) {
	const size = 4 << 20
	blackouts := []time.Duration{20 * time.Millisecond, 50 * time.Millisecond, 150 * time.Millisecond, 400 * time.Millisecond, time.Second}
	for _, dir := range []string{"download", "upload", "download-both"} {
		for _, addr := range []bool{false, true} {
			for _, blackout := range blackouts {
				for _, seed := range []uint64{11, 23} {
					kind := "port"
					if addr {
						kind = "address"
					}
					t.Run(fmt.Sprintf("%s/%s/%v/seed%d", dir, kind, blackout, seed), func(t *testing.T) {
						synctest.Test(t, func(t *testing.T) {
							ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
							defer cancel()
							imp := netsim.Impairment{Delay: 10 * time.Millisecond, Loss: 0.002, RateBitsPerSec: 100e6, QueueBytes: 256 << 10}
							var newHost netip.Addr
							if addr {
								newHost = netip.MustParseAddr("198.18.0.9")
							}
							sn, down, up := newBlackoutNet(t, imp, seed, newHost)
							client, server := sn.connect(t, ctx)
							data := payload(seed, size)
							sum, gap, _ := blackoutTransfer(t, ctx, sn, client, server, dir, newHost, imp, blackout, data, down, up)
							if sum != sha256.Sum256(data) {
								t.Fatal("the bytes differ")
							}
							t.Logf("the data paused %v", gap)
							if bound := 2*blackout + time.Second; gap > bound {
								t.Errorf("the data paused %v, more than %v", gap, bound)
							}
							client.Close()
						})
					})
				}
			}
		}
	}
}

// blackoutTransfer downloads or uploads (dir: "download", "upload", or
// "download-both" with up dark too) data between client and server,
// rebinding the client's socket on sn half way, with down dark for
// blackout; it returns the hash of what arrived, the longest pause in it,
// and when the rebinding was.
func blackoutTransfer(t *testing.T, ctx context.Context, sn *simNet, client, server *Conn, dir string, newHost netip.Addr, imp netsim.Impairment, blackout time.Duration, data []byte, down, up *netsim.Link) (sum [32]byte, gap time.Duration, rebound time.Time) {
	t.Helper()
	dark := []*netsim.Link{down}
	if dir == "download-both" {
		dark = append(dark, up)
	}
	at := func() {
		rebound = time.Now()
		rebindBlackout(sn, newHost, imp, blackout, dark...)
	}
	if dir == "upload" {
		sum, gap = upload(t, ctx, client, server, data, at)
	} else {
		sum, gap = download(t, ctx, client, server, data, at)
	}
	return sum, gap, rebound
}

// upload has the client send data on a stream it opens; the server hashes
// what it reads and records the longest gap between two reads that
// returned data. at, when set, runs once the server has read half.
func upload(t *testing.T, ctx context.Context, client, server *Conn, data []byte, at func()) (sum [32]byte, maxGap time.Duration) {
	t.Helper()
	type result struct {
		sum [32]byte
		gap time.Duration
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() { done <- r }()
		s, err := server.AcceptStream(ctx)
		if err != nil {
			r.err = err
			return
		}
		if r.sum, r.gap, r.err = readTimed(s, len(data), at); r.err == nil {
			r.err = s.Close()
		}
	}()
	s, err := client.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.sum, r.gap
}
