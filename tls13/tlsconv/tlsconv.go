package tlsconv

import (
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/skiffnet/skiff/tls13"
)

// FromConfig returns a tls13.Config with the settings of c that mean the
// same in TLS 1.3 over QUIC (see the package documentation). It rejects
// what tls13 cannot honour with an error naming each such field, joined
// with errors.Join. The result shares c's pools, hooks and writers.
func FromConfig(c *tls.Config) (*tls13.Config, error) {
	if c == nil {
		return nil, errors.New("tlsconv: nil *tls.Config")
	}
	var errs []error
	reject := func(field, why string) {
		errs = append(errs, fmt.Errorf("tlsconv: tls.Config.%s: %s", field, why))
	}
	if c.MinVersion > tls.VersionTLS13 {
		reject("MinVersion", fmt.Sprintf("0x%04x is above TLS 1.3, the only version tls13 speaks", c.MinVersion))
	}
	if c.MaxVersion != 0 && c.MaxVersion < tls.VersionTLS13 {
		reject("MaxVersion", fmt.Sprintf("0x%04x excludes TLS 1.3, which QUIC requires (RFC 9001 §4.2)", c.MaxVersion))
	}
	if c.Renegotiation != tls.RenegotiateNever {
		reject("Renegotiation", "TLS 1.3 has no renegotiation")
	}
	if c.ClientSessionCache != nil {
		reject("ClientSessionCache", "holds crypto/tls sessions; set tls13.Config.ClientSessionCache (tls13.NewLRUClientSessionCache) on the result instead")
	}
	if c.WrapSession != nil || c.UnwrapSession != nil {
		reject("WrapSession/UnwrapSession", "custom ticket encryption is not implemented by tls13")
	}
	if c.GetConfigForClient != nil {
		reject("GetConfigForClient", "per-client configs are not implemented by tls13; use GetCertificate")
	}
	//lint:ignore SA1019 read to reject it rather than drop it
	if len(c.NameToCertificate) > 0 {
		reject("NameToCertificate", "deprecated; put the certificates in Certificates, which tls13 selects by server name")
	}
	if len(c.EncryptedClientHelloConfigList) > 0 || c.EncryptedClientHelloRejectionVerify != nil ||
		c.GetEncryptedClientHelloKeys != nil || len(c.EncryptedClientHelloKeys) > 0 {
		reject("EncryptedClientHello*", "Encrypted Client Hello is not implemented by tls13")
	}

	out := &tls13.Config{
		Rand:                   c.Rand,
		Time:                   c.Time,
		RootCAs:                c.RootCAs,
		ClientCAs:              c.ClientCAs,
		ServerName:             c.ServerName,
		NextProtos:             c.NextProtos,
		InsecureSkipVerify:     c.InsecureSkipVerify,
		VerifyPeerCertificate:  c.VerifyPeerCertificate,
		KeyLogWriter:           c.KeyLogWriter,
		SessionTicketsDisabled: c.SessionTicketsDisabled,
	}
	switch c.ClientAuth {
	case tls.NoClientCert:
		out.ClientAuth = tls13.NoClientCert
	case tls.RequestClientCert:
		out.ClientAuth = tls13.RequestClientCert
	case tls.RequireAnyClientCert:
		out.ClientAuth = tls13.RequireAnyClientCert
	case tls.VerifyClientCertIfGiven:
		out.ClientAuth = tls13.VerifyClientCertIfGiven
	case tls.RequireAndVerifyClientCert:
		out.ClientAuth = tls13.RequireAndVerifyClientCert
	default:
		reject("ClientAuth", fmt.Sprintf("unknown policy %d", int(c.ClientAuth)))
	}
	for i, cert := range c.Certificates {
		tc, err := FromCertificate(cert)
		if err != nil {
			reject(fmt.Sprintf("Certificates[%d]", i), err.Error())
			continue
		}
		out.Certificates = append(out.Certificates, tc)
	}
	for i, g := range c.CurvePreferences {
		id := tls13.CurveID(g)
		if !supportedGroup(id) {
			reject(fmt.Sprintf("CurvePreferences[%d]", i), fmt.Sprintf("%v is not implemented by tls13", g))
			continue
		}
		out.CurvePreferences = append(out.CurvePreferences, id)
	}
	//lint:ignore SA1019 still honoured by crypto/tls, so carried over
	if key := c.SessionTicketKey; key != ([32]byte{}) {
		out.SessionTicketKeys = [][32]byte{key}
	}
	if c.GetCertificate != nil {
		out.GetCertificate = wrapGetCertificate(c.GetCertificate)
	}
	if c.GetClientCertificate != nil {
		out.GetClientCertificate = wrapGetClientCertificate(c.GetClientCertificate)
	}
	if c.VerifyConnection != nil {
		verify := c.VerifyConnection
		out.VerifyConnection = func(cs tls13.ConnectionState) error { return verify(ToConnectionState(cs)) }
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// supportedGroup reports whether tls13 implements a group.
func supportedGroup(g tls13.CurveID) bool {
	switch g {
	case tls13.X25519, tls13.CurveP256, tls13.CurveP384, tls13.CurveP521,
		tls13.X25519MLKEM768, tls13.SecP256r1MLKEM768, tls13.SecP384r1MLKEM1024:
		return true
	}
	return false
}
