// Package quichooks lets the other packages of the module reach what
// package quic offers them alone, outside its public API: quic sets the
// hooks when it is initialized, before any package that imports quic can
// use them.
package quichooks
