// Package headers maps between net/http's requests and responses and the
// field lists that QPACK (package qpack) compresses, as RFC 9114 §4 defines
// them for HTTP/3, and validates received field sections strictly.
//
//   - AppendRequest (client): :method, :scheme, :authority, :path (§4.3.1);
//     CONNECT with only :method and :authority (§4.4); extended CONNECT with
//     :protocol (RFC 9220) when the request's Header has a ":protocol" key.
//     Field names are lowercased, connection-specific fields dropped, TE
//     kept only as "trailers" (§4.2), Host folded into :authority, Cookie
//     split into crumbs (§4.2.1).
//   - ParseRequest (server): every rule of §4.1.2, §4.2 and §4.3 —
//     pseudo-headers first, defined, not duplicated, request ones only,
//     mandatory ones present, valid values; lowercase token field names; field values
//     without CR, LF, NUL, other controls or surrounding whitespace (RFC
//     9110 §5.5); no connection-specific field; Content-Length a single
//     non-negative integer (RFC 9110 §8.6). Cookie lines are joined with
//     "; ". The result is a Request ready to become an *http.Request.
//   - AppendResponse / ParseResponse: :status first, three digits in
//     100-599, 1xx told apart, 101 refused (§4.5), no request
//     pseudo-headers.
//   - AppendTrailers / ParseTrailers: no pseudo-headers in trailers (§4.3).
//   - FieldSectionSize: the §4.2.2 size (name + value + 32 per line) to
//     check against SETTINGS_MAX_FIELD_SECTION_SIZE.
//   - ContentLength: the sum of DATA frame lengths against Content-Length
//     (§4.1.2), fed by the request stream.
//
// Every violation in received fields is a *frame.Error with code
// H3_MESSAGE_ERROR, a stream error (§4.1.2). Encoding refuses names and
// values that the peer would have to treat as malformed.
//
// Not done: the order of header fields produced from an http.Header
// follows Go's map iteration; :authority is not punycode-converted
// (net/http does that before the transport); a CONNECT :authority is not
// checked to carry a port; the User-Agent and Date defaults of net/http are
// left to the client and server.
package headers
