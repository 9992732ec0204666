package api_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/api"
)

func allScopes() []cohort.Scope {
	return []cohort.Scope{cohort.ScopeGroupsRead, cohort.ScopeGroupsWrite, cohort.ScopeUsersRead, cohort.ScopeUsersWrite}
}

// walk follows links.next from path to the end and returns the IDs seen
// in order.
func walk(t *testing.T, e *env, token, path string) []string {
	t.Helper()
	var ids []string
	for next := &path; next != nil; {
		var page listOut[struct{ ID string }]
		e.must(t, 200, req{method: "GET", path: *next, token: token}).json(t, &page)
		for _, d := range page.Data {
			ids = append(ids, d.ID)
		}
		next = page.Links.Next
		if len(ids) > 10000 {
			t.Fatal("pagination does not end")
		}
	}
	return ids
}

// TestPaginationUnderConcurrentInserts: a full walk while other groups
// are being created sees every group that existed before it began
// exactly once, and no row twice.
func TestPaginationUnderConcurrentInserts(t *testing.T) {
	e := newEnv(t, api.Options{})
	token, _ := e.key(t, e.sysCtx, allScopes()...)
	before := map[string]bool{}
	for i := range 40 {
		before[e.group(t, e.sysCtx, fmt.Sprintf("Team %03d", i*2)).ID] = true
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Bounded, so the walk ends however the two interleave.
		for i := range 60 {
			select {
			case <-stop:
				return
			default:
			}
			// Names sort between and around the existing ones.
			if _, err := e.svc.Groups.CreateGroup(e.sysCtx, cohort.GroupCreate{Name: fmt.Sprintf("Team %03d", i*2+1)}); err != nil {
				t.Errorf("concurrent insert: %v", err)
				return
			}
			if _, err := e.svc.Groups.CreateGroup(e.sysCtx, cohort.GroupCreate{Name: fmt.Sprintf("A team %03d", i)}); err != nil {
				t.Errorf("concurrent insert: %v", err)
				return
			}
		}
	}()
	ids := walk(t, e, token, "/api/v1/groups?limit=7")
	close(stop)
	wg.Wait()

	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("group %s appears twice in one walk", id)
		}
		seen[id] = true
	}
	for id := range before {
		if !seen[id] {
			t.Errorf("group %s existed before the walk but was missed", id)
		}
	}

	// Deterministic interleaving: between every two pages, insert one
	// group that sorts before the walk's position and one after it. The
	// walk must see every earlier row once and every row inserted ahead.
	var ahead []string
	seen = map[string]bool{}
	path := "/api/v1/groups?limit=9&q=team"
	for next, n := &path, 0; next != nil; n++ {
		var page listOut[groupOut]
		e.must(t, 200, req{method: "GET", path: *next, token: token}).json(t, &page)
		for _, g := range page.Data {
			if seen[g.ID] {
				t.Errorf("interleaved walk: %s twice", g.Name)
			}
			seen[g.ID] = true
		}
		next = page.Links.Next
		if next == nil || n > 100 {
			break
		}
		e.group(t, e.sysCtx, fmt.Sprintf("0 team behind %03d", n))
		ahead = append(ahead, e.group(t, e.sysCtx, fmt.Sprintf("Zz team ahead %03d", n)).ID)
	}
	for id := range before {
		if !seen[id] {
			t.Errorf("interleaved walk missed %s", id)
		}
	}
	for _, id := range ahead {
		if !seen[id] {
			t.Errorf("interleaved walk missed a group inserted ahead of it")
		}
	}

	// Back again: prev links from the last page lead to the first.
	var page listOut[struct{ ID string }]
	e.must(t, 200, req{method: "GET", path: "/api/v1/groups?limit=5", token: token}).json(t, &page)
	first := page.Data[0].ID
	if page.Links.Prev != nil {
		t.Errorf("first page has a prev link %q", *page.Links.Prev)
	}
	e.must(t, 200, req{method: "GET", path: *page.Links.Next, token: token}).json(t, &page)
	if page.Links.Prev == nil || !strings.Contains(*page.Links.Prev, "limit=5") {
		t.Fatalf("second page's prev link %v does not keep limit", page.Links.Prev)
	}
	e.must(t, 200, req{method: "GET", path: *page.Links.Prev, token: token}).json(t, &page)
	if len(page.Data) != 5 || page.Data[0].ID != first {
		t.Errorf("prev of the second page does not start at the first group")
	}
}

