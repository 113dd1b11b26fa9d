// Command interop runs the QUIC Interop Runner's test cases locally
// (`make interop`): skiff's and quic-go's endpoints in every server/client
// pairing, through a userspace relay that reproduces each case's network,
// in network namespaces when it can (root, `ip netns`) and on loopback
// otherwise. It prints the matrix: ✓, ✗ with the reason, or unsupported.
package main
