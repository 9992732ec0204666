package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/httpx"
	"github.com/cohorthq/cohort/internal/server"
	"github.com/cohorthq/cohort/internal/sqlstore/sqltest"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testServer struct {
	*httptest.Server
	logs *syncBuffer
	h    *server.Server
}

func newServer(t *testing.T, cfg server.Config, routes ...httpx.Route) *testServer {
	t.Helper()
	db := sqltest.Open(t)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	h := server.New(cfg, db.Services(), logger, routes)
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return &testServer{Server: s, logs: logs, h: h}
}

func (s *testServer) do(t *testing.T, method, path string, body io.Reader, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+path, body)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestHealthAndReady(t *testing.T) {
	t.Parallel()
	var down error
	s := newServer(t, server.Config{Ready: func(context.Context) error { return down }})
	if res, _ := s.do(t, "GET", "/healthz", nil, nil); res.StatusCode != 200 {
		t.Errorf("healthz: %d", res.StatusCode)
	}
	if res, _ := s.do(t, "GET", "/readyz", nil, nil); res.StatusCode != 200 {
		t.Errorf("readyz: %d", res.StatusCode)
	}
	down = errors.New("database is down")
	if res, _ := s.do(t, "GET", "/readyz", nil, nil); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz with the database down: %d", res.StatusCode)
	}
	if res, _ := s.do(t, "GET", "/healthz", nil, nil); res.StatusCode != 200 {
		t.Errorf("healthz must not depend on the database: %d", res.StatusCode)
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	var seen string
	s := newServer(t, server.Config{}, httpx.Route{Method: "GET", Pattern: "/id", Public: true, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = httpx.RequestID(r.Context())
	})})
	res, _ := s.do(t, "GET", "/id", nil, map[string]string{"X-Request-Id": "proxy-1234abcd"})
	if res.Header.Get("X-Request-Id") != "proxy-1234abcd" || seen != "proxy-1234abcd" {
		t.Errorf("sane incoming ID not kept: %q %q", res.Header.Get("X-Request-Id"), seen)
	}
	for _, bad := range []string{"x", "<script>", "a b c d e f g h", strings.Repeat("a", 65)} {
		res, _ = s.do(t, "GET", "/id", nil, map[string]string{"X-Request-Id": bad})
		if got := res.Header.Get("X-Request-Id"); got == bad || got == "" || got != seen {
			t.Errorf("bad incoming ID %q: got %q (ctx %q)", bad, got, seen)
		}
	}
}

func TestPanicIsA500Page(t *testing.T) {
	t.Parallel()
	s := newServer(t, server.Config{}, httpx.Route{Method: "GET", Pattern: "/boom", Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	}), Public: true})
	res, body := s.do(t, "GET", "/boom", nil, map[string]string{"X-Request-Id": "req-panic-0001"})
	if res.StatusCode != 500 || !strings.Contains(body, "Internal error") || !strings.Contains(body, "req-panic-0001") {
		t.Errorf("panic: %d\n%s", res.StatusCode, body)
	}
	if !strings.Contains(s.logs.String(), `"msg":"panic serving request"`) || !strings.Contains(s.logs.String(), "req-panic-0001") {
		t.Errorf("panic not logged with the request ID:\n%s", s.logs.String())
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	var read int
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		read = len(b)
		if server.IsBodyTooLarge(err) {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		}
	})
	s := newServer(t, server.Config{MaxBodyBytes: 1000},
		httpx.Route{Method: "PUT", Pattern: "/small", Public: true, Handler: h},
		httpx.Route{Method: "PUT", Pattern: "/big", Public: true, MaxBodyBytes: 5000, Handler: h},
	)
	auth := map[string]string{"Authorization": "Bearer x"}
	res, body := s.do(t, "PUT", "/small", strings.NewReader(strings.Repeat("a", 1001)), auth)
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "1000 bytes") {
		t.Errorf("over the limit: %d %s", res.StatusCode, body)
	}
	if res, _ = s.do(t, "PUT", "/small", strings.NewReader(strings.Repeat("a", 1000)), auth); res.StatusCode != 200 || read != 1000 {
		t.Errorf("at the limit: %d, read %d", res.StatusCode, read)
	}
	if res, _ = s.do(t, "PUT", "/big", strings.NewReader(strings.Repeat("a", 4000)), auth); res.StatusCode != 200 {
		t.Errorf("route's own limit: %d", res.StatusCode)
	}
}

// problemRefusal stands in for a machine interface's renderer: the
// server must hand it every refusal on its routes.
func problemRefusal(w http.ResponseWriter, r *http.Request, f httpx.Refusal) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(f.Status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": f.Status, "code": f.Code, "detail": f.Message})
}

