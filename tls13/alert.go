package tls13

import (
	"strconv"
	"strings"
)

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

// String returns the alert's name as RFC 8446 §6 spells it
// ("unknown_ca"), or its number when it has none.
func (a AlertError) String() string {
	if s, ok := alertNames[a]; ok {
		return s
	}
	return strconv.Itoa(int(a))
}

func (a AlertError) Error() string { return "tls13: alert " + a.String() }

// QUICErrorCode is the QUIC transport error code that carries this alert:
// CRYPTO_ERROR 0x100 + alert (RFC 9001 §4.8).
func (a AlertError) QUICErrorCode() uint64 { return 0x100 + uint64(a) }

// AlertFromQUICErrorCode returns the alert a CRYPTO_ERROR transport error
// code (0x100-0x1ff, RFC 9001 §4.8) carries; ok is false for other codes.
func AlertFromQUICErrorCode(code uint64) (alert AlertError, ok bool) {
	if code < 0x100 || code > 0x1ff {
		return 0, false
	}
	return AlertError(code - 0x100), true
}

// PeerAlertError is an alert the peer sent, as opposed to one this side
// raised. In QUIC alerts are not sent as records: the peer closes the
// connection with CRYPTO_ERROR 0x100+alert (RFC 9001 §4.8), so tls13 never
// returns this error itself; QUIC builds it from the peer's
// CONNECTION_CLOSE (see AlertFromQUICErrorCode). errors.As finds the
// AlertError through it as through a local alert; errors.As to
// *PeerAlertError tells who raised it.
type PeerAlertError struct {
	Alert AlertError
	// Reason is the peer's reason phrase, if it sent one.
	Reason string
}

func (e *PeerAlertError) Error() string {
	msg := "tls13: peer sent alert " + e.Alert.String()
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

func (e *PeerAlertError) Unwrap() error { return e.Alert }

// alertErr is a fatal error raised on this side: the alert that QUIC sends
// (errors.As finds the AlertError) and, when another error caused it, that
// error too (an x509 error, a hook's error), so that the cause survives.
type alertErr struct {
	alert  AlertError
	reason string
	cause  error
}

func (e *alertErr) Error() string {
	msg := e.reason
	if e.cause != nil {
		if msg != "" {
			msg += ": "
		}
		msg += causeText(e.cause)
	}
	return "tls13: " + msg + " (alert " + e.alert.String() + ")"
}

func (e *alertErr) Unwrap() []error {
	if e.cause == nil {
		return []error{e.alert}
	}
	return []error{e.alert, e.cause}
}

// alertf is a local fatal error with a reason for the logs.
func alertf(a AlertError, reason string) error { return &alertErr{alert: a, reason: reason} }

// alertCause is a local fatal error caused by err, which errors.As finds.
func alertCause(a AlertError, reason string, err error) error {
	return &alertErr{alert: a, reason: reason, cause: err}
}

// causeText is an error's text without the package prefix that the
// "tls13: " of the wrapping message replaces ("x509: ", "tls13: ").
func causeText(err error) string {
	s := err.Error()
	for _, p := range []string{"x509: ", "tls13: "} {
		if strings.HasPrefix(s, p) {
			return s[len(p):]
		}
	}
	return s
}