// TestStaleIfMatch: a write against an old ETag is refused with 409
// "stale" and changes nothing.
func TestStaleIfMatch(t *testing.T) {
	e := newEnv(t, api.Options{})
	token, _ := e.key(t, e.sysCtx, allScopes()...)
	u := e.user(t, e.sysCtx, "sam@example.com")
	g := e.group(t, e.sysCtx, "Telehealth providers")
	old := `"` + strconv.FormatInt(g.Version, 10) + `"`
	// Someone else changes the group.
	e.must(t, 200, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/members", token: token, body: map[string]any{"add": []string{u.ID}}})

	p := e.must(t, 409, req{method: "PATCH", path: "/api/v1/groups/" + g.ID, token: token,
		body: map[string]string{"name": "Telehealth"}, header: map[string]string{"If-Match": old}}).problem(t)
	if p.Code != cohort.ESTALE || !strings.Contains(strings.ToLower(p.Detail), "someone else") {
		t.Errorf("stale PATCH: %+v", p)
	}
	p = e.must(t, 409, req{method: "PUT", path: "/api/v1/groups/" + g.ID + "/members", token: token,
		body: map[string]any{"user_ids": []string{}}, header: map[string]string{"If-Match": old}}).problem(t)
	if p.Code != cohort.ESTALE {
		t.Errorf("stale PUT members: %+v", p)
	}
	var got groupOut
	e.must(t, 200, req{method: "GET", path: "/api/v1/groups/" + g.ID, token: token}).json(t, &got)
	if got.Name != "Telehealth providers" || got.MemberCount != 1 {
		t.Errorf("a stale write changed the group: %+v", got)
	}
	p = e.must(t, 428, req{method: "PATCH", path: "/api/v1/groups/" + g.ID, token: token, body: map[string]string{"name": "X"}}).problem(t)
	if p.Code != "if_match_required" || !strings.Contains(p.Detail, "If-Match") {
		t.Errorf("missing If-Match: %+v", p)
	}
	p = e.must(t, 400, req{method: "PATCH", path: "/api/v1/groups/" + g.ID, token: token, body: map[string]string{"name": "X"},
		header: map[string]string{"If-Match": "version 3"}}).problem(t)
	if !strings.Contains(p.Detail, "If-Match") {
		t.Errorf("malformed If-Match: %+v", p)
	}
}

// TestIdempotentCreate: a retry with the same key and body replays the
// first response and creates nothing more; another body is a 422.
func TestIdempotentCreate(t *testing.T) {
	e := newEnv(t, api.Options{})
	token, _ := e.key(t, e.sysCtx, allScopes()...)
	body := map[string]any{"name": "After-hours clinicians", "description": "On call"}
	hdr := map[string]string{"Idempotency-Key": "6f1c9a1e-create-1"}
	first := e.must(t, 201, req{method: "POST", path: "/api/v1/groups", token: token, body: body, header: hdr})

	// Concurrent and sequential retries all get the first response.
	var wg sync.WaitGroup
	results := make([]*resp, 6)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = e.do(t, req{method: "POST", path: "/api/v1/groups", token: token, body: body, header: hdr})
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r.status != 201 || string(r.body) != string(first.body) || r.header.Get("Location") != first.header.Get("Location") {
			t.Errorf("retry: %d %s %q, want the first response %s", r.status, r.body, r.header.Get("Location"), first.body)
		}
		if r.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("retry not marked as replayed")
		}
	}
	page, err := e.svc.Groups.FindGroups(e.sysCtx, cohort.GroupFilter{Query: "After-hours"})
	if err != nil || len(page.Groups) != 1 {
		t.Fatalf("retries created %d groups (%v), want 1", len(page.Groups), err)
	}

	p := e.must(t, 422, req{method: "POST", path: "/api/v1/groups", token: token,
		body: map[string]any{"name": "Something else"}, header: hdr}).problem(t)
	if p.Code != "idempotency_mismatch" {
		t.Errorf("reused key with another body: %+v", p)
	}
	// The key is per principal: another key may use the same value.
	other, _ := e.key(t, e.sysCtx, allScopes()...)
	e.must(t, 201, req{method: "POST", path: "/api/v1/groups", token: other, body: map[string]any{"name": "Contractors"}, header: hdr})

	// Users too; white space in the JSON does not make another body.
	uh := map[string]string{"Idempotency-Key": "user-key"}
	a := e.must(t, 201, req{method: "POST", path: "/api/v1/users", token: token, header: uh,
		body: `{"email":"kim@example.com","given_name":"Kim","family_name":"Kay"}`})
	b := e.must(t, 201, req{method: "POST", path: "/api/v1/users", token: token, header: uh,
		body: "{\n  \"email\": \"kim@example.com\", \"given_name\": \"Kim\", \"family_name\": \"Kay\"\n}"})
	if string(a.body) != string(b.body) {
		t.Errorf("user retry: %s, want %s", b.body, a.body)
	}
	// A failed create is not stored: after fixing the cause the same key works.
	fh := map[string]string{"Idempotency-Key": "fails-first"}
	e.must(t, 409, req{method: "POST", path: "/api/v1/groups", token: token, body: map[string]any{"name": "contractors"}, header: fh})
	e.must(t, 200, req{method: "POST", path: "/api/v1/groups/" + mustID(t, e, token, "Contractors") + "/archive", token: other})
	e.must(t, 201, req{method: "POST", path: "/api/v1/groups", token: token, body: map[string]any{"name": "contractors"}, header: fh})
}

