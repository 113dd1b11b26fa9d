package qtrace

import "fmt"

// CryptoFrame is a CRYPTO frame's data and offset.
type CryptoFrame struct {
	Offset uint64
	Data   []byte
}

// ECNCounts are the counts an ACK_ECN frame reports (RFC 9000 §19.3.2).
type ECNCounts struct{ ECT0, ECT1, CE uint64 }

// Frames is what the checks need of a packet's frames (RFC 9000 §19).
type Frames struct {
	// Types lists the frame types in order, PADDING runs as one entry.
	Types  []uint64
	Crypto []CryptoFrame
	// ACKs counts ACK frames; ECN holds the counts of each ACK_ECN frame.
	ACKs int
	ECN  []ECNCounts
	// PathChallenge and PathResponse hold the frames' data.
	PathChallenge, PathResponse [][8]byte
	// NewConnectionIDs are the connection IDs of NEW_CONNECTION_ID frames.
	NewConnectionIDs [][]byte
	// StreamBytes is the data carried in STREAM frames.
	StreamBytes int
	// Close is set for a CONNECTION_CLOSE frame.
	Close bool
}

// Frame types (RFC 9000 §19, RFC 9221 §4).
const (
	framePadding         = 0x00
	framePing            = 0x01
	frameACK             = 0x02
	frameACKECN          = 0x03
	frameResetStream     = 0x04
	frameStopSending     = 0x05
	frameCrypto          = 0x06
	frameNewToken        = 0x07
	frameStream          = 0x08 // 0x08–0x0f
	frameMaxData         = 0x10
	frameMaxStreamData   = 0x11
	frameMaxStreamsBidi  = 0x12
	frameMaxStreamsUni   = 0x13
	frameDataBlocked     = 0x14
	frameStreamBlocked   = 0x15
	frameStreamsBlockedB = 0x16
	frameStreamsBlockedU = 0x17
	frameNewConnectionID = 0x18
	frameRetireConnID    = 0x19
	framePathChallenge   = 0x1a
	framePathResponse    = 0x1b
	frameCloseTransport  = 0x1c
	frameCloseApp        = 0x1d
	frameHandshakeDone   = 0x1e
	frameDatagram        = 0x30
	frameDatagramLen     = 0x31
)

// parseFrames parses a decrypted payload. Data slices point into b.
func parseFrames(b []byte) (*Frames, error) {
	f := &Frames{}
	p := 0
	for p < len(b) {
		typ, q, err := readVarint(b, p)
		if err != nil {
			return f, err
		}
		if typ == framePadding {
			for q < len(b) && b[q] == 0 {
				q++
			}
		}
		f.Types = append(f.Types, typ)
		if p, err = f.parseFrame(typ, b, q); err != nil {
			return f, fmt.Errorf("qtrace: frame %#x: %w", typ, err)
		}
	}
	return f, nil
}

// parseFrame parses the body of a frame of type typ at b[p:] and returns
// where the next frame starts.
func (f *Frames) parseFrame(typ uint64, b []byte, p int) (int, error) {
	// skip reads n varints.
	skip := func(n int) error {
		for range n {
			var err error
			if _, p, err = readVarint(b, p); err != nil {
				return err
			}
		}
		return nil
	}
	// bytesOf reads a length varint and that many bytes.
	bytesOf := func() ([]byte, error) {
		n, q, err := readVarint(b, p)
		if err != nil || uint64(len(b)-q) < n {
			return nil, errShort
		}
		p = q + int(n)
		return b[q:p], nil
	}
	switch {
	case typ == framePadding, typ == framePing, typ == frameHandshakeDone:
		return p, nil
	case typ == frameACK, typ == frameACKECN:
		return f.parseACK(typ, b, p)
	case typ == frameResetStream:
		return p, skip(3)
	case typ == frameStopSending:
		return p, skip(2)
	case typ == frameCrypto:
		off, q, err := readVarint(b, p)
		if err != nil {
			return 0, err
		}
		p = q
		data, err := bytesOf()
		if err != nil {
			return 0, err
		}
		f.Crypto = append(f.Crypto, CryptoFrame{Offset: off, Data: data})
		return p, nil
	case typ == frameNewToken:
		_, err := bytesOf()
		return p, err
	case typ >= frameStream && typ <= 0x0f:
		if err := skip(1); err != nil { // stream ID
			return 0, err
		}
		if typ&0x04 != 0 { // OFF
			if err := skip(1); err != nil {
				return 0, err
			}
		}
		if typ&0x02 != 0 { // LEN
			data, err := bytesOf()
			f.StreamBytes += len(data)
			return p, err
		}
		f.StreamBytes += len(b) - p
		return len(b), nil
	case typ == frameMaxData, typ == frameMaxStreamsBidi, typ == frameMaxStreamsUni,
		typ == frameDataBlocked, typ == frameStreamsBlockedB, typ == frameStreamsBlockedU,
		typ == frameRetireConnID:
		return p, skip(1)
	case typ == frameMaxStreamData, typ == frameStreamBlocked:
		return p, skip(2)
	case typ == frameNewConnectionID:
		if err := skip(2); err != nil {
			return 0, err
		}
		if p >= len(b) {
			return 0, errShort
		}
		n := int(b[p])
		if n < 1 || n > 20 || p+1+n+16 > len(b) {
			return 0, errShort
		}
		f.NewConnectionIDs = append(f.NewConnectionIDs, b[p+1:p+1+n])
		return p + 1 + n + 16, nil
	case typ == framePathChallenge, typ == framePathResponse:
		if p+8 > len(b) {
			return 0, errShort
		}
		data := [8]byte(b[p : p+8])
		if typ == framePathChallenge {
			f.PathChallenge = append(f.PathChallenge, data)
		} else {
			f.PathResponse = append(f.PathResponse, data)
		}
		return p + 8, nil
	case typ == frameCloseTransport, typ == frameCloseApp:
		f.Close = true
		n := 1
		if typ == frameCloseTransport {
			n = 2 // the error code and the frame type
		}
		if err := skip(n); err != nil {
			return 0, err
		}
		_, err := bytesOf()
		return p, err
	case typ == frameDatagram:
		return len(b), nil
	case typ == frameDatagramLen:
		_, err := bytesOf()
		return p, err
	}
	return 0, fmt.Errorf("unknown frame type")
}

func (f *Frames) parseACK(typ uint64, b []byte, p int) (int, error) {
	var v [4]uint64 // largest, delay, range count, first range
	var err error
	for i := range v {
		if v[i], p, err = readVarint(b, p); err != nil {
			return 0, err
		}
	}
	if v[2] > uint64(len(b)) {
		return 0, errShort
	}
	for range 2 * v[2] { // gap and length of each further range
		if _, p, err = readVarint(b, p); err != nil {
			return 0, err
		}
	}
	f.ACKs++
	if typ == frameACKECN {
		var c [3]uint64
		for i := range c {
			if c[i], p, err = readVarint(b, p); err != nil {
				return 0, err
			}
		}
		f.ECN = append(f.ECN, ECNCounts{ECT0: c[0], ECT1: c[1], CE: c[2]})
	}
	return p, nil
}
