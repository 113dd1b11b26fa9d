package relay

import (
	"encoding/binary"
	"io"
	"net/netip"
	"time"
)

// WritePcap writes a capture as a pcap file (LINKTYPE_RAW: IPv4 or IPv6
// packets) that Wireshark and tshark open, and decrypt given the key log:
// each datagram once, as it reached the relay, between the client's
// address as the server sees it and the server's address, with its ECN
// mark and its payload as sent. Times count from start.
func WritePcap(w io.Writer, capture []Datagram, server netip.AddrPort, start time.Time) error {
	var hdr [24]byte
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4) // microsecond timestamps
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535)
	binary.LittleEndian.PutUint32(hdr[20:], 101) // LINKTYPE_RAW
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	for _, d := range capture {
		src, dst := d.Path, server
		if d.Dir == ToClient {
			src, dst = dst, src
		}
		pkt := ipPacket(src, dst, d.ECN, d.Payload)
		t := start.Add(d.Arrived)
		var rec [16]byte
		binary.LittleEndian.PutUint32(rec[0:], uint32(t.Unix()))
		binary.LittleEndian.PutUint32(rec[4:], uint32(t.Nanosecond()/1000))
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(pkt)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(pkt)))
		if _, err := w.Write(rec[:]); err != nil {
			return err
		}
		if _, err := w.Write(pkt); err != nil {
			return err
		}
	}
	return nil
}

// ipPacket wraps a UDP payload in UDP and IP headers. The UDP checksum is
// left zero (allowed for IPv4; Wireshark does not check it by default).
func ipPacket(src, dst netip.AddrPort, ecn uint8, payload []byte) []byte {
	udp := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(udp[0:], src.Port())
	binary.BigEndian.PutUint16(udp[2:], dst.Port())
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(payload)))
	udp = append(udp, payload...)
	if src.Addr().Is4() || src.Addr().Is4In6() {
		ip := make([]byte, 20, 20+len(udp))
		ip[0], ip[1] = 0x45, ecn
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(udp)))
		ip[8], ip[9] = 64, 17
		s, d := src.Addr().Unmap().As4(), dst.Addr().Unmap().As4()
		copy(ip[12:], s[:])
		copy(ip[16:], d[:])
		var sum uint32
		for i := 0; i < 20; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(ip[i:]))
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
		return append(ip, udp...)
	}
	ip := make([]byte, 40, 40+len(udp))
	binary.BigEndian.PutUint32(ip[0:], 6<<28|uint32(ecn)<<20)
	binary.BigEndian.PutUint16(ip[4:], uint16(len(udp)))
	ip[6], ip[7] = 17, 64
	s, d := src.Addr().As16(), dst.Addr().As16()
	copy(ip[8:], s[:])
	copy(ip[24:], d[:])
	return append(ip, udp...)
}
