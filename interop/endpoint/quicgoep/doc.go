// Package quicgoep is quic-go's side of the interop endpoint, written
// against quic-go's public API (quic-go ships its own interop endpoint;
// this one is ours, so that the local runner can pair skiff with quic-go
// in both roles under the same contract).
package quicgoep
