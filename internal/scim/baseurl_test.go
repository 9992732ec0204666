package scim_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cohorthq/cohort/internal/scim"
)

// locations creates a user through POST and returns the Location header
// and meta.location of the answer, and meta.location of a GET, each sent
// with the given Host and X-Forwarded-Proto.
func locations(t *testing.T, e *env, host, proto string) (created, createdMeta, got string) {
	t.Helper()
	body := map[string]any{"schemas": []string{scim.SchemaUser}, "userName": "loc-" + strings.ReplaceAll(host, ":", "-") + "@example.com",
		"name": map[string]any{"givenName": "Lou", "familyName": "Cation"}}
	r := e.do(t, "POST", "/Users", body, "Host", host, "X-Forwarded-Proto", proto).want(t, http.StatusCreated)
	m := r.obj(t)
	id := m["id"].(string)
	created, createdMeta = r.header.Get("Location"), m["meta"].(map[string]any)["location"].(string)
	m = e.do(t, "GET", "/Users/"+id, nil, "Host", host, "X-Forwarded-Proto", proto).want(t, http.StatusOK).obj(t)
	return created, createdMeta, m["meta"].(map[string]any)["location"].(string)
}

// TestAbsoluteURLs: SCIM's absolute URLs come from --public-url when it
// is set, whatever Host and X-Forwarded-Proto say; without it the scheme
// is what the operator configured (X-Forwarded-Proto from any client is
// ignored) and the host is the request's validated Host.
func TestAbsoluteURLs(t *testing.T) {
	t.Run("public URL", func(t *testing.T) {
		e := newEnv(t, scim.WithPublicURL("https://cohort.example.org/"))
		for _, u := range []string{func() string { a, _, _ := locations(t, e, "evil.example", "http"); return a }(),
			func() string { _, b, _ := locations(t, e, "evil2.example", "https"); return b }(),
			func() string { _, _, c := locations(t, e, "evil3.example", "https"); return c }()} {
			if !strings.HasPrefix(u, "https://cohort.example.org/scim/v2/Users/") {
				t.Errorf("location %q does not follow the public URL", u)
			}
		}
		m := e.do(t, "GET", "/ServiceProviderConfig", nil, "Host", "evil.example").want(t, http.StatusOK).obj(t)
		if loc := m["meta"].(map[string]any)["location"]; loc != "https://cohort.example.org/scim/v2/ServiceProviderConfig" {
			t.Errorf("ServiceProviderConfig location %v", loc)
		}
	})
	t.Run("no proxy", func(t *testing.T) {
		e := newEnv(t)
		a, b, c := locations(t, e, "cohort.test:8080", "https")
		for _, u := range []string{a, b, c} {
			if !strings.HasPrefix(u, "http://cohort.test:8080/scim/v2/Users/") {
				t.Errorf("location %q: X-Forwarded-Proto from an untrusted client was followed, or Host was not", u)
			}
		}
	})
	t.Run("behind TLS proxy", func(t *testing.T) {
		e := newEnv(t, scim.WithTLSProxy(true))
		a, b, c := locations(t, e, "cohort.test", "http")
		for _, u := range []string{a, b, c} {
			if !strings.HasPrefix(u, "https://cohort.test/scim/v2/Users/") {
				t.Errorf("location %q behind a TLS proxy", u)
			}
		}
	})
}
