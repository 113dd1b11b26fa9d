package conn

import (
	"testing"
	"time"
)

// BenchmarkReceiveStream measures the receiver's cost of bulk stream data:
// each operation hands the server one burst of the client's 1-RTT
// datagrams (as its driver does) and reads what became readable. Sending,
// the acknowledgments and the timers run outside the timer. ns/pkt is the
// receiver's time per datagram. The datagrams come without a Holder: the
// stream data is copied, as without GRO.
func BenchmarkReceiveStream(b *testing.B) {
	p := newTestPair(b)
	p.handshake()
	s := p.openStream(p.client, false)
	data := make([]byte, 256<<10)
	buf := make([]byte, 256<<10)
	var rs *Stream
	pkts := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		p.now = p.now.Add(100 * time.Microsecond)
		for _, c := range []*Conn{p.client, p.server} {
			if d := c.Deadline(); !d.IsZero() && !d.After(p.now) {
				c.HandleTimer(p.now)
			}
		}
		p.flushOne(p.server, 1, &p.s2c)
		p.deliver()
		s.Write(data)
		p.flushOne(p.client, 0, &p.c2s)
		q := p.c2s.queue
		p.c2s.queue = nil
		b.StartTimer()
		for _, d := range q {
			p.server.HandleDatagram(p.now, d.b, clientAddr, p.codepoint(true, d.ect))
		}
		pkts += len(q)
		if rs == nil {
			p.owner(p.server)
			if len(p.accepted[1]) > 0 {
				rs = p.accepted[1][0]
			}
		}
		for rs != nil {
			if n, _, _ := rs.Read(buf); n == 0 {
				break
			}
		}
	}
	if pkts > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(pkts), "ns/pkt")
	}
}
