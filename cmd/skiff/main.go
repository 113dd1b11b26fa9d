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
		return help(args[1:], stdout, stderr)
	case "perf":
		return perfMain(args[1:], stdout, stderr)
	case "get":
		return getMain(args[1:], stdout, stderr)
	case "serve":
		return serveMain(args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "skiff: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
}
