package protect

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// fuzzKeys returns a fixed pair of sender and receiver keys for a suite
// selector and version selector taken from fuzz input.
func fuzzKeys(t testing.TB, suiteSel uint8, v2 bool) (sender, receiver *Keys) {
	t.Helper()
	suite := allSuites[int(suiteSel)%len(allSuites)]
	version := Version1
	if v2 {
		version = Version2
	}
	var err error
	if sender, err = NewKeys(version, suite, testSecret(suite, 11)); err != nil {
		t.Fatal(err)
	}
	if receiver, err = NewKeys(version, suite, testSecret(suite, 11)); err != nil {
		t.Fatal(err)
	}
	return sender, receiver
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzOpenPacket feeds arbitrary bytes to the receive path: it must never
// panic, never read or write outside pkt, and only return a payload that is
// a sub-slice of pkt.
func FuzzOpenPacket(f *testing.F) {
	f.Add(mustHex("4cfe4189655e5cd55c41f69080575d7999c25a5bfb"), 1, uint8(2), false, int64(654360500))
	f.Add(mustHex("5558b1c60ae7b6b932bc27d786f4bc2bb20f2162ba"), 1, uint8(2), true, int64(-1))
	f.Add(mustHex("cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a5816b6394100f37a1c69797554780bb3"), 18, uint8(0), false, int64(0))
	f.Add([]byte{}, 0, uint8(1), false, int64(-1))
	f.Add(make([]byte, 21), 1, uint8(0), true, int64(1<<62))
	f.Add(bytes.Repeat([]byte{0xff}, 40), -5, uint8(1), false, int64(-9))
	// Packets that open, so that mutations start from the success path.
	for suiteSel := range uint8(len(allSuites)) {
		sender, _ := fuzzKeys(f, suiteSel, suiteSel == 1)
		buf := append(make([]byte, 0, 64), 0x41, 0xd1, 0xd2, 0x00, 0x07, 'p', 'i', 'n', 'g')
		sealed, err := sender.SealPacket(buf, 3, 7)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(sealed, 3, suiteSel, suiteSel == 1, int64(6))
	}
	f.Fuzz(func(t *testing.T, data []byte, pnOffset int, suiteSel uint8, v2 bool, largest int64) {
		_, receiver := fuzzKeys(t, suiteSel, v2)
		// Guard bytes after the packet catch writes past its end.
		backing := append(bytes.Clone(data), 0xa5, 0xa5, 0xa5, 0xa5)
		pkt := backing[:len(data):len(data)]
		payload, _, err := receiver.OpenPacket(pkt, pnOffset, largest)
		if !bytes.Equal(backing[len(data):], []byte{0xa5, 0xa5, 0xa5, 0xa5}) {
			t.Fatal("OpenPacket wrote past the packet")
		}
		if err != nil {
			if payload != nil {
				t.Fatal("payload returned with an error")
			}
			return
		}
		// Forging a tag by chance is not expected, but a payload must be
		// pkt[hdrLen:len(pkt)-TagLen] for a header length of at least 2.
		hdrLen := cap(pkt) - cap(payload)
		if hdrLen < 2 || hdrLen+len(payload)+TagLen != len(pkt) {
			t.Fatal("payload is not the packet's payload")
		}
	})
}

// FuzzSealOpen seals arbitrary payloads under arbitrary headers, packet
// numbers, suites and versions, and checks that opening gives back the
// header, the packet number and the payload.
func FuzzSealOpen(f *testing.F) {
	f.Add([]byte("hello"), uint64(0), uint8(0), uint8(0), false, uint8(0), false)
	f.Add([]byte{1}, uint64(654360564), uint8(2), uint8(2), false, uint8(0), true)
	f.Add(bytes.Repeat([]byte{0}, 1200), uint64(2), uint8(3), uint8(0), true, uint8(8), false)
	f.Add([]byte{}, uint64(1<<62-1), uint8(1), uint8(1), true, uint8(20), true)
	f.Fuzz(func(t *testing.T, payload []byte, pn uint64, pnLenSel, suiteSel uint8, long bool, dcidLen uint8, v2 bool) {
		sender, receiver := fuzzKeys(t, suiteSel, v2)
		pn &= maxPacketNumber
		pnLen := int(pnLenSel%4) + 1
		first := byte(0x40)
		if long {
			first = 0xc0 | 0x20 // a Handshake-like long header
		}
		first |= byte(pnLen - 1)
		// Bytes standing in for the rest of the header: connection IDs,
		// version, lengths; header protection does not read them.
		pnOffset := 1 + int(dcidLen%21)
		header := make([]byte, pnOffset, pnOffset+pnLen)
		header[0] = first
		for i := 1; i < pnOffset; i++ {
			header[i] = byte(i * 31)
		}
		for i := pnLen - 1; i >= 0; i-- {
			header = append(header, byte(pn>>(8*i)))
		}
		buf := make([]byte, 0, len(header)+len(payload)+TagLen)
		buf = append(append(buf, header...), payload...)
		sealed, err := sender.SealPacket(buf, pnOffset, pn)
		if pnLen+len(payload) < 4 {
			if err != ErrShortPacket {
				t.Fatalf("pn length %d, payload %d: err = %v, want ErrShortPacket", pnLen, len(payload), err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(sealed) != len(header)+len(payload)+TagLen {
			t.Fatalf("sealed length %d", len(sealed))
		}
		// The receiver has seen the packet just before this one.
		got, gotPN, err := receiver.OpenPacket(sealed, pnOffset, int64(pn)-1)
		if err != nil {
			t.Fatalf("OpenPacket: %v", err)
		}
		if gotPN != pn {
			t.Fatalf("packet number %d, want %d", gotPN, pn)
		}
		if !bytes.Equal(sealed[:len(header)], header) {
			t.Fatalf("header %x, want %x", sealed[:len(header)], header)
		}
		if !bytes.Equal(got, payload) {
			t.Fatal("payload differs after the round trip")
		}
	})
}

// FuzzRetryTag checks the Retry Integrity Tag functions on arbitrary
// connection IDs and packets: no panics, a computed tag verifies, and a
// changed bit does not.
func FuzzRetryTag(f *testing.F) {
	f.Add(appendixDCID, mustHex("ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba"), false, uint16(3))
	f.Add(appendixDCID, mustHex("cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe3395265dcc7b6"), true, uint16(0))
	f.Add([]byte{}, []byte{}, false, uint16(0))
	f.Add(make([]byte, 21), make([]byte, 15), true, uint16(9))
	f.Fuzz(func(t *testing.T, odcid, packet []byte, v2 bool, flip uint16) {
		version := Version1
		if v2 {
			version = Version2
		}
		err := VerifyRetryIntegrity(version, odcid, packet)
		switch {
		case len(packet) < TagLen:
			if err != ErrShortPacket {
				t.Fatalf("%d-byte packet: %v", len(packet), err)
			}
		case len(odcid) > MaxConnectionIDLen:
			if err != ErrConnectionIDLength {
				t.Fatalf("%d-byte ODCID: %v", len(odcid), err)
			}
		}
		if len(odcid) > MaxConnectionIDLen {
			if _, err := RetryIntegrityTag(version, odcid, packet); err != ErrConnectionIDLength {
				t.Fatalf("RetryIntegrityTag, %d-byte ODCID: %v", len(odcid), err)
			}
			return
		}
		tag, err := RetryIntegrityTag(version, odcid, packet)
		if err != nil {
			t.Fatal(err)
		}
		retry := append(bytes.Clone(packet), tag[:]...)
		if err := VerifyRetryIntegrity(version, odcid, retry); err != nil {
			t.Fatalf("computed tag does not verify: %v", err)
		}
		bit := int(flip) % (8 * len(retry))
		retry[bit/8] ^= 1 << (bit % 8)
		if err := VerifyRetryIntegrity(version, odcid, retry); err != ErrAuthentication {
			t.Fatalf("bit %d flipped: err = %v", bit, err)
		}
	})
}
