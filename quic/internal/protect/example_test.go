package protect_test

import (
	"fmt"

	"github.com/skiffnet/skiff/quic/internal/protect"
)

// A client protects its first Initial packet; the server, which derives the
// same keys from the Destination Connection ID, removes the protection.
func Example() {
	dcid := []byte{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08}
	clientSeal, _, err := protect.InitialKeys(protect.Version1, dcid)
	if err != nil {
		panic(err)
	}
	serverOpen, _, err := protect.InitialKeys(protect.Version1, dcid) // the client's keys, on the server
	if err != nil {
		panic(err)
	}

	// Long header: Initial, 1-byte packet number; version 1; the DCID; an
	// empty SCID and token; Length = 1 (pn) + 4 (payload) + 16 (tag).
	header := []byte{0xc0, 0, 0, 0, 1, 8}
	header = append(header, dcid...)
	header = append(header, 0, 0, 0x40, 21)
	pnOffset := len(header)
	header = append(header, 0) // packet number 0

	buf := make([]byte, 0, 1200)
	buf = append(buf, header...)
	buf = append(buf, 0x01, 0x00, 0x00, 0x00) // PING and PADDING
	packet, err := clientSeal.SealPacket(buf, pnOffset, 0)
	if err != nil {
		panic(err)
	}

	payload, pn, err := serverOpen.OpenPacket(packet, pnOffset, -1)
	fmt.Printf("pn %d, payload %x, err %v\n", pn, payload, err)
	// Output: pn 0, payload 01000000, err <nil>
}
