package conn

import (
	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// Sealing from the send buffer.
//
// A packet of stream data would cost two passes over its bytes before the
// kernel's: a copy from the stream's send buffer into the datagram, then
// the AEAD sealing them in place. When the packet's last frame is a STREAM
// frame whose data lies in a full-size chunk with room before it, the
// packet is sealed from the send buffer instead: the bytes of the packet
// before that data (its other frames and the STREAM frame header, at most
// maxSealFromPrefix) are laid in the chunk just before the data, over
// bytes that were sent already, so that the plaintext is contiguous there;
// the AEAD reads it from the chunk and writes the ciphertext into the
// datagram; and the borrowed bytes are put back. One pass, as crypto/tls
// makes sealing a record from the writer's buffer.
//
// Everything else (a STREAM frame at the start of a chunk, frames or
// padding after the data, traced payloads) takes the copy.

// maxSealFromPrefix bounds the packet bytes before the data that are laid
// in the send buffer: a STREAM frame header (at most 1+8+8+2 bytes) and a
// few small frames before it.
const maxSealFromPrefix = 64

// sealFromTail is the frameWriter's state for sealing from the send
// buffer: the data of the packet's last STREAM frame, whose bytes are
// reserved in the packet at at but not copied there.
type sealFromTail struct {
	allowed bool   // the packet may be sealed from the send buffer
	payload int    // offset in the packet buffer where the payload starts
	data    []byte // the frame's data in the send buffer, with the head before it
	head    int    // bytes before the data in data: the room to lay the prefix in
	at      int    // offset of the data in the packet buffer
}

// appendStreamData appends the STREAM frame fr carrying the n bytes of s's
// data at fr.Offset, and returns the stream's written end and FIN as the
// send part reports them (SendPart.Slice). The data is reserved rather
// than copied when the packet may be sealed from the send buffer.
func (f *frameWriter) appendStreamData(fr *wire.StreamFrame, s *Stream, n int) (end uint64, fin bool) {
	f.copyTail()
	t := &f.tail
	hdrLen := wire.StreamFrameOverhead(fr.StreamID, fr.Offset, n, true)
	prefix := len(f.buf) - t.payload + hdrLen
	if !t.allowed || prefix > maxSealFromPrefix || len(f.buf)+hdrLen+n > cap(f.buf) {
		fr.Data, end, fin = s.send.Slice(fr.Offset, n)
		f.buf = fr.Append(f.buf)
		return end, fin
	}
	data, head, end, fin := s.send.SliceHead(fr.Offset, n, prefix)
	if !head {
		fr.Data = data
		f.buf = fr.Append(f.buf)
		return end, fin
	}
	f.buf = fr.AppendHeader(f.buf, n)
	t.data, t.head, t.at = data, prefix, len(f.buf)
	f.buf = f.buf[:len(f.buf)+n]
	return end, fin
}

// copyTail copies the reserved data into the packet: a frame or padding
// follows it, or the packet is to be sealed in place.
func (f *frameWriter) copyTail() {
	t := &f.tail
	if t.data == nil {
		return
	}
	copy(f.buf[t.at:], t.data[t.head:])
	t.data = nil
}

// sealable reports whether the packet, ending at end, can be sealed from
// the send buffer: its last bytes are the reserved data.
func (f *frameWriter) sealable(end int) bool {
	t := &f.tail
	return t.data != nil && end == t.at+len(t.data)-t.head
}

// sealFrom seals the packet whose header is hdr (ending with the packet
// number at pnOffset) from the send buffer: its payload is the bytes of
// buf from the payload start to the reserved data, then the data.
func (f *frameWriter) sealFrom(keys *protect.Keys, hdr []byte, pnOffset int, pn uint64, buf []byte) ([]byte, error) {
	t := &f.tail
	prefix := buf[t.payload:t.at]
	head := t.data[:t.head]
	var saved [maxSealFromPrefix]byte
	copy(saved[:], head)
	copy(head, prefix)
	sealed, err := keys.SealPacketFrom(hdr, pnOffset, pn, t.data)
	copy(head, saved[:len(head)])
	t.data = nil
	return sealed, err
}
