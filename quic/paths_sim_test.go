package quic

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/udpio"
)

// Paths over the simulated network (issue 16, "Must show"; issue 15,
// defect 1): NAT rebinding of port and address, a spoofed replay, client
// migration, the preferred address, path MTU black holes.

// download has the server send data on a stream the client opens; the
// client hashes what it reads and records the longest gap between two
// reads that returned data. at, when set, runs once the client has read
// half.
func download(t *testing.T, ctx context.Context, client, server *Conn, data []byte, at func()) (sum [32]byte, maxGap time.Duration) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		s, err := server.AcceptStream(ctx)
		if err != nil {
			errc <- err
			return
		}
		if _, err := io.ReadAll(s); err != nil {
			errc <- err
			return
		}
		if _, err := s.Write(data); err != nil {
			errc <- err
			return
		}
		errc <- s.Close()
	}()
	s, err := client.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Write([]byte("GET"))
	s.Close()
	sum, maxGap, err = readTimed(s, len(data), at)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return sum, maxGap
}

// readTimed reads r to its end, hashing what it reads and recording the
// longest gap between two reads that returned data; at, when set, runs
// once half of size was read.
func readTimed(r io.Reader, size int, at func()) (sum [32]byte, maxGap time.Duration, err error) {
	h := sha256.New()
	buf := make([]byte, 64<<10)
	got, last := 0, time.Now()
	for {
		n, err := r.Read(buf)
		if n > 0 {
			h.Write(buf[:n])
			if got < size/2 && got+n >= size/2 && at != nil {
				at()
			}
			got += n
			maxGap = max(maxGap, time.Since(last))
			last = time.Now()
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return sum, maxGap, fmt.Errorf("read after %d bytes: %w", got, err)
		}
	}
	copy(sum[:], h.Sum(nil))
	return sum, maxGap, nil
}

// pathLog records a Tracer's path events with their times.
type pathLog struct {
	mu     sync.Mutex
	events []pathEvent
}

type pathEvent struct {
	at     time.Time
	state  string
	remote netip.AddrPort
}

func (l *pathLog) tracer(_ bool, _ []byte) *Tracer {
	return &Tracer{MigrationState: func(state string, _, remote netip.AddrPort) {
		l.mu.Lock()
		l.events = append(l.events, pathEvent{time.Now(), state, remote})
		l.mu.Unlock()
	}}
}

// first returns the time of the first event of state for remote.
func (l *pathLog) first(state string, remote netip.AddrPort) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if e.state == state && e.remote == remote {
			return e.at, true
		}
	}
	return time.Time{}, false
}

// TestSimRebindMidDownload: a 50 MB download survives a NAT rebinding of
// the client's port, and of its address, half way through. The server
// follows the client's new address at once and validates it in one round
// trip; the longest pause in the data the client reads is reported.
func TestSimRebindMidDownload(t *testing.T) {
	const size = 50 << 20
	const delay = 10 * time.Millisecond // one way: an RTT of 20 ms
	for _, tc := range []struct {
		name string
		addr bool
	}{{"port", false}, {"address", true}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
				defer cancel()
				imp := netsim.Impairment{Delay: delay, RateBitsPerSec: 200e6, QueueBytes: 512 << 10}
				cc, sc := testConfigs(t)
				var log pathLog
				sc.Tracer = log.tracer
				sn := newSimNetWith(t, imp, 3, cc, sc)
				newHost := netip.MustParseAddr("198.18.0.9")
				sn.net.SetLink(newHost, serverAddr.Addr(), sn.up)
				sn.net.SetLink(serverAddr.Addr(), newHost, sn.down)
				client, server := sn.connect(t, ctx)
				data := payload(5, size)
				var rebound netip.AddrPort
				var reboundAt time.Time
				sum, gap := download(t, ctx, client, server, data, func() {
					reboundAt = time.Now()
					if tc.addr {
						rebound = sn.net.RebindAddr(sn.clientSock, newHost)
					} else {
						rebound = sn.net.Rebind(sn.clientSock)
					}
				})
				if sum != sha256.Sum256(data) {
					t.Fatal("the downloaded bytes differ")
				}
				if got := server.RemoteAddr(); got != rebound {
					t.Fatalf("server sends to %v, the client is at %v", got, rebound)
				}
				moved, ok1 := log.first("migration_complete", rebound)
				valid, ok2 := log.first("probing_successful", rebound)
				if !ok1 || !ok2 {
					t.Fatalf("path events: %+v", log.events)
				}
				st := server.Stats()
				rtt := 2 * delay
				t.Logf("%s rebinding: the server moved %v after it, validated the path %v later; longest pause in the data %v (%.1f RTT); path changes %d, validations %d, cwnd %d, srtt %v",
					tc.name, moved.Sub(reboundAt), valid.Sub(moved), gap, float64(gap)/float64(rtt), st.PathChanges, st.PathValidations, st.CongestionWindow, st.SmoothedRTT)
				// One round trip to validate (plus the 1200-byte datagrams'
				// serialization and scheduling).
				if v := valid.Sub(moved); v > rtt+5*time.Millisecond {
					t.Errorf("validation took %v, more than one RTT (%v)", v, rtt)
				}
				// The pause: the client's first packet from its new
				// address (at most an ACK delay and a one-way trip after
				// the rebinding), the validation's round trip, and the
				// data's one-way trip back.
				if bound := 2*rtt + 25*time.Millisecond + 10*time.Millisecond; gap > bound {
					t.Errorf("the data paused %v, more than %v", gap, bound)
				}
				if st.PathValidationFailures != 0 {
					t.Errorf("%d validations failed", st.PathValidationFailures)
				}
				client.Close()
			})
		})
	}
}

