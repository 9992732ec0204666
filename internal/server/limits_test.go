package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/api"
	"github.com/cohorthq/cohort/internal/server"
)

// Every size limit answers with a clear 4xx and changes nothing.

type limitsEnv struct {
	*full
	ws      *cohort.Workspace
	owner   browser
	key     string
	scimKey string
	group   *cohort.Group
}

func newLimitsEnv(t *testing.T) *limitsEnv {
	f := newFull(t, server.Config{})
	ws, owner := f.practice("limits")
	ctx := sys(t.Context(), ws.ID)
	_, key, err := f.svc.APIKeys.CreateAPIKey(ctx, cohort.APIKeyCreate{Name: "api", Scopes: []cohort.Scope{cohort.ScopeGroupsWrite, cohort.ScopeUsersWrite}})
	if err != nil {
		t.Fatal(err)
	}
	_, scimKey, err := f.svc.APIKeys.CreateAPIKey(ctx, cohort.APIKeyCreate{Name: "scim", Scopes: []cohort.Scope{cohort.ScopeSCIM}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := f.svc.Groups.CreateGroup(ctx, cohort.GroupCreate{Name: "Physiotherapists"})
	if err != nil {
		t.Fatal(err)
	}
	return &limitsEnv{full: f, ws: ws, owner: f.signIn(owner.ID, false), key: key, scimKey: scimKey, group: g}
}

func (e *limitsEnv) bearer(k string) http.Header {
	return http.Header{"Authorization": {"Bearer " + k}}
}

// unchanged fails the test when the workspace got a new audit entry since
// before: a refused request must change nothing.
func (e *limitsEnv) unchanged(t *testing.T, before, what string) {
	t.Helper()
	if e.newestAudit(e.ws.ID) != before {
		t.Errorf("%s changed something", what)
	}
}

func TestBodyLimits(t *testing.T) {
	t.Parallel()
	e := newLimitsEnv(t)
	before := e.newestAudit(e.ws.ID)
	cases := []struct {
		name string
		req  request
		size int
		want string
	}{
		{name: "web form", size: server.DefaultMaxBodyBytes + 1, want: "larger than",
			req: request{method: "POST", path: "/settings/groups/new", contentType: "application/x-www-form-urlencoded", cookies: []*http.Cookie{e.owner.cookie}}},
		{name: "REST API", size: api.DefaultMaxBodyBytes + 1, want: "too_large",
			req: request{method: "POST", path: "/api/v1/groups", contentType: "application/json", header: e.bearer(e.key)}},
		{name: "SCIM", size: 16<<20 + 1, want: "413",
			req: request{method: "POST", path: "/scim/v2/Groups", contentType: "application/scim+json", header: e.bearer(e.scimKey)}},
	}
	for _, c := range cases {
		// A body that is valid as far as it goes: name=xxxx… or {"name":"xxxx…
		switch {
		case strings.HasPrefix(c.req.contentType, "application/x-www"):
			c.req.body = form("csrf_token", e.owner.csrf, "name", strings.Repeat("x", c.size))
		default:
			c.req.body = `{"name":"` + strings.Repeat("x", c.size) + `"}`
		}
		res, body := e.do(c.req)
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d, want 413 saying %q\n%.300s", c.name, res.StatusCode, c.want, body)
		}
	}
	e.unchanged(t, before, "an oversized body")
}

func TestURLAndHeaderLimits(t *testing.T) {
	t.Parallel()
	e := newLimitsEnv(t)
	long := strings.Repeat("a", server.MaxURLBytes)
	res, body := e.do(request{method: "GET", path: "/settings/groups?q=" + long, cookies: []*http.Cookie{e.owner.cookie}})
	if res.StatusCode != http.StatusRequestURITooLong || !strings.Contains(body, "address is longer") {
		t.Errorf("long page URL: %d\n%.300s", res.StatusCode, body)
	}
	res, body = e.do(request{method: "GET", path: "/api/v1/groups?q=" + long, header: e.bearer(e.key)})
	if res.StatusCode != http.StatusRequestURITooLong || res.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("long API URL: %d %s\n%.300s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	// A URL at a realistic length is fine.
	if res, _ := e.do(request{method: "GET", path: "/settings/groups?q=" + strings.Repeat("a", 1000), cookies: []*http.Cookie{e.owner.cookie}}); res.StatusCode != 200 {
		t.Errorf("1000-character search: %d", res.StatusCode)
	}

	// Headers: the http.Server limit cmd/cohort sets.
	srv := httptest.NewUnstartedServer(e.h)
	srv.Config.MaxHeaderBytes = server.MaxHeaderBytes
	srv.Start()
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest("GET", srv.URL+"/healthz", nil)
	req.Header.Set("X-Padding", strings.Repeat("p", 2*server.MaxHeaderBytes))
	hres, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	hres.Body.Close()
	if hres.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("oversized headers: %d, want 431", hres.StatusCode)
	}
}

func TestListLimits(t *testing.T) {
	t.Parallel()
	e := newLimitsEnv(t)
	for _, q := range []string{"limit=101", "limit=0", "limit=-1", "limit=1e9"} {
		res, body := e.do(request{method: "GET", path: "/api/v1/groups?" + q, header: e.bearer(e.key)})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "from 1 to 100") {
			t.Errorf("API %s: %d\n%.300s", q, res.StatusCode, body)
		}
	}
	// SCIM caps count, as RFC 7644 §3.4.2.4 asks, rather than refusing.
	res, body := e.do(request{method: "GET", path: "/scim/v2/Users?count=1000000", header: e.bearer(e.scimKey)})
	var page struct {
		ItemsPerPage int `json:"itemsPerPage"`
	}
	if res.StatusCode != 200 || json.Unmarshal([]byte(body), &page) != nil {
		t.Errorf("SCIM count=1000000: %d\n%.300s", res.StatusCode, body)
	}
}

