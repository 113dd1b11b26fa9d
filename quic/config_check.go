package quic

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/tls13"
)

// ConfigError is a setting of a Config that cannot work, found when
// Listen or Dial checks the Config. Field names it as a user writes it
// ("MaxDatagramSize", "TLS.NextProtos"); for a TLS setting Err is the
// *tls13.ConfigError that found it.
type ConfigError struct {
	Field   string
	Problem string
	Err     error
}

func (e *ConfigError) Error() string { return "quic: Config." + e.Field + ": " + e.Problem }

// Unwrap returns the tls13.ConfigError behind a TLS setting's error.
func (e *ConfigError) Unwrap() error { return e.Err }

// Limits of the Config's fields that the protocol sets.
const (
	maxStreamsLimit = 1 << 60   // RFC 9000 §4.6: MAX_STREAMS beyond 2^60 is an error
	maxVarint       = 1<<62 - 1 // RFC 9000 §16: flow-control limits are varints
)

// validate reports every problem of c for a server (Listen) or a client
// (Dial), as ConfigErrors joined with errors.Join; nil when there is none.
func (c *Config) validate(server bool) error {
	if c == nil || c.TLS == nil {
		role := "a client needs a tls13.Config (NextProtos, and RootCAs or the system's roots)"
		if server {
			role = "a server needs a tls13.Config (Certificates, NextProtos)"
		}
		return &ConfigError{Field: "TLS", Problem: "nil: " + role}
	}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &ConfigError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"HandshakeTimeout", c.HandshakeTimeout},
		{"MaxIdleTimeout", c.MaxIdleTimeout},
		{"KeepAlivePeriod", c.KeepAlivePeriod},
	} {
		if d.v < 0 {
			bad(d.name, "negative (%v); zero means the default", d.v)
		}
	}
	for _, n := range []struct {
		name string
		v    int64
	}{
		{"MaxBidiStreams", c.MaxBidiStreams},
		{"MaxUniStreams", c.MaxUniStreams},
	} {
		if n.v < 0 || n.v > maxStreamsLimit {
			bad(n.name, "%d is not between 0 (the default) and 2^60 (RFC 9000 §4.6)", n.v)
		}
	}
	for _, w := range []struct {
		name string
		v    uint64
	}{
		{"InitialStreamWindow", c.InitialStreamWindow},
		{"InitialConnectionWindow", c.InitialConnectionWindow},
		{"MaxStreamWindow", c.MaxStreamWindow},
		{"MaxConnectionWindow", c.MaxConnectionWindow},
	} {
		if w.v > maxVarint {
			bad(w.name, "%d is beyond 2^62-1, the largest limit QUIC can carry (RFC 9000 §16)", w.v)
		}
	}
	if c.MaxStreamWindow != 0 && c.MaxStreamWindow < c.InitialStreamWindow {
		bad("MaxStreamWindow", "%d is below InitialStreamWindow (%d): auto-tuning only grows the window", c.MaxStreamWindow, c.InitialStreamWindow)
	}
	if c.MaxConnectionWindow != 0 && c.MaxConnectionWindow < c.InitialConnectionWindow {
		bad("MaxConnectionWindow", "%d is below InitialConnectionWindow (%d): auto-tuning only grows the window", c.MaxConnectionWindow, c.InitialConnectionWindow)
	}
	if c.MaxDatagramSize != 0 && (c.MaxDatagramSize < conn.InitialMaxDatagramSize || c.MaxDatagramSize > conn.MaxUDPPayloadSize) {
		bad("MaxDatagramSize", "%d is not between %d (every QUIC path carries it, RFC 9000 §14) and %d (RFC 9000 §18.2)", c.MaxDatagramSize, conn.InitialMaxDatagramSize, conn.MaxUDPPayloadSize)
	}
	tlsErr := c.TLS.ValidateClient
	if server {
		tlsErr = c.TLS.ValidateServer
	}
	errs = append(errs, tlsProblems(tlsErr())...)
	return errors.Join(errs...)
}

// tlsProblems turns tls13's ConfigErrors into ours, named from Config.
func tlsProblems(err error) []error {
	if err == nil {
		return nil
	}
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	out := make([]error, 0, len(list))
	for _, e := range list {
		var ce *tls13.ConfigError
		if errors.As(e, &ce) {
			out = append(out, &ConfigError{Field: "TLS." + ce.Field, Problem: ce.Problem, Err: ce})
		} else {
			out = append(out, &ConfigError{Field: "TLS", Problem: e.Error(), Err: e})
		}
	}
	return out
}

// forDial returns the Config a dial to host uses, checked: c itself, or a
// copy whose TLS configuration names host when c's names no server (as
// crypto/tls and net/http do).
func (c *Config) forDial(host string) (*Config, error) {
	if c != nil && c.TLS != nil && c.TLS.ServerName == "" && host != "" {
		if i := strings.IndexByte(host, '%'); i >= 0 {
			host = host[:i] // an IPv6 zone is not part of the name
		}
		cp := *c
		cp.TLS = c.TLS.Clone()
		cp.TLS.ServerName = host
		c = &cp
	}
	if err := c.validate(false); err != nil {
		return nil, err
	}
	return c, nil
}
