package wire

import (
	"encoding/binary"
	"time"
)

// Append appends the encoded parameters to b (RFC 9000 §18). Integer
// parameters equal to their default, and absent optional ones, are left out.
//
// When grease is not zero, a reserved parameter of identifier 31*N+27
// (RFC 9000 §18.1) is added, with N and a 0-15 byte value derived from
// grease, so that peers keep ignoring unknown parameters; pass a random
// value to vary it between connections.
func (p *TransportParameters) Append(b []byte, grease uint64) []byte {
	if grease != 0 {
		b = appendGreaseParameter(b, grease)
	}
	b = appendCIDParameter(b, tpOriginalDestinationConnectionID, p.OriginalDestinationConnectionID)
	b = appendIntParameter(b, tpMaxIdleTimeout, uint64(p.MaxIdleTimeout/time.Millisecond), 0)
	if p.StatelessResetToken != nil {
		b = appendBytesParameter(b, tpStatelessResetToken, p.StatelessResetToken[:])
	}
	b = appendIntParameter(b, tpMaxUDPPayloadSize, p.MaxUDPPayloadSize, DefaultMaxUDPPayloadSize)
	b = appendIntParameter(b, tpInitialMaxData, p.InitialMaxData, 0)
	b = appendIntParameter(b, tpInitialMaxStreamDataBidiLocal, p.InitialMaxStreamDataBidiLocal, 0)
	b = appendIntParameter(b, tpInitialMaxStreamDataBidiRemote, p.InitialMaxStreamDataBidiRemote, 0)
	b = appendIntParameter(b, tpInitialMaxStreamDataUni, p.InitialMaxStreamDataUni, 0)
	b = appendIntParameter(b, tpInitialMaxStreamsBidi, p.InitialMaxStreamsBidi, 0)
	b = appendIntParameter(b, tpInitialMaxStreamsUni, p.InitialMaxStreamsUni, 0)
	b = appendIntParameter(b, tpAckDelayExponent, uint64(p.AckDelayExponent), DefaultAckDelayExponent)
	b = appendIntParameter(b, tpMaxAckDelay, uint64(p.MaxAckDelay/time.Millisecond), uint64(DefaultMaxAckDelay/time.Millisecond))
	if p.DisableActiveMigration {
		b = appendBytesParameter(b, tpDisableActiveMigration, nil)
	}
	if pa := p.PreferredAddress; pa != nil {
		b = AppendVarint(b, tpPreferredAddress)
		b = AppendVarint(b, uint64(4+2+16+2+1+pa.ConnectionID.Len()+StatelessResetTokenLen))
		// An unset family is sent as an all-zero address and port.
		var v4 [4]byte
		if a := pa.IPv4.Addr(); a.Is4() {
			v4 = a.As4()
		}
		b = append(b, v4[:]...)
		b = binary.BigEndian.AppendUint16(b, pa.IPv4.Port())
		var v6 [16]byte
		if a := pa.IPv6.Addr(); a.IsValid() {
			v6 = a.As16()
		}
		b = append(b, v6[:]...)
		b = binary.BigEndian.AppendUint16(b, pa.IPv6.Port())
		b = append(b, byte(pa.ConnectionID.Len()))
		b = append(b, pa.ConnectionID.Bytes()...)
		b = append(b, pa.StatelessResetToken[:]...)
	}
	b = appendIntParameter(b, tpActiveConnectionIDLimit, p.ActiveConnectionIDLimit, DefaultActiveConnectionIDLimit)
	b = appendCIDParameter(b, tpInitialSourceConnectionID, p.InitialSourceConnectionID)
	b = appendCIDParameter(b, tpRetrySourceConnectionID, p.RetrySourceConnectionID)
	b = appendIntParameter(b, tpMaxDatagramFrameSize, p.MaxDatagramFrameSize, 0)
	if vi := p.VersionInformation; vi != nil {
		b = AppendVarint(b, tpVersionInformation)
		b = AppendVarint(b, uint64(4+4*len(vi.AvailableVersions)))
		b = binary.BigEndian.AppendUint32(b, uint32(vi.ChosenVersion))
		for _, v := range vi.AvailableVersions {
			b = binary.BigEndian.AppendUint32(b, uint32(v))
		}
	}
	if p.GreaseQUICBit {
		b = appendBytesParameter(b, tpGreaseQUICBit, nil)
	}
	if p.HasMinAckDelay {
		v := uint64(p.MinAckDelay / time.Microsecond)
		b = AppendVarint(b, tpMinAckDelay)
		b = AppendVarint(b, uint64(VarintLen(v)))
		b = AppendVarint(b, v)
	}
	return b
}

func appendIntParameter(b []byte, id, v, def uint64) []byte {
	if v == def {
		return b
	}
	b = AppendVarint(b, id)
	b = AppendVarint(b, uint64(VarintLen(v)))
	return AppendVarint(b, v)
}

func appendBytesParameter(b []byte, id uint64, v []byte) []byte {
	b = AppendVarint(b, id)
	b = AppendVarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendCIDParameter(b []byte, id uint64, c *ConnectionID) []byte {
	if c == nil {
		return b
	}
	return appendBytesParameter(b, id, c.Bytes())
}

// appendGreaseParameter writes a reserved parameter derived from seed.
func appendGreaseParameter(b []byte, seed uint64) []byte {
	// splitmix64 steps spread the seed's bits over the identifier and
	// the value.
	next := func() uint64 {
		seed += 0x9e3779b97f4a7c15
		z := seed
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		return z ^ z>>31
	}
	r := next()
	// RFC 9000 §18.1: identifiers 31*N+27; keep N small enough that the
	// identifier stays a varint.
	n := r >> 36 // below 2^28
	length := int(r & 0x0f)
	b = AppendVarint(b, 31*n+27)
	b = AppendVarint(b, uint64(length))
	var v [16]byte
	binary.LittleEndian.PutUint64(v[:], next())
	binary.LittleEndian.PutUint64(v[8:], next())
	return append(b, v[:length]...)
}
