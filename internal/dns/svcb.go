package dns

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
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

// parseSVCB decodes SVCB or HTTPS RDATA (RFC 9460 §2.2) and checks the
// format of each SvcParamValue it knows (§7). It does not check that the
// params agree with each other: that makes one record unusable, not the
// whole RRset (§2.4.3), so Lookup decides it with consistent.
func parseSVCB(rdata []byte) (SVCB, error) {
	var s SVCB
	if len(rdata) < 3 {
		return s, &ParseError{Reason: "SVCB RDATA shorter than a priority and a name"}
	}
	s.Priority = binary.BigEndian.Uint16(rdata)
	// The TargetName is uncompressed (§2.2): read from a slice that
	// starts with it, any compression pointer is rejected.
	target, n, err := readName(rdata[2:], 0)
	if err != nil {
		return s, err
	}
	s.Target = target
	off := 2 + n
	if s.AliasMode() {
		return s, nil // §2.4.2: recipients MUST ignore SvcParams in AliasMode
	}
	prev := -1
	for off < len(rdata) {
		if off+4 > len(rdata) {
			return s, &SVCBError{Key: ParamKey(prev + 1), Reason: "RDATA ends within a SvcParam"}
		}
		key := ParamKey(binary.BigEndian.Uint16(rdata[off:]))
		n := int(binary.BigEndian.Uint16(rdata[off+2:]))
		off += 4
		if off+n > len(rdata) {
			return s, &SVCBError{Key: key, Reason: "RDATA ends within a SvcParam"}
		}
		if int(key) <= prev {
			return s, &SVCBError{Key: key, Reason: "SvcParamKeys not in strictly increasing order"}
		}
		prev = int(key)
		if err := s.setParam(key, rdata[off:off+n]); err != nil {
			return s, err
		}
		off += n
	}
	return s, nil
}

// setParam decodes one SvcParamValue (RFC 9460 §7, §8).
func (s *SVCB) setParam(key ParamKey, v []byte) error {
	bad := func(reason string) error { return &SVCBError{Key: key, Reason: reason} }
	switch key {
	case KeyMandatory:
		// §8: one or more keys, in strictly increasing order on the wire.
		if len(v) == 0 || len(v)%2 != 0 {
			return bad("value is not a non-empty list of 2-octet keys")
		}
		for i := 0; i < len(v); i += 2 {
			k := ParamKey(binary.BigEndian.Uint16(v[i:]))
			if i > 0 && k <= s.Mandatory[len(s.Mandatory)-1] {
				return bad("keys not in strictly increasing order")
			}
			s.Mandatory = append(s.Mandatory, k)
		}
	case KeyALPN:
		// §7.1.1: one or more length-prefixed alpn-ids of 1 to 255 octets
		// that exactly fill the value.
		if len(v) == 0 {
			return bad("empty value")
		}
		for len(v) > 0 {
			n := int(v[0])
			if n == 0 || 1+n > len(v) {
				return bad("alpn-ids do not exactly fill the value")
			}
			s.ALPN = append(s.ALPN, string(v[1:1+n]))
			v = v[1+n:]
		}
	case KeyNoDefaultALPN:
		if len(v) != 0 {
			return bad("value is not empty") // §7.1.1
		}
		s.NoDefaultALPN = true
	case KeyPort:
		if len(v) != 2 {
			return bad("value is not 2 octets") // §7.2
		}
		s.Port = binary.BigEndian.Uint16(v)
	case KeyIPv4Hint:
		if len(v) == 0 || len(v)%4 != 0 {
			return bad("value is not a non-empty list of IPv4 addresses") // §7.3
		}
		for i := 0; i < len(v); i += 4 {
			s.IPv4Hint = append(s.IPv4Hint, netip.AddrFrom4([4]byte(v[i:])))
		}
	case KeyIPv6Hint:
		if len(v) == 0 || len(v)%16 != 0 {
			return bad("value is not a non-empty list of IPv6 addresses") // §7.3
		}
		for i := 0; i < len(v); i += 16 {
			s.IPv6Hint = append(s.IPv6Hint, netip.AddrFrom16([16]byte(v[i:])))
		}
	case KeyECH:
		s.ECH = append([]byte{}, v...) // non-nil: present, even if empty
	default:
		s.Unknown = append(s.Unknown, SvcParam{Key: key, Value: clone(v)})
	}
	return nil
}

