package bench

import (
	"context"
	"encoding/binary"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic"
)

// opTimeout bounds every blocking step of a benchmark, far above its
// normal time, so that a stuck connection fails instead of hanging.
const opTimeout = 2 * time.Minute

// bulkChunk is the unit of a bulk benchmark operation (b.SetBytes) and the
// size of each Write and Read.
const bulkChunk = 1 << 20

// newClient opens a client endpoint on loopback, closed when tb ends.
func newClient(tb testing.TB) *quic.Endpoint {
	tb.Helper()
	ep, err := quic.NewEndpoint("udp", "127.0.0.1:0", nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ep.Close() })
	return ep
}

// dial connects ep to addr.
func dial(tb testing.TB, ep *quic.Endpoint, addr netip.AddrPort, conf *quic.Config) *quic.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	c, err := ep.Dial(ctx, addr, conf)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// BenchmarkBulk moves data over one stream of one connection, server to
// client (down) or client to server (up); see doc.go for the metrics.
func BenchmarkBulk(b *testing.B) {
	for _, dir := range []string{"down", "up"} {
		b.Run("dir="+dir+"/dgram=1452", func(b *testing.B) { benchBulk(b, dir == "up", false) })
		b.Run("dir="+dir+"/dgram=max", func(b *testing.B) { benchBulk(b, dir == "up", true) })
	}
}

// benchBulk measures one direction; big uses the largest datagrams the
// path carries (both ends' MaxDatagramSize at the most, path MTU
// discovery finding what loopback carries) instead of 1452 bytes.
func benchBulk(b *testing.B, upload, big bool) {
	p := getPeer(b)
	p.settle(b)
	addr, conf := p.quicAddr, p.clientConfig()
	if big {
		addr, conf.MaxDatagramSize = p.bigAddr, maxDatagram
	}
	c := dial(b, newClient(b), addr, conf)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	s, err := c.OpenStream(ctx)
	if err != nil {
		b.Fatal(err)
	}
	total := uint64(b.N) * bulkChunk
	buf := make([]byte, bulkChunk)
	b.SetBytes(bulkChunk)
	b.ReportAllocs()
	st0, used := c.Stats(), p.startUsage(b)
	b.ResetTimer()
	start := time.Now()
	if upload {
		err = upload1(s, buf, total)
	} else {
		err = download1(s, total)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	cl, sv := used()
	st := c.Stats()
	gb := float64(total) / 1e9
	b.ReportMetric(gb*8/elapsed.Seconds(), "Gbit/s")
	if haveCPU {
		b.ReportMetric(cl.cpu.Seconds()/gb, "client-CPU-s/GB")
		b.ReportMetric(sv.cpu.Seconds()/gb, "server-CPU-s/GB")
		// Context switches of each process's threads: the wake-ups a
		// transfer costs, steadier than the time figures on a shared
		// machine (and what its busy phases make dearer).
		b.ReportMetric(float64(cl.switches)/gb, "client-cswitch/GB")
		b.ReportMetric(float64(sv.switches)/gb, "server-cswitch/GB")
	}
	// Every packet of the connection, counted once: each one is sent by
	// one side and received by the other. The driver publishes its
	// counters after each batch, so the last batch may be missing.
	if pkts := float64(st.PacketsSent + st.PacketsReceived - st0.PacketsSent - st0.PacketsReceived); pkts > 0 {
		b.ReportMetric(float64(cl.mallocs)/pkts, "client-allocs/pkt")
		b.ReportMetric(float64(sv.mallocs)/pkts, "server-allocs/pkt")
	}
	if sent, rcvd := st.PacketsSent-st0.PacketsSent, st.PacketsReceived-st0.PacketsReceived; sent > 0 && rcvd > 0 {
		if upload {
			b.ReportMetric(float64(rcvd)/float64(sent), "acks/pkt")
		} else {
			b.ReportMetric(float64(sent)/float64(rcvd), "acks/pkt")
		}
	}
	// The size of the datagrams that carried the data.
	bytes, dgrams := st.BytesReceived-st0.BytesReceived, st.DatagramsReceived-st0.DatagramsReceived
	if upload {
		bytes, dgrams = st.BytesSent-st0.BytesSent, st.DatagramsSent-st0.DatagramsSent
	}
	if dgrams > 0 {
		b.ReportMetric(float64(bytes)/float64(dgrams), "B/dgram")
	}
}

// download1 asks the peer for total bytes and reads them.
func download1(s *quic.Stream, total uint64) error {
	req := binary.BigEndian.AppendUint64([]byte{opDownload}, total)
	if _, err := s.Write(req); err != nil {
		return err
	}
	if err := s.Close(); err != nil {
		return err
	}
	n, err := drain(s)
	if err == nil && uint64(n) != total {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// upload1 sends total bytes and waits for the peer to confirm it read them
// all: the time includes the last byte's arrival.
func upload1(s *quic.Stream, buf []byte, total uint64) error {
	if _, err := s.Write([]byte{opUpload}); err != nil {
		return err
	}
	for left := total; left > 0; {
		n := min(left, uint64(len(buf)))
		if _, err := s.Write(buf[:n]); err != nil {
			return err
		}
		left -= n
	}
	if err := s.Close(); err != nil {
		return err
	}
	var got [8]byte
	if _, err := io.ReadFull(s, got[:]); err != nil {
		return err
	}
	if binary.BigEndian.Uint64(got[:]) != total {
		return io.ErrShortWrite
	}
	return nil
}
