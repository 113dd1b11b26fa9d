// Package h3 will hold skiff's HTTP/3 (RFC 9114): a client Transport that
// implements http.RoundTripper — with Alt-Svc discovery (RFC 7838), a cache of
// alternatives, racing QUIC against TCP and falling back to TCP when UDP is
// blocked — and a Server that serves an http.Handler. Header compression is
// package qpack (RFC 9204), dynamic table included.
//
// Not written yet: it builds on package quic's connections.
package h3
