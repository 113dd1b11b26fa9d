package tls13_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"github.com/skiffnet/skiff/tls13"
)

// Example runs a client and a server against each other in memory, the way
// a QUIC connection drives them: CRYPTO data goes to the peer at its level,
// secrets go to packet protection.
func Example() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "example.test"},
		DNSNames:     []string{"example.test"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	leaf, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	clock := func() time.Time { return now }

	client := tls13.Client(&tls13.Config{
		ServerName: "example.test",
		RootCAs:    roots,
		NextProtos: []string{"h3"},
		Time:       clock,
	}, []byte("client transport parameters"))
	server := tls13.Server(&tls13.Config{
		Certificates: []tls13.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		NextProtos:   []string{"h3"},
		Time:         clock,
	}, []byte("server transport parameters"))
	if err := client.Start(); err != nil {
		panic(err)
	}
	if err := server.Start(); err != nil {
		panic(err)
	}
	names := map[*tls13.Conn]string{client: "client", server: "server"}
	peer := map[*tls13.Conn]*tls13.Conn{client: server, server: client}
	for progress := true; progress; {
		progress = false
		for _, c := range []*tls13.Conn{client, server} {
			for ev := c.NextEvent(); ev.Kind != tls13.EventNone; ev = c.NextEvent() {
				progress = true
				switch ev.Kind {
				case tls13.EventWriteData:
					fmt.Printf("%s: send %v data\n", names[c], ev.Level)
					if err := peer[c].HandleData(ev.Level, ev.Data); err != nil {
						panic(err)
					}
				case tls13.EventSetReadSecret:
					fmt.Printf("%s: read keys for %v\n", names[c], ev.Level)
				case tls13.EventSetWriteSecret:
					fmt.Printf("%s: write keys for %v\n", names[c], ev.Level)
				case tls13.EventTransportParameters:
					fmt.Printf("%s: peer's %s\n", names[c], ev.Data)
				case tls13.EventHandshakeDone:
					fmt.Printf("%s: done, ALPN %s\n", names[c], c.ConnectionState().NegotiatedProtocol)
				}
			}
		}
	}
	// Output:
	// client: send Initial data
	// server: peer's client transport parameters
	// server: send Initial data
	// server: write keys for Handshake
	// server: read keys for Handshake
	// server: send Handshake data
	// server: write keys for Application
	// client: read keys for Handshake
	// client: write keys for Handshake
	// client: peer's server transport parameters
	// client: read keys for Application
	// client: send Handshake data
	// client: write keys for Application
	// client: done, ALPN h3
	// server: read keys for Application
	// server: done, ALPN h3
}

// A server Config with neither certificate nor ALPN protocol fails
// validation with errors naming each field; QUIC validates at Listen.
func ExampleConfig_ValidateServer() {
	err := (&tls13.Config{}).ValidateServer()
	fmt.Println(err)
	// Output:
	// tls13: Config.Certificates: a server needs a certificate: set Certificates or GetCertificate
	// tls13: Config.NextProtos: empty; QUIC requires an application protocol negotiated with ALPN (RFC 9001 §8.1)
}

// A server's certificate usually comes from PEM files.
func ExampleLoadX509KeyPair() {
	cert, err := tls13.LoadX509KeyPair("cert.pem", "key.pem")
	if err != nil {
		fmt.Println(err)
		return
	}
	config := &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{"h3"}}
	_ = config
}
