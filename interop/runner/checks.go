package runner

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"time"

	"github.com/skiffnet/skiff/interop/qtrace"
	"github.com/skiffnet/skiff/interop/relay"
	"github.com/skiffnet/skiff/tls13"
)

// The checks look at a Run's trace as the interop runner looks at its
// decrypted pcaps. Each returns nil or what is wrong.

// all runs checks in order and returns the first failure.
func all(checks ...func(*Run) error) func(*Run) error {
	return func(r *Run) error {
		for _, c := range checks {
			if err := c(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// serverInitials are the server's Initial packets.
func serverInitials(t *qtrace.Trace) []*qtrace.Packet {
	var out []*qtrace.Packet
	for _, p := range t.Packets {
		if p.Dir == relay.ToClient && p.Type == qtrace.Initial {
			out = append(out, p)
		}
	}
	return out
}

// handshakes counts handshakes as the runner does: distinct Source
// Connection IDs of the server's Initial packets. Only Initials that open
// with keys from a connection ID a client sent count: a server that made
// a connection for a client Initial whose Destination Connection ID was
// corrupted on the way (and so could not even decrypt it) and later closes
// it has not had a handshake (quic-go does this in handshakecorruption).
func handshakes(n int) func(*Run) error {
	return func(r *Run) error {
		scids := map[string]bool{}
		for _, p := range serverInitials(r.Trace) {
			if p.Decrypted {
				scids[string(p.SCID)] = true
			}
		}
		if len(scids) != n {
			return fmt.Errorf("%d handshakes, want %d", len(scids), n)
		}
		return nil
	}
}

// versionOne fails a run whose server used another version than 1 in its
// long headers: every test but v2 requires version 1 only.
func versionOne(r *Run) error {
	for _, p := range r.Trace.Packets {
		if p.Dir == relay.ToClient && (p.Type == qtrace.Initial || p.Type == qtrace.Handshake) && p.Version != qtrace.Version1 {
			return fmt.Errorf("server %s packet with version %#x, want 0x1", p.Type, p.Version)
		}
	}
	return nil
}

func noRetry(r *Run) error {
	for _, p := range r.Trace.Packets {
		if p.Type == qtrace.Retry {
			return errors.New("the server sent a Retry")
		}
	}
	return nil
}

// retried: the server sent a Retry with a token, the client's next
// Initial carries that token, and the client did not restart its packet
// numbers (RFC 9000 §17.2.5.3).
func retried(r *Run) error {
	for _, c := range r.Trace.Conns {
		if c.Retry == nil {
			continue
		}
		if len(c.Retry.Token) == 0 {
			return errors.New("the Retry carries no token")
		}
		before, after := int64(-1), int64(-1)
		seen := false
		for _, p := range c.Packets {
			switch {
			case p == c.Retry:
				seen = true
			case p.Dir != relay.ToServer || p.Type != qtrace.Initial || !p.Decrypted:
			case !seen:
				before = max(before, int64(p.PN))
			case after < 0:
				if !bytes.Equal(p.Token, c.Retry.Token) {
					return fmt.Errorf("the client's Initial after the Retry carries token %x, want %x", p.Token, c.Retry.Token)
				}
				after = int64(p.PN)
			}
		}
		if after < 0 {
			return errors.New("no client Initial after the Retry")
		}
		if after <= before {
			return fmt.Errorf("the client restarted its packet numbers after the Retry: %d after %d", after, before)
		}
		return nil
	}
	return errors.New("no Retry")
}

// secondConn is the connection of the second handshake.
func secondConn(r *Run) (*qtrace.Conn, error) {
	var conns []*qtrace.Conn
	for _, c := range r.Trace.Conns {
		if len(c.ServerSCIDs) > 0 {
			conns = append(conns, c)
		}
	}
	if len(conns) < 2 {
		return nil, fmt.Errorf("%d connections with a handshake, want 2", len(conns))
	}
	return conns[1], nil
}

// resumed: the second handshake resumed a session (PSK offered and
// accepted) and sent no Certificate.
func resumed(r *Run) error {
	c, err := secondConn(r)
	if err != nil {
		return err
	}
	if c.ClientHello == nil || !c.ClientHello.PSK {
		return errors.New("the second ClientHello offers no session ticket")
	}
	if c.ServerHello == nil || !c.ServerHello.PSK {
		return errors.New("the server did not accept the ticket (no pre_shared_key in its ServerHello)")
	}
	if len(c.Messages[relay.ToClient]) < 2 {
		return errors.New("the server's Handshake packets of the second connection do not open (key log?)")
	}
	if slices.Contains(c.Messages[relay.ToClient], 11) {
		return errors.New("the resumed handshake carries a Certificate")
	}
	return nil
}

// zeroRTT: the second connection sent 0-RTT data, and the client sent
// little in 1-RTT packets over both connections (the requests went in
// 0-RTT). Sizes come from the packets' headers when a packet does not
// open: crypto/tls logs no CLIENT_EARLY_TRAFFIC_SECRET for QUIC.
func zeroRTT(r *Run) error {
	c, err := secondConn(r)
	if err != nil {
		return err
	}
	zero, one := 0, 0
	for _, p := range c.Packets {
		if p.Type == qtrace.ZeroRTT {
			zero += payloadSize(p)
		}
	}
	for _, p := range r.Trace.Packets {
		if p.Dir == relay.ToServer && p.Type == qtrace.OneRTT {
			one += payloadSize(p)
		}
	}
	if zero == 0 {
		return errors.New("no 0-RTT data")
	}
	if one > 5000 {
		return fmt.Errorf("the client sent %d bytes in 1-RTT packets, more than 5000", one)
	}
	return nil
}

// payloadSize is a packet's plaintext size, or for a packet that did not
// open, its size less the header's fixed part and the AEAD tag.
func payloadSize(p *qtrace.Packet) int {
	if p.Decrypted {
		return p.PayloadLen
	}
	return max(p.Size-len(p.DCID)-len(p.SCID)-7-16, 0)
}

// chachaOnly: every ClientHello offers TLS_CHACHA20_POLY1305_SHA256 only,
// and the server chose it.
func chachaOnly(r *Run) error {
	for _, c := range r.Trace.Conns {
		if c.ClientHello == nil {
			continue
		}
		if !slices.Equal(c.ClientHello.CipherSuites, []uint16{tls13.TLS_CHACHA20_POLY1305_SHA256}) {
			return fmt.Errorf("the client offers cipher suites %x", c.ClientHello.CipherSuites)
		}
		if c.ServerHello == nil || c.ServerHello.CipherSuite != tls13.TLS_CHACHA20_POLY1305_SHA256 {
			return errors.New("the server did not choose TLS_CHACHA20_POLY1305_SHA256")
		}
	}
	return nil
}

// streamLimit: the server's initial_max_streams_bidi is at most max, so
// that the client must wait for MAX_STREAMS to open more.
func streamLimit(limit uint64) func(*Run) error {
	return func(r *Run) error {
		for _, c := range r.Trace.Conns {
			if c.ServerParams == nil {
				continue
			}
			v := c.ServerParams[0x08]
			n, ok := varint(v)
			if !ok {
				return errors.New("the server's initial_max_streams_bidi is missing or malformed")
			}
			if n > limit {
				return fmt.Errorf("the server's initial_max_streams_bidi is %d, more than %d", n, limit)
			}
			return nil
		}
		return errors.New("the server's transport parameters do not decrypt (key log?)")
	}
}

func varint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) != 1<<(b[0]>>6) {
		return 0, false
	}
	v := uint64(b[0] & 0x3f)
	for _, c := range b[1:] {
		v = v<<8 | uint64(c)
	}
	return v, true
}

// clientHelloRetransmitted: with a 750 ms one-way delay the client must
// send its first flight again before the server's answer arrives.
func clientHelloRetransmitted(r *Run) error {
	n := 0
	for _, p := range r.Trace.Packets {
		if p.Dir == relay.ToServer && p.Type == qtrace.Initial && p.Decrypted {
			for _, f := range p.Frames.Crypto {
				if f.Offset == 0 {
					n++
				}
			}
		}
	}
	if n < 2 {
		return fmt.Errorf("the ClientHello was sent %d times, want it retransmitted", n)
	}
	return nil
}

// keyUpdated: both sides sent 1-RTT packets in key phase 1, and the
// client updated before the server had sent 1 MB.
func keyUpdated(r *Run) error {
	var phase1 [2]bool
	serverBytes := 0
	clientUpdatedAt := -1
	for _, p := range r.Trace.Packets {
		if p.Type != qtrace.OneRTT || !p.Decrypted {
			continue
		}
		if p.KeyPhase&1 == 1 {
			phase1[p.Dir] = true
		}
		if p.Dir == relay.ToClient {
			serverBytes += p.Size
		} else if p.KeyPhase > 0 && clientUpdatedAt < 0 {
			clientUpdatedAt = serverBytes
		}
	}
	switch {
	case !phase1[relay.ToServer]:
		return errors.New("the client sent no packet in key phase 1")
	case !phase1[relay.ToClient]:
		return errors.New("the server sent no packet in key phase 1")
	case clientUpdatedAt > 1_000_000:
		return fmt.Errorf("the client updated its keys after %d bytes from the server, not within the first MB", clientUpdatedAt)
	}
	return nil
}

// ecnMarked: both sides mark datagrams ECT(0) or ECT(1), none CE, and
// each reports the marks it received in ACK frames with ECN counts.
func ecnMarked(r *Run) error {
	var marked [2]int
	for _, d := range r.Trace.Datagrams {
		switch d.ECN {
		case relay.ECNCE:
			return fmt.Errorf("a %s datagram is marked CE", d.Dir)
		case relay.ECNECT0, relay.ECNECT1:
			marked[d.Dir]++
		}
	}
	var counted [2]bool
	for _, p := range r.Trace.Packets {
		if p.Decrypted && p.Frames != nil {
			for _, e := range p.Frames.ECN {
				counted[p.Dir] = counted[p.Dir] || e.ECT0+e.ECT1 > 0
			}
		}
	}
	for _, d := range []relay.Dir{relay.ToServer, relay.ToClient} {
		side := map[relay.Dir]string{relay.ToServer: "client", relay.ToClient: "server"}[d]
		if marked[d] == 0 {
			return fmt.Errorf("the %s marks no datagram ECT", side)
		}
		if !counted[d] {
			return fmt.Errorf("the %s sends no ACK with ECN counts", side)
		}
	}
	return nil
}

// amplificationLimit: until the server receives a Handshake packet from
// the client (RFC 9000 §8.1), it sends at most three times what it
// received; and its Handshake data is large enough (minHandshake bytes)
// for the limit to matter.
func amplificationLimit(minHandshake int) func(*Run) error {
	return func(r *Run) error {
		connOf := datagramConns(r.Trace)
		type event struct {
			at   time.Duration
			i    int
			d    *relay.Datagram
			conn *qtrace.Conn
		}
		var events []event
		for i := range r.Trace.Datagrams {
			d := &r.Trace.Datagrams[i]
			at := d.Arrived // when the server sent it
			if d.Dir == relay.ToServer {
				if d.Fate.Drop != relay.Delivered {
					continue
				}
				at = d.Fate.Deliver // when the server received it
			}
			events = append(events, event{at, i, d, connOf[i]})
		}
		sort.SliceStable(events, func(i, j int) bool { return events[i].at < events[j].at })
		type budget struct {
			received, sent int
			validated      bool
		}
		budgets := map[*qtrace.Conn]*budget{}
		for _, e := range events {
			if e.conn == nil {
				continue
			}
			b := budgets[e.conn]
			if b == nil {
				b = &budget{}
				budgets[e.conn] = b
			}
			if e.d.Dir == relay.ToServer {
				b.received += len(e.d.Payload)
				for _, p := range r.Trace.ByDatagram[e.i] {
					b.validated = b.validated || p.Type == qtrace.Handshake
				}
			} else if !b.validated {
				b.sent += len(e.d.Payload)
				if b.sent > 3*b.received {
					return fmt.Errorf("the server sent %d bytes having received %d from an unvalidated address, over 3×", b.sent, b.received)
				}
			}
		}
		for _, c := range r.Trace.Conns {
			n := 0
			for _, p := range c.Packets {
				if p.Dir == relay.ToClient && p.Type == qtrace.Handshake && p.Decrypted {
					for _, f := range p.Frames.Crypto {
						n += len(f.Data)
					}
				}
			}
			if n < minHandshake {
				return fmt.Errorf("the server's Handshake data is %d bytes (undecrypted?), the test needs at least %d", n, minHandshake)
			}
		}
		return nil
	}
}

// datagramConns maps datagram indexes to their connection.
func datagramConns(t *qtrace.Trace) map[int]*qtrace.Conn {
	out := map[int]*qtrace.Conn{}
	for p, c := range t.ConnOf {
		out[p.Datagram] = c
	}
	return out
}

// pathsValidated: after each NAT rebinding, the server's first datagram
// to the client's new address carries a PATH_CHALLENGE, and the client
// answers it from there. newAddr: the rebinding changed the address too.
func pathsValidated(newAddr bool) func(*Run) error {
	return func(r *Run) error {
		type pathState struct {
			challenges map[[8]byte]bool
			answered   bool
			first      bool // the server's first datagram on it was seen
		}
		var order []netip.AddrPort
		paths := map[netip.AddrPort]*pathState{}
		for i, d := range r.Trace.Datagrams {
			if d.Fate.Drop == relay.NATDrop {
				continue
			}
			ps := paths[d.Path]
			if ps == nil {
				ps = &pathState{challenges: map[[8]byte]bool{}}
				paths[d.Path] = ps
				order = append(order, d.Path)
			}
			frames := datagramFrames(r.Trace, i)
			if d.Dir == relay.ToClient {
				for _, f := range frames {
					for _, c := range f.PathChallenge {
						ps.challenges[c] = true
					}
				}
				if !ps.first && len(order) > 1 && d.Path != order[0] {
					ps.first = true
					if len(ps.challenges) == 0 {
						return fmt.Errorf("the server's first datagram to the new path %v carries no PATH_CHALLENGE", d.Path)
					}
				}
			} else {
				for _, f := range frames {
					for _, resp := range f.PathResponse {
						ps.answered = ps.answered || ps.challenges[resp]
					}
				}
			}
		}
		if len(order) < 2 {
			return errors.New("no rebinding happened during the connection")
		}
		for _, p := range order[1:] {
			ps := paths[p]
			if !ps.first {
				continue // the connection ended before the server sent there
			}
			if !ps.answered {
				return fmt.Errorf("the client did not answer the PATH_CHALLENGE on %v", p)
			}
			if newAddr && p.Addr() == order[0].Addr() {
				return fmt.Errorf("the rebinding kept address %v", p.Addr())
			}
		}
		return nil
	}
}

// datagramFrames returns the frames of a datagram's decrypted packets.
func datagramFrames(t *qtrace.Trace, i int) []*qtrace.Frames {
	var out []*qtrace.Frames
	for _, p := range t.ByDatagram[i] {
		if p.Decrypted && p.Frames != nil {
			out = append(out, p.Frames)
		}
	}
	return out
}

// overIPv6: every datagram went over IPv6.
func overIPv6(r *Run) error {
	for _, d := range r.Trace.Datagrams {
		if !d.Client.Addr().Is6() || d.Client.Addr().Is4In6() {
			return fmt.Errorf("a datagram from %v is not IPv6", d.Client)
		}
	}
	return nil
}

// version2: the client starts with version 1 and offers version 2, and
// the server switches to it (RFC 9368 compatible version negotiation):
// its Initial and all Handshake packets are version 2.
func version2(r *Run) error {
	if len(r.Trace.Conns) == 0 || r.Trace.Conns[0].ClientHello == nil {
		return errors.New("no ClientHello")
	}
	c := r.Trace.Conns[0]
	if first := c.Packets[0]; first.Version != qtrace.Version1 {
		return fmt.Errorf("the client started with version %#x, want 0x1", first.Version)
	}
	if !slices.Contains(c.ClientHello.OtherVersions, qtrace.Version2) {
		return errors.New("the client does not offer version 2 in version_information")
	}
	for _, p := range c.Packets {
		if (p.Type == qtrace.Handshake || (p.Type == qtrace.Initial && p.Dir == relay.ToClient)) && p.Version != qtrace.Version2 {
			return fmt.Errorf("a %s %s packet has version %#x, want version 2", p.Dir, p.Type, p.Version)
		}
	}
	return nil
}

// migrated: the client moved to the server's preferred address (RFC 9000
// §9.6): the server announced one, the client validated it (a
// PATH_CHALLENGE it sent to that address answered from there), and the
// server's stream data came from it afterwards.
func migrated(r *Run) error {
	if len(r.Trace.Conns) == 0 || r.Trace.Conns[0].ServerParams == nil {
		return errors.New("no server transport parameters decrypted")
	}
	if _, ok := r.Trace.Conns[0].ServerParams[0x0d]; !ok {
		return errors.New("the server announced no preferred_address")
	}
	var first netip.AddrPort
	challenges := map[[8]byte]bool{}
	sent, validated := false, false
	data := 0
	for i, d := range r.Trace.Datagrams {
		if !first.IsValid() {
			first = d.Server
		}
		if d.Server == first || d.Fate.Drop == relay.NATDrop {
			continue
		}
		for _, f := range datagramFrames(r.Trace, i) {
			if d.Dir == relay.ToServer {
				sent = true
				for _, c := range f.PathChallenge {
					challenges[c] = true
				}
				continue
			}
			for _, resp := range f.PathResponse {
				validated = validated || challenges[resp]
			}
			if validated {
				data += f.StreamBytes
			}
		}
	}
	switch {
	case !sent:
		return fmt.Errorf("the client never sent to the preferred address (only to %v)", first)
	case !validated:
		return errors.New("the client did not validate the preferred address (no PATH_CHALLENGE there answered)")
	case data == 0:
		return errors.New("no stream data came from the preferred address")
	}
	return nil
}

// goodput is 8 × the bytes fetched over the time from the server's first
// to its last 1-RTT packet, as the runner measures it.
func goodput(r *Run) (float64, error) {
	var first, last time.Duration = -1, -1
	for _, p := range r.Trace.Packets {
		if p.Dir == relay.ToClient && p.Type == qtrace.OneRTT {
			at := r.Trace.Datagrams[p.Datagram].Arrived
			if first < 0 {
				first = at
			}
			last = at
		}
	}
	if first < 0 || last <= first {
		return 0, errors.New("too few server 1-RTT packets to measure")
	}
	total := 0
	for _, n := range r.Case.Files {
		total += n
	}
	return 8 * float64(total) / (last - first).Seconds(), nil
}
