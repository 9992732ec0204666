package api_test

import (
	"bytes"
	"context"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/api"
)

func init() {
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
}

func loadSpec(t testing.TB) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatalf("openapi.json does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	return doc
}

// contract sends requests to the real server and validates each request
// and response against the OpenAPI file, recording which statuses each
// documented operation has answered.
type contract struct {
	e      *env
	router routers.Router
	seen   map[string]map[int]bool
}

func newContract(t *testing.T, e *env) *contract {
	doc := loadSpec(t)
	doc.Servers = openapi3.Servers{{URL: e.srv.URL}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &contract{e: e, router: router, seen: map[string]map[int]bool{}}
}

// call sends a request the OpenAPI file allows and checks the status.
func (c *contract) call(t *testing.T, rq req, want int) *resp {
	t.Helper()
	return c.exchange(t, rq, want, true)
}

// callInvalid sends a request the OpenAPI file does not allow (malformed
// JSON, a missing required header …): the response must still be one the
// file documents.
func (c *contract) callInvalid(t *testing.T, rq req, want int) *resp {
	t.Helper()
	return c.exchange(t, rq, want, false)
}

func (c *contract) exchange(t *testing.T, rq req, want int, valid bool) *resp {
	t.Helper()
	ctx := context.Background()
	vr := c.e.newRequest(t, rq)
	route, params, err := c.router.FindRoute(vr)
	if err != nil {
		t.Fatalf("%s %s: not described by openapi.json: %v", rq.method, rq.path, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: vr, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true},
	}
	rerr := openapi3filter.ValidateRequest(ctx, in)
	if valid && rerr != nil {
		t.Fatalf("%s %s: the test's request does not match openapi.json: %v", rq.method, rq.path, rerr)
	}
	r := c.e.do(t, rq)
	if r.status != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", rq.method, rq.path, r.status, want, r.body)
	}
	if r.header.Get("X-Request-Id") == "" {
		t.Errorf("%s %s: no X-Request-Id", rq.method, rq.path)
	}
	// Keyed responses carry the rate-limit headers, except refusals the
	// server makes before the API runs (a body over the limit by
	// Content-Length), unknown keys, and the public DELETE refusal.
	if rq.token != "" && r.status != 401 && r.status != 413 && r.status != 405 && r.header.Get("X-RateLimit-Limit") == "" {
		t.Errorf("%s %s → %d: keyed response without X-RateLimit-Limit", rq.method, rq.path, r.status)
	}
	if r.status >= 400 {
		if p := r.problem(t); p.Detail == "" || p.Code == "" || p.Status != r.status {
			t.Errorf("%s %s: problem %+v lacks detail/code or has the wrong status", rq.method, rq.path, p)
		}
	}
	if r.status >= 500 {
		t.Fatalf("%s %s: server error %d: %s", rq.method, rq.path, r.status, r.body)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: r.status, Header: r.header,
		Body:    io.NopCloser(bytes.NewReader(r.body)),
		Options: in.Options,
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("%s %s → %d: response does not match openapi.json: %v\nbody: %s", rq.method, rq.path, r.status, err, r.body)
	}
	op := route.Method + " " + route.Path
	if c.seen[op] == nil {
		c.seen[op] = map[int]bool{}
	}
	c.seen[op][r.status] = true
	return r
}

// TestOpenAPIMatchesRoutes: every route the handler mounts is described,
// and every described operation is routed.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadSpec(t)
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	routed := map[string]bool{}
	for _, rt := range api.New(cohort.Services{}, nil, api.Options{}).Routes() {
		if rt.Pattern == "/api/" {
			// The catch-all answering 404 for every path the file does
			// not describe.
			continue
		}
		routed[rt.Method+" "+rt.Pattern] = true
	}
	for op := range routed {
		if !documented[op] {
			t.Errorf("route %s is not described in openapi.json", op)
		}
	}
	for op := range documented {
		if !routed[op] {
			t.Errorf("openapi.json describes %s but no route serves it", op)
		}
	}
}

