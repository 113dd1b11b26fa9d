package qlog

import (
	"net/netip"
	"time"
)

// Path events (quic-events draft-13 §4.8, §5.20).
const (
	eventMigrationStateUpdated = "quic:migration_state_updated"
	eventMTUUpdated            = "quic:mtu_updated"
)

// migrationState logs migration_state_updated (§5.20) with the path's
// local and remote addresses as TupleEndpointInfo.
func (s *seqWriter) migrationState(state string, local, remote netip.AddrPort) {
	if s.done || s.err != nil {
		return
	}
	b := s.beginEvent(time.Now(), eventMigrationStateUpdated)
	b = append(b, `"new":`...)
	b = appendString(b, state)
	b = appendTupleEndpoint(b, "tuple_local", local)
	b = appendTupleEndpoint(b, "tuple_remote", remote)
	s.endEvent(b)
}

// appendTupleEndpoint appends a TupleEndpointInfo field (§4.7): ip_v4 or
// ip_v6 and its port.
func appendTupleEndpoint(b []byte, name string, a netip.AddrPort) []byte {
	if !a.IsValid() {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, `":{`...)
	ip, port := "ip_v4", "port_v4"
	if a.Addr().Is6() && !a.Addr().Is4In6() {
		ip, port = "ip_v6", "port_v6"
	}
	b = append(b, '"')
	b = append(b, ip...)
	b = append(b, `":`...)
	b = appendString(b, a.Addr().Unmap().String())
	b = appendUintField(b, port, uint64(a.Port()), false)
	return append(b, '}')
}

// mtuUpdated logs mtu_updated (§4.8).
func (s *seqWriter) mtuUpdated(old, new int, done bool) {
	if s.done || s.err != nil {
		return
	}
	b := s.beginEvent(time.Now(), eventMTUUpdated)
	if old > 0 {
		b = appendUintField(b, "old", uint64(old), true)
		b = appendUintField(b, "new", uint64(max(new, 0)), false)
	} else {
		b = appendUintField(b, "new", uint64(max(new, 0)), true)
	}
	if done {
		b = append(b, `,"done":true`...)
	}
	s.endEvent(b)
}
