package dns

import (
	"fmt"
	"net/netip"
)

// Type is a resource record TYPE (RFC 1035 §3.2.2).
type Type uint16

// The record types this package decodes; others are kept as Unknown.
const (
	TypeA     Type = 1
	TypeNS    Type = 2
	TypeCNAME Type = 5
	TypeSOA   Type = 6
	TypeAAAA  Type = 28
	TypeOPT   Type = 41 // RFC 6891 §6.1.1, only in the additional section
	TypeSVCB  Type = 64 // RFC 9460 §14.1
	TypeHTTPS Type = 65 // RFC 9460 §14.2
)

func (t Type) String() string {
	switch t {
	case TypeA:
		return "A"
	case TypeNS:
		return "NS"
	case TypeCNAME:
		return "CNAME"
	case TypeSOA:
		return "SOA"
	case TypeAAAA:
		return "AAAA"
	case TypeOPT:
		return "OPT"
	case TypeSVCB:
		return "SVCB"
	case TypeHTTPS:
		return "HTTPS"
	}
	return fmt.Sprintf("TYPE%d", uint16(t)) // RFC 3597 §5
}

// Class is a resource record CLASS (RFC 1035 §3.2.4).
type Class uint16

// ClassINET is the Internet class, the only one queried.
const ClassINET Class = 1

// Rcode is a response code: the 4 bits of the header (RFC 1035 §4.1.1)
// extended by the 8 bits of the OPT record (RFC 6891 §6.1.3).
type Rcode uint16

// Response codes (RFC 1035 §4.1.1).
const (
	RcodeSuccess        Rcode = 0 // NOERROR
	RcodeFormatError    Rcode = 1 // FORMERR
	RcodeServerFailure  Rcode = 2 // SERVFAIL
	RcodeNameError      Rcode = 3 // NXDOMAIN
	RcodeNotImplemented Rcode = 4 // NOTIMP
	RcodeRefused        Rcode = 5 // REFUSED
)

func (r Rcode) String() string {
	switch r {
	case RcodeSuccess:
		return "NOERROR"
	case RcodeFormatError:
		return "FORMERR"
	case RcodeServerFailure:
		return "SERVFAIL"
	case RcodeNameError:
		return "NXDOMAIN"
	case RcodeNotImplemented:
		return "NOTIMP"
	case RcodeRefused:
		return "REFUSED"
	}
	return fmt.Sprintf("RCODE%d", uint16(r))
}

// Header is the message header (RFC 1035 §4.1.1) without the section
// counts, which Message's slices carry.
type Header struct {
	ID                 uint16
	Response           bool // QR
	Opcode             uint8
	Authoritative      bool // AA
	Truncated          bool // TC
	RecursionDesired   bool // RD
	RecursionAvailable bool // RA
	// Rcode is the full response code: when the message has an OPT
	// record, its upper 8 bits come from there (RFC 6891 §6.1.3).
	Rcode Rcode
}

// Question is one entry of the question section (RFC 1035 §4.1.2).
// Names in this package are absolute, in presentation format with the
// trailing dot ("example.com."); see CanonicalName.
type Question struct {
	Name  string
	Type  Type
	Class Class
}

// EDNS is the content of the OPT pseudo-record (RFC 6891 §6.1).
type EDNS struct {
	UDPSize       uint16 // the requestor's UDP payload size
	ExtendedRcode uint8  // upper 8 bits of the response code (also folded into Header.Rcode)
	Version       uint8
	DNSSECOK      bool   // DO bit
	Options       []byte // the raw option list; this package sets none
}

// RR is a resource record (RFC 1035 §4.1.3).
type RR struct {
	Name  string // owner name
	Type  Type
	Class Class
	TTL   uint32
	Data  RData
}

// RData is the decoded RDATA of a record: A, AAAA, CNAME, SOA, SVCB (for
// both SVCB and HTTPS records), Unknown for other types, or Invalid when
// the RDATA of a known type does not decode.
type RData interface{ isRData() }

// A is the RDATA of an A record (RFC 1035 §3.4.1).
type A struct{ Addr netip.Addr }

// AAAA is the RDATA of an AAAA record (RFC 3596 §2.2).
type AAAA struct{ Addr netip.Addr }

// CNAME is the RDATA of a CNAME record (RFC 1035 §3.3.1).
type CNAME struct{ Target string }

// SOA is the RDATA of an SOA record (RFC 1035 §3.3.13). Minimum bounds
// how long a negative answer is cached (RFC 2308 §5).
type SOA struct {
	MName, RName                            string
	Serial, Refresh, Retry, Expire, Minimum uint32
}

// Unknown is the raw RDATA of a type this package does not decode.
type Unknown struct{ Data []byte }

// Invalid is the raw RDATA of a record of a known type whose RDATA does not
// decode, with the reason. The rest of the message is still usable: an
// RFC 9460 client, for one, must reject the whole RRset (§2.2), not the
// response.
type Invalid struct {
	Data []byte
	Err  error
}

func (A) isRData()       {}
func (AAAA) isRData()    {}
func (CNAME) isRData()   {}
func (SOA) isRData()     {}
func (SVCB) isRData()    {}
func (Unknown) isRData() {}
func (Invalid) isRData() {}

// Message is a DNS message (RFC 1035 §4.1).
type Message struct {
	Header
	Questions   []Question
	Answers     []RR
	Authorities []RR
	Additionals []RR  // without the OPT record, which is in EDNS
	EDNS        *EDNS // nil when the message has no OPT record
}
