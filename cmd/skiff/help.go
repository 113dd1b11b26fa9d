package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// help prints `skiff help [command]` and returns the exit code.
func help(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stdout)
		return 0
	}
	switch args[0] {
	case "get":
		helpGet(stdout)
	case "serve":
		helpServe(stdout)
	case "perf":
		helpPerf(stdout)
	case "demo":
		fmt.Fprintln(stdout, "usage: skiff demo\n\nStarts skiff serve on a temporary directory, fetches a file three times with one\nAlt-Svc file (TCP, then HTTP/3, then TCP again once the HTTP/3 port is closed),\nthen moves bulk data over HTTP/3. No flags; `make demo` runs it.")
	default:
		fmt.Fprintf(stderr, "skiff help: no command %q\n", args[0])
		usage(stderr)
		return 2
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: skiff <command> [arguments]

commands:
  get       fetch URLs like curl, over HTTP/3 where the server offers it
            skiff get [flags] URL...
  serve     serve a directory over HTTPS: HTTP/1.1 and HTTP/2 on TCP, HTTP/3 on UDP
            skiff serve [--listen :8443] [--cert F --key F] [DIR]
  perf      the QUIC perf protocol
            skiff perf server|client [flags]
  demo      TCP, then HTTP/3, then the fallback, and bulk transfers, on loopback
  version   print the version
  help      skiff help [get|serve|perf|demo]
`)
}

func helpGet(w io.Writer) {
	fmt.Fprint(w, `usage: skiff get [flags] URL...

Fetches each URL and writes its body to stdout (or -o/-O), like curl. A URL
without a scheme is https. Flags and URLs may come in any order; short flags
cluster (-sSL) and take their argument attached or next (-ofile, -o file);
long flags take --name VALUE or --name=VALUE.

Protocol: by default requests go over TCP (HTTP/2 or HTTP/1.1) until the
origin advertises HTTP/3 (an Alt-Svc header, or an HTTPS DNS record), then
over HTTP/3, raced against TCP; a failing alternative is marked broken and
TCP carries the request. --alt-svc FILE keeps what was learned between runs.

flags:
`)
	writeGetFlags(w)
	fmt.Fprint(w, `
-w variables (curl's names; times in seconds since the transfer began):
`)
	names := make([]string, 0, len(writeOutVars))
	for n := range writeOutVars {
		names = append(names, "%{"+n+"}")
	}
	sort.Strings(names)
	writeWrapped(w, "  ", names, 78)
	fmt.Fprint(w, `  %header{NAME} is a response header; \n, \r, \t and %% are escapes.

exit codes (curl's where they mean the same):
   0 success                           22 -f and HTTP status 400 or more
   1 unsupported scheme                23 the output could not be written
   2 bad command line                  26 a file named with @ could not be read
   3 malformed URL                     28 timeout (--connect-timeout, -m)
   6 host name did not resolve         35 TLS handshake failed
   7 could not connect                 47 too many redirects
  18 body shorter than Content-Length  52 no response at all
  56 connection failed mid-transfer    60 the server's certificate did not verify
  77 --cacert could not be read

environment: SSLKEYLOGFILE (default of --keylog), QLOGDIR (default of --qlog-dir).
`)
}

func helpServe(w io.Writer) {
	fmt.Fprint(w, `usage: skiff serve [flags] [DIR]

Serves DIR (default .) over HTTPS: HTTP/1.1 and HTTP/2 on TCP (net/http with
crypto/tls) and HTTP/3 on the same UDP port, with Alt-Svc: h3=":PORT" on the TCP
responses so clients find HTTP/3. Directories without index.html are listed.
Without --cert, a self-signed certificate for localhost is made and its SHA-256
SPKI printed (for Chrome's --ignore-certificate-errors-spki-list, or curl's
--pinnedpubkey sha256//...). Each request is logged on stderr with its protocol.
SIGINT or SIGTERM shuts down gracefully: no new connections, GOAWAY, requests in
flight finish; a second signal stops at once.

flags:
`)
	writeFlagSet(w, serveFlags(&serveOptions{}))
}

func helpPerf(w io.Writer) {
	fmt.Fprint(w, `usage: skiff perf server [flags]
       skiff perf client [flags] HOST:PORT

The QUIC performance protocol (draft-banks-quic-performance, ALPN "perf"): the
client asks for bytes on each stream and uploads its own; the server sends what
was asked. The client prints its figures as JSON.

server flags:
`)
	writeFlagSet(w, perfServerFlags(&perfServerOptions{}))
	fmt.Fprint(w, "\nclient flags:\n")
	writeFlagSet(w, perfClientFlags(&perfClientOptions{}))
}

// writeFlagSet lists a flag set's flags in the style of writeGetFlags. A
// usage that names its own default (serve's --qlog-dir: $QLOGDIR) gets no
// second one from the flag's value.
func writeFlagSet(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		name := "--" + f.Name
		if arg != "" {
			name += " " + strings.ToUpper(arg)
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && !strings.Contains(usage, "(default ") {
			usage += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "  %-28s %s\n", name, usage)
	})
}

// writeWrapped writes words separated by spaces, in lines of at most width
// columns, each starting with indent.
func writeWrapped(w io.Writer, indent string, words []string, width int) {
	line := indent
	for _, word := range words {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			fmt.Fprintln(w, line)
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	if len(line) > len(indent) {
		fmt.Fprintln(w, line)
	}
}
