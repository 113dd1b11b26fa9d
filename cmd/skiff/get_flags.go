package main

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// protoMode is the protocol choice of skiff get, as curl's flags name it.
type protoMode int

const (
	protoAuto      protoMode = iota // TCP until the origin advertises HTTP/3, then HTTP/3 raced against TCP
	protoHTTP1                      // --http1.1: HTTP/1.1 over TCP only
	protoHTTP2                      // --http2: HTTP/2 over TCP (HTTP/1.1 if the server has no h2)
	protoHTTP3                      // --http3: HTTP/3 from the first request, raced against TCP
	protoHTTP3Only                  // --http3-only: HTTP/3, never TCP
)

// getOptions is what skiff get's command line asks for.
type getOptions struct {
	urls    []string
	outputs []outputSpec // the i-th goes with the i-th URL; later URLs go to stdout

	include   bool     // -i: headers before the body
	head      bool     // -I: HEAD, headers only
	headers   []string // -H, as given
	method    string   // -X
	data      []byte   // -d and friends, joined
	hasData   bool
	userAgent string

	location  bool // -L
	maxRedirs int
	fail      bool // -f
	silent    bool // -s
	showError bool // -S
	verbose   bool // -v
	writeOut  string

	insecure       bool // -k
	cacert         string
	connectTimeout time.Duration
	maxTime        time.Duration

	proto      protoMode
	altSvcFile string
	dnsServer  string // ip:port
	qlogDir    string
	keylogFile string
}

// outputSpec is one -o FILE or -O.
type outputSpec struct {
	file   string // "-" is stdout
	remote bool   // -O: the last segment of the URL's path
}

// getFlag describes one option: the parser and `skiff help get` both read
// this table, so every flag is documented.
type getFlag struct {
	short byte   // 0 when there is only the long form
	long  string // without the leading --
	arg   string // the argument's name in the help; "" for a switch
	help  string
	set   func(o *getOptions, v string) error
}

