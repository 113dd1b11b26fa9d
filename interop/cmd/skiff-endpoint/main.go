package main

import (
	"os"

	"github.com/skiffnet/skiff/interop/endpoint"
	"github.com/skiffnet/skiff/interop/endpoint/skiffep"
)

func main() {
	os.Exit(endpoint.Main(skiffep.Impl()))
}