// consistent checks that the SvcParams of a ServiceMode record agree with
// each other ("self-consistent", RFC 9460 §2.4.3): a record that fails
// is ignored, the rest of its RRset is still used.
func (s *SVCB) consistent() error {
	if s.NoDefaultALPN && len(s.ALPN) == 0 {
		return &SVCBError{Key: KeyNoDefaultALPN, Reason: `present without "alpn"`} // §7.1.1
	}
	for _, k := range s.Mandatory {
		if k == KeyMandatory {
			return &SVCBError{Key: KeyMandatory, Reason: "lists itself"} // §8
		}
		if !s.has(k) {
			return &SVCBError{Key: KeyMandatory, Reason: "lists " + k.String() + ", which is absent"} // §8
		}
	}
	return nil
}

// compatible reports whether this client understands every mandatory key
// (RFC 9460 §8). "port" and "no-default-alpn" are automatically mandatory
// for HTTPS (§9) and understood. "ech" is not: this package keeps its
// value but skiff does not use Encrypted ClientHello, so a record that
// makes it mandatory cannot be honoured.
func (s *SVCB) compatible() bool {
	for _, k := range s.Mandatory {
		switch k {
		case KeyALPN, KeyNoDefaultALPN, KeyPort, KeyIPv4Hint, KeyIPv6Hint:
		default:
			return false
		}
	}
	return true
}

// has reports whether the SvcParam with key k is present.
func (s *SVCB) has(k ParamKey) bool {
	switch k {
	case KeyMandatory:
		return len(s.Mandatory) > 0
	case KeyALPN:
		return len(s.ALPN) > 0
	case KeyNoDefaultALPN:
		return s.NoDefaultALPN
	case KeyPort:
		return s.Port != 0
	case KeyIPv4Hint:
		return len(s.IPv4Hint) > 0
	case KeyECH:
		return s.ECH != nil
	case KeyIPv6Hint:
		return len(s.IPv6Hint) > 0
	}
	for _, p := range s.Unknown {
		if p.Key == k {
			return true
		}
	}
	return false
}

// appendRData appends the wire form (RFC 9460 §2.2), keys in increasing
// order. Unknown params may use any key the fields above do not set.
func (s *SVCB) appendRData(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, s.Priority)
	b, err := appendName(b, s.Target)
	if err != nil {
		return nil, err
	}
	params := slices.Clone(s.Unknown)
	add := func(k ParamKey, v []byte) { params = append(params, SvcParam{Key: k, Value: v}) }
	if len(s.Mandatory) > 0 {
		var v []byte
		for _, k := range s.Mandatory {
			v = binary.BigEndian.AppendUint16(v, uint16(k))
		}
		add(KeyMandatory, v)
	}
	if len(s.ALPN) > 0 {
		var v []byte
		for _, id := range s.ALPN {
			if len(id) == 0 || len(id) > 255 {
				return nil, fmt.Errorf("%w: alpn-id of %d octets", errEncode, len(id))
			}
			v = append(append(v, byte(len(id))), id...)
		}
		add(KeyALPN, v)
	}
	if s.NoDefaultALPN {
		add(KeyNoDefaultALPN, []byte{})
	}
	if s.Port != 0 {
		add(KeyPort, binary.BigEndian.AppendUint16(nil, s.Port))
	}
	if hints, err := appendAddrs(s.IPv4Hint, 4); err != nil {
		return nil, err
	} else if hints != nil {
		add(KeyIPv4Hint, hints)
	}
	if s.ECH != nil {
		add(KeyECH, s.ECH)
	}
	if hints, err := appendAddrs(s.IPv6Hint, 16); err != nil {
		return nil, err
	} else if hints != nil {
		add(KeyIPv6Hint, hints)
	}
	slices.SortStableFunc(params, func(a, b SvcParam) int { return cmp.Compare(a.Key, b.Key) })
	for i, p := range params {
		if i > 0 && p.Key == params[i-1].Key {
			return nil, fmt.Errorf("%w: SvcParamKey %s twice", errEncode, p.Key)
		}
		if len(p.Value) > 0xFFFF {
			return nil, fmt.Errorf("%w: SvcParamValue longer than 65535 octets", errEncode)
		}
		b = binary.BigEndian.AppendUint16(b, uint16(p.Key))
		b = binary.BigEndian.AppendUint16(b, uint16(len(p.Value)))
		b = append(b, p.Value...)
	}
	return b, nil
}

// appendAddrs returns the hint list of one family, size 4 or 16 octets.
func appendAddrs(addrs []netip.Addr, size int) ([]byte, error) {
	var v []byte
	for _, a := range addrs {
		if size == 4 && !a.Is4() || size == 16 && !a.Is6() {
			return nil, fmt.Errorf("%w: hint %s of the wrong family", errEncode, a)
		}
		v = append(v, a.AsSlice()...)
	}
	return v, nil
}