func TestMemberChangeLimit(t *testing.T) {
	t.Parallel()
	e := newLimitsEnv(t)
	before := e.newestAudit(e.ws.ID)
	ids := make([]string, cohort.MaxMemberChange+1)
	for i := range ids {
		ids[i] = fmt.Sprintf("01900000-0000-7000-8000-%012d", i)
	}
	list, _ := json.Marshal(ids)
	want := fmt.Sprint(cohort.MaxMemberChange)
	for _, c := range []struct {
		name string
		req  request
	}{
		{"REST add", request{method: "POST", path: "/api/v1/groups/" + e.group.ID + "/members", body: `{"add":` + string(list) + `}`}},
		{"REST replace", request{method: "PUT", path: "/api/v1/groups/" + e.group.ID + "/members", body: `{"user_ids":` + string(list) + `}`,
			header: http.Header{"If-Match": {"*"}}}},
		{"REST create", request{method: "POST", path: "/api/v1/groups", body: `{"name":"Big","member_ids":` + string(list) + `}`}},
	} {
		c.req.contentType = "application/json"
		if c.req.header == nil {
			c.req.header = http.Header{}
		}
		c.req.header.Set("Authorization", "Bearer "+e.key)
		res, body := e.do(c.req)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, want) {
			t.Errorf("%s of %d members: %d, want 422 naming the limit\n%.300s", c.name, len(ids), res.StatusCode, body)
		}
	}
	members := make([]map[string]string, len(ids))
	for i, id := range ids {
		members[i] = map[string]string{"value": id}
	}
	patch, _ := json.Marshal(map[string]any{"schemas": []string{scimPatch},
		"Operations": []any{map[string]any{"op": "add", "path": "members", "value": members}}})
	res, body := e.do(request{method: "PATCH", path: "/scim/v2/Groups/" + e.group.ID, body: string(patch),
		contentType: "application/scim+json", header: e.bearer(e.scimKey)})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, want) {
		t.Errorf("SCIM PATCH of %d members: %d, want 400 naming the limit\n%.300s", len(ids), res.StatusCode, body)
	}
	e.unchanged(t, before, "an oversized member change")
}

func TestImportRowLimit(t *testing.T) {
	t.Parallel()
	e := newLimitsEnv(t)
	before := e.newestAudit(e.ws.ID)
	var csv bytes.Buffer
	csv.WriteString("email,given_name,family_name,role,status\n")
	for i := range cohort.MaxImportRows + 1 {
		fmt.Fprintf(&csv, "p%d@limits.test,Pat,Person %d,practitioner,active\n", i, i)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf_token", e.owner.csrf)
	_ = mw.WriteField("kind", "users")
	fw, _ := mw.CreateFormFile("file", "staff.csv")
	_, _ = io.Copy(fw, &csv)
	_ = mw.Close()
	res, page := e.do(request{method: "POST", path: "/settings/users/import", body: body.String(), contentType: mw.FormDataContentType(),
		cookies: []*http.Cookie{e.owner.cookie}})
	if res.StatusCode < 400 || res.StatusCode >= 500 || !strings.Contains(page, "split it into several files") {
		t.Errorf("import of %d rows: %d, want a 4xx saying to split the file\n%.500s", cohort.MaxImportRows+1, res.StatusCode, page)
	}
	e.unchanged(t, before, "an oversized import")
}
