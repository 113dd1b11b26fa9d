package qlog

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Validation of the traces against the drafts themselves: the CDDL of
// draft-ietf-quic-qlog-quic-events-13 (events, PacketHeader, frames) and
// RawInfo of draft-ietf-quic-qlog-main-schema-14 are read from the RFC
// texts in ../shared/rfc, and every member an event carries must be one
// the draft defines for it, with one of the values it lists when it
// lists them.

// cddlType is one CDDL map definition: its members and, where the draft
// lists the strings a member takes, those.
type cddlType struct {
	members map[string]bool
	values  map[string]map[string]bool
	// refs names the type of a member that refers to another
	// definition (e.g. key_type: $KeyType), resolved in enums.
	refs map[string]string
}

// cddlSchema is what the drafts define.
type cddlSchema struct {
	maps map[string]*cddlType // by lower-case name without '_' or '$'
	// enums are the string-only choice types (KeyType, PacketType,
	// StreamState, …) by the same key.
	enums  map[string]map[string]bool
	frames map[string]*cddlType // frame definitions by frame_type
}

// sharedRFC finds ../shared/rfc/name from the package directory's
// parents, or skips the test.
func sharedRFC(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "rfc", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skipf("%s not found in shared/rfc of any parent directory", name)
		}
		dir = parent
	}
}

func schemaKey(name string) string {
	return strings.ToLower(strings.NewReplacer("_", "", "$", "").Replace(name))
}

var (
	cddlMapStart = regexp.MustCompile(`^\s*\$?([A-Za-z][A-Za-z0-9]*)\s*/?=\s*\{\s*$`)
	cddlChoice   = regexp.MustCompile(`^\s*(\$?[A-Za-z][A-Za-z0-9]*)\s*/?=\s*(.*)$`)
	cddlMember   = regexp.MustCompile(`^\s*\??\s*([a-z][a-z0-9_]*)\s*:\s*(.*)$`)
	cddlQuoted   = regexp.MustCompile(`"([^"]*)"`)
	cddlRef      = regexp.MustCompile(`^\$?[A-Z][A-Za-z0-9]*$`)
)

// parseCDDL reads the CDDL definitions of an RFC text into s.
func (s *cddlSchema) parseCDDL(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		// Page breaks: form feeds, running headers and footers.
		if strings.HasPrefix(l, "\f") || strings.HasPrefix(l, "Marx, et al.") || strings.HasPrefix(l, "Internet-Draft") {
			continue
		}
		if i := strings.Index(l, ";"); i >= 0 && !strings.Contains(l[:i], `"`) {
			l = l[:i] // a CDDL comment
		}
		lines = append(lines, l)
	}
	choices := map[string][]string{} // choice type → alternatives (strings and type names)
	for i := 0; i < len(lines); i++ {
		if m := cddlMapStart.FindStringSubmatch(lines[i]); m != nil {
			typ := &cddlType{members: map[string]bool{}, values: map[string]map[string]bool{}, refs: map[string]string{}}
			depth, member := 1, ""
			for i++; i < len(lines) && depth > 0; i++ {
				l := lines[i]
				if depth == 1 {
					if mm := cddlMember.FindStringSubmatch(l); mm != nil {
						member = mm[1]
						typ.members[member] = true
						s.memberValues(typ, member, mm[2])
					} else if strings.HasPrefix(strings.TrimSpace(l), `"`) && member != "" {
						s.memberValues(typ, member, l) // more alternatives
					}
				}
				depth += strings.Count(l, "{") - strings.Count(l, "}")
			}
			i--
			if ft := typ.values["frame_type"]; len(ft) == 1 {
				for name := range ft {
					s.frames[name] = typ
				}
			}
			key := schemaKey(m[1])
			if old := s.maps[key]; old != nil {
				for k := range typ.members { // $X /= { … } extends
					old.members[k] = true
				}
			} else {
				s.maps[key] = typ
			}
			continue
		}
		if m := cddlChoice.FindStringSubmatch(lines[i]); m != nil && !strings.Contains(m[2], "{") {
			// Alternatives go on while a line ends with "/" (comment
			// lines between them are blank now); an empty right-hand
			// side starts on the next line.
			rhs := strings.TrimSpace(m[2])
			for i+1 < len(lines) && (rhs == "" || strings.HasSuffix(rhs, "/")) {
				i++
				if l := strings.TrimSpace(lines[i]); l != "" {
					rhs += " " + l
				}
			}
			alts := splitAlternatives(rhs)
			key := schemaKey(m[1])
			choices[key] = append(choices[key], alts...)
		}
	}
	for key := range choices {
		if vals, ok := resolveChoice(choices, key, 0); ok {
			s.enums[key] = vals
		}
	}
}

