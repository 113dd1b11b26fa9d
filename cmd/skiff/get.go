package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// getter runs the transfers of one skiff get command.
type getter struct {
	o      *getOptions
	cs     *clientStack
	stdout io.Writer
	stderr io.Writer
}

func getMain(args []string, stdout, stderr io.Writer) int {
	o, err := parseGetArgs(args, os.Getenv)
	if err == errHelp {
		helpGet(stdout)
		return 0
	}
	if err != nil {
		ee := err.(*exitError)
		fmt.Fprintf(stderr, "skiff get: %s\n", ee.msg)
		if ee.code == exitUsage {
			fmt.Fprintln(stderr, "skiff get: see 'skiff help get'")
		}
		return ee.code
	}
	g := &getter{o: o, stdout: stdout, stderr: stderr}
	g.cs, err = newClientStack(o, stderr)
	if err != nil {
		return g.report(err.(*exitError))
	}
	defer g.cs.close()
	// As curl does, go on after a failed transfer and exit with the code
	// of the last one that failed.
	code := 0
	for i, raw := range o.urls {
		if c := g.transfer(i, raw); c != 0 {
			code = c
		}
	}
	return code
}

// report prints a failure as "skiff: (code) message" (not with -s, unless
// -S) and returns its exit code.
func (g *getter) report(e *exitError) int {
	if !g.o.silent || g.o.showError {
		fmt.Fprintf(g.stderr, "skiff: (%d) %s\n", e.code, e.msg)
	}
	return e.code
}

// transfer fetches the i-th URL, writes -w's line, and returns the exit
// code.
func (g *getter) transfer(i int, raw string) int {
	st := &transferStats{start: time.Now(), header: http.Header{}}
	tl := &timeline{start: st.start}
	if g.o.verbose {
		tl.w = g.stderr
	}
	err := g.fetch(i, raw, st, tl)
	st.mu.Lock()
	st.total = time.Since(st.start)
	var ee *exitError
	if err != nil {
		ee = err.(*exitError)
		st.exitCode, st.errMsg = ee.code, ee.msg
	}
	st.mu.Unlock()
	if g.o.writeOut != "" {
		writeOut(g.stdout, g.o.writeOut, st, g.stderr)
	}
	if ee != nil {
		return g.report(ee)
	}
	return 0
}

// fetch makes the requests of one transfer (several with -L), writes the
// body, and returns an *exitError or nil.
func (g *getter) fetch(i int, raw string, st *transferStats, tl *timeline) (err error) {
	o := g.o
	u, err := parseURL(raw)
	if err != nil {
		return err
	}
	out, err := newOutput(o, i, u, g.stdout)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); cerr != nil && err == nil {
			err = &exitError{exitWriteError, "Failure writing output: " + cerr.Error()}
		}
	}()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	if o.maxTime > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeoutCause(ctx, o.maxTime, errMaxTime)
		defer stop()
	}

	rq := &requestSpec{method: o.requestMethod(), url: u, body: o.data, hasBody: o.hasData, headers: o.headers}
	var resp *http.Response
	for {
		var h *hop
		resp, h, err = g.roundTrip(ctx, cancel, st, tl, rq)
		if err != nil {
			return classify(err, context.Cause(ctx), authorityOf(u), 0, o)
		}
		g.gotResponse(resp, st, tl, h)
		loc := resp.Header.Get("Location")
		if !o.location || !isRedirect(resp.StatusCode) || loc == "" {
			break
		}
		if st.numRedirects >= o.maxRedirs {
			resp.Body.Close()
			return &exitError{exitTooManyRedirects, fmt.Sprintf("Maximum (%d) redirects followed", o.maxRedirs)}
		}
		if o.include {
			if err := writeHeaderBlock(out, resp); err != nil {
				return &exitError{exitWriteError, "Failure writing output: " + err.Error()}
			}
		}
		// Drain a little so that an HTTP/1.1 connection can be reused.
		io.CopyN(io.Discard, resp.Body, 64<<10)
		resp.Body.Close()
		next, perr := u.Parse(loc)
		if perr != nil {
			return &exitError{exitURLMalformed, fmt.Sprintf("Bad redirect location %q: %v", loc, perr)}
		}
		rq.method, rq.hasBody = redirectMethod(resp.StatusCode, rq.method, rq.hasBody)
		if !rq.hasBody {
			rq.body = nil
		}
		if next.Host != u.Host {
			// Credentials given for one host are not sent to another.
			rq.headers = withoutCredentials(rq.headers)
		}
		tl.infof("Following the redirect to %s", next)
		st.mu.Lock()
		st.numRedirects++
		st.redirect = time.Since(st.start)
		st.mu.Unlock()
		u, rq.url = next, next
	}
	defer resp.Body.Close()

	if o.fail && resp.StatusCode >= 400 {
		return &exitError{exitHTTPError, fmt.Sprintf("The requested URL returned error: %d", resp.StatusCode)}
	}
	if o.include || o.head {
		if err := writeHeaderBlock(out, resp); err != nil {
			return &exitError{exitWriteError, "Failure writing output: " + err.Error()}
		}
	}
	return g.copyBody(ctx, out, resp, u, st, tl)
}

