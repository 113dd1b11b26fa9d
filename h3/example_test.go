package h3_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"

	"github.com/skiffnet/skiff/h3"
	"github.com/skiffnet/skiff/internal/selfsigned"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// A server and a client over HTTP/3 on loopback.
func Example() {
	cert, roots, err := selfsigned.New("127.0.0.1")
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
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "https://"+ln.Addr().String()+"/", nil)
	resp, err := client.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Proto, resp.StatusCode, string(body))
	// Output: HTTP/3.0 200 hello over HTTP/3.0
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
