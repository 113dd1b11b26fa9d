package dns

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns matches one of them with
// errors.Is, or is the context's error when the caller's context ended.
var (
	// ErrMalformed: a message or a record's RDATA that breaks RFC 1035 or
	// RFC 9460 §2.2. Returned as *ParseError or *SVCBError.
	ErrMalformed = errors.New("dns: malformed")
	// ErrNotFound: the name does not exist (NXDOMAIN) or has no record of
	// the type asked (NODATA). Returned as *LookupError.
	ErrNotFound = errors.New("dns: no such record")
	// ErrServer: every server answered with an error code such as SERVFAIL
	// or REFUSED. Returned as *LookupError with the last Rcode.
	ErrServer = errors.New("dns: server failure")
	// ErrTimeout: no server answered within Resolver.Timeout on any attempt.
	ErrTimeout = errors.New("dns: no answer before the timeout")
	// ErrAliasLimit: a CNAME or AliasMode chain loops or is longer than
	// MaxAliases (RFC 9460 §3.1: fall back as if there were no record).
	ErrAliasLimit = errors.New("dns: alias chain loops or is too long")
)

// ParseError is a message that cannot be decoded.
type ParseError struct {
	Offset int    // where in the message decoding stopped
	Reason string // what is wrong there
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("dns: malformed message at offset %d: %s", e.Offset, e.Reason)
}

func (e *ParseError) Unwrap() error { return ErrMalformed }

// SVCBError is SVCB or HTTPS RDATA that is malformed (RFC 9460 §2.2) or
// not self-consistent (§2.4.3, §7, §8).
type SVCBError struct {
	Key    ParamKey // the SvcParamKey at fault
	Reason string
}

func (e *SVCBError) Error() string {
	return fmt.Sprintf("dns: malformed SVCB RDATA: %s: %s", e.Key, e.Reason)
}

func (e *SVCBError) Unwrap() error { return ErrMalformed }

// LookupError is a lookup that ended with a response code other than
// NOERROR, or with NOERROR and no record of the type (NODATA).
type LookupError struct {
	Name  string
	Type  Type
	Rcode Rcode
}

func (e *LookupError) Error() string {
	if e.Rcode == RcodeSuccess {
		return fmt.Sprintf("dns: %s %s: no records", e.Name, e.Type)
	}
	return fmt.Sprintf("dns: %s %s: %s", e.Name, e.Type, e.Rcode)
}

// Unwrap maps NXDOMAIN and NODATA to ErrNotFound and other codes to
// ErrServer.
func (e *LookupError) Unwrap() error {
	if e.Rcode == RcodeSuccess || e.Rcode == RcodeNameError {
		return ErrNotFound
	}
	return ErrServer
}
