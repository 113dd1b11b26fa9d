// Package perfinterop runs the `skiff perf` command against quic-go perf
// peers over loopback: skiff's perf client against a quic-go perf server,
// and a quic-go perf client against `skiff perf server`, each moving the
// payload both ways and verifying every byte against the perf pattern both
// sides send (interop/perf).
package perfinterop
