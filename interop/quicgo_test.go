package interop

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

// testCertificate returns a fresh self-signed ECDSA certificate for
// "localhost" and 127.0.0.1, and a pool that trusts it.
func testCertificate(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "skiff interop test"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// pseudoRandom returns n deterministic bytes from seed, so that a failure
// can be reproduced byte for byte.
func pseudoRandom(seed uint64, n int) []byte {
	r := mrand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	b := make([]byte, n)
	r.Read(b)
	return b
}

// TestQuicGoLoopback is the baseline of the interop module: a quic-go client
// and a quic-go server exchange data over real UDP on loopback. The client
// uploads a payload and asks for a download of a given size; the server
// answers with the SHA-256 of what it received followed by the download.
// Both directions are checked by hash.
func TestQuicGoLoopback(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	cert, pool := testCertificate(t)
	const alpn = "skiff-interop-test"
	ln, err := quic.ListenAddr("127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{alpn},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	const uploadSize, downloadSize = 3 << 20, 5 << 20
	upload := pseudoRandom(1, uploadSize)
	download := pseudoRandom(2, downloadSize)

	serverErr := make(chan error, 1)
	go func() {
		serverErr <- func() error {
			conn, err := ln.Accept(ctx)
			if err != nil {
				return err
			}
			str, err := conn.AcceptStream(ctx)
			if err != nil {
				return err
			}
			var want [8]byte
			if _, err := io.ReadFull(str, want[:]); err != nil {
				return err
			}
			h := sha256.New()
			if _, err := io.Copy(h, str); err != nil {
				return err
			}
			if _, err := str.Write(h.Sum(nil)); err != nil {
				return err
			}
			if _, err := str.Write(download[:binary.BigEndian.Uint64(want[:])]); err != nil {
				return err
			}
			if err := str.Close(); err != nil {
				return err
			}
			// Wait for the client to close, so that every byte is delivered.
			<-conn.Context().Done()
			return nil
		}()
	}()

	conn, err := quic.DialAddr(ctx, ln.Addr().String(), &tls.Config{
		RootCAs:    pool,
		ServerName: "localhost",
		NextProtos: []string{alpn},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	str, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want [8]byte
	binary.BigEndian.PutUint64(want[:], downloadSize)
	if _, err := str.Write(append(want[:], upload...)); err != nil {
		t.Fatal(err)
	}
	if err := str.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(str)
	if err != nil {
		t.Fatal(err)
	}
	conn.CloseWithError(0, "done")

	uploadSum := sha256.Sum256(upload)
	if len(got) < sha256.Size || !bytes.Equal(got[:sha256.Size], uploadSum[:]) {
		t.Fatalf("server's hash of the upload does not match")
	}
	got = got[sha256.Size:]
	if len(got) != downloadSize || sha256.Sum256(got) != sha256.Sum256(download) {
		t.Fatalf("download: got %d bytes, want %d with matching SHA-256", len(got), downloadSize)
	}
	if err := <-serverErr; err != nil {
		t.Fatalf("server: %v", err)
	}
}
