package dns

import (
	"fmt"
	"net/netip"
)

// ParamKey is a SvcParamKey (RFC 9460 §14.3.2).
type ParamKey uint16

// The SvcParamKeys of RFC 9460 §14.3.2.
const (
	KeyMandatory     ParamKey = 0
	KeyALPN          ParamKey = 1
	KeyNoDefaultALPN ParamKey = 2
	KeyPort          ParamKey = 3
	KeyIPv4Hint      ParamKey = 4
	KeyECH           ParamKey = 5
	KeyIPv6Hint      ParamKey = 6
)

func (k ParamKey) String() string {
	switch k {
	case KeyMandatory:
		return "mandatory"
	case KeyALPN:
		return "alpn"
	case KeyNoDefaultALPN:
		return "no-default-alpn"
	case KeyPort:
		return "port"
	case KeyIPv4Hint:
		return "ipv4hint"
	case KeyECH:
		return "ech"
	case KeyIPv6Hint:
		return "ipv6hint"
	}
	return fmt.Sprintf("key%d", uint16(k)) // RFC 9460 §2.1
}

// SvcParam is a SvcParam this package does not interpret, kept as sent.
type SvcParam struct {
	Key   ParamKey
	Value []byte
}

// SVCB is the RDATA of an SVCB or HTTPS record (RFC 9460 §2.2), with the
// SvcParams of §7 decoded. A key is present when its field is non-zero
// (non-nil for ECH); a "port" of 0 is kept as 0, which no connection can
// use, so such a record is incompatible (§8).
//
// In AliasMode (Priority 0) SvcParams are ignored (§2.4.2): they are not
// decoded and the fields below Target stay empty.
type SVCB struct {
	Priority uint16 // SvcPriority: 0 is AliasMode, others ServiceMode
	Target   string // TargetName; "." means the owner name in ServiceMode (§2.5)

	Mandatory     []ParamKey   // key 0, strictly increasing
	ALPN          []string     // key 1, alpn-ids in the order given
	NoDefaultALPN bool         // key 2
	Port          uint16       // key 3
	IPv4Hint      []netip.Addr // key 4
	ECH           []byte       // key 5, the raw ECHConfigList (not used here)
	IPv6Hint      []netip.Addr // key 6
	Unknown       []SvcParam   // other keys, in increasing order
}

// AliasMode reports whether the record is in AliasMode (RFC 9460 §2.4.1).
func (s *SVCB) AliasMode() bool { return s.Priority == 0 }
