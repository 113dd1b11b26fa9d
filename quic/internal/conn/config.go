package conn

import (
	"net/netip"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/tls13"
)

// Config is what a connection takes from quic.Config (whose doc describes
// each field); zero values mean the defaults below.
type Config struct {
	TLS                     *tls13.Config
	HandshakeTimeout        time.Duration
	MaxIdleTimeout          time.Duration
	KeepAlivePeriod         time.Duration
	MaxBidiStreams          int64
	MaxUniStreams           int64
	InitialStreamWindow     uint64
	InitialConnectionWindow uint64
	MaxStreamWindow         uint64
	MaxConnectionWindow     uint64
	Congestion              congestion.Algorithm
	// CongestionSeed seeds the controller's random choices (BBR's probe
	// wait); 0 takes a random seed. Simulations set it to be repeatable.
	CongestionSeed  uint64
	DisablePacing   bool
	DisableECN      bool
	EnableDatagrams bool
	MaxDatagramSize int
	SendCushion     uint64
	// DisableActiveMigration is sent as disable_active_migration (RFC
	// 9000 §18.2); DisablePreferredAddress keeps a client from moving to
	// the server's preferred address.
	DisableActiveMigration  bool
	DisablePreferredAddress bool
	// PreferredAddressV4 and PreferredAddressV6, on a server, are
	// announced in preferred_address (RFC 9000 §9.6).
	PreferredAddressV4, PreferredAddressV6 netip.AddrPort
	// Versions, SessionTickets and Allow0RTT: vn.go and zerortt.go.
	Versions       []wire.Version
	SessionTickets int
	Allow0RTT      bool
}

const (
	defaultHandshakeTimeout = 10 * time.Second
	defaultIdleTimeout      = 30 * time.Second
	defaultMaxStreams       = 100
	defaultStreamWindow     = 512 << 10
	defaultConnectionWindow = 768 << 10
	defaultMaxStreamWindow  = 16 << 20
	defaultMaxConnWindow    = 24 << 20
	maxStreamsLimit         = 1 << 60 // RFC 9000 §4.6
	activeConnectionIDLimit = ActiveConnectionIDs
	maxCryptoBuffer         = 64 << 10
	defaultSendCushion      = 64 << 10

	// InitialMaxDatagramSize is the smallest datagram size every path
	// carries, the size of a client's first Initial (RFC 9000 §14.1).
	InitialMaxDatagramSize = 1200
	// MaxDatagramSize is the largest datagram we send by default, once
	// the path is known to carry it, and MaxReceiveSize the largest a
	// socket without GRO's 64 KiB buffers takes (our max_udp_payload_size
	// then). MaxUDPPayloadSize is the most RFC 9000 §18.2 allows.
	MaxDatagramSize   = basePLPMTU
	MaxReceiveSize    = 1500
	MaxUDPPayloadSize = 65527
	// ConnIDLen is the length of the connection IDs we issue.
	ConnIDLen = 8
)

func (c *Config) handshakeTimeout() time.Duration {
	if c.HandshakeTimeout > 0 {
		return c.HandshakeTimeout
	}
	return defaultHandshakeTimeout
}

func (c *Config) idleTimeout() time.Duration {
	if c.MaxIdleTimeout > 0 {
		return c.MaxIdleTimeout
	}
	return defaultIdleTimeout
}

func orDefault[T int64 | uint64](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

func (c *Config) maxBidiStreams() int64 {
	return min(orDefault(c.MaxBidiStreams, defaultMaxStreams), maxStreamsLimit)
}
func (c *Config) maxUniStreams() int64 {
	return min(orDefault(c.MaxUniStreams, defaultMaxStreams), maxStreamsLimit)
}
func (c *Config) sendCushion() uint64  { return orDefault(c.SendCushion, defaultSendCushion) }
func (c *Config) streamWindow() uint64 { return orDefault(c.InitialStreamWindow, defaultStreamWindow) }
func (c *Config) connWindow() uint64 {
	return orDefault(c.InitialConnectionWindow, defaultConnectionWindow)
}
func (c *Config) maxStreamWindow() uint64 {
	return max(orDefault(c.MaxStreamWindow, defaultMaxStreamWindow), c.streamWindow())
}
func (c *Config) maxConnWindow() uint64 {
	return max(orDefault(c.MaxConnectionWindow, defaultMaxConnWindow), c.connWindow())
}

// maxDatagramSize is the largest datagram to search for.
func (c *Config) maxDatagramSize() int {
	if c.MaxDatagramSize <= 0 {
		return MaxDatagramSize
	}
	return min(max(c.MaxDatagramSize, InitialMaxDatagramSize), MaxUDPPayloadSize)
}

func (c *Config) newController() (congestion.PacketController, error) {
	return congestion.New(congestion.Config{Kind: c.Congestion, MaxDatagramSize: InitialMaxDatagramSize, DisablePacing: c.DisablePacing, Seed: c.CongestionSeed})
}

// ActiveConnectionIDs is how many connection IDs of each side the other
// holds (our active_connection_id_limit; RFC 9000 §18.2: at least 2):
// spares for a migration, the preferred address and the retirements they
// start. The owner sizes its routing table's entries by it.
const ActiveConnectionIDs = 4
