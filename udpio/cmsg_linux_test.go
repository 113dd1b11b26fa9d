package udpio

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// controlFixture is control data as the kernel writes it for a datagram on a
// dual-stack wildcard socket with GRO: TOS, both packet infos, GRO size.
func controlFixture() []byte {
	b := make([]byte, recvControlSpace)
	n := 0
	data, used := putCmsg(b[n:], unix.IPPROTO_IP, unix.IP_TOS, 1)
	data[0] = 0xb9 // DSCP 46, ECN ECT(1)
	n += used
	data, used = putCmsg(b[n:], unix.IPPROTO_IP, unix.IP_PKTINFO, unix.SizeofInet4Pktinfo)
	binary.NativeEndian.PutUint32(data, 1)
	copy(data[4:8], []byte{127, 0, 0, 9})
	copy(data[8:12], []byte{127, 0, 0, 2})
	n += used
	data, used = putCmsg(b[n:], unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, unix.SizeofInet6Pktinfo)
	a := netip.MustParseAddr("::ffff:127.0.0.7").As16()
	copy(data, a[:])
	n += used
	data, used = putCmsg(b[n:], unix.IPPROTO_UDP, unix.UDP_GRO, 4)
	binary.NativeEndian.PutUint32(data, 1452)
	n += used
	return b[:n]
}

func TestParseControl(t *testing.T) {
	b := controlFixture()
	var m recvMeta
	if err := parseControl(b, &m); err != nil {
		t.Fatal(err)
	}
	want := recvMeta{tos: 0xb9, hasTOS: true, local: netip.MustParseAddr("127.0.0.2"), segSize: 1452}
	if m != want {
		t.Fatalf("parseControl = %+v, want %+v", m, want)
	}
}

func TestParseControlIPv6(t *testing.T) {
	b := make([]byte, recvControlSpace)
	n := 0
	data, used := putCmsg(b, unix.IPPROTO_IPV6, unix.IPV6_TCLASS, 4)
	binary.NativeEndian.PutUint32(data, 0x02)
	n += used
	data, used = putCmsg(b[n:], unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, unix.SizeofInet6Pktinfo)
	a := netip.MustParseAddr("2001:db8::5").As16()
	copy(data, a[:])
	n += used
	// An old kernel's uint16 GRO size.
	data, used = putCmsg(b[n:], unix.IPPROTO_UDP, unix.UDP_GRO, 2)
	binary.NativeEndian.PutUint16(data, 1200)
	n += used
	var m recvMeta
	if err := parseControl(b[:n], &m); err != nil {
		t.Fatal(err)
	}
	if m.tos != 2 || m.local != netip.MustParseAddr("2001:db8::5") || m.segSize != 1200 {
		t.Fatalf("parseControl = %+v", m)
	}
}

// TestParseControlTruncated feeds every prefix of valid control data, and
// damaged lengths: no panic, and what comes before the damage is kept.
func TestParseControlTruncated(t *testing.T) {
	b := controlFixture()
	for n := range len(b) {
		var m recvMeta
		err := parseControl(b[:n], &m)
		if n > 0 && n < cmsgHdrLen && err == nil {
			t.Errorf("prefix %d: a partial header parsed without error", n)
		}
		// The first message is whole from 17 bytes on (header + 1 byte).
		if n >= cmsgHdrLen+1 && !m.hasTOS {
			t.Errorf("prefix %d: TOS of the whole first message lost", n)
		}
	}
	if cmsgLenSize != 8 {
		return // the damaged lengths below are written in the 64-bit layout
	}
	lengths := []uint64{0, 1, uint64(cmsgHdrLen - 1), uint64(len(b) + 1), 1 << 62, ^uint64(0)}
	for _, l := range lengths {
		d := append([]byte(nil), b...)
		binary.NativeEndian.PutUint64(d, l) // first message's length; 64-bit layout
		var m recvMeta
		if err := parseControl(d, &m); err == nil && (l < uint64(cmsgHdrLen) || l > uint64(len(d))) {
			t.Errorf("length %d accepted", l)
		}
	}
	// Short data in known messages is ignored, not read past.
	short := make([]byte, 64)
	_, used := putCmsg(short, unix.IPPROTO_IP, unix.IP_PKTINFO, 3)
	_, used2 := putCmsg(short[used:], unix.IPPROTO_UDP, unix.UDP_GRO, 1)
	var m recvMeta
	if err := parseControl(short[:used+used2], &m); err != nil || m.local.IsValid() || m.segSize != 0 {
		t.Errorf("short messages: %+v, %v", m, err)
	}
}

func TestBuildControlParses(t *testing.T) {
	b := make([]byte, sendControlSpace)
	n := buildControl(b, sendControl{segSize: 1452, ecn: ECNECT1, from: netip.MustParseAddr("2001:db8::1"), family: unix.AF_INET6})
	if n > sendControlSpace {
		t.Fatalf("control %d bytes > %d", n, sendControlSpace)
	}
	var m recvMeta
	if err := parseControl(b[:n], &m); err != nil {
		t.Fatal(err)
	}
	// The send-side UDP_SEGMENT is not a receive message; TCLASS and
	// PKTINFO share the receive layout.
	if m.tos != 1 || m.local != netip.MustParseAddr("2001:db8::1") {
		t.Fatalf("round trip: %+v", m)
	}
}

func FuzzParseControl(f *testing.F) {
	f.Add(controlFixture())
	f.Add([]byte{})
	f.Add(make([]byte, cmsgHdrLen))
	f.Add(controlFixture()[:40])
	f.Fuzz(func(t *testing.T, b []byte) {
		var m recvMeta
		parseControl(b, &m)
		if m.segSize < 0 {
			t.Fatalf("negative segment size %d", m.segSize)
		}
	})
}