// TestSimSpoofedReplay (issue 15, defect 1): an attacker copies a genuine
// 1-RTT packet of the client's and sends it, from a victim's address,
// ahead of the original. The server moves to the victim's address but
// sends it at most three times what it received from there (RFC 9000
// §9.3.1), and returns to the client: at once when the client's next
// packet arrives (§9.3.2), or when the victim's address fails validation
// after 3 PTOs if the client stays silent.
func TestSimSpoofedReplay(t *testing.T) {
	for _, silent := range []bool{false, true} {
		name := "client-active"
		if silent {
			name = "client-silent"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
				defer cancel()
				imp := netsim.Impairment{Delay: 10 * time.Millisecond, RateBitsPerSec: 100e6, QueueBytes: 256 << 10}
				sn := newSimNet(t, imp, 11)
				victimAddr := netip.MustParseAddrPort("203.0.113.7:5353")
				victim, err := sn.net.Listen(victimAddr)
				if err != nil {
					t.Fatal(err)
				}
				var victimBytes, victimDatagrams int
				victimDone := make(chan struct{})
				go func() {
					defer close(victimDone)
					buf := make([]byte, 65536)
					for {
						n, _, err := victim.ReadFromUDPAddrPort(buf)
						if err != nil {
							return
						}
						victimBytes += n
						victimDatagrams++
					}
				}()
				client, server := sn.connect(t, ctx)
				data := payload(6, 8<<20)
				var spoofed int
				var once sync.Once
				sum, _ := download(t, ctx, client, server, data, func() {
					sn.net.Tap(func(from, to netip.AddrPort, b []byte) {
						if from != clientAddr || len(b) == 0 || b[0]&0x80 != 0 {
							return
						}
						once.Do(func() {
							spoofed = len(b)
							sn.net.Inject(victimAddr, to, b)
							if silent {
								// The client is cut off for 5 s: nothing
								// moves the server back but the timeout.
								black := imp
								black.Blackhole = true
								sn.up.Set(black)
								time.AfterFunc(5*time.Second, func() { sn.up.Set(imp) })
							}
						})
					})
				})
				sn.net.Tap(nil)
				if sum != sha256.Sum256(data) {
					t.Fatal("the downloaded bytes differ")
				}
				if got := server.RemoteAddr(); got != clientAddr {
					t.Fatalf("server sends to %v, want the client at %v", got, clientAddr)
				}
				st := server.Stats()
				client.Close()
				server.Close()
				victim.Close()
				<-victimDone
				t.Logf("replayed %d bytes from the victim's address; the server sent it %d bytes in %d datagrams (%.2f×); path changes %d, validation failures %d",
					spoofed, victimBytes, victimDatagrams, float64(victimBytes)/float64(spoofed), st.PathChanges, st.PathValidationFailures)
				if spoofed == 0 {
					t.Fatal("nothing was replayed")
				}
				if victimBytes > 3*spoofed {
					t.Errorf("the victim got %d bytes for %d spoofed: over the 3× limit", victimBytes, spoofed)
				}
				if st.PathChanges < 2 {
					t.Errorf("%d path changes, want the move and the return", st.PathChanges)
				}
				if silent && st.PathValidationFailures == 0 {
					t.Error("the victim's address never failed validation")
				}
			})
		})
	}
}

