package conn

import (
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/tls13"
)

// Session resumption and 0-RTT (RFC 9001 §4.6, RFC 9000 §7.4.1).
//
// A server sends Config.SessionTickets NewSessionTickets once its
// handshake completes, allowing 0-RTT when Config.Allow0RTT is set. A
// ticket remembers the server's transport parameters (tls13 stores them
// by default), which include its version_information: a ticket resumes
// only a connection that starts in the version it came from (RFC 9369
// §5), and allows 0-RTT only while the server's limits are at least what
// it remembers, since the client's 0-RTT data may use them all (RFC 9000
// §7.4.1).
//
// A client that resumes a session allowing 0-RTT gets 0-RTT keys when its
// handshake starts, and takes the limits the session remembers as the
// server's until the real transport parameters arrive: its streams and
// datagrams go out in 0-RTT packets right after the Initial, sharing the
// application data packet number space with the 1-RTT packets that
// follow. If the server accepts, its new limits must not be smaller
// (PROTOCOL_VIOLATION otherwise). If it refuses, every 0-RTT packet counts
// as lost, not as congestion: streams resend their data in 1-RTT packets
// and keep working, under the limits the server now gives (datagrams are
// not resent; they are unreliable anyway).

// earlyState is a connection's session resumption and 0-RTT state.
type earlyState struct {
	// sessionKey, on a client, keys its sessions in the TLS cache.
	sessionKey string
	// attempted, on a client: 0-RTT keys from a resumed session, whose
	// remembered server transport parameters applied until the real ones
	// came.
	remembered *wire.TransportParameters
	attempted  bool
	// accepted: the server accepted 0-RTT (both sides); rejected: it
	// refused (client).
	accepted, rejected bool
	// receiving, on a server: the packet whose frames are being processed
	// is a 0-RTT packet.
	receiving bool
}

// sessionTickets is how many tickets a server sends: 1 by default, none
// when negative.
func (c *Config) sessionTickets() int {
	switch {
	case c.SessionTickets < 0:
		return 0
	case c.SessionTickets == 0:
		return 1
	}
	return min(c.SessionTickets, maxSessionTickets)
}

// maxSessionTickets bounds the tickets sent after one handshake.
const maxSessionTickets = 16

// sendSessionTickets queues the server's NewSessionTickets (RFC 8446
// §4.6.1), sent in CRYPTO frames of 1-RTT packets.
func (c *Conn) sendSessionTickets() {
	if n := c.config.sessionTickets(); n > 0 {
		// A failure (tickets disabled, no psk_dhe_ke offered) costs
		// only resumption.
		_ = c.tls.SendSessionTickets(n, c.config.Allow0RTT)
	}
}

// startEarlyData runs on a client once TLS has started: when it offers a
// session allowing 0-RTT, the server's remembered limits apply from now
// (RFC 9000 §7.4.1), so that streams and datagrams can go in 0-RTT packets.
func (c *Conn) startEarlyData() {
	s := c.tls.EarlySession()
	if s == nil || c.keys0RTT == nil {
		return
	}
	p, err := wire.ParseTransportParameters(s.TransportParameters, wire.RoleServer)
	if err != nil {
		// Nothing to go by: no 0-RTT from us, though TLS offers it.
		c.keys0RTT = nil
		return
	}
	c.early.attempted = true
	c.early.remembered = &p
	c.flow.setPeerInitial(p.InitialMaxData)
	c.streams.setPeerInitial(&p)
	c.dgrams.setPeerMax(p.MaxDatagramFrameSize)
}

// EarlyDataAttempted reports whether a client sends 0-RTT: streams and
// datagrams work before the handshake completes.
func (c *Conn) EarlyDataAttempted() bool { return c.early.attempted && !c.early.rejected }

// EarlyDataAccepted reports whether the server accepted 0-RTT (either
// side; on a client, known once the server's handshake flight arrived).
func (c *Conn) EarlyDataAccepted() bool { return c.early.accepted }

// sending0RTT reports whether application data goes out in 0-RTT packets
// now: a client with 0-RTT keys and no 1-RTT keys yet.
func (c *Conn) sending0RTT() bool {
	return c.isClient && c.keys0RTT != nil && c.spaces[recovery.SpaceAppData].writeKeys == nil
}

// canSendAppData reports whether the application data space can send:
// 1-RTT keys, or 0-RTT ones on a client.
func (c *Conn) canSendAppData() bool {
	return c.spaces[recovery.SpaceAppData].writeKeys != nil || c.sending0RTT()
}

