package quic

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/testcert"
	"github.com/skiffnet/skiff/tls13"
)

// Misconfigurations fail at Listen and Dial, with an error naming the
// field, before any packet is sent.
func TestConfigValidation(t *testing.T) {
	cc, sc := testcert.Fresh(t)
	noProtos := func(c *tls13.Config) *tls13.Config { c = c.Clone(); c.NextProtos = nil; return c }
	noCert := sc.Clone()
	noCert.Certificates = nil
	for _, tc := range []struct {
		name   string
		server bool
		config *Config
		field  string
	}{
		{"Listen without Config", true, nil, "TLS"},
		{"Listen without TLS", true, &Config{}, "TLS"},
		{"Listen without certificate", true, &Config{TLS: noCert}, "TLS.Certificates"},
		{"Listen without NextProtos", true, &Config{TLS: noProtos(sc)}, "TLS.NextProtos"},
		{"Listen with a tiny MaxDatagramSize", true, &Config{TLS: sc, MaxDatagramSize: 1000}, "MaxDatagramSize"},
		{"Dial without TLS", false, &Config{}, "TLS"},
		{"Dial without NextProtos", false, &Config{TLS: noProtos(cc)}, "TLS.NextProtos"},
		{"Dial with negative HandshakeTimeout", false, &Config{TLS: cc, HandshakeTimeout: -1}, "HandshakeTimeout"},
		{"Dial with negative MaxBidiStreams", false, &Config{TLS: cc, MaxBidiStreams: -5}, "MaxBidiStreams"},
		{"Dial with MaxUniStreams beyond 2^60", false, &Config{TLS: cc, MaxUniStreams: 1<<60 + 1}, "MaxUniStreams"},
		{"Dial with MaxStreamWindow below the initial", false, &Config{TLS: cc, InitialStreamWindow: 1 << 20, MaxStreamWindow: 1 << 10}, "MaxStreamWindow"},
		{"Dial with an unknown cipher suite", false, &Config{TLS: func() *tls13.Config { c := cc.Clone(); c.CipherSuites = []uint16{0x1234}; return c }()}, "TLS.CipherSuites[0]"},
	} {
		var err error
		if tc.server {
			var ln *Listener
			ln, err = Listen("udp", "127.0.0.1:0", tc.config)
			if err == nil {
				ln.Close()
			}
		} else {
			_, err = Dial(t.Context(), "udp", "127.0.0.1:9", tc.config)
		}
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != tc.field || !strings.Contains(err.Error(), "Config."+tc.field+":") {
			t.Errorf("%s: %v, want a ConfigError naming %s", tc.name, err, tc.field)
			continue
		}
		t.Logf("%s: %v", tc.name, err)
		if strings.HasPrefix(tc.field, "TLS.") {
			var tce *tls13.ConfigError
			if !errors.As(err, &tce) {
				t.Errorf("%s: errors.As finds no tls13.ConfigError", tc.name)
			}
		}
	}
}

// Dial takes the server name from the address when the TLS configuration
// names none, on a copy, as crypto/tls does; a Config naming one is used
// as is.
func TestDialServerNameFromAddress(t *testing.T) {
	cc, _ := testcert.Fresh(t)
	cc.ServerName = ""
	got, err := (&Config{TLS: cc}).forDial("localhost")
	if err != nil {
		t.Fatal(err)
	}
	if got.TLS == cc || got.TLS.ServerName != "localhost" || cc.ServerName != "" {
		t.Errorf("forDial: ServerName %q on %p (given %p, left %q)", got.TLS.ServerName, got.TLS, cc, cc.ServerName)
	}
	if got, _ := (&Config{TLS: cc}).forDial("fe80::1%eth0"); got.TLS.ServerName != "fe80::1" {
		t.Errorf("an IPv6 zone is kept in the name: %q", got.TLS.ServerName)
	}
	named := &Config{TLS: cc.Clone()}
	named.TLS.ServerName = "example.test"
	if got, _ := named.forDial("localhost"); got != named {
		t.Errorf("a Config that names the server is copied")
	}
	// Over loopback: a client with no ServerName dials "localhost:port"
	// and verifies the server's certificate for "localhost".
	ctx := loopbackContext(t)
	cc, sc := testcert.Fresh(t)
	cc.ServerName = ""
	ln, err := Listen("udp", "127.0.0.1:0", &Config{TLS: sc})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := Dial(ctx, "udp4", "localhost:"+strconv.Itoa(int(ln.Addr().Port())), &Config{TLS: cc})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ConnectionState().ServerName; got != "localhost" {
		t.Errorf("ServerName %q, want localhost", got)
	}
	c.Close()
}

