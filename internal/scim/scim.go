// Package scim is Cohort's SCIM 2.0 service provider (RFC 7643/7644) under
// /scim/v2: Users, Groups and the discovery endpoints, so that an identity
// provider such as Okta or Microsoft Entra ID can provision staff and push
// groups. It authenticates API keys with the "scim" scope, turns SCIM
// filters and PATCH operations into the domain's service calls, and answers
// every failure with a SCIM error body. It never sees SQL: everything goes
// through cohort.Services.
package scim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/httpx"
)

// Schema and message URNs.
const (
	SchemaUser        = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaGroup       = "urn:ietf:params:scim:schemas:core:2.0:Group"
	SchemaCohortUser  = "urn:cohort:params:scim:schemas:extension:2.0:User"
	SchemaEnterprise  = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	SchemaListResp    = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	SchemaPatchOp     = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SchemaError       = "urn:ietf:params:scim:api:messages:2.0:Error"
	SchemaSPConfig    = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	SchemaResourceTyp = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	SchemaSchema      = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// Base is the path prefix of every SCIM endpoint.
const Base = "/scim/v2"

// ContentType is what every SCIM response carries.
const ContentType = "application/scim+json"

// Paging limits. A list asks for at most MaxCount resources (larger counts
// are capped, as RFC 7644 §3.4.2.4 allows); without count it gets
// DefaultCount.
const (
	DefaultCount = 100
	MaxCount     = 1000
)

// maxBodyBytes is the request body limit of the writing endpoints: a PUT
// or PATCH that replaces the members of a 50,000-member group is a few MB.
const maxBodyBytes = 16 << 20

// Handler serves /scim/v2.
type Handler struct {
	svc cohort.Services
	log *slog.Logger
}

// New returns the SCIM handler over svc.
func New(svc cohort.Services, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{svc: svc, log: logger}
}

// Routes lists every SCIM endpoint. SCIM authenticates its own bearer
// tokens and never uses cookies, so the routes are Public (the server's
// sign-in gate must not answer for them) and Stateless (no session lookup;
// no CSRF check, which protects cookie-authenticated requests only): every
// refusal, including a POST without a token, is then a SCIM error body.
func (h *Handler) Routes() []httpx.Route {
	type ep struct {
		method, pattern string
		fn              func(http.ResponseWriter, *http.Request) error
		body            bool
	}
	eps := []ep{
		{"GET", "/ServiceProviderConfig", h.handleServiceProviderConfig, false},
		{"GET", "/ResourceTypes", h.handleResourceTypes, false},
		{"GET", "/ResourceTypes/{id}", h.handleResourceType, false},
		{"GET", "/Schemas", h.handleSchemas, false},
		{"GET", "/Schemas/{id}", h.handleSchema, false},
		{"GET", "/Users", h.handleUserList, false},
		{"POST", "/Users", h.handleUserCreate, true},
		{"GET", "/Users/{id}", h.handleUserGet, false},
		{"PUT", "/Users/{id}", h.handleUserReplace, true},
		{"PATCH", "/Users/{id}", h.handleUserPatch, true},
		{"DELETE", "/Users/{id}", h.handleUserDelete, false},
		{"GET", "/Groups", h.handleGroupList, false},
		{"POST", "/Groups", h.handleGroupCreate, true},
		{"GET", "/Groups/{id}", h.handleGroupGet, false},
		{"PUT", "/Groups/{id}", h.handleGroupReplace, true},
		{"PATCH", "/Groups/{id}", h.handleGroupPatch, true},
		{"DELETE", "/Groups/{id}", h.handleGroupDelete, false},
	}
	var out []httpx.Route
	for _, e := range eps {
		rt := httpx.Route{Method: e.method, Pattern: Base + e.pattern, Handler: h.wrap(e.fn), Public: true, Stateless: true, Machine: true}
		if e.body {
			// Far above SCIM's own limit, so that decodeBody (which
			// never reads past maxBodyBytes) refuses an oversized body
			// with a SCIM error rather than the server.
			rt.MaxBodyBytes = 1 << 40
		}
		out = append(out, rt)
	}
	// Anything else under /scim/v2 (Bulk, /Me, .search, a typo) is a SCIM
	// 404 rather than the server's generic page.
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		out = append(out, httpx.Route{Method: m, Pattern: Base + "/", Handler: h.wrap(h.handleUnknown), Public: true, Stateless: true, Machine: true})
	}
	return out
}

