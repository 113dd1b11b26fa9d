package frame

import (
	"errors"
	"testing"
)

// wantCode fails t unless err is an *Error with the given code.
func wantCode(t *testing.T, err error, code ErrCode) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v, want %v", err, code)
	}
	if e.Code != code {
		t.Fatalf("got %v (%q), want %v", e.Code, e.Reason, code)
	}
}
