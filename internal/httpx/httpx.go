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
}

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
