package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/api"
	"github.com/cohorthq/cohort/internal/events"
	"github.com/cohorthq/cohort/internal/httpx"
	"github.com/cohorthq/cohort/internal/scim"
	"github.com/cohorthq/cohort/internal/server"
	"github.com/cohorthq/cohort/internal/sqlstore"
	"github.com/cohorthq/cohort/internal/sqlstore/sqltest"
	"github.com/cohorthq/cohort/internal/web"
)

// full is the whole HTTP surface as `cohort serve` assembles it (see
// newHandler in cmd/cohort): the web pages, the REST API, SCIM and the
// live-updates stream on one server, over a real store.
type full struct {
	t    *testing.T
	db   *sqlstore.DB
	svc  cohort.Services
	h    *server.Server
	srv  *httptest.Server
	errs *errorLines
}

// errorLines records error-level log lines: an internal error anywhere
// fails the test that caused it.
type errorLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *errorLines) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelError }
func (l *errorLines) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	l.mu.Lock()
	l.lines = append(l.lines, b.String())
	l.mu.Unlock()
	return nil
}
func (l *errorLines) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *errorLines) WithGroup(string) slog.Handler      { return l }

func (l *errorLines) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = nil
	return out
}

// newFull wires the server the way cmd/cohort's serve does. cfg.TLS also
// switches the pages to secure cookies, as serve does from one setting;
// pageOpts adjust the pages' options further.
func newFull(t *testing.T, cfg server.Config, pageOpts ...func(*web.Options)) *full {
	t.Helper()
	db := sqltest.Open(t)
	svc := db.Services()
	svc.Webhooks = events.CheckWebhookURLs(svc.Webhooks, false)
	svc.Auth = cohort.ThrottleSignIn(svc.Auth, db, cohort.SignInLimits{})
	errs := &errorLines{}
	logger := slog.New(errs)
	live := events.NewLive(svc, db.Subscribe, logger, events.LiveOptions{SessionsEnded: db.SubscribeSessionsEnded})
	t.Cleanup(live.Close)
	wo := web.Options{SecureCookies: cfg.TLS, LiveEventsURL: "/events"}
	for _, o := range pageOpts {
		o(&wo)
	}
	pages, err := web.New(svc, logger, wo)
	if err != nil {
		t.Fatal(err)
	}
	apiHandler := api.New(svc, logger, api.Options{RateLimit: -1})
	if cfg.Ready == nil {
		cfg.Ready = db.Ping
	}
	h := server.New(cfg, svc, logger, pages.Routes(), apiHandler.Routes(), scim.New(svc, logger).Routes(), live.Routes())
	var srv *httptest.Server
	if cfg.TLS {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	f := &full{t: t, db: db, svc: svc, h: h, srv: srv, errs: errs}
	t.Cleanup(func() {
		for _, l := range errs.take() {
			t.Errorf("error logged: %s", l)
		}
	})
	return f
}

// client returns an HTTP client that does not follow redirects, so tests
// see where the server sends people.
func (f *full) client() *http.Client {
	c := f.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// request describes one call.
type request struct {
	method, path string
	body         string
	contentType  string
	header       http.Header
	cookies      []*http.Cookie
}

// do sends r and returns the response with its body read (at most 1 MiB:
// the live stream never ends on its own, so its body is cut off).
func (f *full) do(r request) (*http.Response, string) {
	f.t.Helper()
	ctx, cancel := context.WithCancel(f.t.Context())
	defer cancel()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, f.srv.URL+r.path, body)
	if err != nil {
		f.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	for _, c := range r.cookies {
		req.AddCookie(c)
	}
	res, err := f.client().Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer res.Body.Close()
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		return res, ""
	}
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return res, string(b)
}

// sys is a context acting as the system in a workspace.
func sys(ctx context.Context, wsID string) context.Context {
	return cohort.NewContextWithActor(ctx, cohort.SystemActor(wsID, "test"))
}

// browser is a signed-in browser: its session cookie and CSRF token.
type browser struct {
	cookie *http.Cookie
	csrf   string
	secure bool
}

// signIn starts a session for a user directly in the store, as a
// completed sign-in would.
func (f *full) signIn(userID string, secure bool) browser {
	f.t.Helper()
	tok, s, err := f.svc.Auth.CreateSession(f.t.Context(), userID, web.DefaultSessionTTL)
	if err != nil {
		f.t.Fatalf("session for %s: %v", userID, err)
	}
	return browser{cookie: &http.Cookie{Name: httpx.SessionCookieName(secure), Value: tok}, csrf: s.CSRFToken, secure: secure}
}

// form encodes form fields.
func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

// newestAudit returns the ID of the newest audit entry of a workspace, so
// a test can tell whether anything was written.
func (f *full) newestAudit(wsID string) string {
	f.t.Helper()
	p, err := f.svc.Audit.FindAuditEntries(sys(f.t.Context(), wsID), cohort.AuditFilter{Limit: 1})
	if err != nil {
		f.t.Fatal(err)
	}
	if len(p.Entries) == 0 {
		return ""
	}
	return p.Entries[0].ID
}
