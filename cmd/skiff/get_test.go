package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// getEcho runs skiff get on o's /echo (or the given URL) and decodes what
// the server saw.
func getEcho(t *testing.T, o *origin, args ...string) echoed {
	t.Helper()
	r := runSkiff(t, append([]string{"get", "--cacert", o.cert.certFile}, args...)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var e echoed
	if err := json.Unmarshal([]byte(r.stdout), &e); err != nil {
		t.Fatalf("stdout %q: %v", r.stdout, err)
	}
	return e
}

func TestGetOutputFlags(t *testing.T) {
	t.Parallel()
	o := startOrigin(t, newTestCert(t))
	ca := o.cert.certFile

	t.Run("stdout", func(t *testing.T) {
		r := runSkiff(t, "get", "--cacert", ca, o.base+"/hello")
		if r.code != 0 || r.stdout != "hello\n" || r.stderr != "" {
			t.Fatalf("got %+v", r)
		}
	})
	t.Run("-o and -O, one per URL", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "out.txt")
		r := runSkiffWith(t, runOpts{dir: dir}, "get", "--cacert", ca, "-o", out, "-O", o.base+"/hello", o.base+"/bytes/1000", o.base+"/echo")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if b, _ := os.ReadFile(out); string(b) != "hello\n" {
			t.Errorf("-o file holds %q", b)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "1000")); string(b) != string(pattern(1000)) {
			t.Errorf("-O file holds %d bytes, want the 1000-byte pattern", len(b))
		}
		if !strings.Contains(r.stdout, `"method":"GET"`) {
			t.Errorf("the third URL, without -o, should go to stdout: %q", r.stdout)
		}
	})
	t.Run("attached and long forms", func(t *testing.T) {
		dir := t.TempDir()
		r := runSkiff(t, "get", "--cacert="+ca, "-o"+filepath.Join(dir, "a"), "--output", filepath.Join(dir, "b"), o.base+"/hello", o.base+"/hello")
		a, _ := os.ReadFile(filepath.Join(dir, "a"))
		b, _ := os.ReadFile(filepath.Join(dir, "b"))
		if r.code != 0 || string(a) != "hello\n" || string(b) != "hello\n" {
			t.Fatalf("exit %d, files %q %q: %s", r.code, a, b, r.stderr)
		}
	})
	t.Run("-O without a file name", func(t *testing.T) {
		r := runSkiffWith(t, runOpts{dir: t.TempDir()}, "get", "--cacert", ca, "-O", o.base+"/")
		if r.code != exitWriteError {
			t.Fatalf("exit %d, want %d: %s", r.code, exitWriteError, r.stderr)
		}
	})
	t.Run("-i", func(t *testing.T) {
		r := runSkiff(t, "get", "--cacert", ca, "-i", o.base+"/hello")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "HTTP/2 200\r\n") || !strings.Contains(r.stdout, "X-Skiff-Test: yes\r\n") || !strings.HasSuffix(r.stdout, "\r\n\r\nhello\n") {
			t.Fatalf("got %+v", r)
		}
	})
	t.Run("-I", func(t *testing.T) {
		r := runSkiff(t, "get", "--cacert", ca, "-I", "--http1.1", o.base+"/hello")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "HTTP/1.1 200 OK\r\n") || strings.Contains(r.stdout, "hello\n") || !strings.HasSuffix(r.stdout, "\r\n\r\n") {
			t.Fatalf("got %+v", r)
		}
		if r := runSkiff(t, "get", "--cacert", ca, "-I", o.base+"/echo"); r.code != 0 || strings.Contains(r.stdout, "{") {
			t.Fatalf("HEAD returned a body: %+v", r)
		}
	})
	t.Run("-w", func(t *testing.T) {
		format := "%{http_code} %{http_version} %{size_download} %{time_namelookup} %{time_connect} %{time_appconnect} %{time_starttransfer} %{time_total} %{method} %{scheme} %{remote_ip} %{exitcode} %header{x-skiff-test} %% \\t|\\n"
		r := runSkiff(t, "get", "--cacert", ca, "-s", "-o", os.DevNull, "-w", format, o.base+"/hello")
		f := strings.Fields(r.stdout)
		if r.code != 0 || len(f) != 15 || f[0] != "200" || f[1] != "2" || f[2] != "6" || f[8] != "GET" || f[9] != "https" || f[10] != "127.0.0.1" || f[11] != "0" || f[12] != "yes" || f[13] != "%" || !strings.HasSuffix(r.stdout, "\t|\n") {
			t.Fatalf("-w printed %q (exit %d, %s)", r.stdout, r.code, r.stderr)
		}
		connect, _ := strconv.ParseFloat(f[4], 64)
		total, _ := strconv.ParseFloat(f[7], 64)
		if connect <= 0 || total < connect {
			t.Errorf("time_connect %v, time_total %v", connect, total)
		}
		wf := filepath.Join(t.TempDir(), "format")
		writeFile(t, wf, []byte("code=%{response_code} unknown=%{no_such_thing}\n"))
		r = runSkiff(t, "get", "--cacert", ca, "-o", os.DevNull, "-w", "@"+wf, o.base+"/status/201")
		if r.stdout != "code=201 unknown=\n" || !strings.Contains(r.stderr, "no_such_thing") {
			t.Fatalf("-w @file: %+v", r)
		}
	})
}

