package hostile

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/skiffnet/skiff/h3"
	"github.com/skiffnet/skiff/quic"
)

func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }

// workers returns the soak's workers, each running until ctx ends.
func (e *soakEnv) workers() []func(context.Context) {
	return []func(context.Context){
		e.legitH3, e.legitH3, e.legitH3,
		e.legitEcho, e.legitEcho,
		e.flood,
		e.slowloris,
		e.nonReaders,
		e.resetStorm,
		e.garbage,
	}
}

// every runs f every period until ctx ends.
func every(ctx context.Context, period time.Duration, f func()) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		f()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (e *soakEnv) transport() *h3.Transport {
	return &h3.Transport{Mode: h3.ModeHTTP3Only, TLSClientConfig: e.client}
}

// legitH3 makes requests one after the other through its own Transport:
// small, large (256 KiB) and uploads (64 KiB), checking each answer; every
// 50 it closes its idle connections and dials again.
func (e *soakEnv) legitH3(ctx context.Context) {
	tr := e.transport()
	defer tr.CloseIdleConnections()
	upload := make([]byte, 64<<10)
	rand.Read(upload)
	wantSum := sha256.Sum256(upload)
	for i := 0; ctx.Err() == nil; i++ {
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var err error
		switch i % 3 {
		case 0:
			err = e.get(rctx, tr, "/small", e.big[:1024])
		case 1:
			err = e.get(rctx, tr, "/big?n=262144", e.big[:256<<10])
		case 2:
			err = e.post(rctx, tr, "/echo", upload, wantSum[:])
		}
		cancel()
		if err != nil {
			e.stats.requestErrs.Add(1)
			e.stats.fail(err)
		} else {
			e.stats.requests.Add(1)
		}
		if i%50 == 49 {
			tr.CloseIdleConnections()
		}
	}
}

func (e *soakEnv) get(ctx context.Context, tr *h3.Transport, path string, want []byte) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.h3URL+path, nil)
	return e.check(tr, req, want)
}

func (e *soakEnv) post(ctx context.Context, tr *h3.Transport, path string, body, want []byte) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.h3URL+path, bytes.NewReader(body))
	return e.check(tr, req, want)
}

// check makes the request and compares the response body with want.
func (e *soakEnv) check(tr *h3.Transport, req *http.Request, want []byte) error {
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		return fmt.Errorf("%s %s: reading the body: %w", req.Method, req.URL.Path, err)
	case resp.StatusCode != http.StatusOK || resp.ProtoMajor != 3:
		return fmt.Errorf("%s %s: %s over %s", req.Method, req.URL.Path, resp.Status, resp.Proto)
	case !bytes.Equal(got, want):
		return fmt.Errorf("%s %s: %d bytes that differ from the %d expected", req.Method, req.URL.Path, len(got), len(want))
	}
	return nil
}

func (e *soakEnv) echoConfig() *quic.Config {
	cfg := e.client.Clone()
	cfg.NextProtos = []string{soakALPN}
	return &quic.Config{TLS: cfg}
}

func (e *soakEnv) h3Config() *quic.Config {
	cfg := e.client.Clone()
	cfg.NextProtos = []string{h3.NextProtoH3}
	return &quic.Config{TLS: cfg}
}

// legitEcho sends 64 KiB on each of 20 streams of a connection, one after
// the other, and checks the echo; then it dials again.
func (e *soakEnv) legitEcho(ctx context.Context) {
	data := make([]byte, 64<<10)
	rand.Read(data)
	for ctx.Err() == nil {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		c, err := quic.Dial(cctx, "udp", e.echoLn.Addr().String(), e.echoConfig())
		if err != nil {
			cancel()
			e.stats.echoErrs.Add(1)
			e.stats.fail(fmt.Errorf("echo dial: %w", err))
			continue
		}
		for range 20 {
			if err := echoOnce(cctx, c, data); err != nil {
				e.stats.echoErrs.Add(1)
				e.stats.fail(err)
				break
			}
			e.stats.echoes.Add(1)
		}
		c.CloseWithError(0, "")
		cancel()
	}
}

