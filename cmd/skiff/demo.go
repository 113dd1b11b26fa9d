package main

import (
	"fmt"
	"io"
)

// demo shows, on an embedded default, what the layers built so far do.
// It grows with the project: once connections exist it starts a local
// HTTP/3 server and fetches from it.
func demo(w io.Writer) error {
	fmt.Fprintln(w, "skiff", version, "— nothing to demonstrate yet")
	return nil
}
