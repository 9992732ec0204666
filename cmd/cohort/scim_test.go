package main

import (
	"net/http"
	"strings"
	"testing"
)

// scimKey creates a workspace and an API key with the scim scope in the
// database env names, and returns the key's token.
func scimKey(t *testing.T, env map[string]string) string {
	t.Helper()
	r := runCLI(t, env, "owner-password-123\n", "workspace", "create",
		"--name", "Riverside Physio", "--slug", "riverside", "--owner-email", "amara@riverside.test",
		"--owner-given-name", "Amara", "--owner-family-name", "Okafor")
	if r.err != nil {
		t.Fatalf("workspace create: %v\n%s", r.err, r.stderr)
	}
	r = runCLI(t, env, "", "apikey", "create", "--workspace", "riverside", "--name", "okta", "--scopes", "scim")
	if r.err != nil {
		t.Fatalf("apikey create: %v\n%s", r.err, r.stderr)
	}
	return lastLine(r.stdout)
}

func scimGet(t *testing.T, url, token string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return res, b.String()
}

// TestServeRateLimitsSCIM: --rate-limit applies to SCIM as it does to the
// REST API: past it a scim key gets SCIM's 429 with Retry-After.
func TestServeRateLimitsSCIM(t *testing.T) {
	t.Parallel()
	env := map[string]string{"COHORT_DB": testDSN(t), "COHORT_LOG_LEVEL": "error"}
	token := scimKey(t, env)
	s := startServer(t, env, "--rate-limit", "2")
	for i := range 2 {
		res, body := scimGet(t, s.URL+"/scim/v2/Users", token)
		if res.StatusCode != http.StatusOK || res.Header.Get("X-RateLimit-Limit") != "2" {
			t.Fatalf("request %d: %d limit %q: %s", i, res.StatusCode, res.Header.Get("X-RateLimit-Limit"), body)
		}
	}
	res, body := scimGet(t, s.URL+"/scim/v2/Users", token)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" ||
		!strings.Contains(body, `"status":"429"`) || !strings.Contains(body, "urn:ietf:params:scim:api:messages:2.0:Error") {
		t.Errorf("past the limit: %d Retry-After %q: %s", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
}

// TestServePublicURL: with --public-url, SCIM locations use it whatever
// Host and X-Forwarded-Proto the request carries; without it a client's
// X-Forwarded-Proto is not followed (no --behind-tls-proxy).
func TestServePublicURL(t *testing.T) {
	t.Parallel()
	env := map[string]string{"COHORT_DB": testDSN(t), "COHORT_LOG_LEVEL": "error"}
	token := scimKey(t, env)
	s := startServer(t, env, "--public-url", "https://cohort.example.org/")
	_, body := scimGet(t, s.URL+"/scim/v2/ServiceProviderConfig", token, "X-Forwarded-Proto", "http")
	if !strings.Contains(body, `"location":"https://cohort.example.org/scim/v2/ServiceProviderConfig"`) {
		t.Errorf("with --public-url: %s", body)
	}
	s.stop()
	if err := <-s.done; err != nil {
		t.Fatal(err)
	}
	s.done <- nil

	s = startServer(t, env)
	_, body = scimGet(t, s.URL+"/scim/v2/ServiceProviderConfig", token, "X-Forwarded-Proto", "https")
	if !strings.Contains(body, `"location":"`+s.URL+`/scim/v2/ServiceProviderConfig"`) {
		t.Errorf("without --public-url, want %s: %s", s.URL, body)
	}
}
