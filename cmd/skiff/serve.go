package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/skiffnet/skiff/h3"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/quic/qlog"
	"github.com/skiffnet/skiff/tls13"
)

// serveOptions are skiff serve's flags.
type serveOptions struct {
	listen          string
	certFile        string
	keyFile         string
	dir             string
	qlogDir         string
	quiet           bool
	shutdownTimeout time.Duration
}

func serveMain(args []string, stdout, stderr io.Writer) int {
	o, code := parseServeFlags(args, stderr)
	if code >= 0 {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveUntilDone(ctx, stop, o, stderr)
}

// serveFlags defines skiff serve's flags, for parsing and for skiff help
// serve.
func serveFlags(o *serveOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("skiff serve", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", ":8443", "`address` to listen on, TCP and UDP on the same port (port 0: any free port)")
	fs.StringVar(&o.certFile, "cert", "", "certificate chain `file` (PEM); a self-signed certificate when empty")
	fs.StringVar(&o.keyFile, "key", "", "private key `file` (PEM) of --cert")
	fs.StringVar(&o.qlogDir, "qlog-dir", os.Getenv("QLOGDIR"), "write a qlog file per QUIC connection into `dir` (default $QLOGDIR)")
	fs.BoolVar(&o.quiet, "quiet", false, "no access log")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long requests in flight may run on after SIGINT or SIGTERM")
	return fs
}

// parseServeFlags parses skiff serve's arguments; the flags may come before
// or after the directory. It returns code -1 when serving should go on.
func parseServeFlags(args []string, stderr io.Writer) (serveOptions, int) {
	var o serveOptions
	fs := serveFlags(&o)
	fs.SetOutput(stderr)
	fs.Usage = func() { helpServe(stderr) }
	var dirs []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return o, 0
			}
			return o, 2
		}
		if fs.NArg() == 0 {
			break
		}
		dirs = append(dirs, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch len(dirs) {
	case 0:
		o.dir = "."
	case 1:
		o.dir = dirs[0]
	default:
		fmt.Fprintln(stderr, "skiff serve: one directory at most, got", strings.Join(dirs, " "))
		return o, 2
	}
	return o, -1
}

// serveUntilDone serves until ctx ends (a signal), then shuts down
// gracefully; stop undoes the signal handling so that a second signal
// ends the process at once.
func serveUntilDone(ctx context.Context, stop func(), o serveOptions, stderr io.Writer) int {
	fsrv, err := startFileServer(o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "skiff serve:", err)
		return 1
	}
	fsrv.printBanner(stderr)
	select {
	case err := <-fsrv.failed:
		fmt.Fprintln(stderr, "skiff serve:", err)
		fsrv.close()
		return 1
	case <-ctx.Done():
	}
	stop()
	fmt.Fprintf(stderr, "skiff serve: shutting down: requests in flight may finish (up to %v; a second signal stops at once)\n", o.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	if err := fsrv.shutdown(sctx); err != nil {
		fmt.Fprintln(stderr, "skiff serve: shutdown:", err)
		fsrv.close()
		return 1
	}
	fmt.Fprintln(stderr, "skiff serve: stopped")
	return 0
}

// fileServer is skiff serve's pair of servers on one port number: HTTPS
// over TCP (HTTP/1.1 and HTTP/2, net/http with crypto/tls) and HTTP/3 over
// UDP, both serving one directory.
type fileServer struct {
	dir      string
	port     int
	tcp      *http.Server
	tcpLn    net.Listener
	h3       *h3.Server
	udpLn    *quic.Listener
	cert     tls13.Certificate
	selfMade bool
	// failed receives the first error that stops either server.
	failed chan error
	// h3Done is closed when the HTTP/3 server's Serve returns.
	h3Done chan struct{}
	// h3Requests counts the HTTP/3 requests being handled.
	h3Requests activeCount
}

// startFileServer listens on TCP and UDP and starts serving.
func startFileServer(o serveOptions, logw io.Writer) (*fileServer, error) {
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	cert, err := loadOrMakeCertificate(o.certFile, o.keyFile)
	if err != nil {
		return nil, err
	}
	tcpLn, udpLn, err := listenBoth(o.listen, cert, o.qlogDir)
	if err != nil {
		return nil, err
	}
	s := &fileServer{
		dir:      dir,
		port:     tcpLn.Addr().(*net.TCPAddr).Port,
		tcpLn:    tcpLn,
		udpLn:    udpLn,
		cert:     cert,
		selfMade: o.certFile == "",
		failed:   make(chan error, 2),
		h3Done:   make(chan struct{}),
	}
	errLog := log.New(logw, "skiff serve: ", log.LstdFlags)
	var handler http.Handler = http.FileServerFS(root.FS())
	if !o.quiet {
		handler = accessLog(handler, logw)
	}
	s.h3 = &h3.Server{Handler: s.h3Requests.wrapHandler(handler), ErrorLog: errLog}
	s.tcp = &http.Server{
		Handler:           h3.AltSvcHandler(handler, s.port),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{tlsCertificate(cert)}},
		ErrorLog:          errLog,
		ReadHeaderTimeout: 30 * time.Second,
	}
	go func() {
		if err := s.tcp.ServeTLS(tcpLn, "", ""); !errors.Is(err, http.ErrServerClosed) {
			s.failed <- err
		}
	}()
	go func() {
		defer close(s.h3Done)
		if err := s.h3.Serve(udpLn); !errors.Is(err, h3.ErrServerClosed) && !errors.Is(err, quic.ErrEndpointClosed) {
			s.failed <- err
		}
	}()
	return s, nil
}