// onEarlyDataKeys runs when TLS installs 0-RTT keys: on a server, it has
// accepted 0-RTT.
func (c *Conn) onEarlyDataKeys() {
	if !c.isClient {
		c.early.accepted = true
		c.events.add(Event{Kind: EventEarlyDataAccepted})
	}
}

// checkEarlyParams runs on a client that attempted 0-RTT when the
// server's transport parameters arrive. Accepted: they must not take back
// what 0-RTT relied on (RFC 9000 §7.4.1, RFC 9221 §3). Refused: the limits
// are the new ones, lower ones included, and what 0-RTT already used must
// fit them, since its data goes again in 1-RTT.
func (c *Conn) checkEarlyParams(p *wire.TransportParameters) error {
	if !c.early.attempted || c.early.rejected {
		return nil
	}
	if c.tls.ConnectionState().EarlyDataAccepted {
		if name := earlyLimitReduced(c.early.remembered, p); name != "" {
			return localError(wire.ProtocolViolation, 0, "server accepted 0-RTT and reduced "+name)
		}
		c.early.accepted = true
		return nil
	}
	return c.lowerEarlyLimits(p)
}

// earlyLimitReduced names the first limit 0-RTT may have used that now is
// smaller than remembered, or "" when none is.
func earlyLimitReduced(remembered, now *wire.TransportParameters) string {
	checks := []struct {
		name     string
		was, now uint64
	}{
		{"active_connection_id_limit", remembered.ActiveConnectionIDLimit, now.ActiveConnectionIDLimit},
		{"initial_max_data", remembered.InitialMaxData, now.InitialMaxData},
		{"initial_max_stream_data_bidi_local", remembered.InitialMaxStreamDataBidiLocal, now.InitialMaxStreamDataBidiLocal},
		{"initial_max_stream_data_bidi_remote", remembered.InitialMaxStreamDataBidiRemote, now.InitialMaxStreamDataBidiRemote},
		{"initial_max_stream_data_uni", remembered.InitialMaxStreamDataUni, now.InitialMaxStreamDataUni},
		{"initial_max_streams_bidi", remembered.InitialMaxStreamsBidi, now.InitialMaxStreamsBidi},
		{"initial_max_streams_uni", remembered.InitialMaxStreamsUni, now.InitialMaxStreamsUni},
		{"max_datagram_frame_size", remembered.MaxDatagramFrameSize, now.MaxDatagramFrameSize},
	}
	for _, ch := range checks {
		if ch.now < ch.was {
			return ch.name
		}
	}
	return ""
}

// lowerEarlyLimits applies the transport parameters of a server that
// refused 0-RTT where they are lower than the remembered ones. What 0-RTT
// sent is sent again, so it must fit: when the server now allows fewer
// streams or bytes than 0-RTT used, the connection cannot go on.
func (c *Conn) lowerEarlyLimits(p *wire.TransportParameters) error {
	fail := func(what string) error {
		return localError(wire.InternalError, 0, "0-RTT refused, and the server now allows fewer "+what+" than 0-RTT used")
	}
	if c.flow.sent > p.InitialMaxData {
		return fail("bytes")
	}
	c.flow.sendMax = p.InitialMaxData
	for kind, n := range [2]uint64{p.InitialMaxStreamsBidi, p.InitialMaxStreamsUni} {
		if c.mb.nextLocal[kind].Load() > n {
			return fail("streams")
		}
		c.mb.peerMax[kind].Store(min(n, maxStreamsLimit))
	}
	ss := &c.streams
	ss.peerBidiLocal = p.InitialMaxStreamDataBidiLocal
	ss.peerBidiRemote = p.InitialMaxStreamDataBidiRemote
	ss.peerUni = p.InitialMaxStreamDataUni
	for _, s := range ss.m {
		if !ss.isLocal(s.id) {
			continue
		}
		w := ss.peerBidiRemote
		if streamIsUni(s.id) {
			w = ss.peerUni
		}
		if s.out.Written()-s.out.Unsent() > w {
			return fail("bytes on a stream")
		}
		s.sendMax = w
	}
	c.dgrams.setPeerMax(p.MaxDatagramFrameSize)
	return nil
}

