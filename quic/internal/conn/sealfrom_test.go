package conn

import (
	"bytes"
	"testing"

	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/streambuf"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// TestSealFromSendBuffer: a packet whose last frame is STREAM data with
// room before it in a full-size chunk is sealed from the send buffer, and
// comes out byte for byte as the packet built by copying; the bytes it
// borrowed before the data are back afterwards. Data at the start of a
// chunk, or with more before it than the prefix bound, takes the copy.
func TestSealFromSendBuffer(t *testing.T) {
	const sendChunk = streambuf.ChunkSize
	data := make([]byte, 140_000)
	for i := range data {
		data[i] = byte(i*7 + i>>8)
	}
	s := &Stream{id: 4, hasSend: true}
	s.send.SetCredit(1 << 20)
	if n, _, _ := s.send.Write(data, 1<<20, 0); n != len(data) {
		t.Fatalf("wrote %d bytes", n)
	}
	keys, _, err := protect.InitialKeys(1, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	if err != nil {
		t.Fatal(err)
	}
	dcid := wire.ConnectionID{}
	for _, tc := range []struct {
		name      string
		off       uint64
		n         int
		pings     int // PING frames before the STREAM frame
		wantFused bool
	}{
		{"chunk start", 0, 1300, 0, false},
		{"mid chunk", 20_000, 1300, 0, true},
		{"frames before", 20_000, 1200, 10, true},
		{"prefix too long", 20_000, 1200, maxSealFromPrefix, false},
		{"head crosses chunk start", sendChunk + 3, 1300, 0, false},
		{"end of chunk", 2*sendChunk - 700, 700, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const pn, pnLen = 0x1234, 2
			build := func(fuse bool) (sealed []byte, fused bool) {
				buf := wire.AppendShortHeader(make([]byte, 0, 1500), &dcid, pn, pnLen, false, false)
				payload := len(buf)
				f := frameWriter{buf: buf, end: 1500 - aeadTagLen, sent: &recovery.SentPacket{}}
				f.tail = sealFromTail{allowed: fuse, payload: payload}
				for range tc.pings {
					f.appendPing()
				}
				fr := wire.StreamFrame{StreamID: s.id, Offset: tc.off}
				f.appendStreamData(&fr, s, tc.n)
				fused = f.sealable(len(f.buf))
				if fused {
					sealed, err = f.sealFrom(keys, f.buf[:payload], 1+dcid.Len(), pn, f.buf)
				} else {
					sealed, err = keys.SealPacket(f.buf, 1+dcid.Len(), pn)
				}
				if err != nil {
					t.Fatal(err)
				}
				return sealed, fused
			}
			want, _ := build(false)
			got, fused := build(true)
			if fused != tc.wantFused {
				t.Errorf("sealed from the send buffer: %v, want %v", fused, tc.wantFused)
			}
			if !bytes.Equal(got, want) {
				t.Error("packet differs from the one built by copying")
			}
			for off := uint64(0); off < uint64(len(data)); {
				b, _, _ := s.send.Slice(off, int(min(sendChunk-off%sendChunk, uint64(len(data))-off)))
				if !bytes.Equal(b, data[off:off+uint64(len(b))]) {
					t.Fatalf("send buffer changed in the chunk at %d", off)
				}
				off += uint64(len(b))
			}
		})
	}
}

// TestSealFromLossyTransfer: with packets sealed from the send buffer and
// some of them lost, the data sent again (read from the same chunks whose
// bytes were borrowed and put back) arrives intact.
func TestSealFromLossyTransfer(t *testing.T) {
	p := newTestPair(t)
	p.c2s.drop = func(n int, _ []byte) bool { return n%13 == 5 }
	p.handshake()
	s := p.openStream(p.client, false)
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i ^ i>>9 ^ i>>17)
	}
	p.transfer(t, s, data, 0)
	if st := p.client.Stats(); st.PacketsSent < uint64(len(data)/1500) || st.PacketsLost == 0 {
		t.Fatalf("stats %+v: want a transfer with losses", st)
	}
}
