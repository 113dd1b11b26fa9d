package frame

import (
	"errors"
	"io"
	"os"
)

// DefaultMaxFieldSectionPayload is the HEADERS and PUSH_PROMISE payload
// limit of a Reader whose MaxFieldSectionPayload is 0.
const DefaultMaxFieldSectionPayload = 64 << 10

// readBufSize is the Reader's read-ahead. Frame headers are at most 16
// bytes; the rest lets one Read of the stream bring several small frames,
// and is the scratch space when skipping unknown frames.
const readBufSize = 256

// Frame is one frame returned by Reader.Next. Only the fields that belong to
// Type are set.
type Frame struct {
	Type Type
	// Length is the payload length. For DATA the payload has not been read:
	// read it from the Reader.
	Length uint64
	// ID is the Push ID of CANCEL_PUSH, PUSH_PROMISE and MAX_PUSH_ID, the
	// stream ID or push ID of GOAWAY, and the Prioritized Element ID of
	// PRIORITY_UPDATE.
	ID uint64
	// FieldSection is the encoded field section of HEADERS and PUSH_PROMISE.
	// It is valid until the next call on the Reader (it may lie in the
	// read-ahead buffer).
	FieldSection []byte
	// PriorityFieldValue is the Priority Field Value of PRIORITY_UPDATE
	// (RFC 9218 §7.2), unparsed; valid as long as FieldSection would be.
	PriorityFieldValue []byte
	// Settings is the parsed payload of SETTINGS.
	Settings Settings
	// Skipped counts the unknown and reserved frames (RFC 9114 §9, §7.2.8)
	// that Next discarded before this frame.
	Skipped int
}

// Reader reads HTTP/3 frames (RFC 9114 §7.1) from a stream. Unknown and
// reserved frame types are skipped; DATA payloads are not buffered but read
// through Read into the caller's buffer; the payloads of the other known
// frames are bounded (MaxFieldSectionPayload, MaxSettingsPayload, one
// varint) and kept in one buffer reused from frame to frame, so that reading
// a stream allocates only when that buffer grows.
//
// The Reader reads ahead of the frame it returns. After the stream header,
// everything on the stream must be read through it: ReadStreamType for the
// header of a unidirectional stream and ReadRaw for unframed streams (QPACK).
// It is not safe for concurrent use.
type Reader struct {
	// MaxFieldSectionPayload bounds the payload of HEADERS and PUSH_PROMISE
	// frames; 0 means DefaultMaxFieldSectionPayload. A QPACK encoder uses
	// Huffman only where it is shorter, so a section that decodes within our
	// SETTINGS_MAX_FIELD_SECTION_SIZE S is encoded in less than S plus a few
	// bytes of prefix: S+64 is a sound value when S is set.
	MaxFieldSectionPayload uint64

	src      io.Reader
	srcErr   error // first error returned by src, io.EOF included
	buf      [readBufSize]byte
	r, w     int    // buf[r:w] is read ahead and not yet consumed
	dataLeft uint64 // unread payload of the current DATA frame
	payload  []byte // reused for HEADERS, PUSH_PROMISE and SETTINGS payloads
	err      error  // sticky frame-layer error
}

// NewReader returns a Reader of the frames on src.
func NewReader(src io.Reader) *Reader {
	return &Reader{src: src}
}

// Init makes r, a zero Reader (a field of a newly allocated struct), read
// from src: what Reset does, without clearing the read-ahead buffer again.
func (r *Reader) Init(src io.Reader) { r.src = src }

// Reset makes r read from src, keeping its payload buffer and limits.
func (r *Reader) Reset(src io.Reader) {
	*r = Reader{MaxFieldSectionPayload: r.MaxFieldSectionPayload, src: src, payload: r.payload[:0]}
}

var errTruncated = newError(ErrCodeFrameError, "stream ended inside a frame")

