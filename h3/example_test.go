package h3_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"time"

	"github.com/skiffnet/skiff/h3"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// A server and a client over HTTP/3 on loopback, with a certificate made
// on the spot.
func Example() {
	cert, roots, err := selfSigned("127.0.0.1")
	if err != nil {
		log.Fatal(err)
	}
	ln, err := quic.Listen("udp", "127.0.0.1:0", &quic.Config{
		TLS: &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{h3.NextProtoH3}},
	})
	if err != nil {
		log.Fatal(err)
	}
	srv := &h3.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello over %s", r.Proto)
	})}
	go srv.Serve(ln)
	defer srv.Close()

	client := &http.Client{Transport: &h3.Transport{Mode: h3.ModeHTTP3Only, TLSClientConfig: &tls13.Config{RootCAs: roots}}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("https://" + ln.Addr().String() + "/")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Proto, resp.StatusCode, string(body), resp.TLS.NegotiatedProtocol)
	// Output: HTTP/3.0 200 hello over HTTP/3.0 h3
}

// selfSigned makes a throwaway ECDSA certificate for host and a pool that
// trusts it. Real servers load theirs: tls13.LoadX509KeyPair, or
// ListenAndServeTLS.
func selfSigned(host string) (tls13.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls13.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: host},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP(host)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls13.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls13.Certificate{}, nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls13.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots, nil
}

// An HTTP/3 server in a few lines: net/http's ListenAndServeTLS over QUIC,
// with the handlers of http.DefaultServeMux.
func ExampleListenAndServeTLS() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello over %s\n", r.Proto)
	})
	log.Fatal(h3.ListenAndServeTLS(":4433", "cert.pem", "key.pem", nil))
}

// A Server with its limits set, stopped gracefully: Shutdown sends GOAWAY
// and lets the requests in flight finish.
func ExampleServer_ListenAndServeTLS() {
	srv := &h3.Server{
		Addr:              ":4433",
		Handler:           http.FileServer(http.Dir(".")),
		MaxHeaderBytes:    64 << 10,
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() {
		if err := srv.ListenAndServeTLS("cert.pem", "key.pem"); !errors.Is(err, h3.ErrServerClosed) {
			log.Fatal(err)
		}
	}()
	// ... until the program should stop:
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
}

// A client that uses HTTP/3 wherever a server offers it (Alt-Svc, HTTPS
// records) and TCP everywhere else; the response says which carried it.
func ExampleTransport() {
	client := &http.Client{Transport: &h3.Transport{}}
	resp, err := client.Get("https://example.com/")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Proto)
}

// Errors of an HTTP/3 request stream name their code and keep QUIC's
// error as their cause.
func ExampleStreamError() {
	var err error = &h3.StreamError{StreamID: 4, Code: h3.ErrCodeRequestCancelled, Remote: true}
	var se *h3.StreamError
	if errors.As(err, &se) && se.Code == h3.ErrCodeRequestCancelled {
		fmt.Println(err)
	}
	// Output: h3: stream 4 reset by the peer with H3_REQUEST_CANCELLED
}

// AltSvcHandler makes a TCP server advertise HTTP/3 on UDP port 443.
func ExampleAltSvcHandler() {
	h := h3.AltSvcHandler(http.NotFoundHandler(), 443)
	w := &headerRecorder{h: http.Header{}}
	h.ServeHTTP(w, &http.Request{ProtoMajor: 1})
	fmt.Println(w.h.Get("Alt-Svc"))
	// Output: h3=":443"; ma=86400
}

type headerRecorder struct{ h http.Header }

func (r *headerRecorder) Header() http.Header         { return r.h }
func (r *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *headerRecorder) WriteHeader(int)             {}

// A prefetch asked for at the lowest urgency, raised to the highest when
// the user navigates to the page that needs it (RFC 9218 §6): the change
// reaches the server whether or not the response has begun.
func ExampleRequestPriority() {
	client := &http.Client{Transport: &h3.Transport{}}
	prio := h3.NewRequestPriority(h3.Priority{Urgency: 7})
	ctx := h3.WithPriority(context.Background(), prio)
	req, err := http.NewRequestWithContext(ctx, "GET", "https://example.com/app.js", nil)
	if err != nil {
		log.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := client.Do(req)
		if err != nil {
			log.Print(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}()
	// … the user navigates to the page:
	prio.Set(h3.Priority{Urgency: 0})
	<-done
}
