package dns

import (
	"encoding/binary"
	"strconv"
	"strings"
)

// Limits of RFC 1035 §2.3.4.
const (
	maxLabelLen = 63
	maxNameLen  = 255 // octets of the wire form, length bytes and root included
)

// CanonicalName returns name as an absolute name in lower case: the form
// in which this package compares names (RFC 4343: ASCII case does not
// matter). "" is the root, ".".
func CanonicalName(name string) string {
	name = strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, name)
	return absolute(name)
}

// absolute adds the trailing dot a relative name lacks; the resolver has no
// search list, so every name it is given is taken as absolute.
func absolute(name string) string {
	if name == "" {
		return "."
	}
	if !strings.HasSuffix(name, ".") {
		return name + "."
	}
	// The final dot ends the name unless an odd run of backslashes
	// escapes it: `a\.` is one label, "a.", not yet ended.
	n := 0
	for i := len(name) - 2; i >= 0 && name[i] == '\\'; i-- {
		n++
	}
	if n%2 == 1 {
		return name + "."
	}
	return name
}

// sameName reports whether two names are equal, ignoring ASCII case.
func sameName(a, b string) bool { return CanonicalName(a) == CanonicalName(b) }

// appendName appends the uncompressed wire form of a name in presentation
// format (RFC 1035 §5.1 escapes \X and \DDD allowed; the trailing dot is
// optional).
func appendName(b []byte, name string) ([]byte, error) {
	if name == "" || name == "." {
		return append(b, 0), nil
	}
	bad := func(reason string) error { return &ParseError{Reason: reason + " in name " + strconv.Quote(name)} }
	start := len(b)
	lenAt := len(b) // the length byte of the label being written
	b = append(b, 0)
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '.':
			n := len(b) - lenAt - 1
			if n == 0 {
				return nil, bad("empty label")
			}
			b[lenAt] = byte(n)
			lenAt = len(b)
			b = append(b, 0)
			continue
		case c == '\\' && i+3 < len(name) && isDigit(name[i+1]) && isDigit(name[i+2]) && isDigit(name[i+3]):
			v := int(name[i+1]-'0')*100 + int(name[i+2]-'0')*10 + int(name[i+3]-'0')
			if v > 255 {
				return nil, bad(`\DDD escape above 255`)
			}
			c = byte(v)
			i += 3
		case c == '\\':
			if i+1 == len(name) || isDigit(name[i+1]) {
				return nil, bad("bad escape")
			}
			c = name[i+1]
			i++
		}
		b = append(b, c)
		if len(b)-lenAt-1 > maxLabelLen {
			return nil, bad("label longer than 63 octets")
		}
	}
	// Without a trailing dot the last label is still open: close it and
	// add the root label. With one, the byte at lenAt is the root label.
	if n := len(b) - lenAt - 1; n > 0 {
		b[lenAt] = byte(n)
		b = append(b, 0)
	}
	if len(b)-start > maxNameLen {
		return nil, bad("more than 255 octets")
	}
	return b, nil
}

// readName decodes the name at off in msg and returns it in presentation
// format with the offset just after it. Each compression pointer (RFC 1035
// §4.1.4: to a prior occurrence) must point before the place the previous
// one led to, the name's start for the first, so pointers cannot loop; the
// decoded name is bounded by maxNameLen. Reading a name that must not be
// compressed from a slice that starts with it rejects every pointer, since
// none can point before offset 0.
func readName(msg []byte, off int) (string, int, error) {
	var name []byte
	next := -1   // the offset after the name where it started
	limit := off // a pointer must point before this
	wireLen := 1 // the root label
	for {
		if off >= len(msg) {
			return "", 0, &ParseError{Offset: off, Reason: "name runs past the end"}
		}
		c := int(msg[off])
		switch c & 0xC0 {
		case 0x00:
			if c == 0 {
				if next < 0 {
					next = off + 1
				}
				if len(name) == 0 {
					return ".", next, nil
				}
				return string(name), next, nil
			}
			if off+1+c > len(msg) {
				return "", 0, &ParseError{Offset: off, Reason: "label runs past the end"}
			}
			if wireLen += 1 + c; wireLen > maxNameLen {
				return "", 0, &ParseError{Offset: off, Reason: "name longer than 255 octets"}
			}
			name = appendLabel(name, msg[off+1:off+1+c])
			off += 1 + c
		case 0xC0:
			if off+2 > len(msg) {
				return "", 0, &ParseError{Offset: off, Reason: "compression pointer runs past the end"}
			}
			ptr := int(binary.BigEndian.Uint16(msg[off:]) & 0x3FFF)
			if ptr >= limit {
				return "", 0, &ParseError{Offset: off, Reason: "compression pointer does not point backwards"}
			}
			if next < 0 {
				next = off + 2
			}
			limit, off = ptr, ptr
		default: // 0x40 and 0x80: extended label types, obsolete (RFC 6891 §5)
			return "", 0, &ParseError{Offset: off, Reason: "unknown label type"}
		}
	}
}

// appendLabel appends a label and its dot in presentation format, escaping
// the dot, the backslash and bytes that are not printable ASCII.
func appendLabel(b, label []byte) []byte {
	for _, c := range label {
		switch {
		case c == '.' || c == '\\':
			b = append(b, '\\', c)
		case c <= ' ' || c >= 0x7F:
			b = append(b, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
		default:
			b = append(b, c)
		}
	}
	return append(b, '.')
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
