// Command skiff is the command-line face of the skiff QUIC and HTTP/3 stack:
//
//	skiff demo              show what skiff can do today, on an embedded default
//	skiff get URL           fetch a URL over HTTP/3 (not yet)
//	skiff serve DIR         serve a directory over HTTP/3 and TCP (not yet)
//	skiff perf client|server  the QUIC perf protocol (draft-banks-quic-performance)
//	skiff version
package main

import (
	"fmt"
	"io"
	"os"
)

const version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "demo":
		if err := demo(stdout); err != nil {
			fmt.Fprintln(stderr, "skiff demo:", err)
			return 1
		}
		return 0
	case "version":
		fmt.Fprintln(stdout, "skiff", version)
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	case "perf":
		return perfMain(args[1:], stdout, stderr)
	case "get", "serve":
		fmt.Fprintf(stderr, "skiff %s: not implemented yet (it needs QUIC connections; see the README's status table)\n", args[0])
		return 1
	default:
		fmt.Fprintf(stderr, "skiff: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: skiff <command> [arguments]

commands:
  demo      show what skiff can do today, on an embedded default
  get       fetch a URL over HTTP/3 (not yet)
  serve     serve a directory over HTTP/3 (not yet)
  perf      the QUIC perf protocol: skiff perf server [--listen ADDR] [--cert F --key F]
            skiff perf client [--upload N] [--download N] [--streams N] [--insecure|--cacert F] [--cc cubic|newreno] ADDR
  version   print the version
`)
}
