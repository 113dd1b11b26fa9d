package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// skiff get's exit codes: curl's, where they mean the same thing (the
// CURLE_* numbers of libcurl-errors(3)), so scripts written for curl keep
// working.
const (
	exitUnsupportedProtocol = 1  // a scheme other than http and https
	exitUsage               = 2  // a bad command line
	exitURLMalformed        = 3  // a URL that does not parse
	exitResolve             = 6  // the host name did not resolve
	exitConnect             = 7  // no connection: refused, unreachable
	exitPartialFile         = 18 // the body ended before its Content-Length
	exitHTTPError           = 22 // -f and a status of 400 or more
	exitWriteError          = 23 // the output could not be written
	exitReadError           = 26 // a file named by @ could not be read
	exitTimeout             = 28 // --connect-timeout or --max-time
	exitTLSConnect          = 35 // the TLS handshake failed
	exitTooManyRedirects    = 47 // -L went past --max-redirs
	exitEmptyReply          = 52 // the connection closed before any response
	exitRecvError           = 56 // the connection failed during the transfer
	exitCertProblem         = 60 // the server's certificate did not verify
	exitCACertFile          = 77 // --cacert could not be read
)

// exitError is a failed transfer: the exit code and the one-line message
// printed as "skiff: (code) msg".
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) *exitError {
	return &exitError{code: exitUsage, msg: fmt.Sprintf(format, args...)}
}

// The causes the request context is canceled with, so that the error
// says which timeout fired.
var (
	errConnectTimeout = errors.New("connect timeout")
	errMaxTime        = errors.New("max time")
)

// Certificate alerts (RFC 8446 §6.2) that skiff's TLS sends when it cannot
// verify the server's certificate; in QUIC they arrive as CRYPTO_ERROR
// 0x100 + alert (RFC 9001 §4.8).
// The QUIC error carries only the alert, so the message is said here.
var certAlerts = map[tls13.AlertError]string{
	tls13.AlertBadCertificate:         "the certificate is not valid for this host name, or not for a server",
	tls13.AlertUnsupportedCertificate: "the certificate's type is not supported",
	tls13.AlertCertificateRevoked:     "the certificate was revoked",
	tls13.AlertCertificateExpired:     "the certificate has expired or is not yet valid",
	tls13.AlertCertificateUnknown:     "the certificate could not be verified",
	tls13.AlertUnknownCA:              "the certificate is signed by an unknown authority (--cacert FILE trusts one, -k trusts any)",
}

// classify maps a transfer's error to an exit code and a message a person
// understands. cause is the request context's cause (one of the timeout
// errors above, or nil); addr is the host:port the request went to;
// received is how many body bytes had arrived.
func classify(err, cause error, addr string, received int64, o *getOptions) *exitError {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee
	}
	if errors.Is(err, quic.ErrHandshakeTimeout) && o.connectTimeout > 0 {
		// --connect-timeout is also QUIC's handshake timeout; whichever
		// fires first, it is the connect timeout.
		cause = errConnectTimeout
	}
	switch cause {
	case errConnectTimeout:
		return &exitError{exitTimeout, fmt.Sprintf("Connection timed out after %d milliseconds", o.connectTimeout.Milliseconds())}
	case errMaxTime:
		return &exitError{exitTimeout, fmt.Sprintf("Operation timed out after %d milliseconds with %d bytes received", o.maxTime.Milliseconds(), received)}
	}
	host, port, _ := net.SplitHostPort(addr)
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return &exitError{exitResolve, "Could not resolve host: " + dnsErr.Name}
	}
	if msg, ok := certificateProblem(err); ok {
		return &exitError{exitCertProblem, "certificate problem: " + msg}
	}
	var te *quic.TransportError
	if errors.As(err, &te) && uint64(te.Code)&^0xff == 0x100 {
		return &exitError{exitTLSConnect, "TLS handshake failed: " + te.Error()}
	}
	var alert tls.AlertError
	var rec tls.RecordHeaderError
	if errors.As(err, &alert) || errors.As(err, &rec) || strings.HasPrefix(err.Error(), "tls: ") {
		return &exitError{exitTLSConnect, "TLS handshake failed: " + err.Error()}
	}
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.EADDRNOTAVAIL} {
		if errors.Is(err, errno) {
			return &exitError{exitConnect, fmt.Sprintf("Failed to connect to %s port %s: %v", host, port, errno)}
		}
	}
	var ne net.Error
	if errors.Is(err, quic.ErrHandshakeTimeout) || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &exitError{exitTimeout, "Connection to " + addr + " timed out: " + err.Error()}
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return &exitError{exitConnect, fmt.Sprintf("Failed to connect to %s port %s: %v", host, port, oe.Err)}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &exitError{exitEmptyReply, "Empty reply from server: " + err.Error()}
	}
	return &exitError{exitRecvError, "Failure when receiving data from the peer: " + err.Error()}
}

// certificateProblem reports whether err says the server's certificate did
// not verify, over TCP (crypto/x509 through crypto/tls) or QUIC (a
// certificate alert we sent, RFC 9001 §4.8).
func certificateProblem(err error) (string, bool) {
	var verr *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &verr):
		return verr.Err.Error() + " (--cacert FILE trusts a CA, -k trusts any)", true
	case errors.As(err, &unknown), errors.As(err, &hostname), errors.As(err, &invalid):
		return err.Error(), true
	}
	var te *quic.TransportError
	if errors.As(err, &te) && !te.Remote && uint64(te.Code)&^0xff == 0x100 {
		if msg, ok := certAlerts[tls13.AlertError(uint64(te.Code)&0xff)]; ok {
			return msg + " (QUIC: " + te.Reason + ")", true
		}
	}
	return "", false
}
