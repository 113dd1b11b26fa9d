package qlog

import (
	"bufio"
	"encoding/hex"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// recordSeparator starts every JSON-SEQ record (RFC 7464 §2.2); a line feed
// ends it.
const recordSeparator = 0x1e

// Identifiers of the file and event schemas. Main schema draft-14 §5:
// a JSON-SEQ file uses the QlogFileSeq schema; quic-events draft-13 §2.1:
// an implementation of a draft appends "-<draft number>" to the event
// schema URI until the RFC is published.
const (
	fileSchema          = "urn:ietf:params:qlog:file:sequential"
	serializationFormat = "application/qlog+json-seq"
	quicEventSchema     = "urn:ietf:params:qlog:events:quic-13"
)

// seqWriter writes one trace's records. It is used by one goroutine (the
// connection's), so it needs no lock; buf is reused for every record so
// that logging a packet does not allocate.
type seqWriter struct {
	w     *bufio.Writer
	close io.Closer // closed after the final flush; nil for NewTracer
	start time.Time // the reference time: "time" is ms since start
	buf   []byte
	// ranges is scratch space for parsing ACK frames.
	ranges []wire.AckRange
	// lastMetrics are the recovery metrics last reported, for logging
	// only what changed; valid when hasMetrics.
	lastMetrics quic.RecoveryMetrics
	hasMetrics  bool
	done        bool
	err         error // first write, flush or close error; logging stops there
}

func newSeqWriter(w io.Writer, closer io.Closer, bufSize int, start time.Time) *seqWriter {
	return &seqWriter{
		w:     bufio.NewWriterSize(w, bufSize),
		close: closer,
		start: start,
		buf:   make([]byte, 0, 512),
	}
}

// writeHeader writes the QlogFileSeq record (main schema draft-14 §5,
// Figure 9). file_schema and serialization_format come first so that they
// fall within the first 256 bytes (§3). Times are relative to the
// connection's start on the monotonic clock, whose epoch is therefore
// "unknown" (§7.1); wall_clock_time says roughly when that was.
func (s *seqWriter) writeHeader(isClient bool, odcid []byte) {
	b := append(s.buf[:0], recordSeparator)
	b = append(b, `{"file_schema":"`+fileSchema+`","serialization_format":"`+serializationFormat+`","title":"skiff qlog","trace":{"common_fields":{"group_id":"`...)
	b = hex.AppendEncode(b, odcid)
	b = append(b, `","time_format":"relative_to_epoch","reference_time":{"clock_type":"monotonic","epoch":"unknown","wall_clock_time":"`...)
	b = s.start.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, `"}},"vantage_point":{"name":"skiff","type":"`...)
	if isClient {
		b = append(b, "client"...)
	} else {
		b = append(b, "server"...)
	}
	b = append(b, `"},"event_schemas":["`+quicEventSchema+`"]}}`+"\n"...)
	s.buf = b
	s.write(b)
}

// beginEvent starts an event record with its time and name and opens its
// data object; the caller appends the data's members and calls endEvent.
func (s *seqWriter) beginEvent(now time.Time, name string) []byte {
	b := append(s.buf[:0], recordSeparator)
	b = append(b, `{"time":`...)
	b = appendMillis(b, now.Sub(s.start))
	b = append(b, `,"name":"`...)
	b = append(b, name...)
	b = append(b, `","data":{`...)
	return b
}

// endEvent closes the data object and the event, and writes the record.
func (s *seqWriter) endEvent(b []byte) {
	b = append(b, "}}\n"...)
	s.buf = b
	s.write(b)
}

func (s *seqWriter) write(b []byte) {
	if s.err != nil || s.done {
		return
	}
	_, s.err = s.w.Write(b)
}

// flush pushes buffered records to the underlying writer.
func (s *seqWriter) flush() {
	if s.err == nil && !s.done {
		s.err = s.w.Flush()
	}
}

// finish flushes and, for files, closes; later events are dropped.
func (s *seqWriter) finish() {
	if s.done {
		return
	}
	s.flush()
	s.done = true
	if s.close != nil {
		if err := s.close.Close(); s.err == nil {
			s.err = err
		}
	}
}

// appendMillis appends d as milliseconds with microsecond resolution, the
// unit of qlog's "time" and RTT fields (main schema draft-14 §7.1,
// quic-events draft-13 §7.2). Integer arithmetic keeps the output exact and
// free of exponents.
func appendMillis(b []byte, d time.Duration) []byte {
	if d < 0 {
		d = 0
	}
	us := uint64(d / time.Microsecond)
	b = strconv.AppendUint(b, us/1000, 10)
	frac := us % 1000
	return append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

// appendUintField appends `"name":v` preceded by a comma unless first.
func appendUintField(b []byte, name string, v uint64, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `":`...)
	return strconv.AppendUint(b, v, 10)
}

// appendMillisField appends `"name":<ms>` preceded by a comma.
func appendMillisField(b []byte, name string, d time.Duration) []byte {
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":`...)
	return appendMillis(b, d)
}

// appendString appends s as a JSON string (RFC 8259 §7): quotes,
// backslashes and control characters are escaped, and bytes that are not
// UTF-8 become U+FFFD so that the record stays valid JSON (§8.1).
func appendString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