// requestSpec is the request a transfer sends next.
type requestSpec struct {
	method  string
	url     *url.URL
	body    []byte
	hasBody bool
	headers []string // -H, less credentials after a redirect to another host
}

// roundTrip sends one request and returns its response.
func (g *getter) roundTrip(ctx context.Context, cancel context.CancelCauseFunc, st *transferStats, tl *timeline, rq *requestSpec) (*http.Response, *hop, error) {
	o, u := g.o, rq.url
	if u.Scheme == "http" && o.proto == protoHTTP3Only {
		return nil, nil, &exitError{exitUnsupportedProtocol, "HTTP/3 needs an https:// URL: " + u.String()}
	}
	if host := u.Hostname(); isInvalidName(host) {
		// RFC 6761 §6.4: name resolution APIs should answer "invalid"
		// names negatively at once, without asking any server.
		tl.infof("Not resolving %s: names under .invalid never resolve (RFC 6761 §6.4)", host)
		return nil, nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var rd io.Reader
	if rq.hasBody {
		rd = bytes.NewReader(rq.body)
	}
	h := &hop{tl: tl, st: st}
	var timer *time.Timer
	if o.connectTimeout > 0 {
		timer = time.AfterFunc(o.connectTimeout, func() { cancel(errConnectTimeout) })
		h.connReady = func() { timer.Stop() }
	}
	req, err := http.NewRequestWithContext(withHop(ctx, h), rq.method, u.String(), rd)
	if err != nil {
		return nil, nil, &exitError{exitURLMalformed, err.Error()}
	}
	o.setHeaders(req, rq)
	h.req = req
	st.mu.Lock()
	st.method, st.urlEffective, st.sizeUpload = rq.method, u.String(), int64(len(rq.body))
	st.mu.Unlock()
	resp, err := g.cs.rt.RoundTrip(req)
	if timer != nil {
		timer.Stop()
	}
	return resp, h, err
}

// gotResponse records a response and prints it, and the request, on the
// timeline.
func (g *getter) gotResponse(resp *http.Response, st *transferStats, tl *timeline, h *hop) {
	h.sentRequest(resp)
	st.mu.Lock()
	st.proto, st.status, st.header = resp.Proto, resp.StatusCode, resp.Header
	st.mu.Unlock()
	tl.block("< ", append([]string{statusLine(resp)}, headerLines(resp.Header)...))
	if v := resp.Header.Get("Alt-Svc"); v != "" && resp.ProtoMajor < 3 {
		tl.infof("The server offers alternative services: %s", v)
	}
}

// copyBody writes the response body to out, with the progress bar on a
// terminal.
func (g *getter) copyBody(ctx context.Context, out *output, resp *http.Response, u *url.URL, st *transferStats, tl *timeline) error {
	o := g.o
	var n atomic.Int64
	var bar *progressBar
	if !o.silent && !o.verbose && !out.toTerminal() {
		bar = startProgress(g.stderr, resp.ContentLength, n.Load)
	}
	buf := make([]byte, 64<<10)
	var rerr error
	for {
		k, err := resp.Body.Read(buf)
		if k > 0 {
			if _, werr := out.Write(buf[:k]); werr != nil {
				bar.finish()
				return &exitError{exitWriteError, "Failure writing output: " + werr.Error()}
			}
			n.Add(int64(k))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			rerr = err
			break
		}
	}
	bar.finish()
	st.mu.Lock()
	st.sizeDownload = n.Load()
	elapsed := time.Since(st.start)
	st.mu.Unlock()
	if rerr != nil {
		cause := context.Cause(ctx)
		if cause == nil && errors.Is(rerr, io.ErrUnexpectedEOF) && resp.ContentLength > 0 {
			return &exitError{exitPartialFile, fmt.Sprintf("Transferred a partial file: %d of %d bytes", n.Load(), resp.ContentLength)}
		}
		return classify(rerr, cause, authorityOf(u), n.Load(), o)
	}
	tl.infof("Received %d bytes in %.3f ms over %s (%s/s)", n.Load(), float64(elapsed.Microseconds())/1000,
		strings.TrimSuffix(resp.Proto, ".0"), byteSize(float64(n.Load())/max(elapsed.Seconds(), 1e-9)))
	return nil
}

// writeHeaderBlock writes a response's status line and headers as -i and
// -I show them.
func writeHeaderBlock(w io.Writer, resp *http.Response) error {
	var b strings.Builder
	b.WriteString(statusLine(resp) + "\r\n")
	for _, l := range headerLines(resp.Header) {
		b.WriteString(l + "\r\n")
	}
	b.WriteString("\r\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// parseURL reads a URL from the command line; without a scheme it is
// https (skiff speaks TLS first, where curl would guess http).
func parseURL(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &exitError{exitURLMalformed, "URL rejected: " + err.Error()}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, &exitError{exitUnsupportedProtocol, fmt.Sprintf("Protocol %q not supported (http and https are)", u.Scheme)}
	}
	if u.Host == "" {
		return nil, &exitError{exitURLMalformed, "URL rejected: no host in " + raw}
	}
	return u, nil
}

// authorityOf is the URL's host:port, with the scheme's default port.
func authorityOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return net.JoinHostPort(u.Hostname(), p)
	}
	if u.Scheme == "http" {
		return net.JoinHostPort(u.Hostname(), "80")
	}
	return net.JoinHostPort(u.Hostname(), "443")
}

