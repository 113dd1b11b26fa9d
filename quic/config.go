package quic

import (
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/tls13"
)

// Config configures endpoints and connections. A zero Config (apart from
// TLS) gives sensible defaults. A Config may be shared; it must not be
// changed after first use.
type Config struct {
	// TLS is the handshake configuration: certificates, roots, server
	// name, ALPN protocols (at least one: QUIC requires ALPN, RFC 9001
	// §8.1), key log writer, session cache.
	TLS *tls13.Config

	// HandshakeTimeout bounds the handshake; 10 s when zero.
	HandshakeTimeout time.Duration
	// MaxIdleTimeout is the idle timeout we advertise (RFC 9000 §10.1);
	// 30 s when zero. The connection closes silently after the smaller of
	// ours and the peer's.
	MaxIdleTimeout time.Duration
	// KeepAlivePeriod, when set, sends a PING this often while the
	// connection is otherwise idle, keeping it (and NAT bindings) open.
	KeepAlivePeriod time.Duration

	// MaxBidiStreams and MaxUniStreams are how many streams of each kind
	// the peer may have open at once; 100 when zero. Our MAX_STREAMS
	// limit moves up as streams close.
	MaxBidiStreams int64
	MaxUniStreams  int64

	// InitialStreamWindow and InitialConnectionWindow are the receive
	// windows we start from; MaxStreamWindow and MaxConnectionWindow are
	// how far auto-tuning may grow them when the application reads fast
	// enough for the window to limit the sender. Defaults: 512 KiB,
	// 768 KiB, 16 MiB and 24 MiB.
	InitialStreamWindow     uint64
	InitialConnectionWindow uint64
	MaxStreamWindow         uint64
	MaxConnectionWindow     uint64

	// SendCushion is how many bytes a stream's Write may buffer beyond
	// what the peer's flow control lets it send (its MAX_STREAM_DATA);
	// 64 KiB when zero. Write blocks rather than buffer more, so a peer
	// that never reads holds at most its credit plus this per stream,
	// and the cushion keeps data ready to go when the credit grows.
	SendCushion uint64

	// Congestion selects the congestion controller: congestion.CUBIC
	// (RFC 9438 with HyStart++, the default), congestion.NewReno (RFC
	// 9002 §7) or congestion.BBR (BBRv3, draft-ietf-ccwg-bbr). BBR
	// paces whatever DisablePacing says.
	Congestion congestion.Algorithm
	// DisablePacing sends each window's worth of packets at once.
	DisablePacing bool

	// DisableECN sends every datagram unmarked. By default datagrams are
	// marked ECT(0) while ECN validation (RFC 9000 §13.4.2) finds that
	// the path and the peer carry and report the marks, and a reported
	// Congestion Experienced mark reduces the congestion window as a loss
	// would (RFC 9002 §7.1). Received marks are counted and reported in
	// ACK frames either way (RFC 9000 §13.4.1).
	DisableECN bool

	// EnableDatagrams advertises max_datagram_frame_size (RFC 9221).
	EnableDatagrams bool

	// MaxDatagramSize is the largest UDP payload a connection sends once
	// path MTU discovery (RFC 8899) found that the path carries it, for
	// paths beyond a 1500-byte MTU: loopback, jumbo frames. 1452 when
	// zero, which every 1500-byte path carries; at most 65527. Larger
	// datagrams cost less per byte. The peer's max_udp_payload_size caps
	// it: skiff advertises 65527 on a socket with GRO (which receives into
	// 64 KiB buffers), 1500 otherwise.
	MaxDatagramSize int

	// RequireAddressValidation, on a server, answers every client's first
	// Initial with a Retry (RFC 9000 §8.1.2) and accepts the connection
	// only when the client comes back from the same address with the
	// token, within 10 s. It costs a round trip, and in exchange the
	// server keeps no state and sends nothing beyond one small packet for
	// clients that cannot prove they receive at their address (spoofed
	// floods). Clients ignore it.
	RequireAddressValidation bool

	// Half-open connections, a server's whose handshake has not completed
	// (quic/doc.go, "Limits"): while more than HalfOpenRetryThreshold of
	// them come from addresses nothing validated (128 when zero), or more
	// than HalfOpenRetryRate started within the last second (1000 when
	// zero), new clients get a Retry, as with RequireAddressValidation; a
	// negative value turns that trigger off. At MaxHalfOpen (1024 when
	// zero; negative: no cap) no new connection starts until some
	// complete or time out.
	HalfOpenRetryThreshold int
	HalfOpenRetryRate      int
	MaxHalfOpen            int

	// Tracer, when set, is called for each connection and returns the hooks
	// that receive its events (qlog, metrics); nil hooks are skipped.
	Tracer func(isClient bool, odcid []byte) *Tracer

	// DisableActiveMigration sends disable_active_migration (RFC 9000
	// §9): the peer must not move the connection to another local
	// address of its own. A server still follows a client's NAT
	// rebinding, which is not a migration the client chose.
	DisableActiveMigration bool
	// PreferredAddress, on a server, is announced to clients, which move
	// there after the handshake (RFC 9000 §9.6; see PreferredAddress).
	PreferredAddress *PreferredAddress
	// DisablePreferredAddress, on a client, stays at the address it
	// dialed when the server announces a preferred address.
	DisablePreferredAddress bool

	// Versions lists the QUIC versions to speak, by preference (vn.go):
	// Version1 then Version2 when empty. A client starts in the first
	// (or in the version of the session it resumes) and offers the
	// others; a server answers other versions with Version Negotiation
	// and moves a client to the first of them that the client offers
	// (compatible version negotiation, RFC 9368).
	Versions []Version

	// SessionTickets, on a server, is how many session tickets it sends
	// after each handshake (early.go): 1 when zero, none when negative. A
	// client that opens several connections at once wants several.
	SessionTickets int
	// Allow0RTT, on a server, issues tickets that allow 0-RTT and accepts
	// it (RFC 9001 §4.6): such connections are returned by Accept as
	// soon as 0-RTT is accepted, before the handshake completes, and
	// their streams may carry data an attacker replayed
	// (Stream.ReceivedEarlyData). TLS.ReplayFilter must be shared by the
	// servers that share ticket keys.
	Allow0RTT bool

	// TokenStore, on a client, keeps the address validation tokens
	// servers send in NEW_TOKEN frames, one use each, for the next
	// connection to the same server, which then skips the Retry of a
	// server that validates addresses (newtoken.go). None are kept when
	// nil; NewTokenStore makes one in memory.
	TokenStore TokenStore
	// TokenKey, on a server, seals its NEW_TOKEN tokens; servers given
	// the same key accept each other's tokens. A random key per endpoint
	// when nil: its tokens are good for that endpoint only.
	TokenKey *[32]byte
	// congestionSeed seeds BBR's random choices, for simulation tests
	// that must repeat; 0 (always, outside tests) takes a random seed.
	congestionSeed uint64
}