var getFlags = []getFlag{
	{'o', "output", "FILE", "write the body to FILE (- is stdout); one -o or -O per URL, in order",
		func(o *getOptions, v string) error { o.outputs = append(o.outputs, outputSpec{file: v}); return nil }},
	{'O', "remote-name", "", "write the body to a file named as the URL's last path segment",
		func(o *getOptions, _ string) error {
			o.outputs = append(o.outputs, outputSpec{remote: true})
			return nil
		}},
	{'i', "include", "", "write the response headers before the body",
		func(o *getOptions, _ string) error { o.include = true; return nil }},
	{'I', "head", "", "send HEAD and write the response headers only",
		func(o *getOptions, _ string) error { o.head = true; return nil }},
	{'H', "header", "\"NAME: VALUE\"", "add a request header (repeatable); \"NAME:\" removes one skiff would send, \"NAME;\" sends it empty",
		func(o *getOptions, v string) error { o.headers = append(o.headers, v); return nil }},
	{'X', "request", "METHOD", "use METHOD instead of GET (or POST with -d)",
		func(o *getOptions, v string) error { o.method = v; return nil }},
	{'d', "data", "DATA", "send DATA in a POST body, form-encoded; @FILE reads FILE (@- stdin) without CR and LF; repeated -d are joined with &",
		func(o *getOptions, v string) error { return o.addData(v, true, true) }},
	{0, "data-binary", "DATA", "like -d, but @FILE is sent exactly as it is",
		func(o *getOptions, v string) error { return o.addData(v, true, false) }},
	{0, "data-raw", "DATA", "like -d, with no special meaning for @",
		func(o *getOptions, v string) error { return o.addData(v, false, false) }},
	{'A', "user-agent", "NAME", "send User-Agent: NAME (default skiff/" + version + ")",
		func(o *getOptions, v string) error { o.userAgent = v; return nil }},
	{'L', "location", "", "follow redirects",
		func(o *getOptions, _ string) error { o.location = true; return nil }},
	{0, "max-redirs", "N", "follow at most N redirects with -L (default 50)",
		func(o *getOptions, v string) error { return setInt(&o.maxRedirs, v) }},
	{'f', "fail", "", "fail with exit code 22 and no body on HTTP status 400 and above",
		func(o *getOptions, _ string) error { o.fail = true; return nil }},
	{'s', "silent", "", "no progress bar and no error message",
		func(o *getOptions, _ string) error { o.silent = true; return nil }},
	{'S', "show-error", "", "with -s, still print the error message",
		func(o *getOptions, _ string) error { o.showError = true; return nil }},
	{'v', "verbose", "", "print the timeline on stderr: resolution, connections and the race, TLS, the protocol used and why, Alt-Svc, headers, bytes and time",
		func(o *getOptions, _ string) error { o.verbose = true; return nil }},
	{'w', "write-out", "FORMAT", "print FORMAT on stdout after each transfer, with %{variable}s (see below); @FILE reads it from FILE",
		func(o *getOptions, v string) error { return o.setWriteOut(v) }},
	{'k', "insecure", "", "do not verify the server's certificate",
		func(o *getOptions, _ string) error { o.insecure = true; return nil }},
	{0, "cacert", "FILE", "verify the server's certificate with the CA certificates in FILE (PEM) instead of the system's",
		func(o *getOptions, v string) error { o.cacert = v; return nil }},
	{0, "connect-timeout", "SECONDS", "give up if no connection is ready after SECONDS (decimals allowed); exit code 28",
		func(o *getOptions, v string) error { return setSeconds(&o.connectTimeout, v) }},
	{'m', "max-time", "SECONDS", "give up if a transfer takes longer than SECONDS in all; exit code 28",
		func(o *getOptions, v string) error { return setSeconds(&o.maxTime, v) }},
	{0, "http1.1", "", "HTTP/1.1 over TCP only",
		func(o *getOptions, _ string) error { o.proto = protoHTTP1; return nil }},
	{0, "http2", "", "HTTP/2 over TCP (HTTP/1.1 when the server has no HTTP/2)",
		func(o *getOptions, _ string) error { o.proto = protoHTTP2; return nil }},
	{0, "http3", "", "HTTP/3 from the first request, raced against TCP, which takes over if QUIC fails",
		func(o *getOptions, _ string) error { o.proto = protoHTTP3; return nil }},
	{0, "http3-only", "", "HTTP/3 only; never TCP",
		func(o *getOptions, _ string) error { o.proto = protoHTTP3Only; return nil }},
	{0, "alt-svc", "FILE", "read and write the Alt-Svc cache in FILE, in curl's alt-svc format (curl and skiff can share it)",
		func(o *getOptions, v string) error { o.altSvcFile = v; return nil }},
	{0, "dns-servers", "ADDR", "ask the DNS server at ADDR (IP or IP:PORT; the first of a comma list) for every name, addresses and HTTPS records, instead of the system's",
		func(o *getOptions, v string) error { return o.setDNSServer(v) }},
	{0, "qlog-dir", "DIR", "write a qlog file for each QUIC connection into DIR (default $QLOGDIR)",
		func(o *getOptions, v string) error { o.qlogDir = v; return nil }},
	{0, "keylog", "FILE", "append the TLS secrets to FILE in the NSS key log format, for Wireshark (default $SSLKEYLOGFILE)",
		func(o *getOptions, v string) error { o.keylogFile = v; return nil }},
	{'h', "help", "", "print this help",
		func(*getOptions, string) error { return errHelp }},
}

// errHelp asks for the help text instead of a transfer.
var errHelp = &exitError{code: 0}