func echoOnce(ctx context.Context, c *quic.Conn, data []byte) error {
	s, err := c.OpenStream(ctx)
	if err != nil {
		return fmt.Errorf("echo: open: %w", err)
	}
	deadline, _ := ctx.Deadline()
	s.SetDeadline(deadline)
	errc := make(chan error, 1)
	go func() {
		_, err := s.Write(data)
		if err == nil {
			err = s.Close()
		}
		errc <- err
	}()
	got, err := io.ReadAll(s)
	if werr := <-errc; werr != nil && err == nil {
		err = werr
	}
	switch {
	case err != nil:
		return fmt.Errorf("echo: %w", err)
	case !bytes.Equal(got, data):
		return fmt.Errorf("echo: %d bytes back that differ from the %d sent", len(got), len(data))
	}
	return nil
}

// flood sends 3,000 forged first flights at 1,000 a second to the HTTP/3
// server every 30 s, from 3,000 source ports.
func (e *soakEnv) flood(ctx context.Context) {
	f, err := NewFlightForger(e.h3Config().TLS)
	if err != nil {
		e.stats.fail(err)
		return
	}
	every(ctx, 30*time.Second, func() {
		st, _ := FloodFirstFlights(ctx, e.h3ln.Addr(), f, 3000, 1000, 40000)
		e.stats.flights.Add(uint64(st.Flights))
	})
}

// slowloris holds 50 request streams on an HTTP/3 connection, each
// sending the start of a HEADERS frame and then a byte a second, until the
// server resets them at its ReadHeaderTimeout; then it dials again.
func (e *soakEnv) slowloris(ctx context.Context) {
	for ctx.Err() == nil {
		c, err := quic.Dial(ctx, "udp", e.h3ln.Addr().String(), e.h3Config())
		if err != nil {
			continue
		}
		var streams []*quic.Stream
		for range 50 {
			s, err := c.OpenStream(ctx)
			if err != nil {
				break
			}
			// HEADERS (type 1), 100 bytes long, none of them yet.
			if _, err := s.Write([]byte{0x01, 0x40, 100}); err != nil {
				break
			}
			streams = append(streams, s)
			e.stats.slowStreams.Add(1)
		}
		tick := time.NewTicker(time.Second)
		for alive := len(streams); alive > 0 && ctx.Err() == nil; {
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
			alive = 0
			for _, s := range streams {
				s.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
				if _, err := s.Write([]byte{0}); err == nil {
					alive++
				}
			}
		}
		tick.Stop()
		c.CloseWithError(0, "")
	}
}

// nonReaders, every 20 s, asks for 16 MiB on 20 requests and reads none of
// it for 15 s, then gives up; and writes 1 MiB on each of 10 echo streams
// without reading the echo.
func (e *soakEnv) nonReaders(ctx context.Context) {
	every(ctx, 20*time.Second, func() {
		var wg sync.WaitGroup
		rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		tr := e.transport()
		defer tr.CloseIdleConnections()
		for range 20 {
			wg.Go(func() {
				req, _ := http.NewRequestWithContext(rctx, http.MethodGet, e.h3URL+"/big?n=16777216", nil)
				resp, err := tr.RoundTrip(req)
				if err != nil {
					return
				}
				e.stats.starvedBytes.Add(16 << 20)
				<-rctx.Done()
				resp.Body.Close()
			})
		}
		c, err := quic.Dial(rctx, "udp", e.echoLn.Addr().String(), e.echoConfig())
		if err == nil {
			big := make([]byte, 1<<20)
			for range 10 {
				s, err := c.OpenStream(rctx)
				if err != nil {
					break
				}
				wg.Go(func() {
					s.SetWriteDeadline(time.Now().Add(14 * time.Second))
					n, _ := s.Write(big)
					e.stats.starvedBytes.Add(uint64(n))
				})
			}
		}
		wg.Wait()
		if c != nil {
			c.CloseWithError(0, "")
		}
	})
}