func TestGetRequestFlags(t *testing.T) {
	t.Parallel()
	o := startOrigin(t, newTestCert(t))
	t.Run("-H", func(t *testing.T) {
		e := getEcho(t, o, "-H", "X-One: 1", "-H", "X-One:2", "-H", "Accept:", "-H", "X-Empty;", "-H", "Host: example.test", "-A", "tester/1", o.base+"/echo")
		if got := e.Header["X-One"]; len(got) != 2 || got[0] != "1" || got[1] != "2" {
			t.Errorf("X-One %q", got)
		}
		if _, ok := e.Header["Accept"]; ok {
			t.Errorf("Accept was removed but sent: %q", e.Header["Accept"])
		}
		if got, ok := e.Header["X-Empty"]; !ok || got[0] != "" {
			t.Errorf("X-Empty %q, %v", got, ok)
		}
		if e.Host != "example.test" || e.Header.Get("User-Agent") != "tester/1" {
			t.Errorf("host %q, user agent %q", e.Host, e.Header.Get("User-Agent"))
		}
	})
	t.Run("-d", func(t *testing.T) {
		e := getEcho(t, o, "-d", "a=1", "--data", "b=2", o.base+"/echo")
		if e.Method != "POST" || e.Body != "a=1&b=2" || e.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("got %+v", e)
		}
	})
	t.Run("-d @file, --data-binary, --data-raw, -X", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "body")
		writeFile(t, f, []byte("line1\r\nline2\n"))
		if e := getEcho(t, o, "-d", "@"+f, o.base+"/echo"); e.Body != "line1line2" {
			t.Errorf("-d @file sent %q", e.Body)
		}
		if e := getEcho(t, o, "--data-binary", "@"+f, "-X", "PUT", "-H", "Content-Type: text/plain", o.base+"/echo"); e.Body != "line1\r\nline2\n" || e.Method != "PUT" || e.Header.Get("Content-Type") != "text/plain" {
			t.Errorf("--data-binary @file -X PUT: %+v", e)
		}
		if e := getEcho(t, o, "--data-raw", "@"+f, o.base+"/echo"); e.Body != "@"+f {
			t.Errorf("--data-raw sent %q", e.Body)
		}
		if e := getEcho(t, o, "-X", "DELETE", o.base+"/echo"); e.Method != "DELETE" || e.Body != "" {
			t.Errorf("-X DELETE: %+v", e)
		}
	})
	t.Run("-L", func(t *testing.T) {
		r := runSkiff(t, "get", "--cacert", o.cert.certFile, "-L", "-w", "\n%{num_redirects} %{url_effective}", o.base+"/redirect/302/3")
		if r.code != 0 || !strings.Contains(r.stdout, `"method":"GET"`) || !strings.HasSuffix(r.stdout, "\n3 "+o.base+"/echo") {
			t.Fatalf("got %+v", r)
		}
		r = runSkiff(t, "get", "--cacert", o.cert.certFile, "-w", "%{http_code}", "-o", os.DevNull, o.base+"/redirect/302/3")
		if r.code != 0 || r.stdout != "302" {
			t.Fatalf("without -L: %+v", r)
		}
		if e := getEcho(t, o, "-L", "-d", "x=1", o.base+"/redirect/302/1"); e.Method != "GET" || e.Body != "" {
			t.Errorf("POST after 302: %+v", e)
		}
		if e := getEcho(t, o, "-L", "-d", "x=1", o.base+"/redirect/307/2"); e.Method != "POST" || e.Body != "x=1" {
			t.Errorf("POST after 307: %+v", e)
		}
		if r := runSkiff(t, "get", "--cacert", o.cert.certFile, "-L", "-I", o.base+"/redirect/303/1"); r.code != 0 || !strings.HasPrefix(r.stdout, "HTTP/2 200") || strings.Contains(r.stdout, "{") {
			t.Errorf("HEAD after 303: %+v", r)
		}
	})
	t.Run("--max-redirs", func(t *testing.T) {
		r := runSkiff(t, "get", "--cacert", o.cert.certFile, "-L", "--max-redirs", "2", o.base+"/redirect/301/3")
		if r.code != exitTooManyRedirects || !strings.Contains(r.stderr, "(47) Maximum (2) redirects followed") {
			t.Fatalf("got %+v", r)
		}
	})
	t.Run("-L to another origin drops credentials", func(t *testing.T) {
		other := startOrigin(t, o.cert)
		e := getEcho(t, o, "-L", "-H", "Authorization: Bearer secret", "-H", "X-Keep: 1", o.base+"/to/"+strconv.Itoa(other.port))
		if e.Header.Get("Authorization") != "" || e.Header.Get("X-Keep") != "1" || other.count("/echo") != 1 {
			t.Fatalf("at the other origin: %+v", e)
		}
	})
}

