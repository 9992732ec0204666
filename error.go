// Package cohort holds Cohort's domain: workspaces, staff, groups, API keys,
// audit entries and events, the rules that govern them, and the service
// interfaces that the storage layer implements. It imports only the standard
// library; every edge (web, REST, SCIM, CLI) speaks to storage through it.
package cohort

import (
	"errors"
	"fmt"
)

// Error codes. They are stable: the REST API and SCIM expose them.
const (
	EINVALID      = "invalid"      // validation failed; Fields says where
	ENOTFOUND     = "not_found"    // no such object in this workspace
	ECONFLICT     = "conflict"     // name taken, or a uniqueness rule
	ESTALE        = "stale"        // written against an old version
	EARCHIVED     = "archived"     // the object is archived and read-only
	EUNAUTHORIZED = "unauthorized" // not signed in, bad or revoked token
	EFORBIDDEN    = "forbidden"    // signed in but not allowed
	ERATELIMIT    = "rate_limited" // too many requests
	EUNAVAILABLE  = "unavailable"  // database read-only, disk full, shutting down
	EINTERNAL     = "internal"     // a bug or an outage; details are logged only
)

// Error is the one error type that crosses package boundaries. Message is
// safe to show to the person who caused it and says what to fix.
type Error struct {
	Code    string
	Message string
	// Fields maps a field name (snake_case, as in the API) to its messages.
	Fields map[string][]string
	// Detail carries extra machine-readable data, e.g. the conflicting
	// group's ID and name for a name clash.
	Detail map[string]string
}

func (e *Error) Error() string {
	return fmt.Sprintf("cohort: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EINVALID error for a single field.
func FieldError(field, msg string) *Error {
	return &Error{Code: EINVALID, Message: msg, Fields: map[string][]string{field: {msg}}}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of the first *Error in err's
// chain, or "Internal error." for anything else.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorFields returns the per-field messages of err, or nil.
func ErrorFields(err error) map[string][]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// AsError returns the first *Error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Validation collects field errors and turns them into one EINVALID error.
type Validation struct {
	fields map[string][]string
	first  string
}

// Add records msg against field.
func (v *Validation) Add(field, msg string) {
	if v.fields == nil {
		v.fields = map[string][]string{}
	}
	if v.first == "" {
		v.first = msg
	}
	v.fields[field] = append(v.fields[field], msg)
}

// Err returns nil when nothing was added, else an EINVALID *Error.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	msg := v.first
	if len(v.fields) > 1 {
		msg = "Some fields need attention: " + v.first
	}
	return &Error{Code: EINVALID, Message: msg, Fields: v.fields}
}
