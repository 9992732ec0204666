package scim

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/cohorthq/cohort"
)

// scimType values of RFC 7644 §3.12.
const (
	typeInvalidFilter = "invalidFilter"
	typeTooMany       = "tooMany"
	typeUniqueness    = "uniqueness"
	typeMutability    = "mutability"
	typeInvalidSyntax = "invalidSyntax"
	typeInvalidPath   = "invalidPath"
	typeNoTarget      = "noTarget"
	typeInvalidValue  = "invalidValue"
)

// scimError is a refusal rendered as a SCIM error body.
type scimError struct {
	status   int
	scimType string
	detail   string
	// badToken adds error="invalid_token" to WWW-Authenticate.
	badToken bool
}

func (e *scimError) Error() string {
	return "scim: " + strconv.Itoa(e.status) + " " + e.scimType + ": " + e.detail
}

func errFilter(detail string) error {
	return &scimError{status: http.StatusBadRequest, scimType: typeInvalidFilter, detail: detail}
}
func errPath(detail string) error {
	return &scimError{status: http.StatusBadRequest, scimType: typeInvalidPath, detail: detail}
}
func errValue(detail string) *scimError {
	return &scimError{status: http.StatusBadRequest, scimType: typeInvalidValue, detail: detail}
}
func errSyntax(detail string) error {
	return &scimError{status: http.StatusBadRequest, scimType: typeInvalidSyntax, detail: detail}
}
func errMutability(detail string) error {
	return &scimError{status: http.StatusBadRequest, scimType: typeMutability, detail: detail}
}
func errNotFound(detail string) error {
	return &scimError{status: http.StatusNotFound, detail: detail}
}
func errPrecondition() error {
	return &scimError{status: http.StatusPreconditionFailed, detail: "The resource was changed by someone else since you read it (If-Match does not match its version): read it again and retry."}
}

// toSCIMError maps any error to the SCIM error it is shown as.
func toSCIMError(err error) *scimError {
	var se *scimError
	if errors.As(err, &se) {
		return se
	}
	msg := cohort.ErrorMessage(err)
	switch cohort.ErrorCode(err) {
	case cohort.EINVALID:
		return &scimError{status: http.StatusBadRequest, scimType: typeInvalidValue, detail: msg}
	case cohort.ENOTFOUND:
		return &scimError{status: http.StatusNotFound, detail: msg}
	case cohort.ECONFLICT:
		return &scimError{status: http.StatusConflict, scimType: typeUniqueness, detail: msg}
	case cohort.ESTALE:
		return errPrecondition().(*scimError)
	case cohort.EARCHIVED:
		return &scimError{status: http.StatusBadRequest, scimType: typeMutability, detail: msg}
	case cohort.EUNAUTHORIZED:
		return &scimError{status: http.StatusUnauthorized, detail: msg}
	case cohort.EFORBIDDEN:
		return &scimError{status: http.StatusForbidden, detail: msg}
	case cohort.ERATELIMIT:
		return &scimError{status: http.StatusTooManyRequests, detail: msg}
	case cohort.EUNAVAILABLE:
		return &scimError{status: http.StatusServiceUnavailable, detail: msg}
	}
	return &scimError{status: http.StatusInternalServerError, detail: "Internal error."}
}

// writeError renders err as a SCIM error body. Internal errors are logged
// once with the request ID; the client only sees "Internal error.".
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, reqID string, err error) {
	h.writeSCIMError(w, r, reqID, err, false)
}

// writeSCIMError is writeError for an error that may already have been
// logged (a refusal the server gives on SCIM's behalf).
func (h *Handler) writeSCIMError(w http.ResponseWriter, r *http.Request, reqID string, err error, logged bool) {
	se := toSCIMError(err)
	if se.status >= 500 && !logged {
		h.log.ErrorContext(r.Context(), "scim request failed", "err", err, "request_id", reqID, "method", r.Method, "path", r.URL.Path)
	}
	if se.status == http.StatusUnauthorized {
		v := `Bearer realm="cohort-scim"`
		if se.badToken {
			v += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", v)
	}
	body := map[string]any{
		"schemas": []string{SchemaError},
		"status":  strconv.Itoa(se.status),
		"detail":  se.detail,
	}
	if se.scimType != "" {
		body["scimType"] = se.scimType
	}
	writeJSON(w, se.status, body)
}
