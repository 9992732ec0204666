package scim_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestWrongMethod: a real SCIM endpoint asked with a method it does not
// serve answers 405 with Allow and a SCIM error body (not a 404 that
// names the very path asked for); a path that is no endpoint stays 404.
func TestWrongMethod(t *testing.T) {
	e := newEnv(t)
	cases := []struct{ method, path, allow string }{
		{"PUT", "/Users", "GET, HEAD, POST"},
		{"DELETE", "/Groups", "GET, HEAD, POST"},
		{"POST", "/Users/0190f5a8-7c3e-7b1a-9d2e-1234567890ab", "DELETE, GET, HEAD, PATCH, PUT"},
		{"POST", "/ServiceProviderConfig", "GET, HEAD"},
	}
	for _, c := range cases {
		r := e.do(t, c.method, c.path, nil)
		m := r.scimError(t, http.StatusMethodNotAllowed, "")
		if got := r.header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
		if d, _ := m["detail"].(string); !strings.Contains(d, c.allow) {
			t.Errorf("%s %s: detail %q does not say what to use", c.method, c.path, d)
		}
	}
	for _, p := range []string{"/.search", "/Users/.search", "/Userz"} {
		e.do(t, "POST", p, nil).scimError(t, http.StatusNotFound, "")
	}
}
