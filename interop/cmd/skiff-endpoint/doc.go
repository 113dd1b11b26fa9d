// Command skiff-endpoint is skiff's QUIC Interop Runner endpoint: one
// binary for both roles, driven by the runner's environment (ROLE,
// TESTCASE, REQUESTS, SSLKEYLOGFILE, QLOGDIR; see package
// interop/endpoint). It exits 127 for test cases it does not support.
package main
