package relay

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock the test steps by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// peer is a UDP socket that sends and receives with ECN marks.
type peer struct {
	t *testing.T
	c *net.UDPConn
}

func newPeer(t *testing.T) *peer {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := prepareSocket(c, false); err != nil {
		t.Fatal(err)
	}
	return &peer{t, c}
}

func (p *peer) addr() netip.AddrPort { return p.c.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p *peer) send(to netip.AddrPort, msg string, ecn uint8) {
	if _, _, err := p.c.WriteMsgUDPAddrPort([]byte(msg), ecnControl(ecn, to), to); err != nil {
		p.t.Fatal(err)
	}
}

func (p *peer) recv(ctx context.Context) (string, netip.AddrPort, uint8) {
	deadline, _ := ctx.Deadline()
	p.c.SetReadDeadline(deadline)
	buf, oob := make([]byte, 1500), make([]byte, 128)
	n, oobn, _, from, err := p.c.ReadMsgUDPAddrPort(buf, oob)
	if err != nil {
		p.t.Fatal(err)
	}
	return string(buf[:n]), from, readECN(oob[:oobn])
}

// Through the relay over loopback: ECN marks survive both ways, the
// server sees the NAT's address, and after a rebinding a new address and
// port, while what it sends to the old mapping is dropped; the capture
// records all of it.
func TestRelayNATAndECN(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	client, server := newPeer(t), newPeer(t)
	clock := &fakeClock{now: time.Unix(1000, 0)}
	r, err := Start(Config{
		Network:  Network{RebindFirst: time.Second, RebindEvery: 5 * time.Second, RebindAddr: true},
		Listen:   netip.MustParseAddrPort("127.0.0.1:0"),
		Server:   server.addr(),
		Outbound: []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")},
		Clock:    clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	client.send(r.Addr(), "hello", ECNECT0)
	msg, path1, ecn := server.recv(ctx)
	if msg != "hello" || ecn != ECNECT0 || path1.Addr() != netip.MustParseAddr("127.0.0.2") {
		t.Fatalf("server got %q from %v with ECN %d", msg, path1, ecn)
	}
	server.send(path1, "hi", ECNECT1)
	msg, from, ecn := client.recv(ctx)
	if msg != "hi" || ecn != ECNECT1 || from != r.Addr() {
		t.Fatalf("client got %q from %v with ECN %d", msg, from, ecn)
	}

	clock.Advance(time.Second) // the first rebinding
	client.send(r.Addr(), "again", ECNNotECT)
	msg, path2, ecn := server.recv(ctx)
	if msg != "again" || ecn != ECNNotECT || path2.Addr() != netip.MustParseAddr("127.0.0.3") || path2.Port() == path1.Port() {
		t.Fatalf("after rebinding, server got %q from %v (before: %v)", msg, path2, path1)
	}
	server.send(path1, "to the old mapping", ECNNotECT)
	server.send(path2, "to the new one", ECNCE)
	msg, _, ecn = client.recv(ctx)
	if msg != "to the new one" || ecn != ECNCE {
		t.Fatalf("client got %q with ECN %d", msg, ecn)
	}
	// The dropped datagram may be recorded after the delivered one.
	for ctx.Err() == nil {
		r.mu.Lock()
		n := len(r.capture)
		r.mu.Unlock()
		if n == 5 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	r.Close()
	want := map[string]Datagram{
		"hello":              {Dir: ToServer, Client: client.addr(), Path: path1, ECN: ECNECT0},
		"hi":                 {Dir: ToClient, Client: client.addr(), Path: path1, ECN: ECNECT1},
		"again":              {Dir: ToServer, Client: client.addr(), Path: path2, Arrived: time.Second},
		"to the old mapping": {Dir: ToClient, Client: client.addr(), Path: path1, Arrived: time.Second, Fate: Fate{Drop: NATDrop}},
		"to the new one":     {Dir: ToClient, Client: client.addr(), Path: path2, Arrived: time.Second, ECN: ECNCE},
	}
	for _, d := range r.Capture() {
		w, ok := want[string(d.Payload)]
		if !ok || d.Dir != w.Dir || d.Client != w.Client || d.Path != w.Path || d.ECN != w.ECN || d.Fate.Drop != w.Fate.Drop || d.Arrived != w.Arrived {
			t.Errorf("captured %q: %+v, want %+v", d.Payload, d, w)
		}
		delete(want, string(d.Payload))
	}
	if len(want) > 0 {
		t.Errorf("not captured: %v", want)
	}
}

// The pcap holds one record per datagram, an IPv4 packet with a valid
// header checksum, the ECN mark and the ports, and the payload.
func TestWritePcap(t *testing.T) {
	client := netip.MustParseAddrPort("198.18.1.1:5000")
	server := netip.MustParseAddrPort("198.18.1.2:443")
	capture := []Datagram{
		{Dir: ToServer, Path: client, ECN: ECNECT0, Payload: []byte("hello"), Arrived: time.Millisecond},
		{Dir: ToClient, Path: client, Payload: []byte("hi")},
	}
	var buf bytes.Buffer
	if err := WritePcap(&buf, capture, server, time.Unix(100, 0)); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 || binary.LittleEndian.Uint32(b[20:]) != 101 {
		t.Fatalf("header %x", b[:24])
	}
	b = b[24:]
	rec := func() []byte {
		n := binary.LittleEndian.Uint32(b[8:])
		pkt := b[16 : 16+n]
		b = b[16+n:]
		return pkt
	}
	ip := rec()
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	if sum != 0xffff || ip[1] != ECNECT0 || binary.BigEndian.Uint16(ip[20:]) != 5000 || binary.BigEndian.Uint16(ip[22:]) != 443 || string(ip[28:]) != "hello" {
		t.Errorf("first packet %x (checksum sum %x)", ip, sum)
	}
	ip = rec()
	if binary.BigEndian.Uint16(ip[20:]) != 443 || string(ip[28:]) != "hi" || len(b) != 0 {
		t.Errorf("second packet %x, %d bytes left", ip, len(b))
	}
}