// TestSimClientMigrate: a client moves to a new local socket half way
// through a download. It probes first, then switches; the connection IDs
// it sends with from the new address are not those of the old one, and
// the server's answer with new ones too (RFC 9000 §9.5).
func TestSimClientMigrate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		imp := netsim.Impairment{Delay: 10 * time.Millisecond, RateBitsPerSec: 100e6, QueueBytes: 256 << 10}
		sn := newSimNet(t, imp, 13)
		newAddr := netip.MustParseAddrPort("198.18.0.5:41000")
		sn.net.SetLink(newAddr.Addr(), serverAddr.Addr(), sn.up)
		sn.net.SetLink(serverAddr.Addr(), newAddr.Addr(), sn.down)
		var mu sync.Mutex
		ids := map[netip.AddrPort]map[string]bool{}
		sn.net.Tap(func(from, to netip.AddrPort, b []byte) {
			if len(b) < 9 || b[0]&0x80 != 0 {
				return // long header
			}
			peer := from
			if from == serverAddr {
				peer = to
			}
			mu.Lock()
			if ids[peer] == nil {
				ids[peer] = map[string]bool{}
			}
			ids[peer][string(b[1:9])] = true
			mu.Unlock()
		})
		client, server := sn.connect(t, ctx)
		data := payload(7, 8<<20)
		migrated := make(chan error, 1)
		sum, _ := download(t, ctx, client, server, data, func() {
			sock, err := sn.net.Listen(newAddr)
			if err != nil {
				t.Error(err)
				return
			}
			go func() { migrated <- client.migrate(ctx, simSocket{sock}) }()
		})
		if err := <-migrated; err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		if sum != sha256.Sum256(data) {
			t.Fatal("the downloaded bytes differ")
		}
		if got := server.RemoteAddr(); got != newAddr {
			t.Fatalf("server sends to %v, want %v", got, newAddr)
		}
		if got := client.LocalAddr(); got != newAddr {
			t.Fatalf("client's LocalAddr %v, want %v", got, newAddr)
		}
		mu.Lock()
		for id := range ids[newAddr] {
			if ids[clientAddr][id] {
				t.Errorf("connection ID %x used on both paths", id)
			}
		}
		mu.Unlock()
		cs, ss := client.Stats(), server.Stats()
		t.Logf("client: path changes %d, validations %d; server: path changes %d, validations %d; %d and %d connection IDs on the old and new paths",
			cs.PathChanges, cs.PathValidations, ss.PathChanges, ss.PathValidations, len(ids[clientAddr]), len(ids[newAddr]))
		if cs.PathChanges != 1 || ss.PathChanges != 1 {
			t.Errorf("path changes: client %d, server %d, want 1 each", cs.PathChanges, ss.PathChanges)
		}
		client.Close()
	})
}

// TestSimMigrationDisabled: a server that sent disable_active_migration
// sees no migration: Migrate refuses, and the connection goes on.
func TestSimMigrationDisabled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		cc, sc := testConfigs(t)
		sc.DisableActiveMigration = true
		sn := newSimNetWith(t, netsim.Impairment{Delay: 5 * time.Millisecond}, 17, cc, sc)
		client, server := sn.connect(t, ctx)
		transfer(t, ctx, client, server, []byte("confirm the handshake"))
		sock, err := sn.net.Listen(netip.MustParseAddrPort("198.18.0.5:41000"))
		if err != nil {
			t.Fatal(err)
		}
		if err := client.migrate(ctx, simSocket{sock}); !errors.Is(err, ErrMigrationDisabled) {
			t.Fatalf("Migrate: %v, want ErrMigrationDisabled", err)
		}
		data := payload(8, 1<<20)
		if transfer(t, ctx, client, server, data) != sha256.Sum256(data) {
			t.Fatal("hash differs")
		}
		if got := client.LocalAddr(); got != clientAddr {
			t.Errorf("client moved to %v", got)
		}
	})
}

