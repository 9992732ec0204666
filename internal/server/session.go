package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/httpx"
)

// session loads the browser session named by the session cookie and puts
// its actor in the context. A request with an Authorization header is an
// API client: cookies are ignored entirely, so a browser's cookies can
// never be combined with a skipped CSRF check.
func (s *Server) session(rt httpx.Route, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		if c, err := r.Cookie(httpx.SessionCookieName(s.cfg.TLS)); err == nil && c.Value != "" {
			su, err := s.svc.Auth.FindSession(ctx, c.Value, s.cfg.SessionIdle)
			switch code := cohort.ErrorCode(err); {
			case err == nil:
				via := cohort.ViaWeb
				if rt.Machine {
					via = cohort.ViaAPI
				}
				actor := su.Actor(via, httpx.RequestID(ctx))
				ctx = cohort.NewContextWithActor(ctx, actor)
				ctx = httpx.WithSession(ctx, &httpx.Session{Token: c.Value, CSRFToken: su.Session.CSRFToken})
				csrf := su.Session.CSRFToken
				ctx = httpx.WithCSRF(ctx, func() string { return csrf })
				if li := logInfoFrom(ctx); li != nil {
					li.workspaceID, li.userID = actor.WorkspaceID, actor.UserID
				}
				next.ServeHTTP(w, r.WithContext(ctx))
				return
			case code == cohort.EUNAUTHORIZED || code == cohort.ENOTFOUND:
				// Unknown, expired, idle or archived: forget it and carry
				// on signed out.
				httpx.ClearSessionCookie(w, s.cfg.TLS)
			default:
				s.logger.ErrorContext(ctx, "session lookup failed", "err", err, "request_id", httpx.RequestID(ctx))
				s.writeError(w, r, httpx.Refusal{Status: http.StatusServiceUnavailable, Code: cohort.EUNAVAILABLE, Title: "Cohort is unavailable",
					Message: "Cohort cannot reach its database right now. Try again in a moment."})
				return
			}
		}
		ctx = httpx.WithCSRF(ctx, s.doubleSubmitToken(w, r))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// doubleSubmitToken returns a function yielding the signed-out CSRF
// token: the one in the browser's cookie, or a fresh one whose cookie is
// set the first time a page asks for it (so static-looking responses do
// not set cookies).
func (s *Server) doubleSubmitToken(w http.ResponseWriter, r *http.Request) func() string {
	if c, err := r.Cookie(httpx.CSRFCookieName(s.cfg.TLS)); err == nil && validToken(c.Value) {
		tok := c.Value
		return func() string { return tok }
	}
	var once sync.Once
	var tok string
	return func() string {
		once.Do(func() {
			tok = newToken()
			http.SetCookie(w, &http.Cookie{
				Name:     httpx.CSRFCookieName(s.cfg.TLS),
				Value:    tok,
				Path:     "/",
				HttpOnly: true,
				Secure:   s.cfg.TLS,
				SameSite: http.SameSiteLaxMode,
			})
		})
		return tok
	}
}

func newToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validToken accepts only what newToken makes, so a planted cookie of
// arbitrary text is replaced rather than trusted.
func validToken(t string) bool {
	if len(t) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(t)
	return err == nil
}

func stateChanging(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// csrf refuses a state-changing browser request unless it comes from this
// site (Sec-Fetch-Site / Origin, net/http's CrossOriginProtection) AND
// echoes the CSRF token in the "csrf_token" form field or the
// X-CSRF-Token header. Signed in, the token is the session's; signed out
// (the sign-in form) it is the double-submit cookie's. Requests with an
// Authorization header carry no cookies that matter and are exempt, and
// so are API requests without a session (they can only be refused).
func (s *Server) csrf(rt httpx.Route, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !stateChanging(r.Method) || r.Header.Get("Authorization") != "" {
			next.ServeHTTP(w, r)
			return
		}
		// An API request with no live session has nothing a forged request
		// could ride on: let the API answer 401 "missing credentials", as
		// DESIGN promises, instead of a form-expired 403.
		if rt.Machine && httpx.SessionFrom(r.Context()) == nil {
			next.ServeHTTP(w, r)
			return
		}
		if err := s.cop.Check(r); err != nil {
			s.csrfRefused(w, r)
			return
		}
		sent := r.Header.Get("X-CSRF-Token")
		if sent == "" && isFormPost(r) {
			var err error
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
				err = r.ParseMultipartForm(1 << 20)
			} else {
				err = r.ParseForm()
			}
			if err != nil {
				if IsBodyTooLarge(err) {
					s.bodyTooLarge(w, r, s.cfg.MaxBodyBytes)
					return
				}
				s.writeError(w, r, httpx.Refusal{Status: http.StatusBadRequest, Code: httpx.CodeBadRequest, Title: "Bad request",
					Message: "The form could not be read. Reload the page and try again."})
				return
			}
			sent = r.PostForm.Get("csrf_token")
		}
		ok := false
		if sess := httpx.SessionFrom(r.Context()); sess != nil {
			ok = tokensEqual(sent, sess.CSRFToken)
		}
		// Signed out, or a public route such as sign-out whose session just
		// expired: the double-submit cookie must match.
		if !ok && (rt.Public || httpx.SessionFrom(r.Context()) == nil) {
			if c, err := r.Cookie(httpx.CSRFCookieName(s.cfg.TLS)); err == nil && validToken(c.Value) {
				ok = tokensEqual(sent, c.Value)
			}
		}
		if !ok {
			s.csrfRefused(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isFormPost(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	return strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data")
}

func tokensEqual(sent, want string) bool {
	return sent != "" && want != "" && subtle.ConstantTimeCompare([]byte(sent), []byte(want)) == 1
}

// CSRFMessage is what a refused form says.
const CSRFMessage = "This form has expired or came from another site. Reload the page and try again."

func (s *Server) csrfRefused(w http.ResponseWriter, r *http.Request) {
	s.logger.InfoContext(r.Context(), "csrf refused", "path", r.URL.Path, "request_id", httpx.RequestID(r.Context()))
	s.writeError(w, r, httpx.Refusal{Status: http.StatusForbidden, Code: cohort.EFORBIDDEN, Title: "Form expired", Message: CSRFMessage})
}

// gate sends a signed-out request for a non-public route to the sign-in
// page (or answers 401 on the machine interfaces). Routes that take API
// keys authenticate them themselves and are Public; on every other route
// an Authorization header is no sign-in (the session middleware ignores
// cookies on such requests), so without an actor it is refused here
// rather than reaching a handler that expects a signed-in person.
func (s *Server) gate(rt httpx.Route, next http.Handler) http.Handler {
	if rt.Public {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := cohort.ActorFromContext(r.Context()); ok {
			next.ServeHTTP(w, r)
			return
		}
		if rt.Machine || rt.Stream {
			s.writeError(w, r, httpx.Refusal{Status: http.StatusUnauthorized, Code: cohort.EUNAUTHORIZED, Title: "Sign in required",
				Message: "Sign in, or send an API key in the Authorization header."})
			return
		}
		target := "/signin"
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			target += "?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	})
}