func TestGetVerboseNamesTheProtocol(t *testing.T) {
	t.Parallel()
	o := startOrigin(t, newTestCert(t))
	for _, c := range []struct {
		flag, using, status string
		extra               []string
	}{
		{"--http1.1", "Using HTTP/1.1", "< HTTP/1.1 200 OK", []string{"> GET /hello HTTP/1.1", "TLS handshake done: TLS 1.3", "ALPN none"}},
		{"--http2", "Using HTTP/2", "< HTTP/2 200", []string{"> GET /hello HTTP/2", "ALPN h2", "Connecting to 127.0.0.1:"}},
		{"--http3-only", "Using HTTP/3", "< HTTP/3 200", []string{"> GET /hello HTTP/3", "QUIC handshake with 127.0.0.1:", `subject "CN=skiff self-signed"`, "TLS_AES_128_GCM_SHA256, key exchange X25519MLKEM768"}},
	} {
		t.Run(c.flag, func(t *testing.T) {
			r := runSkiff(t, "get", "--cacert", o.cert.certFile, "-v", c.flag, o.base+"/hello")
			if r.code != 0 || r.stdout != "hello\n" {
				t.Fatalf("got %+v", r)
			}
			for _, want := range append([]string{c.using, c.status, "< X-Skiff-Test: yes", "> User-Agent: skiff/", "Received 6 bytes"}, c.extra...) {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("-v output lacks %q:\n%s", want, r.stderr)
				}
			}
			if !regexp.MustCompile(`(?m)^\* \[ *\d+\.\d{3} ms\] `).MatchString(r.stderr) {
				t.Errorf("-v lines carry no time:\n%s", r.stderr)
			}
		})
	}
}

func TestGetProtocolFlags(t *testing.T) {
	t.Parallel()
	o := startOrigin(t, newTestCert(t))
	for flag, want := range map[string]string{"--http1.1": "1.1", "--http2": "2", "--http3-only": "3"} {
		r := runSkiff(t, "get", "--cacert", o.cert.certFile, flag, "-o", os.DevNull, "-w", "%{http_version}", o.base+"/hello")
		if r.code != 0 || r.stdout != want {
			t.Errorf("%s: %+v", flag, r)
		}
	}
}