func mustID(t *testing.T, e *env, token, name string) string {
	t.Helper()
	var page listOut[groupOut]
	e.must(t, 200, req{method: "GET", path: "/api/v1/groups?q=" + name, token: token}).json(t, &page)
	for _, g := range page.Data {
		if g.Name == name {
			return g.ID
		}
	}
	t.Fatalf("no group %q", name)
	return ""
}

// TestScopes: a read key cannot write; a scim key cannot use /api/v1
// (the reverse, an /api/v1 key refused by /scim/v2, is the SCIM
// package's test); a groups key cannot change users.
func TestScopes(t *testing.T) {
	e := newEnv(t, api.Options{})
	read, _ := e.key(t, e.sysCtx, cohort.ScopeGroupsRead)
	scim, _ := e.key(t, e.sysCtx, cohort.ScopeSCIM)
	groupsWrite, _ := e.key(t, e.sysCtx, cohort.ScopeGroupsWrite)
	g := e.group(t, e.sysCtx, "Admin team")

	e.must(t, 200, req{method: "GET", path: "/api/v1/groups", token: read})
	p := e.must(t, 403, req{method: "POST", path: "/api/v1/groups", token: read, body: map[string]any{"name": "X"}}).problem(t)
	if p.Code != "missing_scope" || !strings.Contains(p.Detail, "groups:write") {
		t.Errorf("read key writing: %+v", p)
	}
	e.must(t, 403, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/archive", token: read})
	e.must(t, 403, req{method: "DELETE", path: "/api/v1/groups/" + g.ID + "/members/x", token: read})
	for _, path := range []string{"/api/v1/groups", "/api/v1/groups/" + g.ID, "/api/v1/users", "/api/v1/audit"} {
		p := e.must(t, 403, req{method: "GET", path: path, token: scim}).problem(t)
		if p.Code != "scim_only_key" || !strings.Contains(p.Detail, "/scim/v2") {
			t.Errorf("scim key on %s: %+v", path, p)
		}
	}
	e.must(t, 403, req{method: "POST", path: "/api/v1/users", token: groupsWrite,
		body: map[string]string{"email": "x@example.com", "given_name": "X", "family_name": "Y"}})
	e.must(t, 200, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/archive", token: groupsWrite})

	// Audit entries name the key as the actor and the API as the interface.
	var audit listOut[struct {
		Action        string  `json:"action"`
		ActorName     string  `json:"actor_name"`
		ActorAPIKeyID *string `json:"actor_api_key_id"`
		Via           string  `json:"via"`
		RequestID     string  `json:"request_id"`
	}]
	e.must(t, 200, req{method: "GET", path: "/api/v1/audit?target_id=" + g.ID + "&action=group.archived", token: read}).json(t, &audit)
	if len(audit.Data) != 1 || audit.Data[0].ActorName != "test groups:write" || audit.Data[0].Via != "api" ||
		audit.Data[0].ActorAPIKeyID == nil || audit.Data[0].RequestID == "" {
		t.Errorf("audit of an API change: %+v", audit.Data)
	}
}

// TestBadCredentials: no credentials, unknown, revoked and expired keys
// are 401 with a Bearer challenge.
func TestBadCredentials(t *testing.T) {
	e := newEnv(t, api.Options{})
	token, key := e.key(t, e.sysCtx, allScopes()...)
	e.must(t, 200, req{method: "GET", path: "/api/v1/groups", token: token})

	check := func(name string, r *resp) {
		t.Helper()
		p := r.problem(t)
		if r.status != 401 || p.Code != cohort.EUNAUTHORIZED || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: %d %+v %q", name, r.status, p, r.header.Get("WWW-Authenticate"))
		}
	}
	check("none", e.do(t, req{method: "GET", path: "/api/v1/groups"}))
	check("unknown", e.do(t, req{method: "GET", path: "/api/v1/groups", token: "cohort_" + strings.Repeat("A", 40)}))
	check("not bearer", e.do(t, req{method: "GET", path: "/api/v1/groups", header: map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}}))

	if err := e.svc.APIKeys.RevokeAPIKey(e.sysCtx, key.ID); err != nil {
		t.Fatal(err)
	}
	check("revoked", e.do(t, req{method: "GET", path: "/api/v1/groups", token: token}))

	// The store refuses to create an already-expired key and has no
	// clock to move, so this key expires a moment from now and the check
	// runs once that moment has passed.
	soon := time.Now().Add(2 * time.Second)
	_, expired, err := e.svc.APIKeys.CreateAPIKey(e.sysCtx, cohort.APIKeyCreate{Name: "old", Scopes: allScopes(), ExpiresAt: &soon})
	if err != nil {
		t.Fatal(err)
	}
	e.must(t, 200, req{method: "GET", path: "/api/v1/groups", token: expired})
	time.Sleep(time.Until(soon) + 50*time.Millisecond)
	check("expired", e.do(t, req{method: "GET", path: "/api/v1/groups", token: expired}))
}

