package httpx

import (
	"context"
	"net/http"
	"time"
)

// Cookie names. Behind TLS the server uses the "__Host-" prefix, which
// browsers only accept with Secure, Path=/ and no Domain: a sibling
// subdomain cannot plant or overwrite such a cookie.
const (
	sessionCookie = "cohort_session"
	csrfCookie    = "cohort_csrf"
	hostPrefix    = "__Host-"
)

// SessionCookieName is the name of the session cookie.
func SessionCookieName(secure bool) string {
	if secure {
		return hostPrefix + sessionCookie
	}
	return sessionCookie
}

// CSRFCookieName is the name of the double-submit cookie that protects
// forms shown before sign-in.
func CSRFCookieName(secure bool) string {
	if secure {
		return hostPrefix + csrfCookie
	}
	return csrfCookie
}

// SetSessionCookie sets the session cookie to token for ttl.
func SetSessionCookie(w http.ResponseWriter, secure bool, token string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name:     SessionCookieName(secure),
		Value:    token,
		Path:     "/",
		MaxAge:   int(ttl / time.Second),
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// ClearSessionCookie removes the session cookie from the browser.
func ClearSessionCookie(w http.ResponseWriter, secure bool) {
	http.SetCookie(w, &http.Cookie{
		Name:     SessionCookieName(secure),
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// WithCSRF returns ctx carrying a function that yields the CSRF token a
// form must echo back. The server sets it: for a signed-in request it is
// the session's token; before sign-in it issues the double-submit cookie
// the first time a page asks for it.
func WithCSRF(ctx context.Context, token func() string) context.Context {
	return context.WithValue(ctx, csrfKey, token)
}

// CSRFToken returns the token forms on this request must carry in their
// "csrf_token" field (or scripts in the X-CSRF-Token header), or "" when
// the request did not pass through the server's session middleware.
func CSRFToken(ctx context.Context) string {
	f, _ := ctx.Value(csrfKey).(func() string)
	if f == nil {
		return ""
	}
	return f()
}
