package relay

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

// A relay with an extra route: a client sending to the extra front
// reaches the second server address through its one NAT mapping, and the
// answer comes back from the extra front; the capture names the server
// address of each datagram.
func TestExtraRoute(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	server, preferred, client := newPeer(t), newPeer(t), newPeer(t)
	loop := netip.MustParseAddr("127.0.0.1")
	r, err := Start(Config{
		Listen: netip.AddrPortFrom(loop, 0), Server: server.addr(),
		Extra: []Route{{Listen: netip.AddrPortFrom(loop, 0), Server: preferred.addr()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	client.send(r.Addr(), "one", 0)
	_, path1, _ := server.recv(ctx)
	client.send(r.ExtraAddr(0), "two", 0)
	msg, path2, _ := preferred.recv(ctx)
	if msg != "two" || path2 != path1 {
		t.Fatalf("preferred got %q from %v; the first server saw the client at %v", msg, path2, path1)
	}
	preferred.send(path2, "back", 0)
	msg, from, _ := client.recv(ctx)
	if msg != "back" || from != r.ExtraAddr(0) {
		t.Fatalf("client got %q from %v, want it from the extra front %v", msg, from, r.ExtraAddr(0))
	}
	r.Close()
	var servers []netip.AddrPort
	for _, d := range r.Capture() {
		servers = append(servers, d.Server)
	}
	want := []netip.AddrPort{server.addr(), preferred.addr(), preferred.addr()}
	if len(servers) != 3 || servers[0] != want[0] || servers[1] != want[1] || servers[2] != want[2] {
		t.Errorf("captured server addresses %v, want %v", servers, want)
	}
}
