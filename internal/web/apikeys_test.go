package web_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/api"
	"github.com/cohorthq/cohort/internal/events"
	"github.com/cohorthq/cohort/internal/server"
	"github.com/cohorthq/cohort/internal/web"
)

// newFullEnv is newEnv with the pages and the REST API on one server, and
// webhooks checked for unsafe URLs, as cmd/cohort wires them.
func newFullEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	svc := e.svc
	svc.Webhooks = events.CheckWebhookURLs(svc.Webhooks, false)
	e.svc = svc
	logger := slog.New(e.logs)
	pages, err := web.New(svc, logger, web.Options{})
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	e.handle = server.New(server.Config{}, svc, logger, pages.Routes(), api.New(svc, logger, api.Options{}).Routes())
	e.srv.Close()
	e.srv = httptest.NewServer(e.handle)
	t.Cleanup(e.srv.Close)
	return e
}

// apiGet calls the REST API with a bearer token and returns the status.
func (e *env) apiGet(token, path string) int {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	res.Body.Close()
	return res.StatusCode
}

// navLabels returns the Settings sub-navigation's link texts.
func navLabels(p *page) []string {
	var out []string
	for _, a := range p.doc.All("nav.settings-nav a") {
		out = append(out, a.Text())
	}
	return out
}

func hasLabel(labels []string, l string) bool {
	for _, x := range labels {
		if x == l {
			return true
		}
	}
	return false
}

// keyCount counts the practice's API keys.
func (e *env) keyCount() int {
	e.t.Helper()
	keys, err := e.svc.APIKeys.FindAPIKeys(e.system())
	if err != nil {
		e.t.Fatal(err)
	}
	return len(keys)
}

// The token is shown once, on the answer to Create; no later page has
// it; it works on the API until revoked, and from the next request after
// Revoke it does not.
func TestAPIKeyTokenShownOnceAndRevoke(t *testing.T) {
	e := newFullEnv(t)
	b := e.browser()
	b.signIn(e.owner)

	list := b.get("/settings/api-keys")
	wantStatus(t, list, http.StatusOK)
	if !hasLabel(navLabels(list), "API keys") || list.doc.One(t, "nav.settings-nav a[aria-current=page]").Text() != "API keys" {
		t.Errorf("nav: %v", navLabels(list))
	}
	if len(list.doc.All("a[href=/api/v1/docs]")) == 0 || len(list.doc.All("a[href=/api/v1/openapi.json]")) == 0 {
		t.Error("no link to the API documentation")
	}
	if list.doc.One(t, "a.button[href=/settings/api-keys/new]").Text() != "Create API key" {
		t.Error("no Create API key link")
	}

	form := b.get("/settings/api-keys/new")
	wantStatus(t, form, http.StatusOK)
	for i, s := range cohort.Scopes {
		id := "scope-" + string(rune('0'+i))
		in := form.doc.One(t, "input#"+id)
		if in.Attr("type") != "checkbox" || in.Attr("value") != string(s) || form.doc.One(t, "label[for="+id+"]").Text() != string(s) {
			t.Errorf("scope %s checkbox not labelled", s)
		}
	}
	expiryDay := time.Now().AddDate(0, 1, 0)
	expiry := expiryDay.Format("2006-01-02")
	created := b.post("/settings/api-keys/new", url.Values{"name": {"  Booking   sync "}, "scope": {"groups:read", "users:read"}, "expires_at": {expiry}})
	wantStatus(t, created, http.StatusCreated)
	if cc := created.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	token := created.doc.One(t, "input#token").Attr("value")
	if !strings.HasPrefix(token, cohort.APIKeyPrefix) || len(token) < 30 {
		t.Fatalf("token %q", token)
	}
	if !strings.Contains(created.doc.One(t, "main .alert").Text(), "it will not be shown again") {
		t.Error("no copy-it-now note")
	}

	// The API accepts it.
	if st := e.apiGet(token, "/api/v1/groups"); st != http.StatusOK {
		t.Fatalf("API with the new key: %d", st)
	}

	// No page shows it again.
	for _, path := range []string{"/settings/api-keys", "/settings/audit", "/settings/api-keys/new"} {
		p := b.get(path)
		if strings.Contains(p.body, token) || strings.Contains(p.body, token[len(token)-10:]) {
			t.Errorf("%s shows the token", path)
		}
	}
	list = b.get("/settings/api-keys")
	rows := list.doc.All("table.api-keys tbody tr")
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	row := rows[0]
	text := row.Text()
	for _, want := range []string{"Booking sync", token[:12], "groups:read", "users:read", "Olive Owner", expiryDay.Format("2 Jan 2006") + ", 23:59", "Active"} {
		if !strings.Contains(text, want) {
			t.Errorf("row %q lacks %q", text, want)
		}
	}
	keyID := row.Attr("data-key-id")

	// Revoke asks first, then takes effect on the very next request.
	confirm := b.get("/settings/api-keys/" + keyID + "/revoke")
	wantStatus(t, confirm, http.StatusOK)
	if confirm.doc.One(t, "main form button").Text() != "Revoke" {
		t.Error("no Revoke button on the confirmation")
	}
	if st := e.apiGet(token, "/api/v1/groups"); st != http.StatusOK {
		t.Fatalf("confirmation page revoked the key: %d", st)
	}
	done := b.post("/settings/api-keys/"+keyID+"/revoke", nil)
	after := b.follow(done)
	if !strings.Contains(after.doc.One(t, ".flash").Text(), `"Booking sync" revoked`) {
		t.Errorf("flash: %s", after.body)
	}
	if got := after.doc.One(t, "table.api-keys tbody tr .key-status").Text(); got != "Revoked" {
		t.Errorf("status %q", got)
	}
	if st := e.apiGet(token, "/api/v1/groups"); st != http.StatusUnauthorized {
		t.Errorf("API with the revoked key: %d, want 401", st)
	}
	// Revoking again is harmless; a made-up or foreign ID is 404.
	if p := b.post("/settings/api-keys/"+keyID+"/revoke", nil); p.status != http.StatusSeeOther {
		t.Errorf("second revoke: %d", p.status)
	}
	for _, id := range []string{"no-such-key", "%00", strings.Repeat("x", 300)} {
		if p := b.get("/settings/api-keys/" + id + "/revoke"); p.status != http.StatusNotFound {
			t.Errorf("revoke %q: %d", id, p.status)
		}
	}
}

