package api

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/httpx"
)

// Problem is an RFC 9457 problem document. Code is the stable machine
// code (the domain's error codes plus a few of the API's own); Errors maps
// each invalid field to its messages on 422.
type Problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail"`
	Code      string              `json:"code"`
	Errors    map[string][]string `json:"errors,omitempty"`
	Meta      map[string]string   `json:"meta,omitempty"`
	RequestID string              `json:"request_id,omitempty"`
}

// problemKind is how a code is answered.
type problemKind struct {
	status int
	title  string
}

// problemKinds maps every code the API answers with to its status and
// title. The OpenAPI file and the docs page list the same codes.
var problemKinds = map[string]problemKind{
	codeBadRequest:          {http.StatusBadRequest, "Bad request"},
	cohort.EUNAUTHORIZED:    {http.StatusUnauthorized, "Authentication required"},
	cohort.EFORBIDDEN:       {http.StatusForbidden, "Not allowed"},
	codeScimOnly:            {http.StatusForbidden, "SCIM key"},
	codeMissingScope:        {http.StatusForbidden, "Missing scope"},
	cohort.ENOTFOUND:        {http.StatusNotFound, "Not found"},
	cohort.ECONFLICT:        {http.StatusConflict, "Conflict"},
	cohort.ESTALE:           {http.StatusConflict, "Changed by someone else"},
	cohort.EARCHIVED:        {http.StatusConflict, "Archived"},
	codeMethodNotAllowed:    {http.StatusMethodNotAllowed, "Method not allowed"},
	codeTooLarge:            {http.StatusRequestEntityTooLarge, "Request too large"},
	httpx.CodeURITooLong:    {http.StatusRequestURITooLong, "Address too long"},
	codeUnsupportedMedia:    {http.StatusUnsupportedMediaType, "Unsupported media type"},
	cohort.EINVALID:         {http.StatusUnprocessableEntity, "Invalid request"},
	codeIdempotencyMismatch: {http.StatusUnprocessableEntity, "Idempotency key reused"},
	codeIfMatchRequired:     {http.StatusPreconditionRequired, "If-Match required"},
	cohort.ERATELIMIT:       {http.StatusTooManyRequests, "Too many requests"},
	cohort.EUNAVAILABLE:     {http.StatusServiceUnavailable, "Unavailable"},
	cohort.EINTERNAL:        {http.StatusInternalServerError, "Internal error"},
}

// problemType is the type URI of a code: its entry on the docs page.
func problemType(code string) string { return Prefix + "/docs#error-" + code }

// writeError renders err as a problem. Errors that are not *cohort.Error
// (or carry an unknown code) are bugs or outages: they are logged with the
// request ID and the client sees only "Internal error".
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	h.writeProblem(w, r, err, false)
}

// writeProblem is writeError for an error that may already have been
// logged (a refusal the server gives on the API's behalf).
func (h *Handler) writeProblem(w http.ResponseWriter, r *http.Request, err error, logged bool) {
	reqID := httpx.RequestID(r.Context())
	code := cohort.ErrorCode(err)
	kind, known := problemKinds[code]
	p := Problem{Code: code, RequestID: reqID}
	if !known || code == cohort.EINTERNAL {
		if !logged {
			h.logger.ErrorContext(r.Context(), "api request failed", "err", err, "request_id", reqID,
				"method", r.Method, "path", r.URL.Path)
		}
		code, kind = cohort.EINTERNAL, problemKinds[cohort.EINTERNAL]
		p.Code = code
		p.Detail = "Something went wrong on our side. Try again; if it keeps happening, tell your administrator the request ID " + reqID + "."
	} else {
		e := cohort.AsError(err)
		p.Detail = e.Message
		if code == cohort.ESTALE {
			// The store's message speaks to a form that shows the current
			// version; an API client has to fetch it.
			p.Detail = "This was changed by someone else since you read it, so nothing was changed: " +
				"GET it again for the current version and ETag, redo your change on it, and send the new ETag in If-Match."
		}
		p.Meta = e.Detail
		if code == cohort.EINVALID || code == codeIdempotencyMismatch {
			p.Errors = e.Fields
		}
	}
	if code == cohort.EUNAVAILABLE {
		w.Header().Set("Retry-After", "5")
	}
	p.Type, p.Title, p.Status = problemType(code), kind.title, kind.status
	writeJSONType(w, "application/problem+json", p.Status, p)
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONType(w, "application/json", status, v)
}

func writeJSONType(w http.ResponseWriter, contentType string, status int, v any) {
	b := mustJSON(v)
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// mustJSON encodes one of the API's own response types (they always
// encode) with a trailing newline. "&", "<" and ">" stay as they are:
// responses are JSON, never HTML, and links read better unescaped.
func mustJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// errBadRequest is a 400 whose message says what to fix.
func errBadRequest(msg string) error { return &cohort.Error{Code: codeBadRequest, Message: msg} }
