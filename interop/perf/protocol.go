package perf

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
)

// bufPool holds the servers' read buffers, so that a request costs no
// 64 KiB allocation.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, PatternLen)
	return &b
}}

// Unlimited as a response size asks the server to send until the client
// goes away (draft-banks-quic-performance-00 §2.3.1).
const Unlimited = math.MaxUint64

// Request is one perf exchange on one stream.
type Request struct {
	Upload   int64  // bytes the client sends after the 8-byte size
	Download uint64 // bytes the client asks the server to send back
	// Verify compares the downloaded bytes with the pattern.
	Verify bool
	// Sink, if set, also receives every downloaded byte (tests hash it).
	Sink io.Writer
	// Buffer is scratch space of at least PatternLen bytes; nil means a
	// fresh one. Callers issuing many requests pass their own to avoid an
	// allocation each.
	Buffer []byte
}

// Do runs r on a new stream of conn and returns the number of bytes
// downloaded. It returns once the server's FIN has arrived, as the draft's
// throughput measurement (§3.1) ends there. If ctx ends first, conn is
// closed so that blocked reads and writes return.
func Do(ctx context.Context, conn Conn, r Request) (int64, error) {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	s, err := conn.OpenStream(ctx)
	if err != nil {
		return 0, err
	}
	n, err := exchange(s, r)
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	return n, err
}

func exchange(s Stream, r Request) (int64, error) {
	buf := r.Buffer
	if len(buf) < PatternLen {
		buf = make([]byte, PatternLen)
	}
	// The size and the first piece of upload go out in one write, so that a
	// small request is one packet. buf is free until the download starts.
	first := min(r.Upload, PatternLen-8)
	head := binary.BigEndian.AppendUint64(buf[:0], r.Download)
	head = append(head, pattern[:first]...)
	if _, err := s.Write(head); err != nil {
		return 0, fmt.Errorf("perf: sending request: %w", err)
	}
	if err := writePattern(s, first, r.Upload-first); err != nil {
		return 0, fmt.Errorf("perf: uploading: %w", err)
	}
	if err := s.Close(); err != nil {
		return 0, fmt.Errorf("perf: sending FIN: %w", err)
	}
	var (
		got int64
		chk patternChecker
	)
	for {
		n, err := s.Read(buf)
		if n > 0 {
			got += int64(n)
			if r.Verify {
				if cerr := chk.check(buf[:n]); cerr != nil {
					return got, cerr
				}
			}
			if r.Sink != nil {
				r.Sink.Write(buf[:n])
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return got, fmt.Errorf("perf: downloading: %w", err)
		}
	}
	if r.Download != Unlimited && uint64(got) != r.Download {
		return got, fmt.Errorf("perf: server sent %d bytes, asked for %d", got, r.Download)
	}
	return got, nil
}

// writePattern writes n bytes of the pattern stream starting at offset off.
func writePattern(w io.Writer, off, n int64) error {
	for n > 0 {
		i := off % PatternLen
		k := min(n, PatternLen-i)
		if _, err := w.Write(pattern[i : i+k]); err != nil {
			return err
		}
		off += k
		n -= k
	}
	return nil
}

// Server answers perf streams.
type Server struct {
	// VerifyUpload compares uploads with the pattern; a stream whose upload
	// differs gets no response and its connection is closed.
	VerifyUpload bool
	// OnStream, if set, is called with every stream's upload (it may be
	// called concurrently). Tests use it to hash what the server received.
	OnStream func(u Upload)
	// HashUpload feeds each upload to a writer from this factory (tests).
	HashUpload func() io.Writer
}

// Upload is what the server saw on one stream.
type Upload struct {
	Requested uint64
	Bytes     int64
	Sink      io.Writer // the HashUpload writer, or nil
}

// Serve accepts connections from ln until ctx ends or ln fails, serving
// each on its own goroutine. It returns nil when ctx ended.
func (s *Server) Serve(ctx context.Context, ln Listener) error {
	for {
		c, err := ln.Accept(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go s.ServeConn(ctx, c)
	}
}

// ServeConn serves the streams of c until the peer closes it or ctx ends,
// each stream on its own goroutine.
func (s *Server) ServeConn(ctx context.Context, c Conn) {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	for {
		st, err := c.AcceptStream(ctx)
		if err != nil {
			c.Close()
			return
		}
		go func() {
			if err := s.serveStream(st); err != nil {
				var pe *PatternError
				if errors.As(err, &pe) {
					c.Close()
				}
			}
		}()
	}
}

// serveStream reads the size, drains the upload to FIN, then answers.
func (s *Server) serveStream(st Stream) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	var size [8]byte
	if _, err := io.ReadFull(st, size[:]); err != nil {
		// §2.3.1: a stream closed before its 8 bytes is ignored and closed.
		st.Close()
		return err
	}
	up := Upload{Requested: binary.BigEndian.Uint64(size[:])}
	if s.HashUpload != nil {
		up.Sink = s.HashUpload()
	}
	var chk patternChecker
	for {
		n, err := st.Read(buf)
		if n > 0 {
			up.Bytes += int64(n)
			if s.VerifyUpload {
				if cerr := chk.check(buf[:n]); cerr != nil {
					return cerr
				}
			}
			if up.Sink != nil {
				up.Sink.Write(buf[:n])
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if s.OnStream != nil {
		s.OnStream(up)
	}
	// Answer with the pattern stream; Unlimited runs until a write fails.
	left := up.Requested
	var off int64
	for left > 0 {
		k := min(left, PatternLen-uint64(off%PatternLen))
		if _, err := st.Write(pattern[off%PatternLen : off%PatternLen+int64(k)]); err != nil {
			return err
		}
		off += int64(k)
		if up.Requested != Unlimited {
			left -= k
		}
	}
	return st.Close()
}
