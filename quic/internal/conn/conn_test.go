package conn

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"unsafe"

	"github.com/skiffnet/skiff/quic/internal/streambuf"
)

func TestHandshakeInMemory(t *testing.T) {
	p := newTestPair(t)
	p.handshake()
	if got := p.client.tls.ConnectionState().NegotiatedProtocol; got != testALPN {
		t.Errorf("ALPN %q", got)
	}
	if !p.client.spaces[0].discarded || !p.server.spaces[0].discarded {
		t.Error("Initial keys not discarded")
	}
	if !p.client.spaces[1].discarded || !p.server.spaces[1].discarded {
		t.Error("Handshake keys not discarded after confirmation")
	}
}

func TestStreamTransferInMemory(t *testing.T) {
	p := newTestPair(t)
	p.handshake()
	s := p.openStream(p.client, false)
	data := bytes.Repeat([]byte("skiff stream data "), 100_000)
	p.transfer(t, s, data, 0)
	t.Logf("%d bytes in %v of synthetic time; client stats %+v", len(data), p.now.Sub(p.client.epoch), p.client.stats)
}

// Conn fits the allocator's 2048-byte size class with the 8-byte header
// the runtime puts before an object of more than 512 bytes holding
// pointers: a byte more and every connection pays for the next class, 256
// bytes more. Cold state goes behind pointers made when needed (the close
// frame, the tracer's state, the acknowledgment path's scratch space) and
// flags sit together.
func TestConnSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(Conn{}); n > 2048-8 {
		t.Errorf("Conn is %d bytes, more than the 2048-byte size class takes", n)
	}
}

// transfer writes data on s, a stream of the client, and reads it from
// the first stream the server accepted until its end, which it checks
// holds exactly data. The harness is single-threaded: the writer writes
// what fits, then the pair moves. chunk, when not 0, makes the writer
// write chunk bytes at a time, each once the previous ones were
// acknowledged.
func (p *testPair) transfer(t *testing.T, s *Stream, data []byte, chunk int) {
	t.Helper()
	defer func() {
		if t.Failed() {
			p.dump(t)
		}
	}()
	written := 0
	var got bytes.Buffer
	buf := make([]byte, 64<<10)
	p.runUntil("transfer complete", func() bool {
		if written < len(data) && (chunk == 0 || s.Buffered() == 0) {
			end := len(data)
			if chunk > 0 {
				end = min(written+chunk, end)
			}
			n, _, _ := s.Write(data[written:end])
			if written += n; written == len(data) {
				s.CloseWrite()
			}
		}
		if len(p.accepted[1]) == 0 {
			return false
		}
		for ss := p.accepted[1][0]; ; {
			n, st, _ := ss.Read(buf)
			got.Write(buf[:n])
			if st == streambuf.EOF {
				return true
			}
			if n == 0 {
				return false
			}
		}
	})
	if got.Len() != len(data) || sha256.Sum256(got.Bytes()) != sha256.Sum256(data) {
		t.Fatalf("received %d bytes, want %d identical", got.Len(), len(data))
	}
}