// parseGetArgs reads skiff get's command line the way curl reads its own:
// options and URLs in any order, short options clustered (-sSL) with an
// argument attached or following (-ofile, -o file), long options as --name
// VALUE or --name=VALUE, and -- ending the options. getenv supplies the
// defaults of --keylog and --qlog-dir.
func parseGetArgs(args []string, getenv func(string) string) (*getOptions, error) {
	o := &getOptions{maxRedirs: 50, keylogFile: getenv("SSLKEYLOGFILE"), qlogDir: getenv("QLOGDIR")}
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func(name string) (string, error) {
			if i+1 >= len(args) {
				return "", usageErrorf("option %s: requires an argument", name)
			}
			i++
			return args[i], nil
		}
		switch {
		case a == "--":
			o.urls = append(o.urls, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			f := lookupLong(name)
			if f == nil {
				return nil, usageErrorf("option --%s: is unknown", name)
			}
			if f.arg == "" && hasVal {
				return nil, usageErrorf("option --%s: takes no argument", name)
			}
			if f.arg != "" && !hasVal {
				v, err := next("--" + name)
				if err != nil {
					return nil, err
				}
				val = v
			}
			if err := f.set(o, val); err != nil {
				return nil, err
			}
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				f := lookupShort(a[j])
				if f == nil {
					return nil, usageErrorf("option -%c: is unknown", a[j])
				}
				val := ""
				if f.arg != "" {
					if j+1 < len(a) {
						val = a[j+1:]
					} else {
						v, err := next("-" + string(a[j]))
						if err != nil {
							return nil, err
						}
						val = v
					}
					j = len(a)
				}
				if err := f.set(o, val); err != nil {
					return nil, err
				}
			}
		default:
			o.urls = append(o.urls, a)
		}
	}
	if len(o.urls) == 0 {
		return nil, usageErrorf("no URL given (skiff help get)")
	}
	return o, nil
}

func lookupLong(name string) *getFlag {
	for i := range getFlags {
		if getFlags[i].long == name {
			return &getFlags[i]
		}
	}
	return nil
}

func lookupShort(c byte) *getFlag {
	for i := range getFlags {
		if getFlags[i].short == c {
			return &getFlags[i]
		}
	}
	return nil
}

// addData appends one -d/--data-binary/--data-raw argument; at says
// whether @FILE reads a file, strip whether CR and LF are dropped from it
// (curl's -d does; --data-binary does not).
func (o *getOptions) addData(v string, at, strip bool) error {
	b := []byte(v)
	if at && strings.HasPrefix(v, "@") {
		var err error
		b, err = readArgFile(v[1:])
		if err != nil {
			return &exitError{code: exitReadError, msg: "cannot read data: " + err.Error()}
		}
		if strip {
			b = bytes.ReplaceAll(b, []byte("\r"), nil)
			b = bytes.ReplaceAll(b, []byte("\n"), nil)
		}
	}
	if o.hasData {
		o.data = append(o.data, '&')
	}
	o.data = append(o.data, b...)
	o.hasData = true
	return nil
}

func (o *getOptions) setWriteOut(v string) error {
	if strings.HasPrefix(v, "@") {
		b, err := readArgFile(v[1:])
		if err != nil {
			return &exitError{code: exitReadError, msg: "cannot read the --write-out format: " + err.Error()}
		}
		v = string(b)
	}
	o.writeOut = v
	return nil
}

// setDNSServer takes --dns-servers: the first address of the list, with
// port 53 when none is given.
func (o *getOptions) setDNSServer(v string) error {
	first, _, _ := strings.Cut(v, ",")
	if ap, err := netip.ParseAddrPort(first); err == nil {
		o.dnsServer = ap.String()
		return nil
	}
	ip, err := netip.ParseAddr(strings.Trim(first, "[]"))
	if err != nil {
		return usageErrorf("--dns-servers %q: not an IP address", v)
	}
	o.dnsServer = netip.AddrPortFrom(ip, 53).String()
	return nil
}

// readArgFile reads the file an @ argument names; "-" is stdin.
func readArgFile(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name)
}

func setInt(p *int, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return usageErrorf("%q is not a count", v)
	}
	*p = n
	return nil
}

// setSeconds parses a timeout as curl does, in seconds with decimals
// allowed ("2", "0.5"), and also as a Go duration ("500ms").
func setSeconds(p *time.Duration, v string) error {
	if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f < 1e9 {
		*p = time.Duration(f * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return usageErrorf("%q is not a number of seconds", v)
	}
	*p = d
	return nil
}

// writeGetFlags writes the option list of `skiff help get`.
func writeGetFlags(w io.Writer) {
	for _, f := range getFlags {
		name := "    "
		if f.short != 0 {
			name = "-" + string(f.short) + ", "
		}
		name += "--" + f.long
		if f.arg != "" {
			name += " " + f.arg
		}
		if len(name) > 28 {
			fmt.Fprintf(w, "  %s\n  %-28s %s\n", name, "", f.help)
		} else {
			fmt.Fprintf(w, "  %-28s %s\n", name, f.help)
		}
	}
}
