// Command quicgo-endpoint is the interop endpoint built on quic-go, for the
// local runner's skiff–quic-go pairs: the same environment and behaviour
// as skiff-endpoint (package interop/endpoint).
package main