// TestForeignWorkspace: another workspace's groups and users are 404,
// never 403, and cannot be made members.
func TestForeignWorkspace(t *testing.T) {
	e := newEnv(t, api.Options{})
	token, _ := e.key(t, e.sysCtx, allScopes()...)
	_, _, otherCtx := e.newWorkspace(t)
	theirGroup := e.group(t, otherCtx, "Their group")
	theirUser := e.user(t, otherCtx, "them@example.com")
	mine := e.group(t, e.sysCtx, "My group")

	for _, rq := range []req{
		{method: "GET", path: "/api/v1/groups/" + theirGroup.ID},
		{method: "PATCH", path: "/api/v1/groups/" + theirGroup.ID, body: map[string]string{"name": "Mine now"}, header: map[string]string{"If-Match": "*"}},
		{method: "POST", path: "/api/v1/groups/" + theirGroup.ID + "/archive"},
		{method: "POST", path: "/api/v1/groups/" + theirGroup.ID + "/restore"},
		{method: "GET", path: "/api/v1/groups/" + theirGroup.ID + "/members"},
		{method: "POST", path: "/api/v1/groups/" + theirGroup.ID + "/members", body: map[string]any{"add": []string{}}},
		{method: "PUT", path: "/api/v1/groups/" + theirGroup.ID + "/members/" + theirUser.ID},
		{method: "PUT", path: "/api/v1/groups/" + mine.ID + "/members/" + theirUser.ID},
		{method: "DELETE", path: "/api/v1/groups/" + mine.ID + "/members/" + theirUser.ID},
		{method: "GET", path: "/api/v1/users/" + theirUser.ID},
		{method: "PATCH", path: "/api/v1/users/" + theirUser.ID, body: map[string]string{"given_name": "X"}},
		{method: "POST", path: "/api/v1/users/" + theirUser.ID + "/archive"},
		{method: "GET", path: "/api/v1/users/" + theirUser.ID + "/groups"},
	} {
		rq.token = token
		if p := e.must(t, 404, rq).problem(t); p.Code != cohort.ENOTFOUND {
			t.Errorf("%s %s: %+v", rq.method, rq.path, p)
		}
	}
	// Naming a foreign user in a member list changes nothing.
	e.must(t, 422, req{method: "POST", path: "/api/v1/groups/" + mine.ID + "/members", token: token, body: map[string]any{"add": []string{theirUser.ID}}})
	e.must(t, 422, req{method: "POST", path: "/api/v1/groups", token: token, body: map[string]any{"name": "Mixed", "member_ids": []string{theirUser.ID}}})
	var list listOut[groupOut]
	e.must(t, 200, req{method: "GET", path: "/api/v1/groups?status=all", token: token}).json(t, &list)
	for _, g := range list.Data {
		if g.ID == theirGroup.ID {
			t.Errorf("another workspace's group is listed")
		}
	}
}