// listenBoth listens on TCP at addr and on UDP at the same port. With port
// 0 it tries a few kernel-chosen TCP ports until the UDP one is free too.
func listenBoth(addr string, cert tls13.Certificate, qlogDir string) (net.Listener, *quic.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	qcfg := &quic.Config{TLS: &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{h3.NextProtoH3}}}
	if qlogDir != "" {
		qcfg.Tracer = qlog.DirTracer(qlogDir)
	}
	udpHosts := []string{host}
	if host == "" {
		// All addresses: "::" is one dual-stack socket; IPv4 alone where
		// there is no IPv6.
		udpHosts = []string{"::", "0.0.0.0"}
	}
	for attempt := 0; ; attempt++ {
		tcpLn, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, err
		}
		p := tcpLn.Addr().(*net.TCPAddr).Port
		var udpLn *quic.Listener
		for _, h := range udpHosts {
			if udpLn, err = quic.Listen("udp", net.JoinHostPort(h, strconv.Itoa(p)), qcfg); err == nil {
				break
			}
		}
		if err == nil && int(udpLn.Addr().Port()) != p {
			udpLn.Close()
			err = fmt.Errorf("bound UDP port %d instead", udpLn.Addr().Port())
		}
		if err == nil {
			return tcpLn, udpLn, nil
		}
		tcpLn.Close()
		if port != "0" || attempt == 10 {
			return nil, nil, fmt.Errorf("HTTP/3 on UDP port %d: %w", p, err)
		}
	}
}

// tlsCertificate converts skiff's certificate for crypto/tls, which serves
// the TCP side.
func tlsCertificate(c tls13.Certificate) tls.Certificate {
	return tls.Certificate{Certificate: c.Certificate, PrivateKey: c.PrivateKey, Leaf: c.Leaf}
}

