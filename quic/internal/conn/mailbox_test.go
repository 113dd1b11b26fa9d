package conn

import (
	"testing"

	"github.com/skiffnet/skiff/quic/internal/streambuf"
)

// TestTakeSendWork: writing to a stream and ending its sending part mark
// the Mailbox for the owner (which then lets other writers run before it
// sends, quic's cork); opening a stream and reading do not, and taking the
// mark clears it.
func TestTakeSendWork(t *testing.T) {
	p := newTestPair(t)
	p.handshake()
	mb := p.client.mb
	s := p.openStream(p.client, false)
	if mb.TakeSendWork() {
		t.Fatal("opening a stream marked send work")
	}
	if n, st, _ := s.Write([]byte("request")); n != 7 || st != streambuf.OK {
		t.Fatalf("Write = %d, %v", n, st)
	}
	if !mb.TakeSendWork() {
		t.Fatal("a Write left no send work")
	}
	if mb.TakeSendWork() {
		t.Fatal("the mark survived TakeSendWork")
	}
	if st, _ := s.CloseWrite(); st != streambuf.OK {
		t.Fatalf("CloseWrite = %v", st)
	}
	if !mb.TakeSendWork() {
		t.Fatal("CloseWrite left no send work")
	}
	p.owner(p.client)
	p.runUntil("the server accepts the stream", func() bool { return len(p.accepted[1]) == 1 })
	srv := p.server.mb
	srv.TakeSendWork()
	buf := make([]byte, 16)
	if n, _, _ := p.accepted[1][0].Read(buf); n != 7 {
		t.Fatalf("server read %d bytes, want 7", n)
	}
	if srv.TakeSendWork() {
		t.Fatal("a Read marked send work")
	}
}