// connConfig is what a connection takes from c.
func (c *Config) connConfig() *conn.Config {
	return &conn.Config{
		TLS:                     c.TLS,
		HandshakeTimeout:        c.HandshakeTimeout,
		MaxIdleTimeout:          c.MaxIdleTimeout,
		KeepAlivePeriod:         c.KeepAlivePeriod,
		MaxBidiStreams:          c.MaxBidiStreams,
		MaxUniStreams:           c.MaxUniStreams,
		InitialStreamWindow:     c.InitialStreamWindow,
		InitialConnectionWindow: c.InitialConnectionWindow,
		MaxStreamWindow:         c.MaxStreamWindow,
		MaxConnectionWindow:     c.MaxConnectionWindow,
		Congestion:              c.Congestion,
		DisablePacing:           c.DisablePacing,
		DisableECN:              c.DisableECN,
		EnableDatagrams:         c.EnableDatagrams,
		MaxDatagramSize:         c.MaxDatagramSize,
		SendCushion:             c.SendCushion,
		DisableActiveMigration:  c.DisableActiveMigration,
		DisablePreferredAddress: c.DisablePreferredAddress,
		Versions:                wireVersions(c.Versions),
		SessionTickets:          c.SessionTickets,
		Allow0RTT:               c.Allow0RTT,
		CongestionSeed:          c.congestionSeed,
	}
}
