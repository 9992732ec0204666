package scim_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/api"
	"github.com/cohorthq/cohort/internal/ratelimit"
	"github.com/cohorthq/cohort/internal/scim"
	"github.com/cohorthq/cohort/internal/server"
	"github.com/cohorthq/cohort/internal/sqlstore/sqltest"
)

// testClock is a clock the test moves by hand: no sleeping, no timing.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestRateLimit: past the per-key limit SCIM answers 429 with a SCIM
// error body and Retry-After, changing nothing; every keyed response
// carries the X-RateLimit headers; another key has its own allowance.
func TestRateLimit(t *testing.T) {
	clock := newTestClock()
	e := newEnv(t, scim.WithLimiter(ratelimit.PerMinute(3, clock.Now)))
	other, _ := e.key(t, e.sysCtx, "entra", cohort.ScopeSCIM)

	for i, want := range []string{"2", "1", "0"} {
		r := e.do(t, "GET", "/Users", nil).want(t, http.StatusOK)
		if r.header.Get("X-RateLimit-Limit") != "3" || r.header.Get("X-RateLimit-Remaining") != want || r.header.Get("X-RateLimit-Reset") == "" {
			t.Errorf("request %d: limit %q remaining %q reset %q", i, r.header.Get("X-RateLimit-Limit"),
				r.header.Get("X-RateLimit-Remaining"), r.header.Get("X-RateLimit-Reset"))
		}
	}
	r := e.do(t, "POST", "/Groups", map[string]any{"schemas": []string{scim.SchemaGroup}, "displayName": "Physiotherapists"})
	r.scimError(t, http.StatusTooManyRequests, "")
	if r.header.Get("Retry-After") != "20" || r.header.Get("X-RateLimit-Remaining") != "0" || r.header.Get("X-RateLimit-Limit") != "3" {
		t.Errorf("429 headers: %v", r.header)
	}
	if n := e.do(t, "GET", "/Groups", nil, "Authorization", "Bearer "+other).want(t, http.StatusOK).total(t); n != 0 {
		t.Errorf("the refused POST created a group: %d groups", n)
	}
	// After Retry-After seconds one more request is allowed.
	clock.Add(20 * time.Second)
	e.do(t, "GET", "/Users", nil).want(t, http.StatusOK)
	e.do(t, "GET", "/Users", nil).scimError(t, http.StatusTooManyRequests, "")
}

// TestRateLimitSharedWithAPI: a key is one client: its requests to
// /api/v1 and /scim/v2 spend one allowance, as cmd/cohort wires them.
func TestRateLimitSharedWithAPI(t *testing.T) {
	clock := newTestClock()
	limiter := ratelimit.PerMinute(3, clock.Now)
	db := sqltest.Open(t)
	svc := db.Services()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(server.New(server.Config{}, svc, logger,
		api.New(svc, logger, api.Options{Limiter: limiter}).Routes(),
		scim.New(svc, logger, scim.WithLimiter(limiter)).Routes()))
	t.Cleanup(srv.Close)
	e := &env{svc: svc, srv: srv, base: srv.URL + scim.Base}
	e.ws, e.owner, e.sysCtx = e.newWorkspace(t)
	token, _ := e.key(t, e.sysCtx, "both", cohort.ScopeSCIM, cohort.ScopeGroupsRead)

	for range 2 {
		r := e.doToken(t, token, "GET", srv.URL+"/api/v1/groups", nil)
		if r.status != http.StatusOK {
			t.Fatalf("API: %d %s", r.status, r.body)
		}
	}
	e.doToken(t, token, "GET", "/Groups", nil).want(t, http.StatusOK)
	r := e.doToken(t, token, "GET", "/Groups", nil)
	r.scimError(t, http.StatusTooManyRequests, "")
	r = e.doToken(t, token, "GET", srv.URL+"/api/v1/groups", nil)
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.header.Get("Content-Type"), "problem+json") {
		t.Errorf("API after SCIM spent the allowance: %d %s", r.status, r.header.Get("Content-Type"))
	}
}