// TestRateLimit: past the per-key limit the API answers 429 with
// Retry-After; every keyed response carries the X-RateLimit headers.
func TestRateLimit(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, api.Options{RateLimit: 3, Now: clock})
	token, _ := e.key(t, e.sysCtx, cohort.ScopeGroupsRead)
	other, _ := e.key(t, e.sysCtx, cohort.ScopeGroupsRead)

	for i, want := range []string{"2", "1", "0"} {
		r := e.must(t, 200, req{method: "GET", path: "/api/v1/groups", token: token})
		if r.header.Get("X-RateLimit-Limit") != "3" || r.header.Get("X-RateLimit-Remaining") != want || r.header.Get("X-RateLimit-Reset") == "" {
			t.Errorf("request %d: limit %q remaining %q reset %q", i, r.header.Get("X-RateLimit-Limit"),
				r.header.Get("X-RateLimit-Remaining"), r.header.Get("X-RateLimit-Reset"))
		}
	}
	r := e.must(t, http.StatusTooManyRequests, req{method: "GET", path: "/api/v1/groups", token: token})
	if p := r.problem(t); p.Code != cohort.ERATELIMIT || r.header.Get("Retry-After") != "20" || r.header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("429: %+v Retry-After %q", p, r.header.Get("Retry-After"))
	}
	// Refusals for a missing scope count and carry the headers too.
	r = e.must(t, http.StatusTooManyRequests, req{method: "POST", path: "/api/v1/groups", token: token, body: map[string]string{"name": "X"}})
	if r.header.Get("X-RateLimit-Limit") != "3" {
		t.Errorf("429 without X-RateLimit-Limit")
	}
	// Another key has its own allowance.
	e.must(t, 200, req{method: "GET", path: "/api/v1/groups", token: other})
	// A session is not limited and gets no headers.
	cookie, _ := e.session(t, e.owner.ID)
	r = e.must(t, 200, req{method: "GET", path: "/api/v1/groups", header: map[string]string{"Cookie": cookie}})
	if r.header.Get("X-RateLimit-Limit") != "" {
		t.Errorf("session response has rate-limit headers")
	}
	// After Retry-After seconds one more request is allowed.
	mu.Lock()
	now = now.Add(20 * time.Second)
	mu.Unlock()
	e.must(t, 200, req{method: "GET", path: "/api/v1/groups", token: token})
}

// TestSession: a signed-in browser may use the API with its role's
// permissions; unsafe methods need the CSRF token; an Authorization
// header overrides the cookie.
func TestSession(t *testing.T) {
	e := newEnv(t, api.Options{})
	cookie, csrf := e.session(t, e.owner.ID)
	ck := map[string]string{"Cookie": cookie}
	e.must(t, 200, req{method: "GET", path: "/api/v1/groups", header: ck})
	e.must(t, 403, req{method: "POST", path: "/api/v1/groups", header: ck, body: map[string]string{"name": "Children's practitioners"}})
	e.must(t, 201, req{method: "POST", path: "/api/v1/groups", body: map[string]string{"name": "Children's practitioners"},
		header: map[string]string{"Cookie": cookie, "X-CSRF-Token": csrf}})
	// A junk Authorization header does not fall back to the cookie.
	e.must(t, 401, req{method: "POST", path: "/api/v1/groups", body: map[string]string{"name": "Sneaky"},
		header: map[string]string{"Cookie": cookie, "Authorization": "Bearer nonsense"}})

	// A receptionist may view but not manage groups.
	rec, err := e.svc.Users.CreateUser(e.sysCtx, cohort.UserCreate{Email: "rita@example.com", GivenName: "Rita", FamilyName: "Reception",
		Role: cohort.RoleReceptionist, Password: "another long password"})
	if err != nil {
		t.Fatal(err)
	}
	rc, rcsrf := e.session(t, rec.ID)
	e.must(t, 200, req{method: "GET", path: "/api/v1/groups", header: map[string]string{"Cookie": rc}})
	p := e.must(t, 403, req{method: "POST", path: "/api/v1/groups", body: map[string]string{"name": "Mine"},
		header: map[string]string{"Cookie": rc, "X-CSRF-Token": rcsrf}}).problem(t)
	if p.Code != cohort.EFORBIDDEN {
		t.Errorf("receptionist creating a group: %+v", p)
	}
}

