package tls13

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestValidate: each misconfiguration fails with a ConfigError naming the
// field, and a good Config passes (issue 17).
func TestValidate(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	mismatched := cert
	mismatched.PrivateKey = mustKey("p256")
	cases := []struct {
		name   string
		server bool
		edit   func(*Config)
		field  string
	}{
		{"serverNoCertificate", true, func(c *Config) { c.Certificates = nil }, "Certificates"},
		{"serverNoNextProtos", true, func(c *Config) { c.NextProtos = nil }, "NextProtos"},
		{"clientNoNextProtos", false, func(c *Config) { c.NextProtos = nil }, "NextProtos"},
		{"clientNoServerName", false, func(c *Config) { c.ServerName = "" }, "ServerName"},
		{"emptyALPNName", false, func(c *Config) { c.NextProtos = []string{"h3", ""} }, "NextProtos[1]"},
		{"longALPNName", true, func(c *Config) { c.NextProtos = []string{strings.Repeat("x", 256)} }, "NextProtos[0]"},
		{"tls12Suite", true, func(c *Config) { c.CipherSuites = []uint16{TLS_AES_128_GCM_SHA256, 0xc02f} }, "CipherSuites[1]"},
		{"unknownGroup", false, func(c *Config) { c.CurvePreferences = []CurveID{X25519, 30} }, "CurvePreferences[1]"},
		{"keyMismatch", true, func(c *Config) { c.Certificates = []Certificate{mismatched} }, "Certificates[0]"},
		{"emptyChain", true, func(c *Config) { c.Certificates = []Certificate{{PrivateKey: cert.PrivateKey}} }, "Certificates[0]"},
		{"notASigner", true, func(c *Config) { c.Certificates = []Certificate{{Certificate: cert.Certificate, PrivateKey: "key"}} }, "Certificates[0]"},
		{"clientAuthPolicy", true, func(c *Config) { c.ClientAuth = 9 }, "ClientAuth"},
		{"ticketLifetime", true, func(c *Config) { c.TicketLifetime = 8 * 24 * time.Hour }, "TicketLifetime"},
		{"negativeMessageSize", false, func(c *Config) { c.MaxHandshakeMessageSize = -1 }, "MaxHandshakeMessageSize"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseClientConfig()
			validate := cfg.ValidateClient
			if tc.server {
				cfg = baseServerConfig(cert)
				validate = cfg.ValidateServer
			}
			tc.edit(cfg)
			err := validate()
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field {
				t.Fatalf("got %v, want a ConfigError for %s", err, tc.field)
			}
			if !strings.HasPrefix(err.Error(), "tls13: Config."+tc.field+": ") {
				t.Errorf("message %q", err.Error())
			}
		})
	}
	t.Run("good", func(t *testing.T) {
		if err := baseServerConfig(cert).ValidateServer(); err != nil {
			t.Error(err)
		}
		if err := baseClientConfig().ValidateClient(); err != nil {
			t.Error(err)
		}
		insecure := &Config{InsecureSkipVerify: true, NextProtos: []string{"hq-interop"}}
		if err := insecure.ValidateClient(); err != nil {
			t.Error(err)
		}
		byHook := &Config{GetCertificate: func(*ClientHelloInfo) (*Certificate, error) { return &cert, nil }, NextProtos: []string{"h3"}}
		if err := byHook.ValidateServer(); err != nil {
			t.Error(err)
		}
	})
	t.Run("allProblems", func(t *testing.T) {
		err := (&Config{}).ValidateServer()
		for _, f := range []string{"Config.Certificates:", "Config.NextProtos:"} {
			if !strings.Contains(err.Error(), f) {
				t.Errorf("%q does not name %s", err, f)
			}
		}
	})
	t.Run("startStaysLenient", func(t *testing.T) {
		// Start refuses only what fails every handshake: a missing
		// NextProtos is QUIC's policy, checked by Validate.
		cfg := baseClientConfig()
		cfg.NextProtos = nil
		if err := Client(cfg, nil).Start(); err != nil {
			t.Errorf("Start: %v", err)
		}
		var ce *ConfigError
		if err := Server(&Config{}, nil).Start(); !errors.As(err, &ce) || ce.Field != "Certificates" {
			t.Errorf("server Start without certificates: %v", err)
		}
	})
}