func TestGetTLSFlags(t *testing.T) {
	t.Parallel()
	o := startOrigin(t, newTestCert(t))
	for _, proto := range []string{"--http2", "--http3-only"} {
		if r := runSkiff(t, "get", "-k", proto, o.base+"/hello"); r.code != 0 || r.stdout != "hello\n" {
			t.Errorf("-k %s: %+v", proto, r)
		}
	}
	t.Run("--keylog and SSLKEYLOGFILE", func(t *testing.T) {
		dir := t.TempDir()
		flagFile, envFile := filepath.Join(dir, "flag.keys"), filepath.Join(dir, "env.keys")
		for _, proto := range []string{"--http1.1", "--http3-only"} {
			if r := runSkiff(t, "get", "--cacert", o.cert.certFile, "--keylog", flagFile, proto, "-o", os.DevNull, o.base+"/hello"); r.code != 0 {
				t.Fatalf("%s: %+v", proto, r)
			}
		}
		if r := runSkiffWith(t, runOpts{env: []string{"SSLKEYLOGFILE=" + envFile}}, "get", "--cacert", o.cert.certFile, "--http3-only", "-o", os.DevNull, o.base+"/hello"); r.code != 0 {
			t.Fatalf("SSLKEYLOGFILE: %+v", r)
		}
		b, _ := os.ReadFile(flagFile)
		if n := strings.Count(string(b), "CLIENT_TRAFFIC_SECRET_0 "); n != 2 {
			t.Errorf("--keylog file has %d CLIENT_TRAFFIC_SECRET_0 lines, want 2 (TCP and QUIC):\n%s", n, b)
		}
		if b, _ := os.ReadFile(envFile); !strings.Contains(string(b), "CLIENT_HANDSHAKE_TRAFFIC_SECRET ") {
			t.Errorf("SSLKEYLOGFILE file: %q", b)
		}
	})
	t.Run("--qlog-dir and QLOGDIR", func(t *testing.T) {
		flagDir, envDir := t.TempDir(), t.TempDir()
		if r := runSkiff(t, "get", "--cacert", o.cert.certFile, "--qlog-dir", flagDir, "--http3-only", "-o", os.DevNull, o.base+"/hello"); r.code != 0 {
			t.Fatalf("--qlog-dir: %+v", r)
		}
		if r := runSkiffWith(t, runOpts{env: []string{"QLOGDIR=" + envDir}}, "get", "--cacert", o.cert.certFile, "--http3-only", "-o", os.DevNull, o.base+"/hello"); r.code != 0 {
			t.Fatalf("QLOGDIR: %+v", r)
		}
		for _, dir := range []string{flagDir, envDir} {
			files, _ := filepath.Glob(filepath.Join(dir, "*_client.sqlog"))
			if len(files) != 1 {
				t.Fatalf("%s holds %v, want one client qlog", dir, files)
			}
			b, _ := os.ReadFile(files[0])
			if !strings.Contains(string(b), `"quic:packet_sent"`) || !strings.Contains(string(b), `"quic:connection_closed"`) {
				t.Errorf("qlog %s is not complete:\n%.400s", files[0], b)
			}
		}
	})
}

func TestGetHelpListsEveryFlag(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help", "get"}, {"get", "--help"}, {"get", "-h"}} {
		r := runSkiff(t, args...)
		if r.code != 0 {
			t.Fatalf("%v: %+v", args, r)
		}
		for _, f := range getFlags {
			if !strings.Contains(r.stdout, "--"+f.long) {
				t.Errorf("%v does not document --%s", args, f.long)
			}
		}
		for name := range writeOutVars {
			if !strings.Contains(r.stdout, "%{"+name+"}") {
				t.Errorf("%v does not document %%{%s}", args, name)
			}
		}
	}
	for _, cmd := range []string{"serve", "perf"} {
		r := runSkiff(t, "help", cmd)
		if r.code != 0 || !strings.Contains(r.stdout, "usage: skiff "+cmd) {
			t.Errorf("help %s: %+v", cmd, r)
		}
	}
	if r := runSkiff(t, "help"); r.code != 0 || !strings.Contains(r.stdout, "skiff help [get|serve|perf") {
		t.Errorf("help: %+v", r)
	}
}
