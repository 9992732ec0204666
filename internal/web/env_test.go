package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/server"
	"github.com/cohorthq/cohort/internal/sqlstore/sqltest"
	"github.com/cohorthq/cohort/internal/web"
)

const testPassword = "correct horse battery staple"

// env is a real server over a real store, with one practice and staff in
// every role.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	handle *server.Server
	svc    cohort.Services
	ws     *cohort.Workspace
	owner  *cohort.User
	// byRole holds one user of each role besides the owner.
	byRole map[cohort.Role]*cohort.User
	// staff are extra practitioners to put in groups.
	staff []*cohort.User
	logs  *errorLog
}

// errorLog records error-level log lines so a test can prove no request
// failed with an internal error.
type errorLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *errorLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *errorLog) Handle(_ context.Context, r slog.Record) error {
	if r.Level < slog.LevelError {
		return nil
	}
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
func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *errorLog) WithGroup(string) slog.Handler      { return l }

func newEnv(t *testing.T) *env {
	t.Helper()
	db := sqltest.Open(t)
	svc := db.Services()
	ctx := t.Context()
	ws, owner, err := svc.Workspaces.CreateWorkspace(ctx, cohort.WorkspaceCreate{
		Name: "Riverside Physio", Slug: "riverside",
		Owner: cohort.UserCreate{Email: "owner@riverside.test", GivenName: "Olive", FamilyName: "Owner", Role: cohort.RolePracticeManager, Password: testPassword},
	})
	if err != nil {
		t.Fatalf("create workspace: %v", err)
	}
	e := &env{t: t, svc: svc, ws: ws, owner: owner, byRole: map[cohort.Role]*cohort.User{}, logs: &errorLog{}}
	sys := e.system()
	for _, r := range cohort.Roles {
		u, err := svc.Users.CreateUser(sys, cohort.UserCreate{
			Email: string(r) + "@riverside.test", GivenName: r.Label(), FamilyName: "Person", Role: r, Password: testPassword,
		})
		if err != nil {
			t.Fatalf("create %s: %v", r, err)
		}
		e.byRole[r] = u
	}
	for _, n := range [][2]string{{"Ann", "Abbott"}, {"Ben", "Brown"}, {"Cat", "Chen"}, {"Dan", "Diaz"}, {"Eve", "Evans"}, {"Fay", "Fox"}} {
		u, err := svc.Users.CreateUser(sys, cohort.UserCreate{
			Email: strings.ToLower(n[0]) + "@riverside.test", GivenName: n[0], FamilyName: n[1], Role: cohort.RolePractitioner, Password: testPassword,
		})
		if err != nil {
			t.Fatalf("create staff: %v", err)
		}
		e.staff = append(e.staff, u)
	}
	logger := slog.New(e.logs)
	w, err := web.New(svc, logger, web.Options{})
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	e.handle = server.New(server.Config{}, svc, logger, w.Routes())
	e.srv = httptest.NewServer(e.handle)
	t.Cleanup(e.srv.Close)
	t.Cleanup(func() {
		e.logs.mu.Lock()
		defer e.logs.mu.Unlock()
		for _, l := range e.logs.lines {
			t.Errorf("error logged: %s", l)
		}
	})
	return e
}

// system returns a context acting as the system in the practice.
func (e *env) system() context.Context {
	return cohort.NewContextWithActor(e.t.Context(), cohort.SystemActor(e.ws.ID, "test"))
}

// createGroup makes a group directly through the store.
func (e *env) createGroup(name string, members ...*cohort.User) *cohort.Group {
	e.t.Helper()
	var ids []string
	for _, u := range members {
		ids = append(ids, u.ID)
	}
	g, err := e.svc.Groups.CreateGroup(e.system(), cohort.GroupCreate{Name: name, MemberIDs: ids})
	if err != nil {
		e.t.Fatalf("create group %q: %v", name, err)
	}
	return g
}

// browser is an HTTP client with cookies that does not follow redirects,
// so tests see every 303.
type browser struct {
	e      *env
	t      *testing.T
	client *http.Client
	// csrf is the token of the last page that had a form.
	csrf string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, t: e.t, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type page struct {
	status int
	header http.Header
	body   string
	doc    *node
}

// Location returns the redirect target.
func (p *page) Location() string { return p.header.Get("Location") }

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	p := &page{status: res.StatusCode, header: res.Header, body: string(body)}
	if res.StatusCode >= 500 {
		b.t.Errorf("%s %s: status %d\n%s", req.Method, req.URL, res.StatusCode, body)
	}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") && len(body) > 0 {
		p.doc = parseHTML(b.t, p.body)
		if in := p.doc.All("input[name=csrf_token]"); len(in) > 0 {
			b.csrf = in[0].Attr("value")
		}
	}
	return p
}

func (b *browser) get(path string) *page {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.e.srv.URL+path, nil)
	return b.do(req)
}

// post sends a form with the browser's CSRF token.
func (b *browser) post(path string, form url.Values) *page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", b.csrf)
	}
	return b.postRaw(path, form, nil)
}

// postRaw sends a form as it is, with extra headers.
func (b *browser) postRaw(path string, form url.Values, header map[string]string) *page {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return b.do(req)
}

// signIn signs in as u and fails the test unless it works.
func (b *browser) signIn(u *cohort.User) {
	b.t.Helper()
	b.get("/signin")
	ws, err := b.e.svc.Workspaces.FindWorkspaceByID(b.t.Context(), u.WorkspaceID)
	if err != nil {
		b.t.Fatal(err)
	}
	p := b.post("/signin", url.Values{"practice": {ws.Slug}, "email": {u.Email}, "password": {testPassword}})
	if p.status != http.StatusSeeOther || p.Location() != "/settings/groups" {
		b.t.Fatalf("sign in as %s: status %d location %q\n%s", u.Email, p.status, p.Location(), p.body)
	}
	b.get("/settings/groups")
}

// follow GETs the redirect target of p.
func (b *browser) follow(p *page) *page {
	b.t.Helper()
	if p.status != http.StatusSeeOther {
		b.t.Fatalf("want 303, got %d\n%s", p.status, p.body)
	}
	return b.get(p.Location())
}

func wantStatus(t *testing.T, p *page, status int) {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d\n%s", p.status, status, p.body)
	}
}

// groupRow finds the Groups table row of a group by name.
func groupRow(t *testing.T, p *page, name string) *node {
	t.Helper()
	for _, tr := range p.doc.All("table.groups tbody tr") {
		if a := tr.All("a.group-name"); len(a) == 1 && a[0].Text() == name {
			return tr
		}
	}
	return nil
}
