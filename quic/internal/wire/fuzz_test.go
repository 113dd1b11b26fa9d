package wire

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"testing"
)

func FuzzHeader(f *testing.F) {
	for _, s := range []string{
		"c300000001088394c8f03e5157080000449e00000002",
		"cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a",
		"ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba",
		"cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6",
		"4200bff4",
		"c0000000000474657374047363696400000001",
	} {
		b, _ := hex.DecodeString(s)
		f.Add(b, uint8(0))
	}
	dcid := mustCID(f, "12345678")
	var coalesced []byte
	coalesced = append(coalesced, buildLongPacket(f, &Header{Type: PacketInitial, Version: Version2, DCID: dcid, Token: []byte("t")}, 3, 2, 20)...)
	coalesced = append(coalesced, buildLongPacket(f, &Header{Type: PacketHandshake, Version: Version2, DCID: dcid}, 9, 1, 20)...)
	coalesced = append(coalesced, AppendShortHeader(nil, &dcid, 77, 1, false, false)...)
	f.Add(coalesced, uint8(8))
	f.Fuzz(func(t *testing.T, datagram []byte, dcidLen uint8) {
		shortLen := int(dcidLen % 21)
		for rest := datagram; len(rest) > 0; {
			h, err := ParseHeader(rest, shortLen, dcidLen&0x80 != 0)
			if err != nil {
				return
			}
			if h.PacketLen <= 0 || h.PacketLen > len(rest) || h.PacketNumberOffset > h.PacketLen {
				t.Fatalf("bad lengths %+v for %d bytes", h, len(rest))
			}
			packet := rest[:h.PacketLen]
			inv, err := ParseInvariants(packet, shortLen)
			if err != nil || !bytes.Equal(inv.DCID, h.DCID.Bytes()) {
				t.Fatalf("invariants %+v, %v disagree with %+v", inv, err, h)
			}
			trunc, pnLen, pnErr := h.ParsePacketNumber(packet)
			switch h.Type {
			case PacketInitial, Packet0RTT, PacketHandshake:
				if pnErr != nil {
					break
				}
				// Rebuilding the header gives the same fields.
				out, lenOff, pnOff := AppendLongHeader(nil, &h, PacketNumber(trunc), pnLen)
				out = append(out, packet[h.PacketNumberOffset+pnLen:]...)
				if err := PutLongHeaderLength(out, lenOff, h.PacketLen-h.PacketNumberOffset); err != nil {
					break // Length above 16383: not something we send
				}
				h2, err := ParseHeader(out, shortLen, false)
				if err != nil || pnOff != h2.PacketNumberOffset || h2.Type != h.Type || h2.DCID != h.DCID ||
					h2.SCID != h.SCID || !bytes.Equal(h2.Token, h.Token) || h2.PacketLen != len(out) {
					t.Fatalf("rebuilt header %+v, %v; original %+v", h2, err, h)
				}
			case PacketRetry:
				out := AppendRetry(nil, h.Version, h.DCID, h.SCID, h.Token)
				if !bytes.Equal(out[1:], packet[1:len(packet)-16]) {
					t.Fatalf("rebuilt Retry %x, original %x", out, packet)
				}
			case PacketVersionNegotiation:
				inv := Invariants{DCID: h.SCID.Bytes(), SCID: h.DCID.Bytes()}
				vs := make([]Version, h.Versions.Len())
				for i := range vs {
					vs[i] = h.Versions.At(i)
				}
				out, err := AppendVersionNegotiation(nil, &inv, vs, packet[0])
				if err != nil || !bytes.Equal(out[1:], packet[1:]) {
					t.Fatalf("rebuilt VN %x, %v; original %x", out, err, packet)
				}
			}
			rest = rest[h.PacketLen:]
		}
	})
}

func FuzzFrames(f *testing.F) {
	for _, fr := range sampleFrames() {
		b, _ := appendAnyFrame(nil, fr)
		f.Add(b)
	}
	var all []byte
	for _, fr := range sampleFrames()[:8] {
		all, _ = appendAnyFrame(all, fr)
	}
	f.Add(all)
	f.Add([]byte{0x40, 0x01})
	f.Add([]byte{0x02, 0x0a, 0x00, 0x3f, 0x02})
	f.Fuzz(func(t *testing.T, payload []byte) {
		buf := make([]AckRange, 0, 4)
		for len(payload) > 0 {
			if n := PaddingLen(payload); n > 0 {
				payload = payload[n:]
				continue
			}
			fr, n, err := parseAnyFrame(payload, buf)
			if err != nil {
				if _, ok := err.(*TransportError); !ok {
					t.Fatalf("error %T %v is not a *TransportError", err, err)
				}
				return
			}
			if n <= 0 || n > len(payload) {
				t.Fatalf("parse used %d of %d bytes", n, len(payload))
			}
			// Appending the parsed frame and parsing it again gives the
			// same frame, and Len tells the encoded size.
			enc, l := appendAnyFrame(nil, fr)
			if l != len(enc) {
				t.Fatalf("%T: Len %d, encoded %d", fr, l, len(enc))
			}
			fr2, n2, err := parseAnyFrame(enc, nil)
			if err != nil || n2 != len(enc) || !reflect.DeepEqual(fr, fr2) {
				t.Fatalf("re-parse of %+v: %+v, %d, %v", fr, fr2, n2, err)
			}
			payload = payload[n:]
		}
	})
}

func FuzzTransportParameters(f *testing.F) {
	full := fullServerParameters(f)
	f.Add(full.Append(nil, 7), true)
	empty := mustCID(f, "")
	p := DefaultTransportParameters()
	p.InitialSourceConnectionID = &empty
	p.VersionInformation = &VersionInformation{ChosenVersion: Version1, AvailableVersions: []Version{Version1}}
	f.Add(p.Append(nil, 99), false)
	f.Add([]byte{0x0f, 0x00, 0x03, 0x02, 0x44, 0xb0}, false)
	f.Fuzz(func(t *testing.T, b []byte, fromServer bool) {
		sender := RoleClient
		if fromServer {
			sender = RoleServer
		}
		p, err := ParseTransportParameters(b, sender)
		if err != nil {
			if _, ok := err.(*TransportError); !ok {
				t.Fatalf("error %T %v is not a *TransportError", err, err)
			}
			return
		}
		for _, grease := range []uint64{0, uint64(len(b)) + 1} {
			p2, err := ParseTransportParameters(p.Append(nil, grease), sender)
			if err != nil || !reflect.DeepEqual(p, p2) {
				t.Fatalf("round trip of %+v: %+v, %v", p, p2, err)
			}
		}
	})
}