// onEarlyDataRejected runs on a client when the server refused 0-RTT
// (or a Version Negotiation packet ended the attempt): every 0-RTT packet
// is lost, and its frames go again in 1-RTT packets (RFC 9001 §4.6.2).
func (c *Conn) onEarlyDataRejected() {
	if !c.early.attempted || c.early.rejected {
		return
	}
	c.early.rejected = true
	c.keys0RTT = nil
	res := &c.work().resolved
	c.loss.RetransmitAll(recovery.SpaceAppData, res)
	c.onResolved(res)
	c.events.add(Event{Kind: EventEarlyDataRejected})
}

// checkTicket is the server's hook for each ticket a client offers
// (tls13.Conn.SetTicketFunc), given what the ticket remembers: our
// transport parameters when it was issued. RFC 9369 §5: a ticket resumes
// only a connection that started in the version it came from. RFC 9000
// §7.4.1: 0-RTT only while our limits are at least what it remembers.
func (c *Conn) checkTicket(appData []byte) (resume, early bool) {
	p, err := wire.ParseTransportParameters(appData, wire.RoleServer)
	if err != nil {
		return false, false
	}
	v := wire.Version1
	if p.VersionInformation != nil {
		v = p.VersionInformation.ChosenVersion
	}
	if v != c.vn.original {
		return false, false
	}
	if !c.config.Allow0RTT {
		return true, false
	}
	now := c.buildLocalParams(c.ids.handshakeSCID())
	return true, earlyLimitReduced(&p, &now) == ""
}

// keysVersion is the version whose packet protection keys a TLS secret
// at level makes: 0-RTT packets keep the original version (RFC 9369 §4.1).
func (c *Conn) keysVersion(level tls13.Level) wire.Version {
	if level == tls13.LevelEarly {
		return c.vn.original
	}
	return c.version
}

// SessionVersion returns the QUIC version of the session that config's
// ClientSessionCache holds under key (the server name when empty), if
// any: a client resuming it must start in that version (RFC 9369 §5),
// which its remembered version_information names.
func SessionVersion(config *Config, key string) (wire.Version, bool) {
	tc := config.TLS
	if tc == nil || tc.ClientSessionCache == nil || tc.SessionTicketsDisabled {
		return 0, false
	}
	if key == "" {
		key = tc.ServerName
	}
	cs, ok := tc.ClientSessionCache.Get(key)
	if !ok || cs == nil {
		return 0, false
	}
	return sessionVersion(cs)
}

// sessionVersion is the QUIC version of the connection that received a
// session's ticket.
func sessionVersion(cs *tls13.ClientSession) (wire.Version, bool) {
	p, err := wire.ParseTransportParameters(cs.TransportParameters, wire.RoleServer)
	if err != nil {
		return 0, false
	}
	if p.VersionInformation == nil {
		return wire.Version1, true
	}
	return p.VersionInformation.ChosenVersion, true
}

// dropSessionOfOtherVersion keeps a client from offering a ticket of
// another QUIC version than the one it starts in (RFC 9369 §5): such a
// session is dropped from the cache, as the server would refuse it.
func (c *Conn) dropSessionOfOtherVersion() {
	tc := c.config.TLS
	if tc == nil || tc.ClientSessionCache == nil {
		return
	}
	key := c.early.sessionKey
	if key == "" {
		key = tc.ServerName
	}
	cs, ok := tc.ClientSessionCache.Get(key)
	if !ok || cs == nil {
		return
	}
	if v, ok := sessionVersion(cs); !ok || v != c.version {
		tc.ClientSessionCache.Put(key, nil)
	}
}

// ReceivedEarlyData reports whether some of the stream's data arrived in
// 0-RTT packets, which an attacker may have replayed (RFC 9001 §9.2): an
// HTTP/3 server marks such a request with Early-Data: 1 (RFC 8470 §5.1).
func (s *Stream) ReceivedEarlyData() bool { return s.earlyData.Load() }

// SetSessionAppData sets, on a client, what the sessions this connection
// stores keep for the application (tls13.Conn.SetSessionAppData): an
// HTTP/3 client keeps the server's SETTINGS (RFC 9114 §7.2.4.2).
func (c *Conn) SetSessionAppData(data []byte) {
	if c.isClient {
		c.tls.SetSessionAppData(data)
	}
}

// EarlySessionAppData returns, on a client sending 0-RTT, what the
// application kept with the session it resumes; nil otherwise.
func (c *Conn) EarlySessionAppData() []byte {
	if s := c.tls.EarlySession(); s != nil && c.early.attempted {
		return s.AppData
	}
	return nil
}