func TestNotFoundAndAPIAnswers(t *testing.T) {
	t.Parallel()
	s := newServer(t, server.Config{},
		httpx.Route{Method: "GET", Pattern: "/api/v1/things", Machine: true, Refuse: problemRefusal, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, ok := cohort.ActorFromContext(r.Context())
			_, _ = w.Write([]byte("reached, actor=" + map[bool]string{true: "yes", false: "no"}[ok]))
		})},
		httpx.Route{Method: "POST", Pattern: "/api/v1/things", Machine: true, Refuse: problemRefusal, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusCreated)
		})},
		// Routes that authenticate keys themselves are Public, as the API's are.
		httpx.Route{Method: "GET", Pattern: "/api/v1/keyed", Public: true, Machine: true, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, ok := cohort.ActorFromContext(r.Context())
			_, _ = w.Write([]byte("reached, actor=" + map[bool]string{true: "yes", false: "no"}[ok]))
		})},
		httpx.Route{Method: "POST", Pattern: "/api/v1/keyed", Public: true, Machine: true, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusCreated)
		})},
	)
	res, body := s.do(t, "GET", "/no/such/page", nil, nil)
	if res.StatusCode != 404 || !strings.Contains(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "Page not found") {
		t.Errorf("unknown page: %d %s", res.StatusCode, body)
	}
	// Signed out, no key: 401 problem JSON, not a redirect.
	res, body = s.do(t, "GET", "/api/v1/things", nil, nil)
	var p struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
	}
	if res.StatusCode != 401 || json.Unmarshal([]byte(body), &p) != nil || p.Code != "unauthorized" {
		t.Errorf("signed-out API: %d %s", res.StatusCode, body)
	}
	// A public route authenticates the key itself; no CSRF token needed.
	res, body = s.do(t, "GET", "/api/v1/keyed", nil, map[string]string{"Authorization": "Bearer k"})
	if res.StatusCode != 200 || body != "reached, actor=no" {
		t.Errorf("keyed API: %d %s", res.StatusCode, body)
	}
	if res, _ = s.do(t, "POST", "/api/v1/keyed", nil, map[string]string{"Authorization": "Bearer k", "Sec-Fetch-Site": "same-origin"}); res.StatusCode != http.StatusCreated {
		t.Errorf("keyed API POST: %d", res.StatusCode)
	}
	// On a route that does not take keys, a key is no sign-in: the gate
	// answers, and the handler never runs without an actor.
	res, body = s.do(t, "GET", "/api/v1/things", nil, map[string]string{"Authorization": "Bearer k"})
	if res.StatusCode != 401 || strings.Contains(body, "reached") {
		t.Errorf("key on a sign-in route: %d %s", res.StatusCode, body)
	}
	// An API POST with no credentials at all: 401 as JSON, never a CSRF
	// 403 (there is no session a forged request could use), and the
	// handler never runs.
	res, body = s.do(t, "POST", "/api/v1/things", nil, nil)
	if res.StatusCode != 401 || res.Header.Get("Content-Type") != "application/problem+json" || strings.Contains(body, "reached") {
		t.Errorf("API POST without credentials: %d %s", res.StatusCode, body)
	}
}

func TestHeadersAndTLSCookies(t *testing.T) {
	t.Parallel()
	s := newServer(t, server.Config{TLS: true}, httpx.Route{Method: "GET", Pattern: "/form", Public: true, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(httpx.CSRFToken(r.Context())))
	})})
	res, token := s.do(t, "GET", "/form", nil, nil)
	if res.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS behind TLS")
	}
	if !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Error("no frame-ancestors")
	}
	var c *http.Cookie
	for _, k := range res.Cookies() {
		if k.Name == "__Host-cohort_csrf" {
			c = k
		}
	}
	if c == nil || !c.Secure || !c.HttpOnly || c.Path != "/" || c.Value != token || len(token) < 40 {
		t.Errorf("double-submit cookie: %+v token %q", c, token)
	}
	plain := newServer(t, server.Config{})
	if res, _ := plain.do(t, "GET", "/healthz", nil, nil); res.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS without TLS")
	}
}

// The access log has the path, status and request ID, and never the
// query, cookies or headers.
func TestAccessLogKeepsSecretsOut(t *testing.T) {
	t.Parallel()
	s := newServer(t, server.Config{}, httpx.Route{Method: "GET", Pattern: "/x", Public: true, Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})})
	s.do(t, "GET", "/x?token=secret-query", nil, map[string]string{"Cookie": "cohort_session=secret-cookie", "Authorization": "Bearer secret-key"})
	logs := s.logs.String()
	if !strings.Contains(logs, `"path":"/x"`) || !strings.Contains(logs, `"route":"GET /x"`) || !strings.Contains(logs, `"status":200`) {
		t.Errorf("access log lacks fields:\n%s", logs)
	}
	if strings.Contains(logs, "secret") {
		t.Errorf("access log leaks a secret:\n%s", logs)
	}
}

func TestRoutesListsEverything(t *testing.T) {
	t.Parallel()
	s := newServer(t, server.Config{}, httpx.Route{Method: "GET", Pattern: "/x", Handler: http.NotFoundHandler()})
	var got []string
	for _, r := range s.h.Routes() {
		got = append(got, r.Method+" "+r.Pattern)
	}
	want := "GET /healthz|GET /readyz|GET /x"
	if strings.Join(got, "|") != want {
		t.Errorf("routes = %v", got)
	}
}