// fill makes buf[r:w] hold at least need (<= readBufSize) bytes. It returns
// io.EOF if the stream ended with nothing buffered, io.ErrUnexpectedEOF if it
// ended with fewer than need bytes, or src's error.
func (r *Reader) fill(need int) error {
	if r.w-r.r >= need {
		return nil
	}
	if r.r > 0 {
		r.w = copy(r.buf[:], r.buf[r.r:r.w])
		r.r = 0
	}
	for r.w < need {
		if r.srcErr != nil {
			if r.srcErr == io.EOF {
				if r.w == 0 {
					return io.EOF
				}
				return io.ErrUnexpectedEOF
			}
			return r.srcErr
		}
		n, err := r.src.Read(r.buf[r.w:])
		r.w += n
		if err != nil {
			r.srcErr = err
		} else if n == 0 {
			// A Read of (0, nil) is allowed but must not spin forever; the
			// next Read will block or fail.
			continue
		}
	}
	return nil
}

// readVarint reads one variable-length integer.
func (r *Reader) readVarint() (uint64, error) {
	if err := r.fill(1); err != nil {
		return 0, err
	}
	n := 1 << (r.buf[r.r] >> 6)
	if err := r.fill(n); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
	}
	v, _ := parseVarint(r.buf[r.r:r.w])
	r.r += n
	return v, nil
}

// ReadStreamType reads the stream type that starts a unidirectional stream
// (RFC 9114 §6.2). A stream that ends before it yields io.EOF (no byte) or
// io.ErrUnexpectedEOF; §6.2 asks receivers to tolerate both. For a push
// stream, read the Push ID next with ReadVarint.
func (r *Reader) ReadStreamType() (StreamType, error) {
	v, err := r.readVarint()
	return StreamType(v), err
}

// ReadVarint reads a variable-length integer outside a frame: the Push ID of
// a push stream header (RFC 9114 §6.2.2).
func (r *Reader) ReadVarint() (uint64, error) { return r.readVarint() }

// ReadRaw reads unframed bytes: what follows the stream type on a QPACK
// encoder or decoder stream, or on a stream of unknown type being drained.
// It must not be mixed with Next and Read on the same stream.
func (r *Reader) ReadRaw(p []byte) (int, error) {
	if r.r < r.w {
		n := copy(p, r.buf[r.r:r.w])
		r.r += n
		return n, nil
	}
	if r.srcErr != nil {
		return 0, r.srcErr
	}
	return r.src.Read(p)
}

// readFull reads len(p) bytes of a frame payload.
func (r *Reader) readFull(p []byte) error {
	n := copy(p, r.buf[r.r:r.w])
	r.r += n
	p = p[n:]
	for len(p) > 0 {
		if r.srcErr != nil {
			if r.srcErr == io.EOF {
				return errTruncated
			}
			return r.srcErr
		}
		m, err := r.src.Read(p)
		p = p[m:]
		if err != nil {
			r.srcErr = err
		}
	}
	return nil
}

// skip discards n bytes of a frame payload.
func (r *Reader) skip(n uint64) error {
	for n > 0 {
		if r.r == r.w {
			r.r, r.w = 0, 0
			if err := r.fill(1); err != nil {
				if err == io.EOF {
					return errTruncated
				}
				return err
			}
		}
		m := uint64(r.w - r.r)
		if m > n {
			m = n
		}
		r.r += int(m)
		n -= m
	}
	return nil
}

// Read reads the payload of the current DATA frame into p. It returns io.EOF
// at the end of the payload; Next then moves to the next frame. A stream
// that ends inside the payload yields an H3_FRAME_ERROR (RFC 9114 §7.1).
func (r *Reader) Read(p []byte) (int, error) {
	if r.dataLeft == 0 {
		return 0, io.EOF
	}
	if uint64(len(p)) > r.dataLeft {
		p = p[:r.dataLeft]
	}
	if len(p) == 0 {
		return 0, nil
	}
	if r.r < r.w {
		n := copy(p, r.buf[r.r:r.w])
		r.r += n
		r.dataLeft -= uint64(n)
		return n, nil
	}
	if r.srcErr != nil {
		if r.srcErr == io.EOF {
			r.err = errTruncated
			return 0, errTruncated
		}
		return 0, r.srcErr
	}
	n, err := r.src.Read(p)
	r.dataLeft -= uint64(n)
	if err != nil {
		r.srcErr = err
		if n == 0 {
			return r.Read(p)
		}
	}
	return n, nil
}

// DataRemaining is the unread payload length of the current DATA frame.
func (r *Reader) DataRemaining() uint64 { return r.dataLeft }

