package api_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/api"
)

// The fuzz targets send arbitrary bytes as the JSON body of the API's
// writes to a real server on a real store. Whatever the body, the answer
// is never a 5xx, and every refusal is a problem document that says what
// to fix. Run one for a bounded time with, e.g.,
//
//	go test ./internal/api -run '^$' -fuzz FuzzGroupCreate -fuzztime 60s
//
// As normal tests they run the seed corpus in testdata/fuzz.

// checkAnswer fails unless r is a success or a well-formed 4xx problem.
func checkAnswer(t *testing.T, body []byte, r *resp) {
	t.Helper()
	if r.status >= 500 {
		t.Fatalf("body %q: status %d: %s", body, r.status, r.body)
	}
	if r.status >= 400 {
		p := r.problem(t)
		if p.Detail == "" || p.Code == "" || p.Status != r.status || !utf8.ValidString(p.Detail) {
			t.Fatalf("body %q: problem without a usable detail: %s", body, r.body)
		}
		return
	}
	if !json.Valid(r.body) {
		t.Fatalf("body %q: %d with invalid JSON %q", body, r.status, r.body)
	}
}

type fuzzEnv struct {
	e      *env
	token  string
	users  []*cohort.User
	groups []*cohort.Group
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	e := newEnv(f, api.Options{RateLimit: -1, MaxBodyBytes: 1 << 20})
	token, _ := e.key(f, e.sysCtx, allScopes()...)
	fe := &fuzzEnv{e: e, token: token}
	// Fixed IDs the seed corpus cannot know are reachable through these
	// users' e-mail addresses only; bodies name made-up IDs, which must
	// be refused cleanly.
	fe.users = append(fe.users, e.user(f, e.sysCtx, "fuzz1@example.com"), e.user(f, e.sysCtx, "fuzz2@example.com"))
	fe.groups = append(fe.groups, e.group(f, e.sysCtx, "Fuzz target", fe.users[0].ID))
	return fe
}

func FuzzGroupCreate(f *testing.F) {
	fe := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		r := fe.e.do(t, req{method: "POST", path: "/api/v1/groups", token: fe.token, body: body,
			header: map[string]string{"Content-Type": "application/json"}})
		checkAnswer(t, body, r)
	})
}

func FuzzGroupUpdate(f *testing.F) {
	fe := newFuzzEnv(f)
	path := "/api/v1/groups/" + fe.groups[0].ID
	f.Fuzz(func(t *testing.T, body []byte) {
		r := fe.e.do(t, req{method: "PATCH", path: path, token: fe.token, body: body,
			header: map[string]string{"Content-Type": "application/json", "If-Match": "*"}})
		checkAnswer(t, body, r)
	})
}

// FuzzMembers sends each body both as a delta (POST) and as a
// replacement list (PUT).
func FuzzMembers(f *testing.F) {
	fe := newFuzzEnv(f)
	path := "/api/v1/groups/" + fe.groups[0].ID + "/members"
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAnswer(t, body, fe.e.do(t, req{method: "POST", path: path, token: fe.token, body: body,
			header: map[string]string{"Content-Type": "application/json"}}))
		checkAnswer(t, body, fe.e.do(t, req{method: "PUT", path: path, token: fe.token, body: body,
			header: map[string]string{"Content-Type": "application/json", "If-Match": "*"}}))
	})
}

func FuzzUserCreate(f *testing.F) {
	fe := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAnswer(t, body, fe.e.do(t, req{method: "POST", path: "/api/v1/users", token: fe.token, body: body,
			header: map[string]string{"Content-Type": "application/json"}}))
	})
}

// FuzzListQuery sends arbitrary query strings to every list, including
// cursors Cohort never made.
func FuzzListQuery(f *testing.F) {
	fe := newFuzzEnv(f)
	paths := []string{"/api/v1/groups", "/api/v1/users", "/api/v1/audit",
		"/api/v1/groups/" + fe.groups[0].ID + "/members", "/api/v1/users/" + fe.users[0].ID + "/groups"}
	f.Fuzz(func(t *testing.T, query string) {
		if strings.ContainsFunc(query, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '#' }) || !utf8.ValidString(query) {
			// Not a query string a client can send on the request line.
			query = url.QueryEscape(query)
		}
		for _, p := range paths {
			checkAnswer(t, []byte(query), fe.e.do(t, req{method: "GET", path: p + "?" + query, token: fe.token}))
		}
	})
}