// resetStorm opens streams and resets them at once, 20 at a time every
// 10 ms, on the echo server and on the HTTP/3 server (a request's HEADERS
// frame cut short). The echo connection is dialed again every 2,000
// streams; the HTTP/3 one, whose client never reads the server's QPACK
// decoder stream and gives it a 4 KiB window, lasts until the server
// closes it for the Stream Cancellations piling up (H3_EXCESSIVE_LOAD).
func (e *soakEnv) resetStorm(ctx context.Context) {
	var conns [2]*quic.Conn
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.CloseWithError(0, "")
			}
		}
	}()
	addrs := [2]string{e.echoLn.Addr().String(), e.h3ln.Addr().String()}
	cfgs := [2]*quic.Config{e.echoConfig(), e.h3Config()}
	cfgs[1].InitialStreamWindow = 4 << 10
	limits := [2]int{2000, 1 << 30}
	var opened [2]int // streams on each connection
	every(ctx, 10*time.Millisecond, func() {
		for i := range conns {
			if conns[i] != nil && conns[i].Context().Err() != nil && i == 1 {
				e.stats.decoderCloses.Add(1) // the server had enough
			}
			if conns[i] == nil || opened[i] >= limits[i] || conns[i].Context().Err() != nil {
				if conns[i] != nil {
					conns[i].CloseWithError(0, "")
				}
				c, err := quic.Dial(ctx, "udp", addrs[i], cfgs[i])
				if err != nil {
					conns[i] = nil
					continue
				}
				conns[i], opened[i] = c, 0
			}
			for range 10 {
				octx, cancel := context.WithTimeout(ctx, time.Second)
				s, err := conns[i].OpenStream(octx)
				cancel()
				if err != nil {
					conns[i].CloseWithError(0, "")
					conns[i] = nil
					break
				}
				s.Write([]byte{0x01, 0x40, 100, 0, 0})
				s.Reset(0x10c) // H3_REQUEST_CANCELLED
				s.CloseRead(0x10c)
				opened[i]++
				e.stats.resets.Add(1)
			}
		}
	})
}

// garbage sends 1,000 datagrams a second to both servers: random bytes of
// random sizes; short headers for no connection, which draw stateless
// resets; long headers of an unknown version with long connection IDs,
// which draw Version Negotiation.
func (e *soakEnv) garbage(ctx context.Context) {
	sock, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		e.stats.fail(err)
		return
	}
	defer sock.Close()
	go io.Copy(io.Discard, readerOf(sock)) // answers are read and dropped
	targets := []netip.AddrPort{e.h3ln.Addr(), e.echoLn.Addr()}
	buf := make([]byte, 1500)
	r := mrand.New(mrand.NewPCG(1, 2))
	every(ctx, 10*time.Millisecond, func() {
		for i := range 10 {
			var d []byte
			switch i % 5 {
			case 0: // a short header for no connection: a stateless reset
				d = buf[:40+r.IntN(1000)]
				rand.Read(d)
				d[0] = 0x40 | d[0]&0x3f
			case 1: // an unknown version, connection IDs of 200 and 100 bytes
				d = buf[:1200]
				rand.Read(d)
				copy(d, []byte{0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 200})
				d[6+200] = 100
			default: // anything
				d = buf[:1+r.IntN(len(buf))]
				rand.Read(d)
			}
			sock.WriteToUDPAddrPort(d, targets[i%2])
			e.stats.garbage.Add(1)
		}
	})
}

// readerOf reads a UDP socket's datagrams as a stream, until it closes.
func readerOf(sock *net.UDPConn) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		n, _, err := sock.ReadFromUDPAddrPort(p)
		if errors.Is(err, net.ErrClosed) {
			return n, io.EOF
		}
		return n, err
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