// Next reads the next frame. It first discards what is left of the current
// DATA payload. It returns io.EOF when the stream ends cleanly between
// frames, src's error if src fails, and otherwise a connection error:
//   - H3_FRAME_ERROR: the stream ends inside a frame (RFC 9114 §7.1), or a
//     payload does not match its fields (§7.1, §10.8);
//   - H3_FRAME_UNEXPECTED: a frame type reserved from HTTP/2 (§7.2.8);
//   - H3_EXCESSIVE_LOAD: a HEADERS, PUSH_PROMISE or SETTINGS payload longer
//     than our limit, refused before it is read;
//   - H3_SETTINGS_ERROR: see ParseSettings.
//
// Whether the frame is allowed on this stream is the caller's question: see
// CheckAllowed, ControlStream and MessageState. After an error other than
// io.EOF, every later call returns the same error.
func (r *Reader) Next() (Frame, error) {
	var f Frame
	if err := r.NextInto(&f); err != nil {
		return Frame{}, err
	}
	return f, nil
}

// NextInto is Next, reading the frame into *f (which it clears first;
// after an error, what *f holds means nothing): a Frame is over a hundred
// bytes, and a request stream's reader, which takes two or three frames a
// request, spares the copies of returning one.
func (r *Reader) NextInto(f *Frame) error {
	if r.err != nil {
		*f = Frame{}
		return r.err
	}
	err := r.next(f)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return err
}

// next reads the next frame into *f.
func (r *Reader) next(f *Frame) error {
	*f = Frame{}
	if r.dataLeft > 0 {
		left := r.dataLeft
		r.dataLeft = 0
		if err := r.skip(left); err != nil {
			return err
		}
	}
	for {
		t, err := r.readVarint()
		if err != nil {
			if err == io.ErrUnexpectedEOF {
				return errTruncated
			}
			return err // io.EOF at a frame boundary, or src's error
		}
		length, err := r.readVarint()
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return errTruncated
			}
			return err
		}
		f.Type, f.Length = Type(t), length
		if f.Type.known() {
			break
		}
		if isHTTP2Type(f.Type) {
			return newError(ErrCodeFrameUnexpected, "frame type reserved from HTTP/2")
		}
		// RFC 9114 §9: frames of unknown types MUST be ignored.
		if err := r.skip(length); err != nil {
			return err
		}
		f.Skipped++
	}
	switch f.Type {
	case TypeData:
		r.dataLeft = f.Length
		return nil
	case TypeHeaders, TypePushPromise:
		limit := r.MaxFieldSectionPayload
		if limit == 0 {
			limit = DefaultMaxFieldSectionPayload
		}
		if f.Length > limit {
			return newError(ErrCodeExcessiveLoad, "field section larger than our limit")
		}
		p, err := r.readPayload(f.Length)
		if err != nil {
			return err
		}
		if f.Type == TypePushPromise {
			id, n := parseVarint(p)
			if n == 0 {
				return newError(ErrCodeFrameError, "PUSH_PROMISE ends inside its Push ID")
			}
			f.ID, p = id, p[n:]
		}
		f.FieldSection = p
		return nil
	case TypeSettings:
		if f.Length > MaxSettingsPayload {
			return newError(ErrCodeExcessiveLoad, "SETTINGS frame larger than our limit")
		}
		p, err := r.readPayload(f.Length)
		if err != nil {
			return err
		}
		f.Settings, err = ParseSettings(p)
		return err
	case TypePriorityUpdate, TypePriorityUpdatePush:
		// RFC 9218 §7.2: a Prioritized Element ID, then the field value.
		if f.Length > MaxPriorityUpdatePayload {
			return newError(ErrCodeExcessiveLoad, "PRIORITY_UPDATE frame larger than our limit")
		}
		p, err := r.readPayload(f.Length)
		if err != nil {
			return err
		}
		id, n := parseVarint(p)
		if n == 0 {
			return newError(ErrCodeFrameError, "PRIORITY_UPDATE ends inside its Prioritized Element ID")
		}
		f.ID, f.PriorityFieldValue = id, p[n:]
		return nil
	default: // CANCEL_PUSH, GOAWAY, MAX_PUSH_ID: exactly one varint.
		if f.Length == 0 || f.Length > 8 {
			return newError(ErrCodeFrameError, "frame length does not match its single varint")
		}
		var p [8]byte
		if err := r.readFull(p[:f.Length]); err != nil {
			return err
		}
		id, n := parseVarint(p[:f.Length])
		if uint64(n) != f.Length {
			return newError(ErrCodeFrameError, "frame length does not match its single varint")
		}
		f.ID = id
		return nil
	}
}

