package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/api"
	"github.com/cohorthq/cohort/internal/httpx"
	"github.com/cohorthq/cohort/internal/server"
	"github.com/cohorthq/cohort/internal/sqlstore/sqltest"
)

// env is a real Cohort HTTP server (server.New with the API's routes) on
// a real store, with one workspace, its owner and helpers to call it.
type env struct {
	svc    cohort.Services
	srv    *httptest.Server
	ws     *cohort.Workspace
	owner  *cohort.User
	sysCtx context.Context
}

var wsSeq atomic.Int64

func newEnv(t testing.TB, opts api.Options) *env {
	t.Helper()
	db := sqltest.Open(t)
	svc := db.Services()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := api.New(svc, logger, opts)
	srv := httptest.NewServer(server.New(server.Config{}, svc, logger, h.Routes()))
	t.Cleanup(srv.Close)
	e := &env{svc: svc, srv: srv}
	e.ws, e.owner, e.sysCtx = e.newWorkspace(t)
	return e
}

// newWorkspace creates another workspace in the same database.
func (e *env) newWorkspace(t testing.TB) (*cohort.Workspace, *cohort.User, context.Context) {
	t.Helper()
	n := wsSeq.Add(1)
	ws, owner, err := e.svc.Workspaces.CreateWorkspace(t.Context(), cohort.WorkspaceCreate{
		Name: fmt.Sprintf("Practice %d", n), Slug: fmt.Sprintf("practice-%d", n),
		Owner: cohort.UserCreate{Email: fmt.Sprintf("owner%d@example.com", n), GivenName: "Olive", FamilyName: "Owner",
			Role: cohort.RolePracticeManager, Password: "correct horse battery staple"},
	})
	if err != nil {
		t.Fatalf("create workspace: %v", err)
	}
	return ws, owner, cohort.NewContextWithActor(t.Context(), cohort.SystemActor(ws.ID, "test"))
}

// key creates an API key with scopes in the workspace of ctx.
func (e *env) key(t testing.TB, ctx context.Context, scopes ...cohort.Scope) (string, *cohort.APIKey) {
	t.Helper()
	k, token, err := e.svc.APIKeys.CreateAPIKey(ctx, cohort.APIKeyCreate{Name: "test " + string(scopes[0]), Scopes: scopes})
	if err != nil {
		t.Fatalf("create api key: %v", err)
	}
	return token, k
}

func (e *env) user(t testing.TB, ctx context.Context, email string) *cohort.User {
	t.Helper()
	u, err := e.svc.Users.CreateUser(ctx, cohort.UserCreate{Email: email, GivenName: "Given", FamilyName: strings.Split(email, "@")[0]})
	if err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

func (e *env) group(t testing.TB, ctx context.Context, name string, members ...string) *cohort.Group {
	t.Helper()
	g, err := e.svc.Groups.CreateGroup(ctx, cohort.GroupCreate{Name: name, MemberIDs: members})
	if err != nil {
		t.Fatalf("create group %s: %v", name, err)
	}
	return g
}

// req describes one HTTP call.
type req struct {
	method, path string
	token        string // bearer token; "" sends none
	body         any    // string/[]byte sent raw, anything else as JSON
	header       map[string]string
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r *resp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r *resp) problem(t testing.TB) api.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d: Content-Type %q, want application/problem+json; body %s", r.status, ct, r.body)
	}
	var p api.Problem
	r.json(t, &p)
	return p
}

func bodyBytes(b any) []byte {
	switch v := b.(type) {
	case nil:
		return nil
	case string:
		return []byte(v)
	case []byte:
		return v
	}
	out, err := json.Marshal(b)
	if err != nil {
		panic(err)
	}
	return out
}

func (e *env) newRequest(t testing.TB, rq req) *http.Request {
	t.Helper()
	raw := bodyBytes(rq.body)
	var rd io.Reader
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	r, err := http.NewRequestWithContext(context.Background(), rq.method, e.srv.URL+rq.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if raw != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if rq.token != "" {
		r.Header.Set("Authorization", "Bearer "+rq.token)
	}
	for k, v := range rq.header {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	return r
}

func (e *env) do(t testing.TB, rq req) *resp {
	t.Helper()
	r := e.newRequest(t, rq)
	res, err := e.srv.Client().Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &resp{status: res.StatusCode, header: res.Header, body: b}
}

// must calls and fails the test unless the status is want.
func (e *env) must(t testing.TB, want int, rq req) *resp {
	t.Helper()
	r := e.do(t, rq)
	if r.status != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", rq.method, rq.path, r.status, want, r.body)
	}
	return r
}

// session signs the owner in and returns the cookie and CSRF token.
func (e *env) session(t testing.TB, userID string) (cookie, csrf string) {
	t.Helper()
	token, s, err := e.svc.Auth.CreateSession(t.Context(), userID, time.Hour)
	if err != nil {
		t.Fatalf("create session: %v", err)
	}
	return httpx.SessionCookieName(false) + "=" + token, s.CSRFToken
}

type groupOut struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Status      string     `json:"status"`
	MemberCount int        `json:"member_count"`
	Version     int64      `json:"version"`
	ArchivedAt  *time.Time `json:"archived_at"`
}

type listOut[T any] struct {
	Data  []T `json:"data"`
	Links struct {
		Prev *string `json:"prev"`
		Next *string `json:"next"`
	} `json:"links"`
}
