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
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/httpx"
	"github.com/cohorthq/cohort/internal/ratelimit"
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

// MaxBodyBytes is the request body limit of the writing endpoints. The
// largest realistic body is a PUT or PATCH naming every member of a group
// of all 50,000 staff (the largest practice Cohort is sized for): about 2.5 MB with
// "value" alone, as Okta and Entra ID send members, and 4–5 MB with a
// "display" name each. Larger bodies (every member echoed with its $ref)
// go as several PATCH requests.
const MaxBodyBytes = 6 << 20

// Handler serves /scim/v2.
type Handler struct {
	svc     cohort.Services
	log     *slog.Logger
	limiter *ratelimit.Limiter
	// publicURL and tlsProxy decide absolute URLs: see baseURL.
	publicURL string
	tlsProxy  bool
	// maxScan bounds the candidates a filter is evaluated over in Go:
	// MaxScan, lowered by tests.
	maxScan int
}

// Option configures a Handler.
type Option func(*Handler)

// WithLimiter limits each API key's requests. Pass the limiter the REST
// API uses, so that a key has one allowance across both interfaces; nil
// (the default) is no limit.
func WithLimiter(l *ratelimit.Limiter) Option {
	return func(h *Handler) { h.limiter = l }
}

// WithPublicURL builds absolute URLs from the server's public URL
// (scheme://host[:port][/path], no trailing slash) instead of the
// request; config.Config.PublicURL is validated that way.
func WithPublicURL(u string) Option {
	return func(h *Handler) { h.publicURL = strings.TrimRight(u, "/") }
}

// WithTLSProxy says a reverse proxy in front serves HTTPS (the operator's
// --behind-tls-proxy): without a public URL, absolute URLs say https.
func WithTLSProxy(on bool) Option {
	return func(h *Handler) { h.tlsProxy = on }
}

// New returns the SCIM handler over svc.
func New(svc cohort.Services, logger *slog.Logger, opts ...Option) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{svc: svc, log: logger, maxScan: MaxScan}
	for _, o := range opts {
		o(h)
	}
	return h
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
		fn := e.fn
		if discovery[e.pattern] {
			fn = refuseFilter(fn)
		}
		rt := httpx.Route{Method: e.method, Pattern: Base + e.pattern, Handler: h.wrap(fn), Public: true, Stateless: true, Machine: true, Refuse: h.refuse}
		if e.body {
			// The server enforces the limit; a body that turns out
			// larger while decodeBody reads it gets SCIM's 413.
			rt.MaxBodyBytes = MaxBodyBytes
		}
		out = append(out, rt)
	}
	// Anything else under /scim/v2 is a SCIM error rather than the
	// server's generic page: 405 with Allow for a real endpoint asked with
	// another method, 404 for a path that is none (Bulk, /Me, .search, a
	// typo). The endpoints' patterns, without their methods, are matched
	// by a mux of their own, so no path is compared as a string here.
	allowed := map[string][]string{}
	paths := http.NewServeMux()
	for _, e := range eps {
		p := Base + e.pattern
		if allowed[p] == nil {
			paths.Handle(p, http.NotFoundHandler())
		}
		allowed[p] = append(allowed[p], e.method)
		if e.method == http.MethodGet {
			allowed[p] = append(allowed[p], http.MethodHead)
		}
	}
	// RFC 7644 §3.4.3 searches (POST …/.search) are not supported; their
	// paths are no endpoint, not the id ".search" of /Users/{id}.
	// Bulk (RFC 7644 §3.7) and /Me (§3.11) are defined by the RFC but not
	// served: 501, as §3.11 says for /Me.
	unsupported := map[string]string{}
	for p, what := range map[string]string{"/Bulk": "Bulk operations are not supported (ServiceProviderConfig says bulk.supported: false): send each request on its own.",
		"/Me":  "/Me is not supported: Cohort's SCIM clients are identity providers using an API key, not a signed-in user. Use /Users/{id}.",
		"/Me/": "/Me is not supported: Cohort's SCIM clients are identity providers using an API key, not a signed-in user. Use /Users/{id}."} {
		paths.Handle(Base+p, http.NotFoundHandler())
		unsupported[Base+p] = what
	}
	searches := map[string]bool{}
	for _, p := range []string{"/.search", "/Users/.search", "/Groups/.search"} {
		paths.Handle(Base+p, http.NotFoundHandler())
		searches[Base+p] = true
	}
	unknown := h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		_, p := paths.Handler(r)
		if what, ok := unsupported[p]; ok {
			return &scimError{status: http.StatusNotImplemented, detail: what}
		}
		if searches[p] {
			return errNotFound("Searching with POST " + p + " is not supported: use GET /scim/v2/Users or /scim/v2/Groups with ?filter=….")
		}
		if allowed[p] != nil {
			methods := slices.Sorted(slices.Values(allowed[p]))
			w.Header().Set("Allow", strings.Join(methods, ", "))
			return &scimError{status: http.StatusMethodNotAllowed, detail: r.Method + " is not supported on " + r.URL.Path + ": use " + strings.Join(methods, ", ") + "."}
		}
		return errNotFound("There is no SCIM endpoint at " + r.URL.Path + ": use /scim/v2/Users, /scim/v2/Groups, /scim/v2/ServiceProviderConfig, /scim/v2/ResourceTypes or /scim/v2/Schemas.")
	})
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		out = append(out, httpx.Route{Method: m, Pattern: Base + "/", Handler: unknown, Public: true, Stateless: true, Machine: true, Refuse: h.refuse})
	}
	// Outside /scim/v2 (another version, a typo) it is still SCIM's 404.
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		out = append(out, httpx.Route{Method: m, Pattern: "/scim/", Handler: unknown, Public: true, Stateless: true, Machine: true, Refuse: h.refuse})
	}
	return out
}

