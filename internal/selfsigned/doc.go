// Package selfsigned makes throwaway ECDSA certificates: for tests, for
// `make demo`, and for `skiff perf server` and `skiff serve` when no
// certificate is given. Nothing here is for production identities.
package selfsigned
