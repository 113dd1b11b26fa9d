package quic

import (
	"context"
	"crypto/sha256"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
)

// TestSimRebindBlackout: a NAT rebinding mid-download, and the server's
// first datagrams to the client's new address lost for a while. The server
// sends the unvalidated address at most three times what came from it
// (RFC 9000 §9.3.1) and then waits for more: that wait spun its driver on
// an ACK it could not send (a CPU-bound stall, seen as an idle timeout on
// a loaded machine) before Deadline left out what the limit forbids. The
// download goes on once the path clears, the bytes intact.
func TestSimRebindBlackout(t *testing.T) {
	for _, blackout := range []time.Duration{50 * time.Millisecond, 200 * time.Millisecond, time.Second} {
		t.Run(blackout.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
				defer cancel()
				imp := netsim.Impairment{Delay: 10 * time.Millisecond, RateBitsPerSec: 200e6, QueueBytes: 512 << 10}
				cc, sc := testConfigs(t)
				sn := newSimNetWith(t, imp, 3, cc, sc)
				newHost := netip.MustParseAddr("198.18.0.9")
				down := netsim.NewLink(imp, 9)
				sn.net.SetLink(newHost, serverAddr.Addr(), sn.up)
				sn.net.SetLink(serverAddr.Addr(), newHost, down)
				client, server := sn.connect(t, ctx)
				data := payload(5, 20<<20)
				sum, gap := download(t, ctx, client, server, data, func() {
					down.Set(netsim.Impairment{Blackhole: true})
					sn.net.RebindAddr(sn.clientSock, newHost)
					time.AfterFunc(blackout, func() { down.Set(imp) })
				})
				if sum != sha256.Sum256(data) {
					t.Fatal("the downloaded bytes differ")
				}
				t.Logf("new path dark for %v: the data paused %v", blackout, gap)
				if bound := 2*blackout + time.Second; gap > bound {
					t.Errorf("the data paused %v, more than %v", gap, bound)
				}
				client.Close()
			})
		})
	}
}