// Listen on ":port" binds that port, on every address, and answers IPv4
// and IPv6 clients (it once bound a random port).
func TestListenPortOnly(t *testing.T) {
	ctx := loopbackContext(t)
	goroutines := countGoroutines()
	cc, sc := testConfigs(t)
	free, err := net.ListenPacket("udp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	port := free.LocalAddr().(*net.UDPAddr).Port
	free.Close()
	ln, err := Listen("udp", ":"+strconv.Itoa(port), sc)
	if err != nil {
		t.Fatal(err)
	}
	if got := ln.Addr(); int(got.Port()) != port {
		t.Fatalf("Listen(:%d) bound %v", port, got)
	}
	go acceptAndClose(ctx, ln)
	for _, host := range []string{"127.0.0.1", "::1"} {
		c, err := Dial(ctx, "udp", net.JoinHostPort(host, strconv.Itoa(port)), cc)
		if err != nil {
			t.Errorf("Dial %s: %v", host, err)
			continue
		}
		c.Close()
	}
	ln.Close()
	goroutines.check(t)
}

// An Endpoint made to dial from asks for ICMP errors, as Dial's socket
// does: a dial to a closed port fails at once; with DisableICMPErrors it
// runs to the handshake timeout.
func TestNewEndpointICMPErrors(t *testing.T) {
	ctx := loopbackContext(t)
	goroutines := countGoroutines()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	pc.Close()
	cc, _ := testConfigs(t)
	e, err := NewEndpoint("udp", "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = e.Dial(ctx, closed, &Config{TLS: cc.TLS, HandshakeTimeout: 20 * time.Second})
	t.Logf("failed in %v: %v", time.Since(start), err)
	if !errors.Is(err, ErrUnreachable) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("Endpoint.Dial to a closed port: %v, want ErrUnreachable", err)
	}
	e.Close()

	e, err = NewEndpoint("udp", "127.0.0.1:0", &EndpointConfig{DisableICMPErrors: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Dial(ctx, closed, &Config{TLS: cc.TLS, HandshakeTimeout: 300 * time.Millisecond})
	if !errors.Is(err, ErrHandshakeTimeout) {
		t.Errorf("without ICMP errors: %v, want ErrHandshakeTimeout", err)
	}
	e.Close()
	goroutines.check(t)
}

// CloseWithError returns once the CONNECTION_CLOSE is handed to the
// socket: a program that exits then has sent it.
func TestCloseWithErrorSends(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		var writes, sent atomic.Uint64
		cc, sc := testConfigs(t)
		sn := newSimNetSockets(t, netsim.Impairment{Delay: 10 * time.Millisecond}, 1, cc, sc, func(c *netsim.Conn) packetConn {
			return countingSocket{simSocket{c}, &writes, &sent}
		})
		client, server := sn.connect(t, ctx)
		synctest.Wait()
		before := sent.Load()
		client.CloseWithError(3, "done")
		if sent.Load() == before {
			t.Fatal("CloseWithError returned before the CONNECTION_CLOSE went out")
		}
		<-server.Context().Done()
		var ae *ApplicationError
		if err := context.Cause(server.Context()); !errors.As(err, &ae) || ae.Code != 3 {
			t.Errorf("the server learned %v", err)
		}
	})
}

// InitiateKeyUpdate updates the 1-RTT keys at once (RFC 9001 §6): both
// ends count the update, and data flows on.
func TestInitiateKeyUpdate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		sn := newSimNet(t, netsim.Impairment{Delay: 10 * time.Millisecond}, 1)
		client, server := sn.connect(t, ctx)
		// The client's handshake is confirmed when HANDSHAKE_DONE arrives.
		time.Sleep(30 * time.Millisecond)
		if err := client.InitiateKeyUpdate(); err != nil {
			t.Fatal(err)
		}
		data := payload(2, 64<<10)
		transfer(t, ctx, client, server, data)
		if cs, ss := client.Stats(), server.Stats(); cs.KeyUpdates != 1 || ss.KeyUpdates != 1 {
			t.Errorf("key updates: client %d, server %d, want 1 each", cs.KeyUpdates, ss.KeyUpdates)
		}
		inspect(client, func(sm *conn.Conn, _ time.Time) {
			if w, r, _ := sm.KeyPhase(); !w || !r {
				t.Errorf("client key phase: write %v, read %v, want 1, 1", w, r)
			}
		})
		client.Close()
		if err := client.InitiateKeyUpdate(); err == nil {
			t.Error("InitiateKeyUpdate on a closed connection succeeded")
		}
	})
}

