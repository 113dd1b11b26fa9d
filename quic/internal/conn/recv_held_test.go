package conn

import (
	"bytes"
	"testing"
	"time"
)

// heldDatagram is a received datagram's memory counted by references, as
// the endpoint's receive buffers are: the harness holds one while the
// connection processes it, streams one per slice they keep. When the last
// goes its bytes are overwritten, as the next datagram received into the
// buffer would.
type heldDatagram struct {
	b            []byte
	refs         int
	everHeld     bool // a stream held it
	overReleased bool
}

func (d *heldDatagram) Hold() {
	d.refs++
	d.everHeld = true
}

func (d *heldDatagram) Release() { d.drop() }

func (d *heldDatagram) Size() int { return len(d.b) }

func (d *heldDatagram) drop() {
	d.refs--
	switch {
	case d.refs == 0:
		for i := range d.b {
			d.b[i] = 0xee
		}
	case d.refs < 0:
		d.overReleased = true
	}
}

// heldDatagrams are the datagrams a harness handed over with a Holder.
type heldDatagrams struct {
	all []*heldDatagram
}

func (h *heldDatagrams) add(b []byte) *heldDatagram {
	d := &heldDatagram{b: b, refs: 1}
	h.all = append(h.all, d)
	return d
}

// check reports datagrams still referenced or released too often, and
// how many were held by a stream.
func (h *heldDatagrams) check(t *testing.T) (held int) {
	t.Helper()
	for i, d := range h.all {
		if d.refs != 0 || d.overReleased {
			t.Errorf("datagram %d: %d references left (released too often: %v)", i, d.refs, d.overReleased)
		}
		if d.everHeld {
			held++
		}
	}
	return held
}

// A transfer whose datagrams come with Holders (as the endpoint's receive
// buffers) keeps STREAM data in them rather than copying it, and reads it
// intact, though each datagram's memory is overwritten when its last
// reference goes; every datagram is released.
func TestStreamTransferHeld(t *testing.T) {
	p := newTestPair(t)
	p.held = &heldDatagrams{}
	p.handshake()
	s := p.openStream(p.client, false)
	data := bytes.Repeat([]byte("skiff held stream data "), 100_000)
	p.transfer(t, s, data, 0)
	held := p.held.check(t)
	t.Logf("%d of %d datagrams held by the stream", held, len(p.held.all))
	if held == 0 {
		t.Error("no datagram was held")
	}
	if n := p.server.mb.held.Held(); n != 0 {
		t.Errorf("the server's budget counts %d held slices after the transfer", n)
	}
}

// An idle connection's Trim copies what its streams hold, unread, and
// releases the datagrams; the data reads back intact.
func TestTrimUnholds(t *testing.T) {
	p := newTestPair(t)
	p.held = &heldDatagrams{}
	p.handshake()
	s := p.openStream(p.client, false)
	data := bytes.Repeat([]byte("unread held data "), 4000)
	s.Write(data)
	s.CloseWrite()
	p.runUntil("the data arrived", func() bool {
		return len(p.accepted[1]) > 0 && p.server.flow.received == uint64(len(data))
	})
	if p.server.mb.held.Held() == 0 {
		t.Fatal("nothing held")
	}
	p.now = p.now.Add(time.Second)
	p.server.Trim()
	if n := p.server.mb.held.Held(); n != 0 {
		t.Fatalf("%d slices held after Trim", n)
	}
	got := make([]byte, 0, len(data))
	buf := make([]byte, 10_000)
	rs := p.accepted[1][0]
	for {
		n, _, _ := rs.Read(buf)
		if n == 0 {
			break
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes after Trim, want %d identical", len(got), len(data))
	}
	p.held.check(t)
}