// memberValues notes the quoted alternatives of a member's type, or the
// type it refers to.
func (s *cddlSchema) memberValues(typ *cddlType, member, rhs string) {
	for _, q := range cddlQuoted.FindAllStringSubmatch(rhs, -1) {
		if typ.values[member] == nil {
			typ.values[member] = map[string]bool{}
		}
		typ.values[member][q[1]] = true
	}
	if r := strings.TrimSpace(rhs); cddlRef.MatchString(r) {
		typ.refs[member] = schemaKey(r)
	}
}

// splitAlternatives splits `"a" / "b" / Name` into its parts.
func splitAlternatives(rhs string) []string {
	var out []string
	for _, p := range strings.Split(rhs, "/") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// resolveChoice returns the strings a choice type allows, and false if it
// allows anything else (a number, a pattern, a map).
func resolveChoice(choices map[string][]string, key string, depth int) (map[string]bool, bool) {
	if depth > 8 {
		return nil, false
	}
	out := map[string]bool{}
	for _, alt := range choices[key] {
		if q := cddlQuoted.FindStringSubmatch(alt); q != nil && q[0] == alt {
			out[q[1]] = true
			continue
		}
		if !cddlRef.MatchString(alt) {
			return nil, false
		}
		sub, ok := resolveChoice(choices, schemaKey(alt), depth+1)
		if !ok || len(sub) == 0 {
			return nil, false
		}
		for v := range sub {
			out[v] = true
		}
	}
	return out, len(out) > 0
}

// loadSchema reads both drafts.
func loadSchema(t *testing.T) *cddlSchema {
	t.Helper()
	s := &cddlSchema{maps: map[string]*cddlType{}, enums: map[string]map[string]bool{}, frames: map[string]*cddlType{}}
	s.parseCDDL(t, sharedRFC(t, "draft-ietf-quic-qlog-quic-events-13.txt"))
	s.parseCDDL(t, sharedRFC(t, "draft-ietf-quic-qlog-main-schema-14.txt"))
	for _, name := range []string{"QUICPacketSent", "QUICPacketLost", "QUICRecoveryMetricsUpdated", "PacketHeader", "RawInfo", "QUICKeyUpdated"} {
		if s.maps[schemaKey(name)] == nil {
			t.Fatalf("the drafts' CDDL did not parse: no %s", name)
		}
	}
	if len(s.frames) < 20 || len(s.enums[schemaKey("KeyType")]) != 8 {
		t.Fatalf("the drafts' CDDL did not parse: %d frame types, KeyType %v", len(s.frames), s.enums[schemaKey("KeyType")])
	}
	return s
}

// Extensions skiff logs, which the drafts allow but do not name.
var (
	// §7.2: "the recovery_metrics_updated event can contain any number
	// of unspecified fields": BBR's model, and the connection's counters
	// in the last event.
	metricsExtensions = regexp.MustCompile(`^(bbr_[a-z_]+|packets_(sent|received|lost|acked)|spurious_losses|bytes_(sent|received)|datagrams_(sent|received)|key_updates)$`)
	// draft-ietf-quic-ack-frequency-14 frames, which qlog does not
	// define yet.
	extensionFrames = map[string]map[string]bool{
		"immediate_ack": {"frame_type": true},
		"ack_frequency": {"frame_type": true, "sequence_number": true, "ack_eliciting_threshold": true, "request_max_ack_delay": true, "reordering_threshold": true},
	}
)

// validate checks every event record against the drafts: it returns
// what does not conform, and how many members it checked.
func (s *cddlSchema) validate(recs []map[string]any) (problems []string, checked int) {
	for i, r := range recs {
		name, _ := r["name"].(string)
		ev, ok := strings.CutPrefix(name, "quic:")
		if !ok {
			problems = append(problems, fmt.Sprintf("record %d: event %q is not a quic event", i, name))
			continue
		}
		typ := s.maps[schemaKey("QUIC"+ev)]
		if typ == nil {
			problems = append(problems, fmt.Sprintf("record %d: the draft defines no event %q", i, name))
			continue
		}
		data, _ := r["data"].(map[string]any)
		extra := func(k string) bool { return ev == "recovery_metrics_updated" && metricsExtensions.MatchString(k) }
		checked += s.check(&problems, name, typ, data, extra)
	}
	return problems, checked
}

// mustConform fails the test if any record does not conform to the
// drafts, and returns how many members were checked.
func (s *cddlSchema) mustConform(t *testing.T, recs []map[string]any) int {
	t.Helper()
	problems, checked := s.validate(recs)
	for _, p := range problems {
		t.Error(p)
	}
	return checked
}

// check validates one object against its definition.
func (s *cddlSchema) check(problems *[]string, where string, typ *cddlType, obj map[string]any, extra func(string) bool) int {
	n := 0
	for k, v := range obj {
		n++
		if !typ.members[k] && (extra == nil || !extra(k)) {
			*problems = append(*problems, fmt.Sprintf("%s: member %q is not in the draft's definition", where, k))
			continue
		}
		if str, ok := v.(string); ok {
			allowed := typ.values[k]
			if allowed == nil {
				allowed = s.enums[typ.refs[k]]
			}
			if allowed != nil && !allowed[str] {
				*problems = append(*problems, fmt.Sprintf("%s: %s %q is not one of the draft's values", where, k, str))
			}
		}
		sub, _ := v.(map[string]any)
		switch k {
		case "header":
			n += s.check(problems, where+".header", s.maps[schemaKey("PacketHeader")], sub, nil)
		case "raw":
			n += s.check(problems, where+".raw", s.maps[schemaKey("RawInfo")], sub, nil)
		case "token":
			n += s.check(problems, where+".token", s.maps[schemaKey("Token")], sub, nil)
		case "frames":
			list, _ := v.([]any)
			for _, fv := range list {
				f, _ := fv.(map[string]any)
				ft, _ := f["frame_type"].(string)
				if ext := extensionFrames[ft]; ext != nil {
					n += s.check(problems, where+"."+ft, &cddlType{members: ext}, f, nil)
					continue
				}
				ftyp := s.frames[ft]
				if ftyp == nil {
					*problems = append(*problems, fmt.Sprintf("%s: frame_type %q is not in the draft", where, ft))
					continue
				}
				n += s.check(problems, where+"."+ft, ftyp, f, nil)
			}
		}
	}
	return n
}

// TestSchemaParser: the reading of the drafts finds what they define.
func TestSchemaParser(t *testing.T) {
	s := loadSchema(t)
	lost := s.maps[schemaKey("QUICPacketLost")]
	for _, m := range []string{"header", "frames", "is_mtu_probe_packet", "trigger"} {
		if !lost.members[m] {
			t.Errorf("packet_lost has no %s: %v", m, lost.members)
		}
	}
	if v := lost.values["trigger"]; !v["time_threshold"] || !v["reordering_threshold"] || !v["pto_expired"] || len(v) != 3 {
		t.Errorf("packet_lost triggers %v", v)
	}
	if f := s.frames["stream"]; f == nil || !f.members["stream_id"] || !f.members["fin"] {
		t.Errorf("stream frame %v", f)
	}
	if side := s.maps[schemaKey("QUICStreamStateUpdated")].values["stream_side"]; len(side) != 2 {
		t.Errorf("stream_side values %v", side)
	}
	if st := s.enums[schemaKey("$StreamState")]; !st["open"] || !st["closed"] || !st["reset_sent"] {
		t.Errorf("StreamState %v", st)
	}
}

// TestSchemaCatchesMistakes: the validation rejects a member the draft
// does not define, a value it does not list, and an unknown frame.
func TestSchemaCatchesMistakes(t *testing.T) {
	s := loadSchema(t)
	for _, bad := range []map[string]any{
		{"name": "quic:packet_lost", "data": map[string]any{"header": map[string]any{"packet_type": "1RTT", "pn": 1.0}}},
		{"name": "quic:packet_lost", "data": map[string]any{"trigger": "timeout"}},
		{"name": "quic:packet_sent", "data": map[string]any{"frames": []any{map[string]any{"frame_type": "acknowledgment"}}}},
		{"name": "quic:packet_sent", "data": map[string]any{"frames": []any{map[string]any{"frame_type": "stream", "length": 3.0}}}},
		{"name": "quic:stream_state_updated", "data": map[string]any{"new": "opened"}},
		{"name": "quic:key_updated", "data": map[string]any{"key_type": "client_secret"}},
		{"name": "quic:packet_exploded", "data": map[string]any{}},
	} {
		if problems, _ := s.validate([]map[string]any{bad}); len(problems) == 0 {
			t.Errorf("%v passed", bad)
		}
	}
}