// An expired key shows as Expired and is refused.
func TestAPIKeyExpiredStatus(t *testing.T) {
	e := newFullEnv(t)
	owner := cohort.NewContextWithActor(t.Context(), cohort.Actor{WorkspaceID: e.ws.ID, UserID: e.owner.ID, Name: e.owner.Name(), IsOwner: true, Role: e.owner.Role, Via: cohort.ViaWeb})
	soon := time.Now().Add(1500 * time.Millisecond)
	_, token, err := e.svc.APIKeys.CreateAPIKey(owner, cohort.APIKeyCreate{Name: "Short", Scopes: []cohort.Scope{cohort.ScopeGroupsRead}, ExpiresAt: &soon})
	if err != nil {
		t.Fatal(err)
	}
	// Wait for the expiry by polling the API (no fixed sleep decides it).
	for e.apiGet(token, "/api/v1/groups") == http.StatusOK {
		time.Sleep(100 * time.Millisecond)
	}
	b := e.browser()
	b.signIn(e.owner)
	list := b.get("/settings/api-keys")
	if got := list.doc.One(t, "table.api-keys tbody tr .key-status").Text(); got != "Expired" {
		t.Errorf("status %q, want Expired", got)
	}
	if len(list.doc.All("table.api-keys tbody tr a")) != 0 {
		t.Error("an expired key offers Revoke")
	}
}

// Odd input on the Create API key form: a clear message on the field,
// never a 500, and no key.
func TestAPIKeyFormOddInput(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.owner)
	b.get("/settings/api-keys/new")
	future := time.Now().AddDate(0, 2, 0).Format("2006-01-02")
	cases := []struct {
		name  string
		form  url.Values
		field string
	}{
		{"empty", url.Values{}, "scopes"},
		{"no name", url.Values{"scope": {"groups:read"}}, "name"},
		{"blank name", url.Values{"name": {"   "}, "scope": {"groups:read"}}, "name"},
		{"long name", url.Values{"name": {strings.Repeat("k", 5000)}, "scope": {"groups:read"}}, "name"},
		{"NUL in name", url.Values{"name": {"a\x00b"}, "scope": {"groups:read"}}, "name"},
		{"bad UTF-8", url.Values{"name": {"a\xffb"}, "scope": {"groups:read"}}, "name"},
		{"no scope", url.Values{"name": {"Sync"}}, "scopes"},
		{"unknown scope", url.Values{"name": {"Sync"}, "scope": {"admin"}}, "scopes"},
		{"comma scope", url.Values{"name": {"Sync"}, "scope": {"groups:read,scim"}}, "scopes"},
		{"bad date", url.Values{"name": {"Sync"}, "scope": {"scim"}, "expires_at": {"31/12/2027"}}, "expires_at"},
		{"past date", url.Values{"name": {"Sync"}, "scope": {"scim"}, "expires_at": {"2001-01-01"}}, "expires_at"},
		{"today", url.Values{"name": {"Sync"}, "scope": {"scim"}, "expires_at": {time.Now().Format("2006-01-02")}}, "expires_at"},
		{"far future", url.Values{"name": {"Sync"}, "scope": {"scim"}, "expires_at": {"9999-12-31"}}, "expires_at"},
		{"date with junk", url.Values{"name": {"Sync"}, "scope": {"scim"}, "expires_at": {future + "T00:00\x00"}}, "expires_at"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := b.post("/settings/api-keys/new", c.form)
			wantStatus(t, p, http.StatusUnprocessableEntity)
			if len(p.doc.All("#"+c.field+"-error")) != 1 || p.doc.One(t, "#"+c.field+"-error").Text() == "" {
				t.Errorf("no message on %s:\n%s", c.field, p.body)
			}
			if len(p.doc.All("input#token")) != 0 {
				t.Error("a token was shown")
			}
		})
	}
	if n := e.keyCount(); n != 0 {
		t.Errorf("%d keys created by bad input", n)
	}
	// The typed name and ticked scopes come back.
	p := b.post("/settings/api-keys/new", url.Values{"name": {"Keep me"}, "scope": {"users:write"}, "expires_at": {"soon"}})
	if p.doc.One(t, "input#name").Attr("value") != "Keep me" || !p.doc.One(t, "input[value=users:write]").Has("checked") {
		t.Error("input not kept")
	}
}
