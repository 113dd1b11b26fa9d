package main

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
)

// output is where a transfer's body (and with -i its headers) goes: stdout,
// or a file created on the first write, so that a transfer failing before
// any output (-f, a connection error) leaves no file behind.
type output struct {
	name   string    // "" for stdout
	stdout io.Writer // used when name is ""
	f      *os.File
}

func (w *output) Write(b []byte) (int, error) {
	if w.name == "" {
		return w.stdout.Write(b)
	}
	if w.f == nil {
		f, err := os.Create(w.name)
		if err != nil {
			return 0, err
		}
		w.f = f
	}
	return w.f.Write(b)
}

// toTerminal reports whether the body goes to a terminal (then there is no
// progress bar: it would be drawn over the body).
func (w *output) toTerminal() bool { return w.name == "" && isTerminal(w.stdout) }

func (w *output) Close() error {
	if w.f == nil {
		return nil
	}
	return w.f.Close()
}

// newOutput opens the i-th URL's output: its -o or -O, stdout when it has
// none.
func newOutput(o *getOptions, i int, u *url.URL, stdout io.Writer) (*output, error) {
	if i >= len(o.outputs) {
		return &output{stdout: stdout}, nil
	}
	spec := o.outputs[i]
	if !spec.remote {
		if spec.file == "-" {
			return &output{stdout: stdout}, nil
		}
		return &output{name: spec.file}, nil
	}
	// -O: the last path segment, never a path: a URL cannot make skiff
	// write outside the current directory.
	name := path.Base(u.Path)
	if name == "." || name == ".." || name == "/" || name == "" {
		return nil, &exitError{exitWriteError, "Remote file name has no length: use -o FILE for " + u.String()}
	}
	return &output{name: name}, nil
}

// writeOut expands a -w format for one transfer: %{variable}, %header{name},
// %% and the escapes \n, \r, \t and \\. Unknown variables expand to nothing
// and are reported once on warn.
func writeOut(w io.Writer, format string, st *transferStats, warn io.Writer) {
	st.mu.Lock()
	defer st.mu.Unlock()
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		switch {
		case c == '\\' && i+1 < len(format):
			i++
			switch format[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '\\':
				b.WriteByte('\\')
			default:
				b.WriteByte('\\')
				b.WriteByte(format[i])
			}
		case c == '%' && strings.HasPrefix(format[i:], "%%"):
			b.WriteByte('%')
			i++
		case c == '%' && (strings.HasPrefix(format[i:], "%{") || strings.HasPrefix(format[i:], "%header{")):
			open, end := strings.IndexByte(format[i:], '{'), strings.IndexByte(format[i:], '}')
			if end < 0 {
				b.WriteString(format[i:])
				i = len(format)
				break
			}
			name := format[i+open+1 : i+end]
			if open > 1 { // %header{name}
				b.WriteString(strings.Join(st.header.Values(name), ", "))
			} else if v, ok := writeOutVar(st, name); ok {
				b.WriteString(v)
			} else {
				fmt.Fprintf(warn, "skiff: warning: unknown --write-out variable %%{%s}\n", name)
			}
			i += end
		default:
			b.WriteByte(c)
		}
	}
	io.WriteString(w, b.String())
}

// writeOutVars are the -w variables, with curl's names and formats: times
// in seconds with six decimals, sizes in bytes, speeds in bytes per second.
var writeOutVars = map[string]func(st *transferStats) string{
	"content_type":       func(st *transferStats) string { return st.header.Get("Content-Type") },
	"errormsg":           func(st *transferStats) string { return st.errMsg },
	"exitcode":           func(st *transferStats) string { return strconv.Itoa(st.exitCode) },
	"http_code":          func(st *transferStats) string { return fmt.Sprintf("%03d", st.status) },
	"response_code":      func(st *transferStats) string { return fmt.Sprintf("%03d", st.status) },
	"http_version":       func(st *transferStats) string { return httpVersion(st.proto) },
	"method":             func(st *transferStats) string { return st.method },
	"num_redirects":      func(st *transferStats) string { return strconv.Itoa(st.numRedirects) },
	"remote_ip":          func(st *transferStats) string { h, _, _ := net.SplitHostPort(st.remote); return h },
	"remote_port":        func(st *transferStats) string { _, p, _ := net.SplitHostPort(st.remote); return p },
	"scheme":             func(st *transferStats) string { return schemeOf(st.urlEffective) },
	"size_download":      func(st *transferStats) string { return strconv.FormatInt(st.sizeDownload, 10) },
	"size_upload":        func(st *transferStats) string { return strconv.FormatInt(st.sizeUpload, 10) },
	"speed_download":     func(st *transferStats) string { return speed(st.sizeDownload, st.total) },
	"speed_upload":       func(st *transferStats) string { return speed(st.sizeUpload, st.total) },
	"time_appconnect":    func(st *transferStats) string { return seconds(st.appconnect) },
	"time_connect":       func(st *transferStats) string { return seconds(st.connect) },
	"time_namelookup":    func(st *transferStats) string { return seconds(st.namelookup) },
	"time_pretransfer":   func(st *transferStats) string { return seconds(st.pretransfer) },
	"time_redirect":      func(st *transferStats) string { return seconds(st.redirect) },
	"time_starttransfer": func(st *transferStats) string { return seconds(st.starttransfer) },
	"time_total":         func(st *transferStats) string { return seconds(st.total) },
	"url_effective":      func(st *transferStats) string { return st.urlEffective },
}

func writeOutVar(st *transferStats, name string) (string, bool) {
	f, ok := writeOutVars[name]
	if !ok {
		return "", false
	}
	return f(st), true
}

// httpVersion is curl's %{http_version}: "1.1", "2", "3".
func httpVersion(proto string) string {
	v := strings.TrimPrefix(proto, "HTTP/")
	if v == "1.0" {
		return v
	}
	return strings.TrimSuffix(v, ".0")
}

func schemeOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Scheme
	}
	return ""
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 6, 64) }

func speed(n int64, d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return strconv.FormatInt(int64(float64(n)/d.Seconds()), 10)
}
