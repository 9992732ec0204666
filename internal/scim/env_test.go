package scim_test

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

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/scim"
	"github.com/cohorthq/cohort/internal/server"
	"github.com/cohorthq/cohort/internal/sqlstore/sqltest"
)

// env is a real Cohort HTTP server (server.New with the SCIM routes) on a
// real store, with one workspace and a SCIM key.
type env struct {
	svc    cohort.Services
	srv    *httptest.Server
	base   string // absolute URL of /scim/v2
	ws     *cohort.Workspace
	owner  *cohort.User
	sysCtx context.Context
	token  string // an API key with the scim scope
}

var wsSeq atomic.Int64

func newEnv(t testing.TB, opts ...scim.Option) *env {
	t.Helper()
	db := sqltest.Open(t)
	svc := db.Services()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := scim.New(svc, logger, opts...)
	srv := httptest.NewServer(server.New(server.Config{}, svc, logger, h.Routes()))
	t.Cleanup(srv.Close)
	e := &env{svc: svc, srv: srv, base: srv.URL + scim.Base}
	e.ws, e.owner, e.sysCtx = e.newWorkspace(t)
	e.token, _ = e.key(t, e.sysCtx, "okta", cohort.ScopeSCIM)
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

func (e *env) key(t testing.TB, ctx context.Context, name string, scopes ...cohort.Scope) (string, *cohort.APIKey) {
	t.Helper()
	k, token, err := e.svc.APIKeys.CreateAPIKey(ctx, cohort.APIKeyCreate{Name: name, Scopes: scopes})
	if err != nil {
		t.Fatalf("create api key: %v", err)
	}
	return token, k
}

func (e *env) user(t testing.TB, ctx context.Context, email, given, family string) *cohort.User {
	t.Helper()
	u, err := e.svc.Users.CreateUser(ctx, cohort.UserCreate{Email: email, GivenName: given, FamilyName: family})
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

// memberIDs lists a group's members (every status) through the store.
func (e *env) memberIDs(t testing.TB, groupID string) map[string]bool {
	t.Helper()
	page, err := e.svc.Groups.FindMembers(e.sysCtx, groupID, cohort.UserFilter{})
	if err != nil {
		t.Fatalf("find members: %v", err)
	}
	out := map[string]bool{}
	for _, u := range page.Users {
		out[u.ID] = true
	}
	return out
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request with the env's SCIM token. path is relative to
// /scim/v2 unless it starts with "/scim" or "http". body is sent raw when
// it is a string, else as JSON.
func (e *env) do(t testing.TB, method, path string, body any, header ...string) *resp {
	t.Helper()
	return e.doToken(t, e.token, method, path, body, header...)
}

func (e *env) doToken(t testing.TB, token, method, path string, body any, header ...string) *resp {
	t.Helper()
	url := path
	switch {
	case strings.HasPrefix(path, "http"):
	case strings.HasPrefix(path, "/scim"):
		url = e.srv.URL + path
	default:
		url = e.base + path
	}
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if strings.EqualFold(header[i], "Host") {
			req.Host = header[i+1] // Go sends req.Host, not a Host header
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &resp{status: res.StatusCode, header: res.Header, body: b}
}

// obj decodes a JSON object response.
func (r *resp) obj(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("status %d: body is not a JSON object: %v: %s", r.status, err, r.body)
	}
	return m
}

// want checks the status.
func (r *resp) want(t testing.TB, status int) *resp {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	return r
}

// scimError checks a SCIM error body: status as a string, scimType (""
// means none), a detail, and the SCIM content type.
func (r *resp) scimError(t testing.TB, status int, scimType string) map[string]any {
	t.Helper()
	r.want(t, status)
	if ct := r.header.Get("Content-Type"); ct != scim.ContentType {
		t.Fatalf("Content-Type %q, want %s; body %s", ct, scim.ContentType, r.body)
	}
	m := r.obj(t)
	if s, _ := m["schemas"].([]any); len(s) != 1 || s[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
		t.Errorf("schemas = %v, want the SCIM Error schema", m["schemas"])
	}
	if m["status"] != fmt.Sprint(status) {
		t.Errorf("status member = %#v, want the string %q", m["status"], fmt.Sprint(status))
	}
	if got, _ := m["scimType"].(string); got != scimType {
		t.Errorf("scimType = %q, want %q; body %s", got, scimType, r.body)
	}
	if d, _ := m["detail"].(string); d == "" {
		t.Errorf("no detail in %s", r.body)
	}
	return m
}

// resources returns the Resources of a ListResponse.
func (r *resp) resources(t testing.TB) []map[string]any {
	t.Helper()
	m := r.want(t, http.StatusOK).obj(t)
	raw, ok := m["Resources"].([]any)
	if !ok {
		t.Fatalf("no Resources in %s", r.body)
	}
	out := make([]map[string]any, len(raw))
	for i, x := range raw {
		out[i] = x.(map[string]any)
	}
	if int(m["itemsPerPage"].(float64)) != len(out) {
		t.Errorf("itemsPerPage %v but %d resources", m["itemsPerPage"], len(out))
	}
	return out
}

func (r *resp) total(t testing.TB) int {
	t.Helper()
	return int(r.want(t, http.StatusOK).obj(t)["totalResults"].(float64))
}

// ids lists the id of each resource of a ListResponse.
func (r *resp) ids(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, res := range r.resources(t) {
		out = append(out, res["id"].(string))
	}
	return out
}

// patchOp builds a PatchOp body.
func patchOp(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops}
}
