//go:build !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package main

// isTerminalFd reports false where skiff does not know how to ask: no
// progress bar there.
func isTerminalFd(uintptr) bool { return false }