// isInvalidName reports whether host is "invalid" or under it (RFC 6761
// §6.4).
func isInvalidName(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == "invalid" || strings.HasSuffix(host, ".invalid")
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// redirectMethod is the method (and whether the body goes along) for the
// request that follows a redirect: 303 turns anything but HEAD into a GET,
// 301 and 302 turn a POST into a GET (as browsers and curl do), 307 and
// 308 repeat the request as it was (RFC 9110 §15.4).
func redirectMethod(code int, method string, hasBody bool) (string, bool) {
	switch {
	case code == http.StatusSeeOther && method != http.MethodHead,
		(code == http.StatusMovedPermanently || code == http.StatusFound) && method == http.MethodPost:
		return http.MethodGet, false
	}
	return method, hasBody
}

// withoutCredentials drops -H Authorization and Cookie, which are not sent
// on to another host.
func withoutCredentials(headers []string) []string {
	var kept []string
	for _, h := range headers {
		name, _, _ := strings.Cut(h, ":")
		name = strings.TrimSuffix(strings.TrimSpace(name), ";")
		if !strings.EqualFold(name, "Authorization") && !strings.EqualFold(name, "Cookie") {
			kept = append(kept, h)
		}
	}
	return kept
}

// requestMethod is -X, else HEAD with -I, POST with data, GET otherwise.
func (o *getOptions) requestMethod() string {
	switch {
	case o.method != "":
		return o.method
	case o.head:
		return http.MethodHead
	case o.hasData:
		return http.MethodPost
	}
	return http.MethodGet
}

// setHeaders sets skiff's default request headers, then the -H ones: the
// first -H of a name replaces the default, later ones add to it; "Name:"
// removes it, "Name;" sends it empty; Host sets the request's host.
func (o *getOptions) setHeaders(req *http.Request, rq *requestSpec) {
	ua := "skiff/" + version
	if o.userAgent != "" {
		ua = o.userAgent
	}
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Accept", "*/*")
	if rq.hasBody {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	replaced := map[string]bool{}
	for _, hv := range rq.headers {
		if name, ok := strings.CutSuffix(strings.TrimSpace(hv), ";"); ok && !strings.Contains(name, ":") {
			req.Header[http.CanonicalHeaderKey(name)] = []string{""}
			continue
		}
		name, val, ok := strings.Cut(hv, ":")
		if !ok {
			continue
		}
		name, val = http.CanonicalHeaderKey(strings.TrimSpace(name)), strings.TrimSpace(val)
		switch {
		case name == "Host":
			req.Host = val
		case val == "" && name == "User-Agent":
			// net/http sends its own User-Agent when the field is absent;
			// an empty one is not sent.
			req.Header[name] = []string{""}
		case val == "":
			req.Header.Del(name)
		case !replaced[name]:
			req.Header.Set(name, val)
			replaced[name] = true
		default:
			req.Header.Add(name, val)
		}
	}
}
