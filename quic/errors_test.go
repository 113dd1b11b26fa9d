package quic

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/skiffnet/skiff/internal/selfsigned"
	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/quic/internal/testcert"
	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/tls13"
)

// loopbackConns dials a new listener over loopback and returns both ends.
func loopbackConns(t *testing.T, ctx context.Context, cc, sc *Config) (client, server *Conn, ln *Listener) {
	t.Helper()
	ln, err := Listen("udp", "127.0.0.1:0", sc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	client, err = Dial(ctx, "udp", ln.Addr().String(), cc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server, err = ln.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return client, server, ln
}

func TestTransportErrorCodeNames(t *testing.T) {
	for code, want := range map[TransportErrorCode]string{
		ErrCodeNoError:                 "NO_ERROR",
		ErrCodeProtocolViolation:       "PROTOCOL_VIOLATION",
		ErrCodeVersionNegotiationError: "VERSION_NEGOTIATION_ERROR",
		ErrCodeCryptoError + 0x78:      "CRYPTO_ERROR(0x178 no_application_protocol)",
		ErrCodeCryptoError + 0x2a:      "CRYPTO_ERROR(0x12a bad_certificate)",
		0x4242:                         "TRANSPORT_ERROR(0x4242)",
	} {
		if got := code.String(); got != want {
			t.Errorf("%#x prints %q, want %q", uint64(code), got, want)
		}
	}
	// The exported codes are the wire's, in order.
	exported := []TransportErrorCode{ErrCodeNoError, ErrCodeInternalError, ErrCodeConnectionRefused,
		ErrCodeFlowControlError, ErrCodeStreamLimitError, ErrCodeStreamStateError, ErrCodeFinalSizeError,
		ErrCodeFrameEncodingError, ErrCodeTransportParameterError, ErrCodeConnectionIDLimitError,
		ErrCodeProtocolViolation, ErrCodeInvalidToken, ErrCodeApplicationError, ErrCodeCryptoBufferExceeded,
		ErrCodeKeyUpdateError, ErrCodeAEADLimitReached, ErrCodeNoViablePath, ErrCodeVersionNegotiationError}
	for i, code := range exported {
		if code != TransportErrorCode(i) || code.String() != wire.TransportErrorCode(i).String() {
			t.Errorf("exported code %d is %#x %v", i, uint64(code), code)
		}
	}
	if ErrCodeCryptoError != TransportErrorCode(wire.CryptoErrorBase) {
		t.Errorf("ErrCodeCryptoError is %#x", uint64(ErrCodeCryptoError))
	}
	err := error(&TransportError{Code: ErrCodeFlowControlError, FrameType: 0x08, Reason: "too much", Remote: true})
	if got, want := err.Error(), "quic: remote transport error FLOW_CONTROL_ERROR in frame STREAM(0x8): too much"; got != want {
		t.Errorf("TransportError prints %q, want %q", got, want)
	}
	if !errors.Is(err, ErrCodeFlowControlError) || errors.Is(err, ErrCodeProtocolViolation) {
		t.Errorf("errors.Is does not match the code")
	}
}

// A peer's CRYPTO_ERROR reads as the tls13 alert it carries; the state
// machine's cause of a local error is kept.
func TestCloseErrorCause(t *testing.T) {
	err := closeError(&conn.Reason{Kind: conn.ReasonTransport, Code: 0x12a, Text: "no", Remote: true})
	var pa *tls13.PeerAlertError
	if !errors.As(err, &pa) || pa.Alert != tls13.AlertBadCertificate || pa.Reason != "no" {
		t.Errorf("the peer's CRYPTO_ERROR(0x12a) gives %v", err)
	}
	cause := errors.New("the cause")
	err = closeError(&conn.Reason{Kind: conn.ReasonTransport, Code: 0x1, Err: cause})
	if !errors.Is(err, cause) {
		t.Errorf("a local error loses its cause: %v", err)
	}
	// The peer's other codes carry no alert.
	err = closeError(&conn.Reason{Kind: conn.ReasonTransport, Code: 0xa, Remote: true})
	if errors.As(err, &pa) || errors.Unwrap(err) != nil {
		t.Errorf("PROTOCOL_VIOLATION from the peer unwraps to %v", errors.Unwrap(err))
	}
}

// context.Cause of a Conn's Context is why the connection ended, on both
// sides: the application's code for a CONNECTION_CLOSE.
func TestConnContextCause(t *testing.T) {
	ctx := loopbackContext(t)
	goroutines := countGoroutines()
	cc, sc := testConfigs(t)
	client, server, ln := loopbackConns(t, ctx, cc, sc)
	clientCtx := client.Context()
	server.CloseWithError(0x42, "bye")
	<-clientCtx.Done()
	var ae *ApplicationError
	if err := context.Cause(clientCtx); !errors.As(err, &ae) || !ae.Remote || ae.Code != 0x42 || ae.Reason != "bye" {
		t.Errorf("client: context.Cause %v, want the server's application error 0x42", err)
	}
	// The server's context, made after the close, says the same.
	if err := context.Cause(server.Context()); !errors.As(err, &ae) || ae.Remote || ae.Code != 0x42 {
		t.Errorf("server: context.Cause %v, want its own application error 0x42", err)
	}
	if _, err := client.AcceptStream(ctx); !errors.As(err, &ae) {
		t.Errorf("AcceptStream after the close: %v", err)
	}
	client.Close()
	ln.Close()
	goroutines.check(t)
}

// ConnectionState reports what the handshake negotiated, on both sides,
// and still does after the connection ended.
func TestConnectionState(t *testing.T) {
	ctx := loopbackContext(t)
	ccTLS, scTLS := testcert.Fresh(t)
	clientCert, clientCAs := freshClientCert(t)
	ccTLS.Certificates = []tls13.Certificate{clientCert}
	scTLS.ClientAuth, scTLS.ClientCAs = tls13.RequireAndVerifyClientCert, clientCAs
	scTLS.CipherSuites = []uint16{tls13.TLS_CHACHA20_POLY1305_SHA256}
	client, server, _ := loopbackConns(t, ctx, &Config{TLS: ccTLS}, &Config{TLS: scTLS})
	check := func(who string, cs tls13.ConnectionState, peerCert []byte) {
		t.Helper()
		switch {
		case !cs.HandshakeComplete || cs.Version != 0x0304:
			t.Errorf("%s: complete %v, version %#x", who, cs.HandshakeComplete, cs.Version)
		case cs.NegotiatedProtocol != testcert.ALPN || cs.ServerName != "localhost":
			t.Errorf("%s: ALPN %q, server name %q", who, cs.NegotiatedProtocol, cs.ServerName)
		case cs.CipherSuite != tls13.TLS_CHACHA20_POLY1305_SHA256:
			t.Errorf("%s: suite %#x", who, cs.CipherSuite)
		case len(cs.PeerCertificates) == 0 || string(cs.PeerCertificates[0].Raw) != string(peerCert):
			t.Errorf("%s: PeerCertificates does not start with the peer's certificate", who)
		case len(cs.VerifiedChains) == 0:
			t.Errorf("%s: no verified chain", who)
		}
	}
	check("client", client.ConnectionState(), scTLS.Certificates[0].Certificate[0])
	check("server", server.ConnectionState(), clientCert.Certificate[0])
	client.Close()
	<-server.Context().Done()
	<-client.done.wait()
	check("client after the end", client.ConnectionState(), scTLS.Certificates[0].Certificate[0])
}

// freshClientCert returns a client certificate and the pool that
// verifies it.
func freshClientCert(t *testing.T) (tls13.Certificate, *x509.CertPool) {
	t.Helper()
	cert, pool, err := selfsigned.New("client.test")
	if err != nil {
		t.Fatal(err)
	}
	return cert, pool
}