// MaxPriorityUpdatePayload bounds the payload of a PRIORITY_UPDATE frame:
// an ID and a Priority Field Value, which is a few bytes for the
// parameters RFC 9218 defines; a larger frame is an H3_EXCESSIVE_LOAD
// connection error (RFC 9114 §10.5).
const MaxPriorityUpdatePayload = 1024

// payloadChunk is the least a payload buffer grows by.
const payloadChunk = 4 << 10

// readPayload reads an n-byte payload (n already bounded by a limit): in
// place when it is all read ahead, else into the reused buffer. That
// buffer grows with what arrives, never ahead of it by more than a quarter
// or payloadChunk: a peer that declares a large HEADERS frame and sends
// little of it costs little (RFC 9114 §10.5).
func (r *Reader) readPayload(n uint64) ([]byte, error) {
	if uint64(r.w-r.r) >= n {
		// All read ahead already, as a small section usually is: no copy.
		p := r.buf[r.r : r.r+int(n)]
		r.r += int(n)
		return p, nil
	}
	p := r.payload[:0]
	k := int(min(uint64(r.w-r.r), n))
	p = append(p, r.buf[r.r:r.r+k]...)
	r.r += k
	for uint64(len(p)) < n {
		if len(p) == cap(p) {
			grow := min(uint64(max(len(p)/4, payloadChunk)), n-uint64(len(p)))
			p = append(make([]byte, 0, len(p)+int(grow)), p...)
		}
		if r.srcErr != nil {
			r.payload = p[:0]
			if r.srcErr == io.EOF {
				return nil, errTruncated
			}
			return nil, r.srcErr
		}
		end := min(uint64(cap(p)), n)
		m, err := r.src.Read(p[len(p):end])
		p = p[:len(p)+m]
		if err != nil {
			r.srcErr = err
		}
	}
	r.payload = p
	return p, nil
}

// ReleasePayload drops the buffer of HEADERS, PUSH_PROMISE and SETTINGS
// payloads when it is larger than payloadChunk, so that a stream that had
// one large field section does not keep its buffer for its lifetime. The
// FieldSection of the last frame is invalid afterwards.
func (r *Reader) ReleasePayload() {
	if cap(r.payload) > payloadChunk {
		r.payload = nil
	}
}

// ErrBufferFull is returned by Await when the read-ahead buffer has no
// room left.
var ErrBufferFull = errors.New("h3: frame read-ahead buffer full")

// Await reads more of the stream into the read-ahead buffer, without
// consuming anything, and returns nil once some bytes arrived. It lets a
// caller that waits for something else (a field section blocked on the
// QPACK encoder stream, RFC 9204 §2.1.2) learn that the stream was reset or
// ended: it then returns the stream's error, or io.EOF, which Next and
// Read report in turn after the bytes before it. It returns ErrBufferFull
// when the buffer is full, and a deadline error (os.ErrDeadlineExceeded)
// without keeping it, so that a caller can interrupt Await with the
// stream's read deadline and go on reading. It must not run concurrently
// with the Reader's other methods.
func (r *Reader) Await() error {
	if r.srcErr != nil {
		return r.srcErr
	}
	if r.r > 0 {
		r.w = copy(r.buf[:], r.buf[r.r:r.w])
		r.r = 0
	}
	if r.w == len(r.buf) {
		return ErrBufferFull
	}
	n, err := r.src.Read(r.buf[r.w:])
	r.w += n
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		r.srcErr = err
	}
	if n > 0 {
		return nil
	}
	if err == nil {
		return nil // (0, nil): the caller calls again
	}
	return err
}

// IsFrameError reports whether err is an *Error (an HTTP/3 error detected in
// the peer's frames) rather than an error of the underlying stream.
func IsFrameError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