// TestMembers: deltas are atomic and repeat-safe, counts follow, and
// single-member PUT/DELETE are idempotent.
func TestMembers(t *testing.T) {
	e := newEnv(t, api.Options{})
	token, _ := e.key(t, e.sysCtx, allScopes()...)
	a, b, c := e.user(t, e.sysCtx, "a@example.com"), e.user(t, e.sysCtx, "b@example.com"), e.user(t, e.sysCtx, "c@example.com")
	var g groupOut
	e.must(t, 201, req{method: "POST", path: "/api/v1/groups", token: token,
		body: map[string]any{"name": "Practitioners who treat children", "member_ids": []string{a.ID, b.ID, a.ID}}}).json(t, &g)
	if g.MemberCount != 2 {
		t.Fatalf("member_count %d, want 2", g.MemberCount)
	}
	// Unknown ID: nothing of the delta applies.
	p := e.must(t, 422, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/members", token: token,
		body: map[string]any{"add": []string{c.ID, "no-such-user"}, "remove": []string{a.ID}}}).problem(t)
	if len(p.Errors) == 0 {
		t.Errorf("422 without per-field errors: %+v", p)
	}
	var mc struct {
		Added, Removed []string
		Group          groupOut
	}
	for i := range 2 {
		e.must(t, 200, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/members", token: token,
			body: map[string]any{"add": []string{c.ID}, "remove": []string{a.ID}}}).json(t, &mc)
		if mc.Group.MemberCount != 2 || (i == 0 && (len(mc.Added) != 1 || len(mc.Removed) != 1)) || (i == 1 && (len(mc.Added) != 0 || len(mc.Removed) != 0)) {
			t.Errorf("delta %d: %+v", i, mc)
		}
	}
	p = e.must(t, 422, req{method: "POST", path: "/api/v1/groups/" + g.ID + "/members", token: token,
		body: map[string]any{"add": []string{a.ID}, "remove": []string{a.ID}}}).problem(t)
	if len(p.Errors["remove"]) == 0 {
		t.Errorf("same ID in add and remove: %+v", p)
	}
	// Archived users keep membership but are not counted.
	e.must(t, 200, req{method: "POST", path: "/api/v1/users/" + b.ID + "/archive", token: token})
	var got groupOut
	e.must(t, 200, req{method: "GET", path: "/api/v1/groups/" + g.ID, token: token}).json(t, &got)
	if got.MemberCount != 1 {
		t.Errorf("member_count with an archived member: %d, want 1", got.MemberCount)
	}
	var members listOut[struct{ ID string }]
	e.must(t, 200, req{method: "GET", path: "/api/v1/groups/" + g.ID + "/members?status=all", token: token}).json(t, &members)
	if len(members.Data) != 2 {
		t.Errorf("members?status=all: %d, want 2", len(members.Data))
	}
	e.must(t, 200, req{method: "PUT", path: "/api/v1/groups/" + g.ID + "/members/" + a.ID, token: token}).json(t, &got)
	e.must(t, 200, req{method: "PUT", path: "/api/v1/groups/" + g.ID + "/members/" + a.ID, token: token}).json(t, &got)
	if got.MemberCount != 2 {
		t.Errorf("after PUT member twice: %d, want 2", got.MemberCount)
	}
	e.must(t, 200, req{method: "DELETE", path: "/api/v1/groups/" + g.ID + "/members/" + a.ID, token: token})
	e.must(t, 200, req{method: "DELETE", path: "/api/v1/groups/" + g.ID + "/members/" + a.ID, token: token}).json(t, &got)
	if got.MemberCount != 1 {
		t.Errorf("after DELETE member twice: %d, want 1", got.MemberCount)
	}
	// The user's groups.
	var ug listOut[groupOut]
	e.must(t, 200, req{method: "GET", path: "/api/v1/users/" + c.ID + "/groups", token: token}).json(t, &ug)
	if len(ug.Data) != 1 || ug.Data[0].ID != g.ID {
		t.Errorf("user's groups: %+v", ug.Data)
	}
}

