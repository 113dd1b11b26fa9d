package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/skiffnet/skiff/internal/selfsigned"
	"github.com/skiffnet/skiff/tls13"
)

// demoStory is the first part of skiff demo: how a client finds HTTP/3
// and what happens when it goes away. It runs `skiff serve` on a
// temporary directory and `skiff get` three times with one Alt-Svc file,
// all in this process through the commands' own code:
//
//  1. TCP: the response's Alt-Svc header is learned into the file;
//  2. HTTP/3: the file sends the request to the alternative;
//  3. the server's HTTP/3 port is closed: QUIC fails, TCP carries the
//     request, and the alternative is marked broken.
func demoStory(w io.Writer) error {
	dir, err := os.MkdirTemp("", "skiff-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	www := filepath.Join(dir, "www")
	if err := os.Mkdir(www, 0o755); err != nil {
		return err
	}
	page := bytes.Repeat([]byte("skiff: HTTP/3 where the server offers it, TCP everywhere else.\n"), 4096)
	if err := os.WriteFile(filepath.Join(www, "index.txt"), page, 0o644); err != nil {
		return err
	}
	certFile, keyFile, err := writeDemoCertificate(dir)
	if err != nil {
		return err
	}
	fsrv, err := startFileServer(serveOptions{listen: "127.0.0.1:0", certFile: certFile, keyFile: keyFile, dir: www, quiet: true}, io.Discard)
	if err != nil {
		return err
	}
	defer fsrv.close()
	port := strconv.Itoa(fsrv.port)
	url := "https://127.0.0.1:" + port + "/index.txt"
	altSvc := filepath.Join(dir, "alt-svc.txt")

	fmt.Fprintf(w, "skiff %s demo, in %s\n\n", version, dir)
	fmt.Fprintf(w, "$ skiff serve --cert cert.pem --key key.pem www\n")
	fmt.Fprintf(w, "  TCP 127.0.0.1:%s: HTTP/1.1 and HTTP/2, answering with Alt-Svc: h3=\":%s\"\n", port, port)
	fmt.Fprintf(w, "  UDP 127.0.0.1:%s: HTTP/3\n", port)

	get := []string{"get", "--alt-svc", altSvc, "--cacert", certFile, "-v", "-o", os.DevNull,
		"-w", "%{http_version} %{http_code} %{size_download} %{time_total}", url}
	shown := "skiff get --alt-svc alt-svc.txt --cacert cert.pem -o /dev/null " + url
	acts := []struct{ title, want string }{
		{"1. First contact: TCP, and the Alt-Svc header is learned.", "2"},
		{"2. The same command: the alt-svc file sends it to HTTP/3.", "3"},
		{"3. The server's HTTP/3 port is closed (UDP " + port + " no longer listens; TCP stays up): the same command falls back.", "2"},
	}
	for i, act := range acts {
		if i == 2 {
			fsrv.closeHTTP3()
		}
		fmt.Fprintf(w, "\n%s\n$ %s\n", act.title, shown)
		var out, verbose bytes.Buffer
		code := run(get, &out, &verbose)
		f := strings.Fields(out.String())
		if code != 0 || len(f) != 4 {
			return fmt.Errorf("skiff get exited with %d:\n%s", code, verbose.String())
		}
		secs, _ := strconv.ParseFloat(f[3], 64)
		fmt.Fprintf(w, "  HTTP/%-3s %s  %s bytes  %.2f ms\n", f[0], f[1], f[2], secs*1000)
		for _, line := range demoDecisions(verbose.String()) {
			fmt.Fprintf(w, "  %s\n", line)
		}
		if i == 0 {
			if b, err := os.ReadFile(altSvc); err == nil {
				fmt.Fprintf(w, "  alt-svc.txt now holds (curl's format):\n")
				for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
					if !strings.HasPrefix(l, "#") {
						fmt.Fprintf(w, "    %s\n", l)
					}
				}
			}
		}
		if f[0] != act.want {
			return fmt.Errorf("act %d went over HTTP/%s, want HTTP/%s:\n%s", i+1, f[0], act.want, verbose.String())
		}
	}
	return nil
}

// demoDecisions returns, from skiff get -v's timeline, the lines that
// say what the discovery transport decided, without their "* [time]"
// prefix: what was learned, who won and why, a failed QUIC handshake, a
// broken mark (without its error, said already), a replay.
func demoDecisions(timeline string) []string {
	var out []string
	for _, l := range strings.Split(timeline, "\n") {
		i := strings.Index(l, "] ")
		if !strings.HasPrefix(l, "* [") || i < 0 {
			continue
		}
		l = l[i+2:]
		switch {
		case strings.Contains(l, "marked broken"):
			if k := strings.Index(l, " (failure"); k >= 0 {
				l = l[:k]
			}
		case strings.Contains(l, "Alt-Svc learned"), strings.Contains(l, " won the race "), strings.Contains(l, " chosen after "),
			strings.Contains(l, "replayed"), strings.HasPrefix(l, "QUIC handshake") && strings.Contains(l, "failed"):
		default:
			continue
		}
		out = append(out, l)
	}
	return out
}

// writeDemoCertificate makes a certificate for 127.0.0.1 and writes it
// and its key as PEM into dir.
func writeDemoCertificate(dir string) (certFile, keyFile string, err error) {
	cert, _, err := selfsigned.New("localhost", "127.0.0.1", "::1")
	if err != nil {
		return "", "", err
	}
	return writeCertificate(dir, cert)
}

// writeCertificate writes cert and its key as cert.pem and key.pem in dir.
func writeCertificate(dir string, cert tls13.Certificate) (certFile, keyFile string, err error) {
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o644); err != nil {
		return "", "", err
	}
	return certFile, keyFile, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
}
