package qlog

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/internal/selfsigned"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// bufferTracers traces each connection into a buffer, by role.
type bufferTracers struct {
	mu   sync.Mutex
	bufs map[bool]*bytes.Buffer
}

func (b *bufferTracers) tracer(isClient bool, odcid []byte) *quic.Tracer {
	buf := new(bytes.Buffer)
	b.mu.Lock()
	b.bufs[isClient] = buf
	b.mu.Unlock()
	return NewTracer(buf, isClient, odcid)
}

// TestLossyTransferTrace uploads 2 MiB through a relay on loopback that
// drops 3% of the datagrams each way, then reads both qlog traces back as
// JSON-SEQ: every event conforms to the draft; the client's trace names
// each packet it declared lost (as many as its Stats count), each one a
// packet it logged as sent, with the trigger of the loss; the congestion
// controller's state goes from slow start to recovery because of packet
// loss; and the recovery metrics show the window cut that followed.
func TestLossyTransferTrace(t *testing.T) {
	schema := loadSchema(t)
	cert, pool, err := selfsigned.New("localhost")
	if err != nil {
		t.Fatal(err)
	}
	traces := &bufferTracers{bufs: map[bool]*bytes.Buffer{}}
	hooks := &closedHooks{stats: map[bool]quic.Stats{}}
	const alpn = "qlog-loss"
	ln, err := quic.Listen("udp", "127.0.0.1:0", &quic.Config{
		TLS:    &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{alpn}},
		Tracer: hooks.wrap(traces.tracer),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	relay, err := netsim.NewRelay(ln.Addr(), 5)
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	relay.Upstream.Set(netsim.Impairment{Loss: 0.03})
	relay.Down.Set(netsim.Impairment{Loss: 0.03})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const size = 2 << 20
	errc := make(chan error, 1)
	go func() {
		conn, err := ln.Accept(ctx)
		if err != nil {
			errc <- err
			return
		}
		str, err := conn.AcceptStream(ctx)
		if err != nil {
			errc <- err
			return
		}
		if _, err := io.Copy(io.Discard, str); err != nil {
			errc <- err
			return
		}
		errc <- str.Close()
	}()
	client, err := quic.Dial(ctx, "udp", relay.Addr().String(), &quic.Config{
		TLS:    &tls13.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{alpn}},
		Tracer: hooks.wrap(traces.tracer),
	})
	if err != nil {
		t.Fatal(err)
	}
	str, err := client.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := str.Write(make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	str.Close()
	if _, err := io.Copy(io.Discard, str); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	client.Close()
	<-client.Context().Done()
	ln.Close()
	hooks.wg.Wait()

	for _, isClient := range []bool{true, false} {
		schema.mustConform(t, parseSeq(t, traces.bufs[isClient].Bytes())[1:])
	}
	recs := parseSeq(t, traces.bufs[true].Bytes())[1:]
	type packet struct {
		typ string
		pn  float64
	}
	sent := map[packet]bool{}
	var lost []packet
	triggers := map[string]int{}
	var states []string
	lossCut := false
	maxCwnd := 0.0
	for _, r := range recs {
		data := r["data"].(map[string]any)
		switch r["name"] {
		case "quic:packet_sent":
			sent[packet{field(t, data, "header", "packet_type").(string), field(t, data, "header", "packet_number").(float64)}] = true
		case "quic:packet_lost":
			p := packet{field(t, data, "header", "packet_type").(string), field(t, data, "header", "packet_number").(float64)}
			if !sent[p] {
				t.Errorf("lost %v, never logged as sent", p)
			}
			lost = append(lost, p)
			trigger, _ := data["trigger"].(string)
			triggers[trigger]++
		case "quic:congestion_state_updated":
			trigger, _ := data["trigger"].(string)
			states = append(states, data["new"].(string)+"/"+trigger)
		case "quic:recovery_metrics_updated":
			if cwnd, ok := data["congestion_window"].(float64); ok {
				if len(lost) > 0 && cwnd < maxCwnd {
					lossCut = true
				}
				maxCwnd = max(maxCwnd, cwnd)
			}
		}
	}
	st := hooks.stats[true]
	t.Logf("client: %d packets sent, %d lost (%v), %d congestion state changes, the first %v",
		len(sent), len(lost), triggers, len(states), states[:min(len(states), 4)])
	if len(lost) == 0 || uint64(len(lost)) != st.PacketsLost {
		t.Errorf("%d packet_lost events, %d lost in Stats", len(lost), st.PacketsLost)
	}
	if triggers[""] > 0 {
		t.Errorf("losses without a trigger: %v", triggers)
	}
	if len(states) < 2 || states[0] != "slow_start/" {
		t.Errorf("congestion states %v; want slow start first", states)
	}
	recovered := false
	for _, s := range states {
		recovered = recovered || s == "recovery/packet_lost"
	}
	if !recovered {
		t.Errorf("congestion states %v: no recovery because of packet loss", states)
	}
	if !lossCut {
		t.Error("the congestion window never shrank after a loss")
	}
}
