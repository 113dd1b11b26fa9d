package quic

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"testing"
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
	ctx := context.Background()
	s, err := p.client.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("skiff stream data "), 100_000)
	go func() {}()
	// The sans-I/O harness is single-threaded: write what fits, then pump.
	written := 0
	var ss *Stream
	var got bytes.Buffer
	buf := make([]byte, 64<<10)
	defer func() {
		if t.Failed() {
			p.dump(t)
		}
	}()
	p.runUntil("transfer complete", func() bool {
		if written < len(data) {
			s.mu.Lock()
			room := maxSendBuffered - int(s.send.Buffered())
			s.mu.Unlock()
			if room > 0 {
				n := min(room, len(data)-written)
				s.Write(data[written : written+n])
				written += n
				if written == len(data) {
					s.Close()
				}
			}
		}
		if ss == nil {
			p.server.mu.Lock()
			if len(p.server.streams.accept[kindBidi]) > 0 {
				ss = p.server.streams.accept[kindBidi][0]
			}
			p.server.mu.Unlock()
		}
		if ss != nil {
			for {
				ss.mu.Lock()
				n, eof := ss.recv.Read(buf)
				ss.mu.Unlock()
				if n > 0 {
					got.Write(buf[:n])
					p.server.flow.consumed(uint64(n))
					ss.mu.Lock()
					if ss.onConsumedLocked(uint64(n)) {
						ss.mu.Unlock()
						p.server.queueStream(ss)
					} else {
						ss.mu.Unlock()
					}
				}
				if eof {
					return true
				}
				if n == 0 {
					break
				}
			}
		}
		return false
	})
	if got.Len() != len(data) || sha256.Sum256(got.Bytes()) != sha256.Sum256(data) {
		t.Fatalf("received %d bytes, want %d identical", got.Len(), len(data))
	}
	_ = io.EOF
	t.Logf("%d bytes in %v of synthetic time; client stats %+v", len(data), p.now.Sub(p.client.epoch), p.client.stats)
}
