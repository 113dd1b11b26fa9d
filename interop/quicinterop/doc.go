// Package quicinterop tests skiff's quic package against quic-go over real
// UDP on loopback, in both roles: skiff client ↔ quic-go server and quic-go
// client ↔ skiff server. Every transfer is hashed.
package quicinterop