// TestBadInputMessages: every 4xx says what to fix, naming the field.
func TestBadInputMessages(t *testing.T) {
	e := newEnv(t, api.Options{})
	token, _ := e.key(t, e.sysCtx, allScopes()...)
	cases := []struct {
		body    string
		status  int
		mention string
	}{
		{`{"name": "X", "colour": "red"}`, 422, "colour"},
		{`{"name": 7}`, 422, "name"},
		{`{"name": "X"`, 400, "line 1"},
		{"{\n\"name\": \"X\",\n}", 400, "line 3"},
		{`[]`, 400, "JSON object"},
		{``, 400, "empty"},
		{`{"name": "` + strings.Repeat("n", 101) + `"}`, 422, "100 characters"},
		{`{"member_ids": "abc", "name": "Y"}`, 422, "member_ids"},
	}
	for _, tc := range cases {
		r := e.do(t, req{method: "POST", path: "/api/v1/groups", token: token, body: tc.body, header: map[string]string{"Content-Type": "application/json"}})
		p := r.problem(t)
		if r.status != tc.status || !strings.Contains(p.Detail+fmt.Sprint(p.Errors), tc.mention) {
			t.Errorf("body %q: %d %+v, want %d mentioning %q", tc.body, r.status, p, tc.status, tc.mention)
		}
	}
	p := e.must(t, 422, req{method: "GET", path: "/api/v1/groups?limit=101&status=x&cursor=zzz", token: token}).problem(t)
	for _, f := range []string{"limit", "status", "cursor"} {
		if len(p.Errors[f]) == 0 {
			t.Errorf("bad %s not named: %+v", f, p)
		}
	}
}

// TestDocsAndSpecArePublic: the OpenAPI file and the docs page need no
// key, and the page lists every operation and error code.
func TestDocsAndSpecArePublic(t *testing.T) {
	e := newEnv(t, api.Options{})
	r := e.must(t, 200, req{method: "GET", path: "/api/v1/openapi.json"})
	if string(r.body) != string(api.OpenAPI) {
		t.Error("served openapi.json differs from the embedded file")
	}
	page := string(e.must(t, 200, req{method: "GET", path: "/api/v1/docs"}).body)
	for _, rt := range api.New(cohort.Services{}, nil, api.Options{}).Routes() {
		if !strings.Contains(page, rt.Method+" "+rt.Pattern) {
			t.Errorf("docs page does not list %s %s", rt.Method, rt.Pattern)
		}
	}
	for _, code := range []string{"stale", "idempotency_mismatch", "if_match_required", "scim_only_key", "rate_limited"} {
		if !strings.Contains(page, `id="error-`+code+`"`) {
			t.Errorf("docs page does not explain %s", code)
		}
	}
}

// TestOddIDs: IDs no store ever made — bad UTF-8, NUL, very long — are
// simply not found.
func TestOddIDs(t *testing.T) {
	e := newEnv(t, api.Options{})
	token, _ := e.key(t, e.sysCtx, allScopes()...)
	g := e.group(t, e.sysCtx, "Odd")
	for _, id := range []string{"%FF", "%00", "a%00b", strings.Repeat("9", 5000), "%2F"} {
		for _, rq := range []req{
			{method: "GET", path: "/api/v1/groups/" + id},
			{method: "GET", path: "/api/v1/users/" + id},
			{method: "GET", path: "/api/v1/users/" + id + "/groups"},
			{method: "PUT", path: "/api/v1/groups/" + g.ID + "/members/" + id},
			{method: "POST", path: "/api/v1/groups/" + id + "/archive"},
		} {
			rq.token = token
			r := e.do(t, rq)
			if r.status != 404 {
				t.Errorf("%s %s: %d %s, want 404", rq.method, rq.path, r.status, r.body)
			}
		}
	}
}