func (h *Handler) handleUnknown(w http.ResponseWriter, r *http.Request) error {
	return errNotFound("There is no SCIM endpoint at " + r.URL.Path + ": use /scim/v2/Users, /scim/v2/Groups, /scim/v2/ServiceProviderConfig, /scim/v2/ResourceTypes or /scim/v2/Schemas.")
}

// wrap authenticates the bearer token, puts the key's actor in the
// context, runs fn and renders any error as a SCIM error body.
func (h *Handler) wrap(fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		reqID := httpx.RequestID(ctx)
		if reqID == "" {
			reqID = newRequestID()
		}
		actor, err := h.authenticate(ctx, r, reqID)
		if err == nil {
			// A malformed attributes/excludedAttributes list is refused
			// before a write, not after it when the response is rendered.
			_, err = parseProjection(r.URL.Query(), "")
		}
		if err == nil {
			r = r.WithContext(cohort.NewContextWithActor(ctx, actor))
			err = fn(w, r)
		}
		if err != nil {
			h.writeError(w, r, reqID, err)
		}
	})
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// authenticate accepts only "Authorization: Bearer <API key>" with the
// scim scope. Browser sessions are never accepted on SCIM.
func (h *Handler) authenticate(ctx context.Context, r *http.Request, reqID string) (cohort.Actor, error) {
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, token, ok := strings.Cut(auth, " ")
	token = strings.TrimSpace(token)
	if auth == "" {
		return cohort.Actor{}, &scimError{status: http.StatusUnauthorized, detail: "Send an API key with the scim scope in the Authorization header: Authorization: Bearer <token>."}
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return cohort.Actor{}, &scimError{status: http.StatusUnauthorized, detail: "Use the Bearer scheme: Authorization: Bearer <token>."}
	}
	key, err := h.svc.APIKeys.AuthenticateAPIKey(ctx, token)
	if err != nil {
		if cohort.ErrorCode(err) == cohort.EUNAUTHORIZED {
			return cohort.Actor{}, &scimError{status: http.StatusUnauthorized, detail: "The API key is unknown, revoked or expired: create a new key with the scim scope.", badToken: true}
		}
		return cohort.Actor{}, err
	}
	if !key.HasScope(cohort.ScopeSCIM) {
		return cohort.Actor{}, &scimError{status: http.StatusForbidden, detail: "This API key lacks the scim scope: create a key with --scopes scim for your identity provider."}
	}
	return key.Actor(cohort.ViaSCIM, reqID), nil
}

// writeJSON writes v as a SCIM JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Every value written here is built from plain maps and strings.
		status, b = http.StatusInternalServerError, []byte(`{"schemas":["`+SchemaError+`"],"status":"500","detail":"Internal error."}`)
	}
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decodeBody reads a JSON request body into v. SCIM clients send
// application/scim+json; plain application/json is accepted too.
func decodeBody(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/scim+json" && mt != "application/json") {
			return &scimError{status: http.StatusUnsupportedMediaType, detail: "Send the body as application/scim+json (or application/json)."}
		}
	}
	tooBig := &scimError{status: http.StatusRequestEntityTooLarge, detail: "The request body is too large: send at most 16 MB (for example, fewer members per request)."}
	if r.ContentLength > maxBodyBytes {
		return tooBig
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooBig
		}
		return errSyntax("The request body could not be read: send it again.")
	}
	if len(body) > maxBodyBytes {
		return tooBig
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return errSyntax("The request body is empty: send a JSON object.")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			field := typeErr.Field
			if field == "" {
				return errSyntax("The request body must be a JSON object.")
			}
			return errValue("The attribute " + field + " has the wrong type: it cannot be " + typeErr.Value + ".")
		}
		var ve *valueError
		if errors.As(err, &ve) {
			return ve.err
		}
		return errSyntax("The request body is not valid JSON: " + err.Error() + ".")
	}
	return nil
}

// valueError lets a custom UnmarshalJSON report a SCIM error through
// encoding/json.
type valueError struct{ err *scimError }

func (e *valueError) Error() string { return e.err.detail }

// baseURL is the absolute URL of /scim/v2 as the client reached it, for
// meta.location. A proxy's X-Forwarded-Proto is honoured so that locations
// say https behind a TLS-terminating proxy.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := strings.ToLower(r.Header.Get("X-Forwarded-Proto")); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host + Base
}