// refuse renders the server's own refusals on SCIM routes (body too
// large, database down, a panic) as SCIM error bodies. The server has
// logged what needed logging.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, f httpx.Refusal) {
	var err error = &cohort.Error{Code: f.Code, Message: f.Message}
	switch f.Code {
	case httpx.CodeTooLarge:
		err = &scimError{status: http.StatusRequestEntityTooLarge, detail: f.Message}
	case httpx.CodeURITooLong:
		err = &scimError{status: http.StatusRequestURITooLong, detail: f.Message}
	case httpx.CodeBadRequest:
		err = errSyntax(f.Message)
	}
	h.writeSCIMError(w, r, httpx.RequestID(r.Context()), err, true)
}

// discovery lists the discovery endpoints (RFC 7644 §4).
var discovery = map[string]bool{"/ServiceProviderConfig": true, "/ResourceTypes": true, "/ResourceTypes/{id}": true,
	"/Schemas": true, "/Schemas/{id}": true}

// refuseFilter answers 403 to a filter on a discovery endpoint, as RFC 7644
// §4 says: "If a "filter" is provided, the service provider SHOULD respond
// with HTTP status code 403 (Forbidden)".
func refuseFilter(fn func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if r.URL.Query().Has("filter") {
			return &scimError{status: http.StatusForbidden, detail: "Discovery endpoints take no filter (RFC 7644 §4): ask without filter."}
		}
		return fn(w, r)
	}
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
		actor, err := h.authenticate(ctx, w, r, reqID)
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
func (h *Handler) authenticate(ctx context.Context, w http.ResponseWriter, r *http.Request, reqID string) (cohort.Actor, error) {
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
	// The key's requests count against its one allowance, shared with
	// the REST API; every keyed response says how much is left.
	d := h.limiter.Take(key.ID)
	d.SetHeaders(w.Header())
	if !d.Allowed {
		return cohort.Actor{}, &scimError{status: http.StatusTooManyRequests, detail: "This API key has made more than " +
			strconv.Itoa(d.Limit) + " requests in a minute: wait " + strconv.Itoa(d.RetryAfterSeconds) +
			" seconds (see Retry-After) and slow down."}
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
	tooBig := &scimError{status: http.StatusRequestEntityTooLarge, detail: "The request body is too large: send at most " + strconv.Itoa(MaxBodyBytes>>20) + " MiB (for example, fewer members per PATCH request)."}
	if r.ContentLength > MaxBodyBytes {
		return tooBig
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooBig
		}
		return errSyntax("The request body could not be read: send it again.")
	}
	if len(body) > MaxBodyBytes {
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

// baseURL is the absolute URL of /scim/v2, for meta.location, $ref and
// Location. It is the configured public URL when there is one. Otherwise
// it is built from the request, trusting only what the operator vouched
// for: the scheme is https when this process serves TLS or runs behind a
// TLS proxy (never from X-Forwarded-Proto, which any client can send),
// and the host is the Host header only when it is a plain host[:port];
// anything else falls back to the address the request arrived on.
func (h *Handler) baseURL(r *http.Request) string {
	if h.publicURL != "" {
		return h.publicURL + Base
	}
	scheme := "http"
	if r.TLS != nil || h.tlsProxy {
		scheme = "https"
	}
	host := r.Host
	if !validHost(host) {
		host = "localhost"
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok && a.String() != "" {
			host = a.String()
		}
	}
	return scheme + "://" + host + Base
}

// validHost reports whether s is a host name or IP address with an
// optional port, and nothing else.
func validHost(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	host, port := s, ""
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	} else if strings.Contains(s, ":") && !strings.HasPrefix(s, "[") {
		return false
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return false
		}
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if net.ParseIP(host) != nil {
		return true
	}
	if host == "" || len(host) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