// MaxDatagramSize says what SendDatagram takes.
func TestMaxDatagramSize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		cc, sc := testConfigs(t)
		cc.EnableDatagrams, sc.EnableDatagrams = true, true
		sn := newSimNetWith(t, netsim.Impairment{Delay: 10 * time.Millisecond}, 1, cc, sc)
		client, server := sn.connect(t, ctx)
		n := client.MaxDatagramSize()
		if n != maxDatagramPayload {
			t.Errorf("MaxDatagramSize %d, want %d", n, maxDatagramPayload)
		}
		if err := client.SendDatagram(make([]byte, n+1)); !errors.Is(err, ErrDatagramTooLarge) {
			t.Errorf("a datagram of %d bytes: %v", n+1, err)
		}
		if err := client.SendDatagram(make([]byte, n)); err != nil {
			t.Fatal(err)
		}
		if b, err := server.ReceiveDatagram(ctx); err != nil || len(b) != n {
			t.Fatalf("received %d bytes, %v", len(b), err)
		}
		client.Close()
	})
	// A peer's small limit counts the frame's type and length.
	c := &Conn{}
	c.peerDatagramMax.Store(100)
	if got := c.MaxDatagramSize(); got != 97 {
		t.Errorf("for max_datagram_frame_size 100: %d, want 97 (type and a 2-byte length)", got)
	}
	c.peerDatagramMax.Store(0)
	if got := c.MaxDatagramSize(); got != 0 || !errors.Is(c.SendDatagram([]byte{1}), ErrDatagramsDisabled) {
		t.Errorf("without the peer's support: %d", got)
	}
}

// Stats.ECN names every state of ECN validation; every counter of the
// state machine reaches Stats.
func TestStatsOf(t *testing.T) {
	for _, st := range []recovery.ECNState{recovery.ECNTesting, recovery.ECNUnknown, recovery.ECNCapable, recovery.ECNFailed} {
		if got := ecnStateOf(st.String()); got == ECNOff || got.String() != st.String() {
			t.Errorf("recovery's %v became %v", st, got)
		}
	}
	if ecnStateOf("off") != ECNOff {
		t.Error(`"off" is not ECNOff`)
	}
	// Every field set to a value of its own; Stats has each, with the
	// same value.
	var in conn.Stats
	v := reflect.ValueOf(&in).Elem()
	for i := range v.NumField() {
		switch f := v.Field(i); f.Kind() {
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(i + 1))
		case reflect.Uint64, reflect.Uint8:
			f.SetUint(uint64(i + 1))
		case reflect.String:
			f.SetString("capable")
		case reflect.Struct:
			// A controller's state (BBR's): one field set is enough
			// to see it carried over.
			for j := range f.NumField() {
				if g := f.Field(j); g.CanSet() && g.Kind() == reflect.Uint64 {
					g.SetUint(uint64(i + 1))
					break
				}
			}
		default:
			t.Fatalf("conn.Stats.%s: kind %v not covered", v.Type().Field(i).Name, f.Kind())
		}
	}
	out := reflect.ValueOf(statsOf(in))
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		got := out.FieldByName(name)
		switch {
		case !got.IsValid():
			t.Errorf("Stats has no %s", name)
		case name == "ECN":
			if got.Interface() != ECNCapable {
				t.Errorf("Stats.ECN %v", got)
			}
		case !reflect.DeepEqual(got.Interface(), v.Field(i).Convert(got.Type()).Interface()):
			t.Errorf("Stats.%s is %v, want %v", name, got, v.Field(i))
		}
	}
}
