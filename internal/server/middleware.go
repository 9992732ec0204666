package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/httpx"
)

// An incoming X-Request-Id is kept only when it looks like an ID a proxy
// would make, so a client cannot inject log noise or markup through it.
var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{8,64}$`)

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// requestID gives every request an ID, echoed in the response and carried
// in the context for logs and audit entries.
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !requestIDRE.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(httpx.WithRequestID(r.Context(), id)))
	})
}

// clientAddr puts the client's IP address in the context, where sign-in
// throttling reads it: the connection's peer, or behind a trusted proxy
// the address the proxy appended last to X-Forwarded-For (earlier entries
// are whatever the client sent, so they are never trusted).
func (s *Server) clientAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			addr = r.RemoteAddr
		}
		if s.cfg.TrustProxy {
			if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
				list := strings.Split(xff[len(xff)-1], ",")
				if ip, err := netip.ParseAddr(strings.TrimSpace(list[len(list)-1])); err == nil {
					addr = ip.String()
				}
			}
		}
		next.ServeHTTP(w, r.WithContext(cohort.NewContextWithClientAddr(r.Context(), addr)))
	})
}

// logInfo is filled in by inner layers (route, who) for the access log,
// and says for error pages written by outer layers (a panic) whether the
// matched route is a machine interface.
type logInfo struct {
	route       string
	machine     bool
	refuse      func(http.ResponseWriter, *http.Request, httpx.Refusal)
	workspaceID string
	userID      string
}

type logInfoKey struct{}

func logInfoFrom(ctx context.Context) *logInfo {
	li, _ := ctx.Value(logInfoKey{}).(*logInfo)
	return li
}

// statusWriter records the status and size of a response. It passes
// Flush through (server-sent events) and unwraps for
// http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// accessLog writes one structured line per request. It logs the path but
// never the query, headers, cookies or body, so tokens and passwords stay
// out of the logs.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		li := &logInfo{}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), logInfoKey{}, li)))
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		level := slogLevelFor(status)
		s.logger.Log(r.Context(), level, "request",
			"method", r.Method,
			"path", r.URL.Path,
			"route", li.route,
			"status", status,
			"bytes", sw.bytes,
			"duration_ms", float64(time.Since(start).Microseconds())/1000,
			"request_id", httpx.RequestID(r.Context()),
			"workspace_id", li.workspaceID,
			"user_id", li.userID,
			"remote", r.RemoteAddr,
		)
	})
}

// recoverPanics turns a panic into a plain 500 page, logged with the
// request ID and stack. It must never happen; when it does, the person
// sees "Internal error" and the operator has what they need.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.logger.ErrorContext(r.Context(), "panic serving request",
				"panic", fmt.Sprint(v),
				"stack", string(debug.Stack()),
				"request_id", httpx.RequestID(r.Context()),
				"path", r.URL.Path)
			s.writeError(w, r, httpx.Refusal{Status: http.StatusInternalServerError, Code: cohort.EINTERNAL, Title: "Internal error",
				Message: "Something went wrong on our side. Try again; if it keeps happening, tell your administrator the request ID " + httpx.RequestID(r.Context()) + "."})
		}()
		next.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy allows scripts, styles and connections only from
// this origin: no inline script or style, no framing, forms post only
// here.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// securityHeaders sets the headers every response carries. Responses are
// not stored by browsers or proxies (they may hold staff records); the
// static files override this with their own long cache.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if s.cfg.TLS {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// limitURL refuses request targets longer than MaxURLBytes with 414, so
// no handler parses a megabyte query string.
func (s *Server) limitURL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.RequestURI) > MaxURLBytes || len(r.URL.RawQuery)+len(r.URL.Path) > MaxURLBytes {
			s.writeError(w, r, httpx.Refusal{Status: http.StatusRequestURITooLong, Code: httpx.CodeURITooLong, Title: "Address too long",
				Message: fmt.Sprintf("The address is longer than Cohort accepts (%s). Search for less at once, or send the data in the request body.", byteSize(MaxURLBytes))})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody refuses bodies over limit: at once when Content-Length says
// so, otherwise when a handler reads past it (handlers see a
// *http.MaxBytesError; see BodyTooLarge).
func (s *Server) limitBody(limit int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			s.bodyTooLarge(w, r, limit)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) bodyTooLarge(w http.ResponseWriter, r *http.Request, limit int64) {
	s.writeError(w, r, httpx.Refusal{Status: http.StatusRequestEntityTooLarge, Code: httpx.CodeTooLarge, Title: "Request too large",
		Message: fmt.Sprintf("The request is larger than this address accepts (%s). Send less at once.", byteSize(limit))})
}

// IsBodyTooLarge reports whether err came from reading past the body
// limit, so a handler can answer 413 instead of 400.
func IsBodyTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
