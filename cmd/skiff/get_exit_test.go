package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// wantExit checks a run's exit code and that its one-line message says
// what happened.
func wantExit(t *testing.T, r runResult, code int, msg string) {
	t.Helper()
	if r.code != code || !strings.Contains(r.stderr, "skiff: ("+strconv.Itoa(code)+") "+msg) {
		t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, code, msg)
	}
}

func TestGetExitCodes(t *testing.T) {
	t.Parallel()
	o := startOrigin(t, newTestCert(t))
	ca := o.cert.certFile

	t.Run("6 unresolvable host", func(t *testing.T) {
		// .invalid never resolves (RFC 6761 §6.4): skiff answers itself,
		// so no query leaves the machine.
		for _, proto := range []string{"--http2", "--http3-only", "--http3"} {
			r := runSkiff(t, "get", proto, "https://nothing.invalid/")
			wantExit(t, r, exitResolve, "Could not resolve host: nothing.invalid")
		}
		r := runSkiff(t, "get", "-v", "https://nothing.invalid./")
		wantExit(t, r, exitResolve, "Could not resolve host: nothing.invalid.")
	})
	t.Run("7 closed port", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
		r := runSkiff(t, "get", "--cacert", ca, "https://127.0.0.1:"+port+"/")
		wantExit(t, r, exitConnect, "Failed to connect to 127.0.0.1 port "+port+": connection refused")
	})
	t.Run("60 certificate not trusted", func(t *testing.T) {
		for _, proto := range []string{"--http1.1", "--http2", "--http3-only"} {
			r := runSkiff(t, "get", proto, o.base+"/hello")
			wantExit(t, r, exitCertProblem, "certificate problem: ")
			if !strings.Contains(r.stderr, "unknown authority") {
				t.Errorf("%s: %q does not say why", proto, r.stderr)
			}
		}
		other := newTestCert(t)
		r := runSkiff(t, "get", "--cacert", other.certFile, "--http3-only", o.base+"/hello")
		wantExit(t, r, exitCertProblem, "certificate problem: ")
	})
	t.Run("35 TLS handshake failure", func(t *testing.T) {
		// A server speaking plain HTTP where TLS is expected.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.NotFoundHandler()}
		go srv.Serve(ln)
		defer srv.Close()
		r := runSkiff(t, "get", "https://"+ln.Addr().String()+"/")
		wantExit(t, r, exitTLSConnect, "TLS handshake failed: ")
	})
	t.Run("28 connect timeout over TCP", func(t *testing.T) {
		// A listener whose connections never answer the TLS handshake.
		addr := silentTCP(t)
		r := runSkiff(t, "get", "--connect-timeout", "0.2", "https://"+addr+"/")
		wantExit(t, r, exitTimeout, "Connection timed out after 200 milliseconds")
	})
	t.Run("28 connect timeout over QUIC", func(t *testing.T) {
		// A UDP socket that reads and drops everything.
		addr := blackholeUDP(t)
		r := runSkiff(t, "get", "--http3-only", "--connect-timeout", "200ms", "https://"+addr+"/")
		wantExit(t, r, exitTimeout, "Connection timed out after 200 milliseconds")
	})
	t.Run("28 max time", func(t *testing.T) {
		for _, proto := range []string{"--http2", "--http3-only"} {
			r := runSkiff(t, "get", "--cacert", ca, proto, "-m", "0.3", o.base+"/slow")
			wantExit(t, r, exitTimeout, "Operation timed out after 300 milliseconds with 0 bytes received")
		}
	})
	t.Run("22 -f", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		r := runSkiff(t, "get", "--cacert", ca, "-f", "-o", out, o.base+"/status/404")
		wantExit(t, r, exitHTTPError, "The requested URL returned error: 404")
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("-f left an output file: %v", err)
		}
		// Without -f an error status is a success, body and all.
		r = runSkiff(t, "get", "--cacert", ca, "--http3-only", o.base+"/status/500")
		if r.code != 0 || r.stdout != "status 500\n" {
			t.Errorf("without -f: %+v", r)
		}
		// The next URL is still fetched; the exit code is the failure's.
		r = runSkiff(t, "get", "--cacert", ca, "--fail", o.base+"/status/503", o.base+"/hello")
		if r.code != exitHTTPError || r.stdout != "hello\n" {
			t.Errorf("-f with two URLs: %+v", r)
		}
	})
	t.Run("-s and -S", func(t *testing.T) {
		r := runSkiff(t, "get", "-s", "https://nothing.invalid/")
		if r.code != exitResolve || r.stderr != "" {
			t.Errorf("-s: %+v", r)
		}
		r = runSkiff(t, "get", "-sS", "https://nothing.invalid/")
		wantExit(t, r, exitResolve, "Could not resolve host")
		r = runSkiff(t, "get", "--silent", "--show-error", "-f", "--cacert", ca, o.base+"/status/404")
		wantExit(t, r, exitHTTPError, "The requested URL returned error: 404")
	})
	t.Run("18 partial body", func(t *testing.T) {
		r := runSkiff(t, "get", "--cacert", ca, "--http1.1", o.base+"/partial")
		wantExit(t, r, exitPartialFile, "Transferred a partial file: 10 of 100 bytes")
	})
	t.Run("command line", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			code int
			msg  string
		}{
			{[]string{"--no-such-flag", "x"}, exitUsage, "option --no-such-flag: is unknown"},
			{[]string{"-Z", "x"}, exitUsage, "option -Z: is unknown"},
			{[]string{"x", "-o"}, exitUsage, "option -o: requires an argument"},
			{[]string{"-s=1", "x"}, exitUsage, "option -=: is unknown"},
			{[]string{"--silent=yes", "x"}, exitUsage, "option --silent: takes no argument"},
			{[]string{"-m", "soon", "x"}, exitUsage, `"soon" is not a number of seconds`},
			{[]string{}, exitUsage, "no URL given"},
		} {
			r := runSkiff(t, append([]string{"get"}, c.args...)...)
			if r.code != c.code || !strings.Contains(r.stderr, c.msg) {
				t.Errorf("%v: exit %d, %q; want %d, %q", c.args, r.code, r.stderr, c.code, c.msg)
			}
		}
		wantExit(t, runSkiff(t, "get", "ftp://example.invalid/"), exitUnsupportedProtocol, `Protocol "ftp" not supported`)
		wantExit(t, runSkiff(t, "get", "https://[::1/"), exitURLMalformed, "URL rejected")
		wantExit(t, runSkiff(t, "get", "--http3-only", "http://127.0.0.1:1/"), exitUnsupportedProtocol, "HTTP/3 needs an https:// URL")
		wantExit(t, runSkiff(t, "get", "--cacert", filepath.Join(t.TempDir(), "none.pem"), o.base), exitCACertFile, "cannot read the CA certificates")
		wantExit(t, runSkiff(t, "get", "--cacert", ca, "-o", filepath.Join(t.TempDir(), "no", "dir"), o.base+"/hello"), exitWriteError, "Failure writing output")
		r := runSkiff(t, "get", "-d", "@"+filepath.Join(t.TempDir(), "none"), o.base)
		if r.code != exitReadError || !strings.Contains(r.stderr, "cannot read data") {
			t.Errorf("-d @missing: %+v", r)
		}
	})
}

// silentTCP listens on loopback and holds every connection open without a
// word, until the test ends.
func silentTCP(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			go io.Copy(io.Discard, c)
		}
	}()
	return ln.Addr().String()
}

// blackholeUDP is a UDP socket on loopback that reads and drops every
// datagram, until the test ends.
func blackholeUDP(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	return pc.LocalAddr().String()
}
