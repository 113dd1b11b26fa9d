package qlog

import (
	"context"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/skiffnet/skiff/internal/selfsigned"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// closedHooks wraps DirTracer so the test can wait for each connection's
// Closed hook to return: package quic closes Conn.Context (and lets
// Endpoint.Close return) just before it calls Closed, so the file may be
// unflushed for a moment after those.
type closedHooks struct {
	wg    sync.WaitGroup
	mu    sync.Mutex
	stats map[bool]quic.Stats // per role, as passed to Closed
}

func (h *closedHooks) tracer(dir string) func(bool, []byte) *quic.Tracer {
	return h.wrap(DirTracer(dir))
}

// wrap returns inner's tracers with the Closed hook counted.
func (h *closedHooks) wrap(inner func(bool, []byte) *quic.Tracer) func(bool, []byte) *quic.Tracer {
	return func(isClient bool, odcid []byte) *quic.Tracer {
		tr := inner(isClient, odcid)
		if tr == nil {
			return nil
		}
		h.wg.Add(1)
		closed := tr.Closed
		tr.Closed = func(s quic.Stats) {
			defer h.wg.Done()
			closed(s)
			h.mu.Lock()
			h.stats[isClient] = s
			h.mu.Unlock()
		}
		return tr
	}
}

// TestLoopbackConnection runs a real connection over 127.0.0.1 with
// DirTracer on both ends, moves some data, closes, and reads both files
// back: the packet events must match the Stats counters the connection
// reported at Closed exactly, since both are counted on the connection's
// goroutine at the same point (a received packet is counted before its
// frames are processed and traced after, so a packet whose frames kill
// the connection is counted but not traced; none does here). Conn.Stats
// read by the application after the end agrees too.
func TestLoopbackConnection(t *testing.T) {
	dir := t.TempDir()
	hooks := &closedHooks{stats: map[bool]quic.Stats{}}
	cert, pool, err := selfsigned.New("localhost")
	if err != nil {
		t.Fatal(err)
	}
	const alpn = "qlog-test"
	ln, err := quic.Listen("udp", "127.0.0.1:0", &quic.Config{
		TLS:    &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{alpn}},
		Tracer: hooks.tracer(dir),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	type accepted struct {
		conn *quic.Conn
		err  error
	}
	serverDone := make(chan accepted, 1)
	go func() {
		conn, err := ln.Accept(ctx)
		if err != nil {
			serverDone <- accepted{err: err}
			return
		}
		str, err := conn.AcceptStream(ctx)
		if err == nil {
			_, err = io.Copy(str, str) // echo until the client's FIN
			if err == nil {
				err = str.Close()
			}
		}
		serverDone <- accepted{conn, err}
	}()

	client, err := quic.Dial(ctx, "udp", ln.Addr().String(), &quic.Config{
		TLS:    &tls13.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{alpn}},
		Tracer: hooks.tracer(dir),
	})
	if err != nil {
		t.Fatal(err)
	}
	str, err := client.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 100<<10)
	if _, err := str.Write(payload); err != nil {
		t.Fatal(err)
	}
	if err := str.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(io.Discard, str); err != nil || n != int64(len(payload)) {
		t.Fatalf("echo: %d bytes, %v", n, err)
	}
	srv := <-serverDone
	if srv.err != nil {
		t.Fatal(srv.err)
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	// The server sees the client's CONNECTION_CLOSE and drains; closing
	// the listener ends its draining period at once.
	<-client.Context().Done()
	ln.Close()
	hooks.wg.Wait()

	odcid := ""
	for isClient, conn := range map[bool]*quic.Conn{true: client, false: srv.conn} {
		role := "server"
		if isClient {
			role = "client"
		}
		matches, err := filepath.Glob(filepath.Join(dir, "*_"+role+".sqlog"))
		if err != nil || len(matches) != 1 {
			t.Fatalf("%s files: %v, %v", role, matches, err)
		}
		name := filepath.Base(matches[0])
		id := name[:len(name)-len("_"+role+".sqlog")]
		if _, err := hex.DecodeString(id); err != nil || len(id) < 16 {
			t.Errorf("file name %s: ODCID %q", name, id)
		}
		if odcid != "" && id != odcid {
			t.Errorf("client and server files name different ODCIDs: %s, %s", odcid, id)
		}
		odcid = id

		data, err := os.ReadFile(matches[0])
		if err != nil {
			t.Fatal(err)
		}
		recs := parseSeq(t, data)
		if got := field(t, recs[0], "trace", "vantage_point", "type"); got != role {
			t.Errorf("%s: vantage point %v", role, got)
		}
		if got := field(t, recs[0], "trace", "common_fields", "group_id"); got != id {
			t.Errorf("%s: group_id %v, file name %s", role, got, id)
		}
		counts := map[string]uint64{}
		for _, r := range recs[1:] {
			counts[r["name"].(string)]++
		}
		last := recs[len(recs)-1]
		if last["name"] != "quic:recovery_metrics_updated" || counts["quic:connection_closed"] != 1 ||
			counts["quic:connection_state_updated"] == 0 {
			t.Fatalf("%s: event counts %v, last %v", role, counts, last["name"])
		}
		hooks.mu.Lock()
		atClose := hooks.stats[isClient]
		hooks.mu.Unlock()
		after := conn.Stats()
		for _, c := range []struct {
			event   string
			field   string
			atClose uint64
			after   uint64
		}{
			{"quic:packet_sent", "packets_sent", atClose.PacketsSent, after.PacketsSent},
			{"quic:packet_received", "packets_received", atClose.PacketsReceived, after.PacketsReceived},
		} {
			logged := field(t, last, "data", c.field).(float64)
			if counts[c.event] != c.atClose || uint64(logged) != c.atClose || c.after != c.atClose {
				t.Errorf("%s: %d %s events; %s %v logged, %d at Closed, %d from Conn.Stats",
					role, counts[c.event], c.event, c.field, logged, c.atClose, c.after)
			}
		}
		if counts["quic:packet_sent"] < 10 || counts["quic:packet_received"] < 10 {
			t.Errorf("%s: only %v", role, counts)
		}
	}
}
