package bench

import (
	"context"
	"testing"
)

// TestSuiteWorks runs every operation of the benchmarks once, small, so that
// `make test` notices when the suite breaks: the peer process and its
// commands, bulk both ways, an echo, an HTTP/3 request, and a floor
// handshake whose two sides agree.
func TestSuiteWorks(t *testing.T) {
	p := getPeer(t)
	p.settle(t)
	c := dial(t, newClient(t), p.quicAddr, p.clientConfig())
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	for _, upload := range []bool{false, true} {
		s, err := c.OpenStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if upload {
			err = upload1(s, make([]byte, 16<<10), 100<<10)
		} else {
			err = download1(s, 100<<10)
		}
		if err != nil {
			t.Fatalf("upload=%v: %v", upload, err)
		}
	}
	if err := echo(c, []byte("request")); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.PacketsSent == 0 || st.PacketsReceived == 0 {
		t.Errorf("stats count no packets: %+v", st)
	}
	c.Close()
	tr := newTransport(t, p)
	if err := request(ctx, tr, p.h3URL); err != nil {
		t.Fatal(err)
	}
	tr.CloseIdleConnections()
	if u := p.stat(t); u.mallocs == 0 || (haveCPU && u.cpu <= 0) {
		t.Errorf("peer stat = %+v", u)
	}
	if heap, g := p.mem(t); heap <= 0 || g <= 0 {
		t.Errorf("peer mem = %d bytes, %d goroutines", heap, g)
	}
	p.settle(t)
	fl, err := newFloor()
	if err != nil {
		t.Fatal(err)
	}
	if err := fl.handshake(); err != nil {
		t.Fatal(err)
	}
}