// TestSimPreferredAddress: a server announces a preferred address on a
// second socket; the client validates it after the handshake and moves
// there. A preferred address that never answers leaves the connection on
// the original path.
func TestSimPreferredAddress(t *testing.T) {
	for _, reachable := range []bool{true, false} {
		name := "followed"
		if !reachable {
			name = "unreachable"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
				defer cancel()
				imp := netsim.Impairment{Delay: 10 * time.Millisecond, RateBitsPerSec: 100e6, QueueBytes: 256 << 10}
				sn := newSimNet(t, imp, 19)
				preferred := netip.MustParseAddrPort("198.18.0.3:4434")
				sn.net.SetLink(clientAddr.Addr(), preferred.Addr(), sn.up)
				sn.net.SetLink(preferred.Addr(), clientAddr.Addr(), sn.down)
				if reachable {
					ps, err := sn.net.Listen(preferred)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := sn.server.addSocket(simSocket{ps}, nil); err != nil {
						t.Fatal(err)
					}
				}
				sn.server.announcePreferred(preferred, netip.AddrPort{})
				client, server := sn.connect(t, ctx)
				data := payload(9, 4<<20)
				sum, _ := download(t, ctx, client, server, data, nil)
				if sum != sha256.Sum256(data) {
					t.Fatal("the downloaded bytes differ")
				}
				// Validation is abandoned after 3 PTOs, at least 3 s
				// (RFC 9000 §8.2.4: with kInitialRtt for the new path).
				time.Sleep(4 * time.Second)
				cs := client.Stats()
				t.Logf("client at the end: server address %v, path changes %d, validations %d, failures %d", client.RemoteAddr(), cs.PathChanges, cs.PathValidations, cs.PathValidationFailures)
				if reachable {
					if got := client.RemoteAddr(); got != preferred {
						t.Fatalf("client sends to %v, want the preferred address %v", got, preferred)
					}
					if got := server.LocalAddr(); got != preferred {
						t.Fatalf("server sends from %v, want %v", got, preferred)
					}
					return
				}
				if got := client.RemoteAddr(); got != serverAddr {
					t.Fatalf("client sends to %v, want the original %v", got, serverAddr)
				}
				if cs.PathValidationFailures != 1 || cs.PathChanges != 0 {
					t.Errorf("failures %d, changes %d: want the preferred address abandoned and no move", cs.PathValidationFailures, cs.PathChanges)
				}
			})
		})
	}
}

// jumboSocket is a simulated socket that receives datagrams of up to 64
// KiB (into the buffers a socket with GRO gets), so that the endpoint
// advertises a max_udp_payload_size beyond 1500 bytes.
type jumboSocket struct{ simSocket }

func (s jumboSocket) Capabilities() udpio.Capabilities {
	return udpio.Capabilities{ECN: true, GRO: true}
}

// TestSimPMTUBlackHole: with 9000-byte datagrams allowed, the search
// settles below a 4000-byte path MTU; when the path's MTU falls to 1280
// mid-transfer (large datagrams vanish, no ICMP), black hole detection
// drops the size and the transfer completes. A local interface that
// refuses large datagrams (EMSGSIZE) drops it at once.
func TestSimPMTUBlackHole(t *testing.T) {
	for _, local := range []bool{false, true} {
		name := "path"
		if local {
			name = "local-interface"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
				defer cancel()
				imp := netsim.Impairment{Delay: 10 * time.Millisecond, RateBitsPerSec: 200e6, QueueBytes: 1 << 20, MTU: 4000}
				cc, sc := testConfigs(t)
				cc.MaxDatagramSize, sc.MaxDatagramSize = 9000, 9000
				sn := newSimNetSockets(t, imp, 23, cc, sc, func(c *netsim.Conn) packetConn { return jumboSocket{simSocket{c}} })
				client, server := sn.connect(t, ctx)
				// Each size the path drops fails after three lost probes:
				// the search takes a few round trips of traffic.
				for range 20 {
					transfer(t, ctx, client, server, payload(10, 1<<20))
					download(t, ctx, client, server, payload(10, 1<<20), nil)
					if server.Stats().PathMTU >= 4000-256 && client.Stats().PathMTU >= 4000-256 {
						break
					}
				}
				before := server.Stats().PathMTU
				data := payload(11, 16<<20)
				sum, _ := download(t, ctx, client, server, data, func() {
					if local {
						sn.serverSock.SetMTU(1252)
						return
					}
					small := imp
					small.MTU = 1252 // 1280 less IPv4 and UDP headers
					sn.down.Set(small)
				})
				if sum != sha256.Sum256(data) {
					t.Fatal("the downloaded bytes differ")
				}
				st := server.Stats()
				t.Logf("path MTU %d before (path carries 4000), %d after the drop to 1252; black holes %d, packets lost %d",
					before, st.PathMTU, st.MTUBlackHoles, st.PacketsLost)
				if before > 4000 || before < 4000-256 {
					t.Errorf("search settled at %d, want within 256 below 4000", before)
				}
				if st.PathMTU > 1252 || st.MTUBlackHoles == 0 {
					t.Errorf("after the drop: size %d, %d black holes", st.PathMTU, st.MTUBlackHoles)
				}
			})
		})
	}
}
