package main

import (
	"os"

	"github.com/skiffnet/skiff/interop/endpoint"
	"github.com/skiffnet/skiff/interop/endpoint/quicgoep"
)

func main() {
	os.Exit(endpoint.Main(quicgoep.Impl()))
}
