package tls13

import "strconv"

// AlertError is a fatal TLS alert (RFC 8446 §6). In QUIC the alert is not
// sent in a record: the connection is closed with the transport error code
// CRYPTO_ERROR, 0x100 + alert (RFC 9001 §4.8).
type AlertError uint8

// Alert descriptions used by TLS 1.3 (RFC 8446 §6 and RFC 8446 §B.2).
const (
	AlertCloseNotify                  AlertError = 0
	AlertUnexpectedMessage            AlertError = 10
	AlertBadRecordMAC                 AlertError = 20
	AlertRecordOverflow               AlertError = 22
	AlertHandshakeFailure             AlertError = 40
	AlertBadCertificate               AlertError = 42
	AlertUnsupportedCertificate       AlertError = 43
	AlertCertificateRevoked           AlertError = 44
	AlertCertificateExpired           AlertError = 45
	AlertCertificateUnknown           AlertError = 46
	AlertIllegalParameter             AlertError = 47
	AlertUnknownCA                    AlertError = 48
	AlertAccessDenied                 AlertError = 49
	AlertDecodeError                  AlertError = 50
	AlertDecryptError                 AlertError = 51
	AlertProtocolVersion              AlertError = 70
	AlertInsufficientSecurity         AlertError = 71
	AlertInternalError                AlertError = 80
	AlertInappropriateFallback        AlertError = 86
	AlertUserCanceled                 AlertError = 90
	AlertMissingExtension             AlertError = 109
	AlertUnsupportedExtension         AlertError = 110
	AlertUnrecognizedName             AlertError = 112
	AlertBadCertificateStatusResponse AlertError = 113
	AlertUnknownPSKIdentity           AlertError = 115
	AlertCertificateRequired          AlertError = 116
	AlertNoApplicationProtocol        AlertError = 120
)

var alertNames = map[AlertError]string{
	AlertCloseNotify:                  "close_notify",
	AlertUnexpectedMessage:            "unexpected_message",
	AlertBadRecordMAC:                 "bad_record_mac",
	AlertRecordOverflow:               "record_overflow",
	AlertHandshakeFailure:             "handshake_failure",
	AlertBadCertificate:               "bad_certificate",
	AlertUnsupportedCertificate:       "unsupported_certificate",
	AlertCertificateRevoked:           "certificate_revoked",
	AlertCertificateExpired:           "certificate_expired",
	AlertCertificateUnknown:           "certificate_unknown",
	AlertIllegalParameter:             "illegal_parameter",
	AlertUnknownCA:                    "unknown_ca",
	AlertAccessDenied:                 "access_denied",
	AlertDecodeError:                  "decode_error",
	AlertDecryptError:                 "decrypt_error",
	AlertProtocolVersion:              "protocol_version",
	AlertInsufficientSecurity:         "insufficient_security",
	AlertInternalError:                "internal_error",
	AlertInappropriateFallback:        "inappropriate_fallback",
	AlertUserCanceled:                 "user_canceled",
	AlertMissingExtension:             "missing_extension",
	AlertUnsupportedExtension:         "unsupported_extension",
	AlertUnrecognizedName:             "unrecognized_name",
	AlertBadCertificateStatusResponse: "bad_certificate_status_response",
	AlertUnknownPSKIdentity:           "unknown_psk_identity",
	AlertCertificateRequired:          "certificate_required",
	AlertNoApplicationProtocol:        "no_application_protocol",
}

func (a AlertError) Error() string {
	if s, ok := alertNames[a]; ok {
		return "tls13: alert " + s
	}
	return "tls13: alert " + strconv.Itoa(int(a))
}

// QUICErrorCode is the QUIC transport error code that carries this alert:
// CRYPTO_ERROR 0x100 + alert (RFC 9001 §4.8).
func (a AlertError) QUICErrorCode() uint64 { return 0x100 + uint64(a) }

// alertf wraps an alert with a reason for the local side's logs; errors.As
// still finds the AlertError.
type alertReason struct {
	alert  AlertError
	reason string
}

func (e *alertReason) Error() string { return e.alert.Error() + ": " + e.reason }
func (e *alertReason) Unwrap() error { return e.alert }

func alertf(a AlertError, reason string) error { return &alertReason{a, reason} }