// spkiSHA256 is the base64 SHA-256 of the certificate's public key (its
// SubjectPublicKeyInfo): what Chrome's --ignore-certificate-errors-spki-list
// and curl's --pinnedpubkey sha256// take.
func spkiSHA256(der []byte) (string, error) {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

func (s *fileServer) printBanner(w io.Writer) {
	fmt.Fprintf(w, "skiff serve: %s on https://localhost:%d/\n", s.dir, s.port)
	fmt.Fprintf(w, "  TCP %v: HTTP/1.1 and HTTP/2, with Alt-Svc: h3=\":%d\"\n", s.tcpLn.Addr(), s.port)
	fmt.Fprintf(w, "  UDP %v: HTTP/3\n", s.udpLn.Addr())
	spki, err := spkiSHA256(s.cert.Certificate[0])
	if err != nil {
		return
	}
	if s.selfMade {
		fmt.Fprintln(w, "  certificate: self-signed for localhost, 127.0.0.1 and ::1, valid for a day")
	}
	fmt.Fprintf(w, "  certificate SHA-256 SPKI: %s\n", spki)
	fmt.Fprintf(w, "  Chrome: --ignore-certificate-errors-spki-list=%s --origin-to-force-quic-on=localhost:%d\n", spki, s.port)
}

// closeHTTP3 stops the HTTP/3 server and closes its UDP socket while TCP
// goes on: make demo's third act, where the alternative stops answering.
func (s *fileServer) closeHTTP3() {
	s.h3.Close()
	<-s.h3Done
}

// shutdown stops both servers gracefully: no new connections, GOAWAY on
// HTTP/2 and HTTP/3, requests in flight finish, until ctx ends.
func (s *fileServer) shutdown(ctx context.Context) error {
	var wg sync.WaitGroup
	var tcpErr, h3Err error
	wg.Go(func() { tcpErr = s.tcp.Shutdown(ctx) })
	wg.Go(func() { h3Err = s.shutdownHTTP3(ctx) })
	wg.Wait()
	return errors.Join(tcpErr, h3Err)
}

// h3IdleGrace is how long HTTP/3 clients get, once no request is left, to
// close their connections after GOAWAY before the server closes them.
const h3IdleGrace = time.Second

// shutdownHTTP3 is h3.Server.Shutdown, which waits for the clients to close
// their connections, bounded: once no request has been in flight for
// h3IdleGrace, the connections left (clients that keep idle connections,
// or vanished without closing) are closed with H3_NO_ERROR rather than
// waited for until their idle timeout.
func (s *fileServer) shutdownHTTP3(ctx context.Context) error {
	idle, cutIdle := context.WithCancel(ctx)
	defer cutIdle()
	go func() {
		for s.h3Requests.waitZero(idle) == nil {
			t := time.NewTimer(h3IdleGrace)
			select {
			case <-idle.Done():
				t.Stop()
				return
			case <-t.C:
			}
			if s.h3Requests.load() == 0 {
				cutIdle()
				return
			}
		}
	}()
	err := s.h3.Shutdown(idle)
	if ctx.Err() == nil {
		// Ended by cutIdle, with no request in flight: done.
		return nil
	}
	return err
}

// close stops both servers at once.
func (s *fileServer) close() {
	s.tcp.Close()
	s.h3.Close()
}

// accessLog writes one line per request when its handler returns: client
// address, request line with the protocol, status, body bytes, duration.
func accessLog(h http.Handler, w io.Writer) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		lw := &loggingWriter{ResponseWriter: rw}
		h.ServeHTTP(lw, r)
		if lw.status == 0 {
			lw.status = http.StatusOK
		}
		line := fmt.Sprintf("%s %s %q %d %d %s\n", start.Format("2006/01/02 15:04:05"), r.RemoteAddr,
			r.Method+" "+r.RequestURI+" "+r.Proto, lw.status, lw.bytes, time.Since(start).Round(10*time.Microsecond))
		mu.Lock()
		io.WriteString(w, line)
		mu.Unlock()
	})
}

// loggingWriter counts what a handler writes. Unwrap lets
// http.ResponseController reach the protocol's own writer.
type loggingWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *loggingWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *loggingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *loggingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// ReadFrom keeps the protocol writer's own ReadFrom (sendfile on HTTP/1.1)
// reachable through the wrapper.
func (w *loggingWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(struct{ io.Writer }{w.ResponseWriter}, r)
	}
	w.bytes += n
	return n, err
}

func (w *loggingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
