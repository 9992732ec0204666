// Package httpx holds the small pieces every HTTP edge (web, api, scim,
// events) shares: the route type the server mounts, and request-scoped
// values the server's middleware sets.
package httpx

import (
	"context"
	"net/http"
)

// Route is one endpoint. Pattern is a Go 1.22 ServeMux pattern without the
// method ("/settings/groups/{id}"); Method is "GET", "POST", … The server
// registers "Method Pattern". Every package lists its routes so the server
// and the authorization-matrix test see the whole surface.
type Route struct {
	Method  string
	Pattern string
	Handler http.Handler
	// Public routes need no sign-in (sign-in page, health, static files).
	Public bool
	// Stateless routes skip the session lookup and CSRF check (health
	// checks, static files): they answer the same to everyone and must not
	// change anything.
	Stateless bool
	// MaxBodyBytes overrides the server's default request body limit for
	// this route (e.g. a CSV upload); 0 keeps the default.
	MaxBodyBytes int64
	// Machine routes are called by programs (the REST API, SCIM): the
	// server answers their refusals with problem JSON and 401 instead of
	// pages and sign-in redirects, a browser session on them acts through
	// the API, and a state-changing request without a session skips the
	// CSRF check (it carries nothing a forged request could ride on; the
	// route authenticates its key itself).
	Machine bool
	// Stream routes hold their response open (server-sent events): no
	// write deadline, no turn in the read queue, and 401 rather than a
	// sign-in redirect when signed out. Only the route says so: a request
	// header (Accept: text/event-stream) never does.
	Stream bool
	// Quick routes answer at once without real work (health checks,
	// static files), so they never wait for a turn in the read queue.
	Quick bool
	// Refuse renders the refusals the server gives on the route's behalf
	// before its handler runs (body or address too large, a form that
	// cannot be read, CSRF, sign-in required, database down, a panic) in
	// the route's own protocol: problem JSON for the REST API, a SCIM
	// error for SCIM. Nil means the server's own HTML page.
	Refuse func(w http.ResponseWriter, r *http.Request, f Refusal)
}

// Refusal is an answer the server gives on a route's behalf. Code is a
// domain error code (cohort.EUNAUTHORIZED, EFORBIDDEN, EUNAVAILABLE,
// EINTERNAL, ENOTFOUND) or one of the HTTP-level codes below; each
// protocol's renderer maps it to a status with its own table. Status is
// what the server's HTML page answers with.
type Refusal struct {
	Status  int
	Code    string
	Title   string
	Message string
}

// Codes of refusals that are about the HTTP request itself, not the
// domain.
const (
	CodeBadRequest = "bad_request"
	CodeTooLarge   = "too_large"
	CodeURITooLong = "uri_too_long"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	sessionKey
	csrfKey
)

// WithRequestID returns ctx carrying the request ID.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID returns the request ID set by the server, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// Session is what the server's session middleware knows about a browser
// request: the raw token (to sign out) and the CSRF token for forms.
type Session struct {
	Token     string
	CSRFToken string
}

// WithSession returns ctx carrying the browser session.
func WithSession(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey, s)
}

// SessionFrom returns the browser session of ctx, or nil.
func SessionFrom(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey).(*Session)
	return s
}