// TestContract walks every documented operation against a real server,
// with success and error cases, validating requests and responses.
func TestContract(t *testing.T) {
	e := newEnv(t, api.Options{MaxBodyBytes: 64 << 10, RateLimit: 600})
	c := newContract(t, e)
	full, _ := e.key(t, e.sysCtx, cohort.ScopeGroupsRead, cohort.ScopeGroupsWrite, cohort.ScopeUsersRead, cohort.ScopeUsersWrite)
	read, _ := e.key(t, e.sysCtx, cohort.ScopeGroupsRead, cohort.ScopeUsersRead)
	scim, _ := e.key(t, e.sysCtx, cohort.ScopeSCIM)
	const missing = "00000000-0000-0000-0000-000000000000"
	big := `{"name":"` + strings.Repeat("x", 70<<10) + `"}`
	plain := map[string]string{"Content-Type": "text/plain"}

	// Meta.
	c.call(t, req{method: "GET", path: "/api/v1/openapi.json"}, 200)
	c.call(t, req{method: "GET", path: "/api/v1/docs"}, 200)

	// Users.
	var ua, ub, uc struct{ ID string }
	c.call(t, req{method: "POST", path: "/api/v1/users", token: full,
		body: map[string]string{"email": "ana@example.com", "given_name": "Ana", "family_name": "Alvarez", "role": "practitioner"}}, 201).json(t, &ua)
	c.call(t, req{method: "POST", path: "/api/v1/users", token: full,
		body: map[string]string{"email": "ben@example.com", "given_name": "Ben", "family_name": "Brown"}}, 201).json(t, &ub)
	c.call(t, req{method: "POST", path: "/api/v1/users", token: full, header: map[string]string{"Idempotency-Key": "user-c"},
		body: map[string]string{"email": "cai@example.com", "given_name": "Cai", "family_name": "Chen", "role": "receptionist"}}, 201).json(t, &uc)
	c.call(t, req{method: "POST", path: "/api/v1/users", token: full,
		body: map[string]string{"email": "ANA@example.com", "given_name": "Ana", "family_name": "Again"}}, 409)
	c.call(t, req{method: "POST", path: "/api/v1/users", token: full,
		body: map[string]string{"email": "not an email", "given_name": "X", "family_name": "Y"}}, 422)
	c.callInvalid(t, req{method: "POST", path: "/api/v1/users", token: full, body: `{"email": "x@example.com",`}, 400)
	c.callInvalid(t, req{method: "POST", path: "/api/v1/users", token: full, body: `{}`, header: plain}, 415)
	c.callInvalid(t, req{method: "POST", path: "/api/v1/users", token: full, body: big}, 413)
	c.call(t, req{method: "POST", path: "/api/v1/users", token: "cohort_revoked", body: map[string]string{"email": "d@example.com", "given_name": "D", "family_name": "D"}}, 401)
	c.call(t, req{method: "POST", path: "/api/v1/users", token: read, body: map[string]string{"email": "d@example.com", "given_name": "D", "family_name": "D"}}, 403)

	c.call(t, req{method: "GET", path: "/api/v1/users?limit=2&role=practitioner&q=a", token: full}, 200)
	c.callInvalid(t, req{method: "GET", path: "/api/v1/users?limit=0", token: full}, 422)
	c.call(t, req{method: "GET", path: "/api/v1/users", token: scim}, 403)
	r := c.call(t, req{method: "GET", path: "/api/v1/users/" + ua.ID, token: read}, 200)
	c.call(t, req{method: "GET", path: "/api/v1/users/" + ua.ID, token: read, header: map[string]string{"If-None-Match": r.header.Get("ETag")}}, 304)
	c.call(t, req{method: "GET", path: "/api/v1/users/" + missing, token: read}, 404)

	r = c.call(t, req{method: "PATCH", path: "/api/v1/users/" + ua.ID, token: full, body: map[string]string{"given_name": "Anna"}}, 200)
	c.call(t, req{method: "PATCH", path: "/api/v1/users/" + ua.ID, token: full, body: map[string]string{"given_name": "Ann"},
		header: map[string]string{"If-Match": `"1"`}}, 409)
	c.call(t, req{method: "PATCH", path: "/api/v1/users/" + ua.ID, token: full, body: map[string]string{"role": "accountant"},
		header: map[string]string{"If-Match": r.header.Get("ETag")}}, 200)
	c.callInvalid(t, req{method: "PATCH", path: "/api/v1/users/" + ua.ID, token: full, body: map[string]string{"nickname": "A"}}, 422)
	c.callInvalid(t, req{method: "PATCH", path: "/api/v1/users/" + ua.ID, token: full, body: `[1,2]`}, 400)
	c.callInvalid(t, req{method: "PATCH", path: "/api/v1/users/" + ua.ID, token: full, body: `{}`, header: plain}, 415)
	c.callInvalid(t, req{method: "PATCH", path: "/api/v1/users/" + ua.ID, token: full, body: big}, 413)
	c.call(t, req{method: "PATCH", path: "/api/v1/users/" + missing, token: full, body: map[string]string{"given_name": "X"}}, 404)
	c.call(t, req{method: "PATCH", path: "/api/v1/users/" + ua.ID, token: read, body: map[string]string{"given_name": "X"}}, 403)

	c.call(t, req{method: "POST", path: "/api/v1/users/" + uc.ID + "/archive", token: full}, 200)
	c.call(t, req{method: "POST", path: "/api/v1/users/" + uc.ID + "/archive", token: full}, 200)
	c.call(t, req{method: "POST", path: "/api/v1/users/" + missing + "/archive", token: full}, 404)
	c.call(t, req{method: "POST", path: "/api/v1/users/" + uc.ID + "/restore", token: full}, 200)
	c.call(t, req{method: "POST", path: "/api/v1/users/" + missing + "/restore", token: full}, 404)

	// Groups.
	var g struct {
		ID      string
		Version int64
	}
	r = c.call(t, req{method: "POST", path: "/api/v1/groups", token: full, header: map[string]string{"Idempotency-Key": "g-1"},
		body: map[string]any{"name": "  Physiotherapists  ", "description": "Physio team", "member_ids": []string{ua.ID, ub.ID}}}, 201)
	r.json(t, &g)
	etagG := r.header.Get("ETag")
	c.call(t, req{method: "POST", path: "/api/v1/groups", token: full, body: map[string]any{"name": "physiotherapists"}}, 409)
	c.call(t, req{method: "POST", path: "/api/v1/groups", token: full, body: map[string]any{"name": "Ghosts", "member_ids": []string{missing}}}, 422)
	c.callInvalid(t, req{method: "POST", path: "/api/v1/groups", token: full, body: map[string]any{"name": "X", "colour": "red"}}, 422)
	c.callInvalid(t, req{method: "POST", path: "/api/v1/groups", token: full, body: `{"name": "X"} {"name": "Y"}`}, 400)
	c.callInvalid(t, req{method: "POST", path: "/api/v1/groups", token: full, body: `{"name":"X"}`, header: plain}, 415)
	c.callInvalid(t, req{method: "POST", path: "/api/v1/groups", token: full, body: big}, 413)
	c.call(t, req{method: "POST", path: "/api/v1/groups", token: read, body: map[string]any{"name": "X"}}, 403)
	c.call(t, req{method: "POST", path: "/api/v1/groups", token: "cohort_nonsense", body: map[string]any{"name": "X"}}, 401)
	c.call(t, req{method: "POST", path: "/api/v1/groups", token: full, body: map[string]any{"name": "Psychologists"}}, 201)

	c.call(t, req{method: "GET", path: "/api/v1/groups?status=all&q=psy&limit=1", token: read}, 200)
	c.callInvalid(t, req{method: "GET", path: "/api/v1/groups?status=deleted", token: read}, 422)
	c.call(t, req{method: "GET", path: "/api/v1/groups", token: scim}, 403)
	c.call(t, req{method: "GET", path: "/api/v1/groups/" + g.ID, token: read}, 200)
	c.call(t, req{method: "GET", path: "/api/v1/groups/" + g.ID, token: read, header: map[string]string{"If-None-Match": etagG}}, 304)
	c.call(t, req{method: "GET", path: "/api/v1/groups/" + missing, token: read}, 404)

	r = c.call(t, req{method: "PATCH", path: "/api/v1/groups/" + g.ID, token: full, body: map[string]any{"description": "Physiotherapy"},
		header: map[string]string{"If-Match": etagG}}, 200)
	etagG2 := r.header.Get("ETag")
	c.call(t, req{method: "PATCH", path: "/api/v1/groups/" + g.ID, token: full, body: map[string]any{"name": "Physio"},
		header: map[string]string{"If-Match": etagG}}, 409)
	c.callInvalid(t, req{method: "PATCH", path: "/api/v1/groups/" + g.ID, token: full, body: map[string]any{"name": "Physio"}}, 428)
	c.call(t, req{method: "PATCH", path: "/api/v1/groups/" + g.ID, token: full, body: map[string]any{"name": " "},
		header: map[string]string{"If-Match": etagG2}}, 422)
	c.callInvalid(t, req{method: "PATCH", path: "/api/v1/groups/" + g.ID, token: full, body: `{"name": }`,
		header: map[string]string{"If-Match": etagG2}}, 400)
	c.callInvalid(t, req{method: "PATCH", path: "/api/v1/groups/" + g.ID, token: full, body: `name=x`,
		header: map[string]string{"If-Match": etagG2, "Content-Type": "application/x-www-form-urlencoded"}}, 415)
	c.callInvalid(t, req{method: "PATCH", path: "/api/v1/groups/" + g.ID, token: full, body: big,
		header: map[string]string{"If-Match": etagG2}}, 413)
	c.call(t, req{method: "PATCH", path: "/api/v1/groups/" + missing, token: full, body: map[string]any{"name": "X"},
		header: map[string]string{"If-Match": `"1"`}}, 404)
	c.call(t, req{method: "PATCH", path: "/api/v1/groups/" + g.ID, token: read, body: map[string]any{"name": "X"},
		header: map[string]string{"If-Match": etagG2}}, 403)

	// Members.
	c.call(t, req{method: "GET", path: "/api/v1/groups/" + g.ID + "/members?status=all&limit=1", token: read}, 200)
	c.call(t, req{method: "GET", path: "/api/v1/groups/" + missing + "/members", token: read}, 404)
	// The narrower shapes (see "Who sees which staff" in docs/api.md):
	// a groups-only key gets MemberRef items and may not ask for archived
	// members; a receptionist's session gets StaffEntry items and records.
	groupsOnly, _ := e.key(t, e.sysCtx, cohort.ScopeGroupsRead)
	c.call(t, req{method: "GET", path: "/api/v1/groups/" + g.ID + "/members", token: groupsOnly}, 200)
	c.call(t, req{method: "GET", path: "/api/v1/groups/" + g.ID + "/members?status=all", token: groupsOnly}, 403)
	clerk, _ := e.session(t, uc.ID)
	asClerk := map[string]string{"Cookie": clerk}
	c.call(t, req{method: "GET", path: "/api/v1/groups/" + g.ID + "/members", header: asClerk}, 200)
	c.call(t, req{method: "GET", path: "/api/v1/users?limit=5", header: asClerk}, 200)
	c.call(t, req{method: "GET", path: "/api/v1/users?status=archived", header: asClerk}, 403)
	c.call(t, req{method: "GET", path: "/api/v1/users/" + ub.ID, header: asClerk}, 200)
	c.callInvalid(t, req{method: "GET", path: "/api/v1/groups/" + g.ID + "/members?limit=500", token: read}, 422)
	c.call(t, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/members", token: full,
		body: map[string]any{"add": []string{uc.ID}, "remove": []string{ub.ID}}}, 200)
	c.call(t, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/members", token: full,
		body: map[string]any{"add": []string{uc.ID}, "remove": []string{ub.ID}}}, 200)
	c.call(t, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/members", token: full,
		body: map[string]any{"add": []string{missing}}}, 422)
	c.callInvalid(t, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/members", token: full, body: `{"add": "x"}`}, 422)
	c.callInvalid(t, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/members", token: full, body: `{"add": [`}, 400)
	c.callInvalid(t, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/members", token: full, body: `{}`, header: plain}, 415)
	c.callInvalid(t, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/members", token: full, body: big}, 413)
	c.call(t, req{method: "POST", path: "/api/v1/groups/" + missing + "/members", token: full, body: map[string]any{"add": []string{ua.ID}}}, 404)

	r = c.call(t, req{method: "GET", path: "/api/v1/groups/" + g.ID, token: read}, 200)
	etagG3 := r.header.Get("ETag")
	c.call(t, req{method: "PUT", path: "/api/v1/groups/" + g.ID + "/members", token: full,
		body: map[string]any{"user_ids": []string{ua.ID, ub.ID}}, header: map[string]string{"If-Match": etagG3}}, 200)
	c.call(t, req{method: "PUT", path: "/api/v1/groups/" + g.ID + "/members", token: full,
		body: map[string]any{"user_ids": []string{ua.ID}}, header: map[string]string{"If-Match": etagG3}}, 409)
	c.callInvalid(t, req{method: "PUT", path: "/api/v1/groups/" + g.ID + "/members", token: full,
		body: map[string]any{"user_ids": []string{ua.ID}}}, 428)
	c.callInvalid(t, req{method: "PUT", path: "/api/v1/groups/" + g.ID + "/members", token: full,
		body: map[string]any{}, header: map[string]string{"If-Match": "*"}}, 422)
	c.callInvalid(t, req{method: "PUT", path: "/api/v1/groups/" + g.ID + "/members", token: full,
		body: `{"user_ids": [1]`, header: map[string]string{"If-Match": "*"}}, 400)
	c.callInvalid(t, req{method: "PUT", path: "/api/v1/groups/" + g.ID + "/members", token: full,
		body: `{}`, header: map[string]string{"If-Match": "*", "Content-Type": "text/csv"}}, 415)
	c.callInvalid(t, req{method: "PUT", path: "/api/v1/groups/" + g.ID + "/members", token: full,
		body: big, header: map[string]string{"If-Match": "*"}}, 413)
	c.call(t, req{method: "PUT", path: "/api/v1/groups/" + missing + "/members", token: full,
		body: map[string]any{"user_ids": []string{}}, header: map[string]string{"If-Match": `"1"`}}, 404)

	c.call(t, req{method: "PUT", path: "/api/v1/groups/" + g.ID + "/members/" + uc.ID, token: full}, 200)
	c.call(t, req{method: "PUT", path: "/api/v1/groups/" + g.ID + "/members/" + uc.ID, token: full}, 200)
	c.call(t, req{method: "PUT", path: "/api/v1/groups/" + g.ID + "/members/" + missing, token: full}, 404)
	c.call(t, req{method: "DELETE", path: "/api/v1/groups/" + g.ID + "/members/" + uc.ID, token: full}, 200)
	c.call(t, req{method: "DELETE", path: "/api/v1/groups/" + g.ID + "/members/" + uc.ID, token: full}, 200)
	c.call(t, req{method: "DELETE", path: "/api/v1/groups/" + missing + "/members/" + uc.ID, token: full}, 404)

	c.call(t, req{method: "GET", path: "/api/v1/users/" + ua.ID + "/groups", token: full}, 200)
	c.call(t, req{method: "GET", path: "/api/v1/users/" + missing + "/groups", token: full}, 404)
	c.callInvalid(t, req{method: "GET", path: "/api/v1/users/" + ua.ID + "/groups?status=gone", token: full}, 422)
	c.call(t, req{method: "GET", path: "/api/v1/users?group=" + g.ID + "&status=all", token: full}, 200)

	// Archive and restore.
	c.call(t, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/archive", token: full}, 200)
	c.call(t, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/archive", token: full}, 200)
	c.call(t, req{method: "POST", path: "/api/v1/groups/" + missing + "/archive", token: full}, 404)
	c.call(t, req{method: "PATCH", path: "/api/v1/groups/" + g.ID, token: full, body: map[string]any{"name": "X"},
		header: map[string]string{"If-Match": "*"}}, 409)
	c.call(t, req{method: "PUT", path: "/api/v1/groups/" + g.ID + "/members/" + ub.ID, token: full}, 409)
	c.call(t, req{method: "POST", path: "/api/v1/groups", token: full, body: map[string]any{"name": "Physiotherapists"}}, 201)
	c.call(t, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/restore", token: full}, 409)
	c.call(t, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/restore", token: full, body: map[string]any{"name": ""}}, 422)
	c.callInvalid(t, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/restore", token: full, body: `{"name": "Physio"`}, 400)
	c.callInvalid(t, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/restore", token: full, body: `{}`, header: plain}, 415)
	c.callInvalid(t, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/restore", token: full, body: big}, 413)
	c.call(t, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/restore", token: full, body: map[string]any{"name": "Physiotherapists (old)"}}, 200)
	c.call(t, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/restore", token: full}, 200)
	c.call(t, req{method: "POST", path: "/api/v1/groups/" + missing + "/restore", token: full}, 404)

	// No hard delete.
	c.call(t, req{method: "DELETE", path: "/api/v1/groups/" + g.ID, token: full}, 405)
	c.call(t, req{method: "DELETE", path: "/api/v1/users/" + ua.ID, token: read}, 405)

	// Audit.
	c.call(t, req{method: "GET", path: "/api/v1/audit?target_type=group&target_id=" + g.ID + "&limit=5", token: read}, 200)
	c.call(t, req{method: "GET", path: "/api/v1/audit?since=2020-01-01T00:00:00Z&until=2100-01-01T00:00:00Z&action=group.created", token: read}, 200)
	c.callInvalid(t, req{method: "GET", path: "/api/v1/audit?since=yesterday", token: read}, 422)
	c.call(t, req{method: "GET", path: "/api/v1/audit", token: scim}, 403)
	c.call(t, req{method: "GET", path: "/api/v1/audit"}, 401)

	// Every documented operation answered at least one success and, except
	// the public documents, at least one error.
	var missed []string
	for path, item := range loadSpec(t).Paths.Map() {
		for method, o := range item.Operations() {
			op := method + " " + path
			// Operations documented with errors only (DELETE: not
			// supported) need no success.
			documents2xx := false
			for status := range o.Responses.Map() {
				documents2xx = documents2xx || status[0] == '2' || status[0] == '3'
			}
			ok2, ok4 := !documents2xx, false
			for s := range c.seen[op] {
				ok2 = ok2 || s < 400
				ok4 = ok4 || s >= 400
			}
			public := strings.HasSuffix(path, "/openapi.json") || strings.HasSuffix(path, "/docs")
			if !ok2 || (!ok4 && !public) {
				missed = append(missed, op)
			}
		}
	}
	sort.Strings(missed)
	if len(missed) > 0 {
		t.Errorf("operations the contract test did not exercise with both a success and an error: %v", missed)
	}
}
