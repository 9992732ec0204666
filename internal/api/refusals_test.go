package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cohorthq/cohort/internal/api"
)

// The server's own refusals on API routes (an unknown path, an address or
// body over the limit) are problems whose code and status come from the
// API's one table, as its handlers' errors do.
func TestServerRefusalsAreProblems(t *testing.T) {
	e := newEnv(t, api.Options{MaxBodyBytes: 1 << 10})
	token, _ := e.key(t, e.sysCtx, "groups:write")
	for _, c := range []struct {
		name   string
		rq     req
		status int
		code   string
	}{
		{"unknown path", req{method: "GET", path: "/api/v1/nothing-here", token: token}, http.StatusNotFound, "not_found"},
		{"unknown path, no key", req{method: "POST", path: "/api/v2/groups"}, http.StatusNotFound, "not_found"},
		{"address too long", req{method: "GET", path: "/api/v1/groups?q=" + strings.Repeat("a", 9<<10), token: token}, http.StatusRequestURITooLong, "uri_too_long"},
		{"body too large", req{method: "POST", path: "/api/v1/groups", token: token, body: `{"name":"` + strings.Repeat("x", 2<<10) + `"}`}, http.StatusRequestEntityTooLarge, "too_large"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, c.rq)
			p := r.problem(t)
			if r.status != c.status || p.Status != c.status || p.Code != c.code || p.Detail == "" {
				t.Errorf("%d %+v, want %d %s", r.status, p, c.status, c.code)
			}
		})
	}
}
