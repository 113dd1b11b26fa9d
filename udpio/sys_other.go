//go:build !linux

package udpio

import (
	"net"
	"net/netip"
)

// sysConn has no batched path on this system: every Conn takes the portable
// path over net.UDPConn. The methods exist for the compiler and are never
// reached, since New leaves Conn.sys nil.
type sysConn struct{}

func newSysConn(*net.UDPConn, bool, Options) (*sysConn, Capabilities, error) {
	return nil, Capabilities{}, nil
}

func (*sysConn) readBatch([]Message, netip.Addr) (int, error)            { return 0, net.ErrClosed }
func (*sysConn) readBatches([]Message, netip.Addr, func(int) bool) error { return net.ErrClosed }
func (*sysConn) writeBatch([]Message, bool) (int, error)                 { return 0, net.ErrClosed }
func (*sysConn) gsoEnabled() bool                                        { return false }
func (*sysConn) stats() Stats                                            { return Stats{} }
