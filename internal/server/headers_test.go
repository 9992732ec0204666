package server_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/server"
)

// cspDirective returns the value of one directive of a CSP header.
func cspDirective(csp, name string) (string, bool) {
	for _, d := range strings.Split(csp, ";") {
		d = strings.TrimSpace(d)
		if d == name || strings.HasPrefix(d, name+" ") {
			return strings.TrimSpace(strings.TrimPrefix(d, name)), true
		}
	}
	return "", false
}

// Inline code a CSP without 'unsafe-inline' would block: an inline script,
// an event-handler attribute or a style attribute.
var inlineCode = regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]|<script>|\son[a-z]+\s*=|\sstyle\s*=`)

// TestSecurityHeaders checks the headers of every kind of response (pages,
// the API, SCIM, the live stream, errors, static files), plain and over
// TLS.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	for _, tls := range []bool{false, true} {
		t.Run(fmt.Sprint("tls=", tls), func(t *testing.T) {
			f := newFull(t, server.Config{TLS: tls})
			ws, owner := f.practice("headers")
			b := f.signIn(owner.ID, tls)
			ctx := sys(t.Context(), ws.ID)
			_, key, err := f.svc.APIKeys.CreateAPIKey(ctx, cohort.APIKeyCreate{Name: "api", Scopes: []cohort.Scope{cohort.ScopeGroupsRead}})
			if err != nil {
				t.Fatal(err)
			}
			_, scimKey, err := f.svc.APIKeys.CreateAPIKey(ctx, cohort.APIKeyCreate{Name: "scim", Scopes: []cohort.Scope{cohort.ScopeSCIM}})
			if err != nil {
				t.Fatal(err)
			}
			g, err := f.svc.Groups.CreateGroup(ctx, cohort.GroupCreate{Name: "Physiotherapists"})
			if err != nil {
				t.Fatal(err)
			}
			bearer := func(k string) http.Header { return http.Header{"Authorization": {"Bearer " + k}} }
			session := []*http.Cookie{b.cookie}
			cases := []struct {
				name   string
				req    request
				status int
				page   bool // an HTML page to scan for inline code
				static bool
			}{
				{name: "sign-in page", req: request{method: "GET", path: "/signin"}, status: 200, page: true},
				{name: "groups page", req: request{method: "GET", path: "/settings/groups", cookies: session}, status: 200, page: true},
				{name: "group page", req: request{method: "GET", path: "/settings/groups/" + g.ID, cookies: session}, status: 200, page: true},
				{name: "edit page", req: request{method: "GET", path: "/settings/groups/" + g.ID + "/edit", cookies: session}, status: 200, page: true},
				{name: "users page", req: request{method: "GET", path: "/settings/users", cookies: session}, status: 200, page: true},
				{name: "directory", req: request{method: "GET", path: "/directory", cookies: session}, status: 200, page: true},
				{name: "API docs", req: request{method: "GET", path: "/api/v1/docs"}, status: 200, page: true},
				{name: "unknown page", req: request{method: "GET", path: "/no/such/page"}, status: 404, page: true},
				{name: "signed-out redirect", req: request{method: "GET", path: "/settings/groups"}, status: 303},
				{name: "API list", req: request{method: "GET", path: "/api/v1/groups", header: bearer(key)}, status: 200},
				{name: "API by session", req: request{method: "GET", path: "/api/v1/groups/" + g.ID, cookies: session}, status: 200},
				{name: "API error", req: request{method: "GET", path: "/api/v1/groups"}, status: 401},
				{name: "SCIM list", req: request{method: "GET", path: "/scim/v2/Groups", header: bearer(scimKey)}, status: 200},
				{name: "SCIM error", req: request{method: "GET", path: "/scim/v2/Groups"}, status: 401},
				{name: "live stream", req: request{method: "GET", path: "/events", cookies: session, header: http.Header{"Accept": {"text/event-stream"}}}, status: 200},
				{name: "health", req: request{method: "GET", path: "/healthz"}, status: 200},
				{name: "static file", req: request{method: "GET", path: "/static/app.css"}, status: 200, static: true},
			}
			for _, c := range cases {
				res, body := f.do(c.req)
				if res.StatusCode != c.status {
					t.Errorf("%s: status %d, want %d", c.name, res.StatusCode, c.status)
				}
				h := res.Header
				csp := h.Get("Content-Security-Policy")
				script, ok := cspDirective(csp, "script-src")
				if !ok {
					script, ok = cspDirective(csp, "default-src")
				}
				if !ok || !strings.Contains(script, "'self'") || strings.Contains(script, "'unsafe-inline'") || strings.Contains(script, "'unsafe-eval'") {
					t.Errorf("%s: script policy %q of CSP %q", c.name, script, csp)
				}
				if fa, _ := cspDirective(csp, "frame-ancestors"); fa != "'none'" {
					t.Errorf("%s: frame-ancestors %q, want 'none'", c.name, fa)
				}
				if h.Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("%s: X-Content-Type-Options %q", c.name, h.Get("X-Content-Type-Options"))
				}
				if rp := h.Get("Referrer-Policy"); rp != "same-origin" && rp != "no-referrer" {
					t.Errorf("%s: Referrer-Policy %q leaks paths (IDs) to other sites", c.name, rp)
				}
				hsts := h.Get("Strict-Transport-Security")
				if tls && !strings.Contains(hsts, "max-age=") || !tls && hsts != "" {
					t.Errorf("%s: HSTS %q over TLS=%v", c.name, hsts, tls)
				}
				cc := h.Get("Cache-Control")
				switch {
				case c.static:
					// Static files are the same for everyone: cached long
					// under a versioned URL, revalidated otherwise.
					if !strings.Contains(cc, "public") && cc != "no-cache" {
						t.Errorf("%s: Cache-Control %q", c.name, cc)
					}
				case cc != "no-store":
					t.Errorf("%s: Cache-Control %q, want no-store", c.name, cc)
				}
				if c.page {
					if m := inlineCode.FindString(body); m != "" {
						t.Errorf("%s: inline code the CSP blocks: %q", c.name, m)
					}
				}
			}
		})
	}
}
