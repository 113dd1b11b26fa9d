package perf

import (
	"encoding/binary"
	"io"
)

// The framing of streams on a TCP+TLS connection: each direction of a
// stream is a sequence of frames, a 2-byte big-endian length then that many
// bytes; a frame of length zero ends the direction (FIN).
const (
	frameHeaderLen = 2
	// maxFrameLen makes a full frame exactly one 16384-byte TLS record
	// (RFC 8446 §5.1: TLSPlaintext.length MUST NOT exceed 2^14).
	maxFrameLen = 1<<14 - frameHeaderLen
)

// appendFrame appends one frame holding p (len(p) must be 1..65535).
func appendFrame(b, p []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(p)))
	return append(b, p...)
}

// frameReader reads one stream's bytes out of frames, in place: it never
// buffers more than a 2-byte header, whatever length the peer claims.
type frameReader struct {
	r    io.Reader
	hdr  [frameHeaderLen]byte
	left int  // bytes of the current frame not yet read
	fin  bool // the zero-length frame has been read
}

// nextHeader reads a frame header. io.EOF means the connection ended
// cleanly before the header; a partial header is io.ErrUnexpectedEOF.
func (f *frameReader) nextHeader() error {
	if _, err := io.ReadFull(f.r, f.hdr[:]); err != nil {
		return err
	}
	f.left = int(binary.BigEndian.Uint16(f.hdr[:]))
	f.fin = f.left == 0
	return nil
}

func (f *frameReader) Read(p []byte) (int, error) {
	for f.left == 0 {
		if f.fin {
			return 0, io.EOF
		}
		if err := f.nextHeader(); err != nil {
			// The connection ended inside the stream: not a FIN.
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
	}
	if len(p) > f.left {
		p = p[:f.left]
	}
	n, err := f.r.Read(p)
	f.left -= n
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
