package quic

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
)

// Version negotiation between endpoints (RFC 9368, RFC 9369): compatible
// (the server moves the client to a version it offered, no round trip),
// incompatible (a Version Negotiation packet, a new first flight) and
// none in common.
func TestSimVersionNegotiation(t *testing.T) {
	for _, tc := range []struct {
		name           string
		client, server []Version
		want           Version
		rtts           int // round trips to the handshake's end at the client
	}{
		{"defaults", nil, nil, Version1, 1},
		{"compatible v1 to v2", nil, []Version{Version2, Version1}, Version2, 1},
		{"incompatible v1 to v2", nil, []Version{Version2}, Version2, 2},
		{"v2 from the start", []Version{Version2}, nil, Version2, 1},
		{"none in common", []Version{Version2}, []Version{Version1}, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
				defer cancel()
				cc, sc := testConfigs(t)
				cc.Versions, sc.Versions = tc.client, tc.server
				sn := newSimNetWith(t, netsim.Impairment{Delay: 50 * time.Millisecond}, 1, cc, sc)
				es := serveEcho(ctx, sn.server)
				start := time.Now()
				c, err := sn.client.Dial(ctx, serverAddr, cc)
				if tc.want == 0 {
					if !errors.Is(err, ErrNoCompatibleVersion) {
						t.Fatalf("dial: %v, want ErrNoCompatibleVersion", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if d, want := time.Since(start), time.Duration(tc.rtts)*100*time.Millisecond; d < want || d > want+50*time.Millisecond {
					t.Fatalf("handshake took %v, want about %v", d, want)
				}
				if answer, _ := request(t, ctx, c, "v", time.Now()); answer != "V" {
					t.Fatalf("answer %q", answer)
				}
				if c.Version() != tc.want {
					t.Fatalf("client in %v, want %v", c.Version(), tc.want)
				}
				c.Close()
				synctest.Wait()
				if es.requests.Load() != 1 {
					t.Fatal("request not served")
				}
			})
		})
	}
}
