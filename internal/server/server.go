// Package server owns Cohort's HTTP surface as one http.Handler: it mounts
// the routes of every edge package (web, api, scim, events) on one
// ServeMux and wraps them in the middleware every request passes through:
// request IDs, access logs, panic recovery, security headers, body limits,
// browser sessions, CSRF protection and the sign-in gate.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/httpx"
)

// Config tunes the server. The zero value is usable for tests and plain
// HTTP on localhost.
type Config struct {
	// TLS says the site is served over HTTPS (directly or behind a proxy):
	// cookies get Secure and the "__Host-" prefix, and HSTS is sent.
	TLS bool
	// SessionIdle ends a session that has not been used for this long
	// (default 2 hours).
	SessionIdle time.Duration
	// MaxBodyBytes limits request bodies unless a route says otherwise
	// (default 1 MiB).
	MaxBodyBytes int64
	// TrustProxy says a reverse proxy in front appends the client's
	// address to X-Forwarded-For: sign-in throttling then counts the last
	// entry of that header instead of the proxy's own address.
	TrustProxy bool
	// ReadConcurrency is how many reads (GET and HEAD) are served at once;
	// others wait for a turn (see admit.go). 0 lets every request in.
	ReadConcurrency int
	// WriteTimeout bounds writing one response, so a client that stops
	// reading cannot hold a connection and its goroutine for ever. Stream
	// routes are exempt. 0 sets no bound.
	WriteTimeout time.Duration
	// Ready reports whether the server can serve (the database answers);
	// GET /readyz calls it. Nil means always ready.
	Ready func(ctx context.Context) error
}

// Defaults.
const (
	DefaultSessionIdle  = 2 * time.Hour
	DefaultMaxBodyBytes = 1 << 20
)

// Limits on the request line and headers. Cohort's own URLs and headers
// are short (IDs, a search word, a cursor, one session cookie); a client
// sending more is refused before any work is done.
const (
	// MaxURLBytes bounds the request target (path and query): 414 above.
	MaxURLBytes = 8 << 10
	// MaxHeaderBytes is for http.Server.MaxHeaderBytes: the request line
	// and all headers together; net/http answers 431 above it.
	MaxHeaderBytes = 64 << 10
)

// Server is the whole HTTP surface. It is an http.Handler.
type Server struct {
	cfg    Config
	svc    cohort.Services
	logger *slog.Logger
	mux    *http.ServeMux
	routes []httpx.Route
	cop    *http.CrossOriginProtection
	turns  chan struct{} // read turns; nil when reads are not limited
	h      http.Handler
}

// New returns the server with its own routes and the given route lists
// mounted. It panics when two routes clash (the ServeMux does): that is a
// programming error found by any test that builds the server.
func New(cfg Config, svc cohort.Services, logger *slog.Logger, routes ...[]httpx.Route) *Server {
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = DefaultSessionIdle
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:    cfg,
		svc:    svc,
		logger: logger,
		mux:    http.NewServeMux(),
		cop:    http.NewCrossOriginProtection(),
	}
	if cfg.ReadConcurrency > 0 {
		s.turns = make(chan struct{}, cfg.ReadConcurrency)
	}
	all := s.ownRoutes()
	for _, rs := range routes {
		all = append(all, rs...)
	}
	for _, rt := range all {
		s.mount(rt)
	}
	s.routes = all
	// Anything no route matches gets a clear 404 in the caller's language
	// (HTML or problem JSON) rather than the mux's plain text.
	for _, rt := range s.fallbackRoutes() {
		s.mux.Handle(rt.Pattern, s.wrapRoute(rt))
	}

	s.h = s.requestID(s.clientAddr(s.accessLog(s.recoverPanics(s.writeDeadline(s.securityHeaders(s.mux))))))
	return s
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }

// Routes returns every mounted route, the server's own included, so a test
// can walk the whole surface.
func (s *Server) Routes() []httpx.Route {
	out := make([]httpx.Route, len(s.routes))
	copy(out, s.routes)
	return out
}

func (s *Server) mount(rt httpx.Route) {
	if rt.Method == "" || rt.Pattern == "" || rt.Handler == nil {
		panic(fmt.Sprintf("server: incomplete route %q %q", rt.Method, rt.Pattern))
	}
	s.mux.Handle(rt.Method+" "+rt.Pattern, s.wrapRoute(rt))
}

// wrapRoute adds the per-route middleware, as the route's attributes say:
// the URL length limit, its turn in the read queue, the body limit, then the session, CSRF
// check and sign-in gate (skipped for stateless routes).
func (s *Server) wrapRoute(rt httpx.Route) http.Handler {
	limit := s.cfg.MaxBodyBytes
	if rt.MaxBodyBytes > 0 {
		limit = rt.MaxBodyBytes
	}
	h := rt.Handler
	if !rt.Stateless {
		h = s.session(rt, s.csrf(rt, s.gate(rt, h)))
	}
	h = s.limitURL(s.admit(rt, s.limitBody(limit, h)))
	pattern := rt.Method + " " + rt.Pattern
	if rt.Method == "" {
		pattern = rt.Pattern
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if li := logInfoFrom(r.Context()); li != nil {
			li.route = pattern
			li.machine = rt.Machine
			li.refuse = rt.Refuse
		}
		if rt.Stream {
			// A stream outlives any write deadline; its heartbeat finds
			// dead connections instead.
			_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
		}
		h.ServeHTTP(w, r)
	})
}

// writeDeadline bounds the writing of every response by
// Config.WriteTimeout; wrapRoute lifts it for stream routes only.
func (s *Server) writeDeadline(next http.Handler) http.Handler {
	if s.cfg.WriteTimeout <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
		next.ServeHTTP(w, r)
	})
}
