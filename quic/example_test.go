package quic_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// An echo server and a client over loopback: the server sends back what
// each stream brings.
func Example() {
	cert, err := tls13.X509KeyPair(exampleCertPEM, exampleKeyPEM) // tls13.LoadX509KeyPair for files
	if err != nil {
		log.Fatal(err)
	}
	ln, err := quic.Listen("udp", "127.0.0.1:0", &quic.Config{
		TLS: &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{"echo"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept(context.Background())
			if err != nil {
				return // the listener closed
			}
			go func() {
				for {
					str, err := conn.AcceptStream(context.Background())
					if err != nil {
						return // the connection ended
					}
					go func() { io.Copy(str, str); str.Close() }()
				}
			}()
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The server name comes from the address; the roots verify it.
	conn, err := quic.Dial(ctx, "udp", ln.Addr().String(), &quic.Config{
		TLS: &tls13.Config{RootCAs: exampleRoots(), NextProtos: []string{"echo"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	str, err := conn.OpenStream(ctx)
	if err != nil {
		log.Fatal(err)
	}
	str.Write([]byte("hello, echo"))
	str.Close() // FIN: the server's copy ends
	reply, err := io.ReadAll(str)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(reply))
	// Output: hello, echo
}

// A handshake that fails returns from Dial at once, with an error that
// says why: here the server offers no protocol the client asks for, and
// closes the connection with the TLS alert no_application_protocol.
func ExampleDial_failedHandshake() {
	ln := exampleListener("echo")
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := quic.Dial(ctx, "udp", ln.Addr().String(), &quic.Config{
		TLS: &tls13.Config{RootCAs: exampleRoots(), NextProtos: []string{"other"}},
	})
	var te *quic.TransportError
	if errors.As(err, &te) {
		fmt.Println("code:", te.Code, "remote:", te.Remote)
	}
	var alert *tls13.PeerAlertError
	if errors.As(err, &alert) {
		fmt.Println("the server's alert:", alert.Alert.String())
	}
	// Output:
	// code: CRYPTO_ERROR(0x178 no_application_protocol) remote: true
	// the server's alert: no_application_protocol
}

// Listen and Dial check the Config first, and the error names the field.
func ExampleConfigError() {
	cert, err := tls13.X509KeyPair(exampleCertPEM, exampleKeyPEM)
	if err != nil {
		log.Fatal(err)
	}
	_, err = quic.Listen("udp", "127.0.0.1:0", &quic.Config{
		TLS: &tls13.Config{Certificates: []tls13.Certificate{cert}}, // no NextProtos
	})
	var ce *quic.ConfigError
	if errors.As(err, &ce) {
		fmt.Println(ce.Field)
	}
	// Output: TLS.NextProtos
}

// ConnectionState tells what the handshake negotiated.
func ExampleConn_ConnectionState() {
	ln := exampleListener("echo")
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := quic.Dial(ctx, "udp", ln.Addr().String(), &quic.Config{
		TLS: &tls13.Config{RootCAs: exampleRoots(), ServerName: "localhost", NextProtos: []string{"echo"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	cs := conn.ConnectionState()
	fmt.Println(cs.NegotiatedProtocol, cs.ServerName, cs.PeerCertificates[0].Subject.CommonName)
	// Output: echo localhost skiff example
}

// A stream's Context ends when the peer resets or stops the stream,
// whether or not anyone reads or writes: a server can give up on a
// request the client abandoned.
func ExampleStream_Context() {
	ln := exampleListener("echo")
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	canceled := make(chan error, 1)
	go func() {
		conn, err := ln.Accept(ctx)
		if err != nil {
			log.Fatal(err)
		}
		str, err := conn.AcceptStream(ctx)
		if err != nil {
			log.Fatal(err)
		}
		<-str.Context().Done() // work for the request would go here
		canceled <- context.Cause(str.Context())
	}()
	conn, err := quic.Dial(ctx, "udp", ln.Addr().String(), &quic.Config{
		TLS: &tls13.Config{RootCAs: exampleRoots(), NextProtos: []string{"echo"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	str, err := conn.OpenStream(ctx)
	if err != nil {
		log.Fatal(err)
	}
	str.Write([]byte("a request"))
	str.Reset(0x10c) // the client gives up: RESET_STREAM
	var se *quic.StreamError
	if errors.As(<-canceled, &se) {
		fmt.Printf("reset by the peer: %v, code %#x\n", se.Remote, se.Code)
	}
	// Output: reset by the peer: true, code 0x10c
}

// Datagrams (RFC 9221) are unreliable messages; MaxDatagramSize says how
// large one may be.
func ExampleConn_SendDatagram() {
	ln := exampleListenerConfig(&quic.Config{EnableDatagrams: true}, "echo")
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	received := make(chan []byte, 1)
	go func() {
		conn, err := ln.Accept(ctx)
		if err != nil {
			log.Fatal(err)
		}
		b, err := conn.ReceiveDatagram(ctx)
		if err != nil {
			log.Fatal(err)
		}
		received <- b
	}()
	conn, err := quic.Dial(ctx, "udp", ln.Addr().String(), &quic.Config{
		TLS:             &tls13.Config{RootCAs: exampleRoots(), NextProtos: []string{"echo"}},
		EnableDatagrams: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Println("at most", conn.MaxDatagramSize(), "bytes")
	if err := conn.SendDatagram([]byte("ping")); err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(<-received)) // on loopback nothing is lost
	// Output:
	// at most 1136 bytes
	// ping
}

// One socket for many client connections: an Endpoint.
func ExampleEndpoint() {
	ln := exampleListener("echo")
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e, err := quic.NewEndpoint("udp", "127.0.0.1:0", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	config := &quic.Config{TLS: &tls13.Config{RootCAs: exampleRoots(), ServerName: "localhost", NextProtos: []string{"echo"}}}
	for range 2 {
		conn, err := e.Dial(ctx, ln.Addr(), config)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(conn.LocalAddr() == e.LocalAddr())
		conn.Close()
	}
	// Output:
	// true
	// true
}

// exampleListener listens on loopback with the example certificate.
func exampleListener(protos ...string) *quic.Listener {
	return exampleListenerConfig(&quic.Config{}, protos...)
}

func exampleListenerConfig(config *quic.Config, protos ...string) *quic.Listener {
	cert, err := tls13.X509KeyPair(exampleCertPEM, exampleKeyPEM)
	if err != nil {
		log.Fatal(err)
	}
	config.TLS = &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: protos}
	ln, err := quic.Listen("udp", "127.0.0.1:0", config)
	if err != nil {
		log.Fatal(err)
	}
	return ln
}

// exampleRoots trusts the example certificate.
func exampleRoots() *x509.CertPool {
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(exampleCertPEM)
	return roots
}

// The examples' certificate: self-signed, ECDSA P-256, for localhost,
// 127.0.0.1 and ::1, valid from 2026 to 2126. It was made once with
// crypto/x509 for these examples and protects nothing; a real server
// loads its own (tls13.LoadX509KeyPair).
var (
	exampleCertPEM = []byte(`-----BEGIN CERTIFICATE-----
MIIBqDCCAU6gAwIBAgIBATAKBggqhkjOPQQDAjAYMRYwFAYDVQQDEw1za2lmZiBl
eGFtcGxlMCAXDTI2MDEwMTAwMDAwMFoYDzIxMjYwMTAxMDAwMDAwWjAYMRYwFAYD
VQQDEw1za2lmZiBleGFtcGxlMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEkWO
PpFiLXPVSYzs023XUCIG0R01i4g5LgcwEFacOzu0+R+BNtEnWPnbD6SF7cEbhjp8
aLfXaQ3Z2D7bfJ79u6OBhjCBgzAOBgNVHQ8BAf8EBAMCAoQwEwYDVR0lBAwwCgYI
KwYBBQUHAwEwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUF3u2cQDp6Y1icWPY
KHIRu9NXp5wwLAYDVR0RBCUwI4IJbG9jYWxob3N0hwR/AAABhxAAAAAAAAAAAAAA
AAAAAAABMAoGCCqGSM49BAMCA0gAMEUCIQD+pWQxQA0mMsmsyzn8UqbWh2TMQsyD
PGEyI2+JMKXb4wIgcC7RjvBih1DWCyARHBzYJOS/YGn1ckXEEORMaVikz0Q=
-----END CERTIFICATE-----
`)
	exampleKeyPEM = []byte(`-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIBy0X1a4GwzbmFeIc5QXZO6pvv57H8GiG1rN5f3Eg0KxoAoGCCqGSM49
AwEHoUQDQgAEEkWOPpFiLXPVSYzs023XUCIG0R01i4g5LgcwEFacOzu0+R+BNtEn
WPnbD6SF7cEbhjp8aLfXaQ3Z2D7bfJ79uw==
-----END EC PRIVATE KEY-----
`)
)
