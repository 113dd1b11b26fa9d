package wire_test

import (
	"fmt"

	"github.com/skiffnet/skiff/quic/internal/wire"
)

// A sender builds a Handshake packet: header with a reserved Length field,
// frames, then the Length. A receiver splits the datagram, reads the packet
// number (header protection is left out here) and walks the frames.
func Example() {
	dcid, _ := wire.MakeConnectionID([]byte{1, 2, 3, 4})
	scid, _ := wire.MakeConnectionID([]byte{5, 6, 7, 8})
	hdr := wire.Header{Type: wire.PacketHandshake, Version: wire.Version2, DCID: dcid, SCID: scid}
	pn := wire.PacketNumber(1000)
	pnLen := wire.PacketNumberLen(pn, 990)

	pkt, lengthOff, pnOff := wire.AppendLongHeader(nil, &hdr, pn, pnLen)
	ack := wire.AckFrame{Ranges: []wire.AckRange{{Smallest: 10, Largest: 12}, {Smallest: 2, Largest: 5}}}
	pkt = ack.Append(pkt)
	crypto := wire.CryptoFrame{Offset: 0, Data: []byte("Finished")}
	pkt = crypto.Append(pkt)
	_ = wire.PutLongHeaderLength(pkt, lengthOff, len(pkt)-pnOff)

	// Receive.
	h, err := wire.ParseHeader(pkt, 4, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	truncated, n, _ := h.ParsePacketNumber(pkt)
	fmt.Println(h.Type, h.Version == wire.Version2, wire.DecodePacketNumber(999, truncated, n))
	payload := pkt[h.PacketNumberOffset+n : h.PacketLen]
	ranges := make([]wire.AckRange, 0, 8)
	for len(payload) > 0 {
		t, n, err := wire.ParseFrameType(payload)
		if err == nil {
			err = wire.CheckReceivedFrame(t, h.Type, wire.RoleServer)
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		payload = payload[n:]
		switch t {
		case wire.FrameTypeAck, wire.FrameTypeAckECN:
			f, m, err := wire.ParseAckFrame(t, payload, ranges)
			if err != nil {
				fmt.Println(err)
				return
			}
			fmt.Println("ACK", f.Ranges)
			payload = payload[m:]
		case wire.FrameTypeCrypto:
			f, m, err := wire.ParseCryptoFrame(payload)
			if err != nil {
				fmt.Println(err)
				return
			}
			fmt.Printf("CRYPTO %d %q\n", f.Offset, f.Data)
			payload = payload[m:]
		}
	}
	// Output:
	// Handshake true 1000
	// ACK [{10 12} {2 5}]
	// CRYPTO 0 "Finished"
}

// A malformed frame is a *TransportError carrying the code and frame type
// for the CONNECTION_CLOSE that follows.
func ExampleTransportError() {
	// NEW_CONNECTION_ID with Retire Prior To above its Sequence Number.
	body := []byte{0x01, 0x02, 0x01, 0xaa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	_, _, err := wire.ParseNewConnectionIDFrame(body)
	if te, ok := err.(*wire.TransportError); ok {
		fmt.Println(te.Code, te.FrameType)
	}
	// Output: FRAME_ENCODING_ERROR NEW_CONNECTION_ID(0x18)
}
