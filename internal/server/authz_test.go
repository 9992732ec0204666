package server_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/httpx"
	"github.com/cohorthq/cohort/internal/server"
)

// The authorization matrix: every route of the assembled server, called as
// every kind of principal against objects of workspace A, must answer
// with the outcome class the table below expects. A route the table does
// not list fails the test, so a new route cannot ship without a decision
// about who may call it.

// outcome is the class of a response.
type outcome string

const (
	allowed   outcome = "allowed"   // 2xx, 3xx elsewhere than sign-in, or a 4xx about the input (400, 409, 412, 415, 422, 428)
	unauth    outcome = "unauth"    // 401, or a redirect to the sign-in page
	forbidden outcome = "forbidden" // 403
	notFound  outcome = "not_found" // 404
	noMethod  outcome = "no_method" // 405: the route refuses the method for everyone (no hard delete)
)

func classify(res *http.Response) (outcome, error) {
	switch s := res.StatusCode; {
	case s >= 500:
		return "", fmt.Errorf("server error %d", s)
	case s == http.StatusUnauthorized:
		return unauth, nil
	case s == http.StatusForbidden:
		return forbidden, nil
	case s == http.StatusNotFound:
		return notFound, nil
	case s == http.StatusMethodNotAllowed:
		return noMethod, nil
	case s >= 300 && s < 400:
		if strings.HasPrefix(res.Header.Get("Location"), "/signin") {
			return unauth, nil
		}
		return allowed, nil
	case s < 300, s == 400, s == 409, s == 412, s == 415, s == 422, s == 428:
		return allowed, nil
	}
	return "", fmt.Errorf("unexpected status %d", res.StatusCode)
}

// principal is who calls.
type principal struct {
	name string
	// Browser sessions: the user (in workspace A unless foreign).
	user    *cohort.User
	session bool
	// dead is an archived user's old session or a revoked key.
	dead bool
	// API keys: the token and its scopes.
	token  string
	scopes []cohort.Scope
	// foreign principals belong to workspace B.
	foreign bool
}

func (p principal) key() bool { return p.token != "" }

func (p principal) manager() bool {
	return p.user != nil && (p.user.IsOwner || p.user.Role == cohort.RolePractitionerAdmin || p.user.Role == cohort.RolePracticeManager)
}

func (p principal) owner() bool { return p.user != nil && p.user.IsOwner }

func (p principal) has(scopes ...cohort.Scope) bool {
	for _, s := range scopes {
		if slices.Contains(p.scopes, s) {
			return true
		}
	}
	return false
}

// A policy says what a principal gets from a route in its own workspace.
type policy func(p principal) outcome

var (
	// Anyone, signed in or not: health checks, static files, sign-in, the
	// API description.
	public policy = func(principal) outcome { return allowed }
	// Signing out always ends at the sign-in page.
	signOut policy = func(principal) outcome { return unauth }
	// No hard delete: every caller is told to archive instead.
	refusedMethod policy = func(principal) outcome { return noMethod }
	// Pages every active staff member sees. Pages take browser sessions
	// only; an API key is no sign-in there.
	staffPage policy = func(p principal) outcome {
		if p.session && !p.dead {
			return allowed
		}
		return unauth
	}
	// Pages and forms for managers (owner, practitioner admins, practice
	// managers).
	managerPage policy = func(p principal) outcome {
		switch {
		case !p.session || p.dead:
			return unauth
		case p.manager():
			return allowed
		}
		return forbidden
	}
	// Ownership transfer: the account owner only.
	ownerPage policy = func(p principal) outcome {
		switch {
		case !p.session || p.dead:
			return unauth
		case p.owner():
			return allowed
		}
		return forbidden
	}
	// The live-updates stream: every staff member's browser.
	liveStream = staffPage
)

// apiRoute is a REST route: a session acts with its role (staffOK says
// whether every staff member may, else managers only), a key needs one of
// scopes. A scim-only key is refused under /api/v1.
func apiRoute(staffOK bool, scopes ...cohort.Scope) policy {
	return func(p principal) outcome {
		switch {
		case p.dead || (!p.session && !p.key()):
			return unauth
		case p.session && (staffOK || p.manager()):
			return allowed
		case p.session:
			return forbidden
		case p.has(scopes...):
			return allowed
		}
		return forbidden
	}
}

// scimRoute takes API keys with the scim scope only; SCIM never reads
// cookies, so a browser session is no sign-in there.
var scimRoute policy = func(p principal) outcome {
	switch {
	case p.dead || !p.key():
		return unauth
	case p.has(cohort.ScopeSCIM):
		return allowed
	}
	return forbidden
}

// scimUnknown is the SCIM 404 for paths SCIM does not have.
var scimUnknown policy = func(p principal) outcome {
	if p.dead || !p.key() {
		return unauth
	}
	if !p.has(cohort.ScopeSCIM) {
		return forbidden
	}
	return notFound
}

// apiUnknown is the API's 404 for paths it does not have: the same for
// everyone, without looking at credentials, so it reveals nothing.
var apiUnknown policy = func(p principal) outcome { return notFound }

var (
	groupsRead  = []cohort.Scope{cohort.ScopeGroupsRead, cohort.ScopeGroupsWrite}
	groupsWrite = []cohort.Scope{cohort.ScopeGroupsWrite}
	usersRead   = []cohort.Scope{cohort.ScopeUsersRead, cohort.ScopeUsersWrite}
	usersWrite  = []cohort.Scope{cohort.ScopeUsersWrite}
	auditRead   = []cohort.Scope{cohort.ScopeGroupsRead, cohort.ScopeGroupsWrite, cohort.ScopeUsersRead, cohort.ScopeUsersWrite}
)

// expectations is the table: "METHOD pattern" → policy.
var expectations = map[string]policy{
	"GET /healthz":       public,
	"GET /readyz":        public,
	"GET /static/{file}": public,
	"GET /signin":        public,
	"POST /signin":       public,
	"POST /signout":      signOut,

	"GET /{$}":                              staffPage,
	"GET /settings":                         staffPage,
	"GET /settings/groups":                  staffPage,
	"GET /settings/groups/{id}":             staffPage,
	"GET /settings/groups/new":              managerPage,
	"POST /settings/groups/new":             managerPage,
	"GET /settings/groups/picker":           managerPage,
	"GET /settings/groups/{id}/edit":        managerPage,
	"POST /settings/groups/{id}/edit":       managerPage,
	"POST /settings/groups/{id}/archive":    managerPage,
	"POST /settings/groups/{id}/restore":    managerPage,
	"GET /settings/users":                   managerPage,
	"GET /settings/users/new":               managerPage,
	"POST /settings/users/new":              managerPage,
	"GET /settings/users/import":            managerPage,
	"POST /settings/users/import":           managerPage,
	"GET /settings/users/export/users.csv":  managerPage,
	"GET /settings/users/export/groups.csv": managerPage,
	"GET /settings/users/{id}":              managerPage,
	"GET /settings/users/{id}/edit":         managerPage,
	"POST /settings/users/{id}/edit":        managerPage,
	"POST /settings/users/{id}/archive":     managerPage,
	"POST /settings/users/{id}/restore":     managerPage,
	"POST /settings/users/{id}/groups":      managerPage,
	"GET /settings/users/{id}/owner":        ownerPage,
	"POST /settings/users/{id}/owner":       ownerPage,
	"GET /settings/users/{id}/password":     managerPage,
	"POST /settings/users/{id}/password":    managerPage,
	"GET /settings/users/{id}/sessions":     ownerPage,
	"POST /settings/users/{id}/sessions":    ownerPage,
	"GET /account/sessions":                 staffPage,
	"POST /account/sessions":                signOut,
	"GET /settings/api-keys":                ownerPage,
	"GET /settings/api-keys/new":            ownerPage,
	"POST /settings/api-keys/new":           ownerPage,
	"GET /settings/api-keys/{id}/revoke":    ownerPage,
	"POST /settings/api-keys/{id}/revoke":   ownerPage,
	"GET /settings/webhooks":                ownerPage,
	"GET /settings/webhooks/new":            ownerPage,
	"POST /settings/webhooks/new":           ownerPage,
	"GET /settings/webhooks/{id}":           ownerPage,
	"POST /settings/webhooks/{id}/resume":   ownerPage,
	"POST /settings/webhooks/{id}/resend":   ownerPage,
	"GET /settings/webhooks/{id}/delete":    ownerPage,
	"POST /settings/webhooks/{id}/delete":   ownerPage,
	"GET /settings/audit":                   managerPage,
	"GET /settings/audit/export.csv":        managerPage,
	"GET /settings/groups/{id}/history.csv": managerPage,
	"GET /directory":                        staffPage,
	"GET /account/password":                 staffPage,
	"POST /account/password":                staffPage,
	"GET /events":                           liveStream,

	"GET /api/v1/openapi.json":                     public,
	"GET /api/v1/docs":                             public,
	"GET /api/v1/groups":                           apiRoute(true, groupsRead...),
	"POST /api/v1/groups":                          apiRoute(false, groupsWrite...),
	"GET /api/v1/groups/{id}":                      apiRoute(true, groupsRead...),
	"PATCH /api/v1/groups/{id}":                    apiRoute(false, groupsWrite...),
	"DELETE /api/v1/groups/{id}":                   refusedMethod,
	"POST /api/v1/groups/{id}/archive":             apiRoute(false, groupsWrite...),
	"POST /api/v1/groups/{id}/restore":             apiRoute(false, groupsWrite...),
	"GET /api/v1/groups/{id}/members":              apiRoute(true, groupsRead...),
	"POST /api/v1/groups/{id}/members":             apiRoute(false, groupsWrite...),
	"PUT /api/v1/groups/{id}/members":              apiRoute(false, groupsWrite...),
	"PUT /api/v1/groups/{id}/members/{user_id}":    apiRoute(false, groupsWrite...),
	"DELETE /api/v1/groups/{id}/members/{user_id}": apiRoute(false, groupsWrite...),
	"GET /api/v1/users":                            apiRoute(true, usersRead...),
	"POST /api/v1/users":                           apiRoute(false, usersWrite...),
	"GET /api/v1/users/{id}":                       apiRoute(true, usersRead...),
	"PATCH /api/v1/users/{id}":                     apiRoute(false, usersWrite...),
	"DELETE /api/v1/users/{id}":                    refusedMethod,
	"POST /api/v1/users/{id}/archive":              apiRoute(false, usersWrite...),
	"POST /api/v1/users/{id}/restore":              apiRoute(false, usersWrite...),
	"GET /api/v1/users/{id}/groups":                apiRoute(true, groupsRead...),
	"GET /api/v1/audit":                            apiRoute(false, auditRead...),

	"GET /scim/v2/ServiceProviderConfig": scimRoute,
	"GET /scim/v2/ResourceTypes":         scimRoute,
	"GET /scim/v2/ResourceTypes/{id}":    scimRoute,
	"GET /scim/v2/Schemas":               scimRoute,
	"GET /scim/v2/Schemas/{id}":          scimRoute,
	"GET /scim/v2/Users":                 scimRoute,
	"POST /scim/v2/Users":                scimRoute,
	"GET /scim/v2/Users/{id}":            scimRoute,
	"PUT /scim/v2/Users/{id}":            scimRoute,
	"PATCH /scim/v2/Users/{id}":          scimRoute,
	"DELETE /scim/v2/Users/{id}":         scimRoute,
	"GET /scim/v2/Groups":                scimRoute,
	"POST /scim/v2/Groups":               scimRoute,
	"GET /scim/v2/Groups/{id}":           scimRoute,
	"PUT /scim/v2/Groups/{id}":           scimRoute,
	"PATCH /scim/v2/Groups/{id}":         scimRoute,
	"DELETE /scim/v2/Groups/{id}":        scimRoute,
	"GET /scim/v2/":                      scimUnknown,
	"GET /scim/":                         scimUnknown,
	"POST /scim/":                        scimUnknown,
	"PUT /scim/":                         scimUnknown,
	"PATCH /scim/":                       scimUnknown,
	"DELETE /scim/":                      scimUnknown,
	"GET /api/":                          apiUnknown,
	"POST /api/":                         apiUnknown,
	"PUT /api/":                          apiUnknown,
	"PATCH /api/":                        apiUnknown,
	"DELETE /api/":                       apiUnknown,
	"POST /scim/v2/":                     scimUnknown,
	"PUT /scim/v2/":                      scimUnknown,
	"PATCH /scim/v2/":                    scimUnknown,
	"DELETE /scim/v2/":                   scimUnknown,
}

// objects are the targets of one call: a fresh group with one member and
// a fresh user, so no call depends on what an earlier one changed.
type objects struct {
	groupID, userID, memberID string
	keyID, webhookID          string
	groupName, tag            string
}

// namesObject reports whether a pattern names a group or user by ID.
func namesObject(pattern string) bool {
	for _, s := range []string{"/groups/{id}", "/Groups/{id}", "/users/{id}", "/Users/{id}", "{user_id}", "/api-keys/{id}", "/webhooks/{id}"} {
		if strings.Contains(pattern, s) {
			return true
		}
	}
	return false
}

// fill turns a pattern into a path with o's IDs.
func fill(t *testing.T, pattern string, o objects) string {
	t.Helper()
	p := strings.ReplaceAll(pattern, "{$}", "")
	lower := strings.ToLower(p)
	switch {
	case strings.Contains(lower, "/groups/{id}"):
		p = strings.Replace(p, "{id}", o.groupID, 1)
	case strings.Contains(lower, "/users/{id}"):
		p = strings.Replace(p, "{id}", o.userID, 1)
	case strings.Contains(p, "/api-keys/{id}"):
		p = strings.Replace(p, "{id}", o.keyID, 1)
	case strings.Contains(p, "/webhooks/{id}"):
		p = strings.Replace(p, "{id}", o.webhookID, 1)
	case strings.HasSuffix(p, "/ResourceTypes/{id}"):
		p = strings.Replace(p, "{id}", "User", 1)
	case strings.HasSuffix(p, "/Schemas/{id}"):
		p = strings.Replace(p, "{id}", "urn:ietf:params:scim:schemas:core:2.0:User", 1)
	case strings.HasSuffix(p, "/static/{file}"):
		p = strings.Replace(p, "{file}", "app.css", 1)
	case strings.HasSuffix(p, "/scim/v2/"):
		p += "NoSuchEndpoint"
	}
	p = strings.Replace(p, "{user_id}", o.memberID, 1)
	if strings.ContainsAny(p, "{}") {
		t.Fatalf("the matrix does not know how to fill %q: teach fill", pattern)
	}
	return p
}

// matrix holds the two workspaces and every principal.
type matrix struct {
	*full
	wsA, wsB     *cohort.Workspace
	ownerA       *cohort.User
	principals   []principal
	csrfCookie   string // a signed-out browser's double-submit token
	scimKeyA     string
	ownerSession principal
	deadSession  browser
}

func newMatrix(t *testing.T) *matrix {
	f := newFull(t, server.Config{})
	ctx := t.Context()
	m := &matrix{full: f, csrfCookie: strings.Repeat("A", 43)}
	var err error
	m.wsA, m.ownerA, err = f.svc.Workspaces.CreateWorkspace(ctx, cohort.WorkspaceCreate{Name: "Practice A", Slug: "practice-a",
		Owner: cohort.UserCreate{Email: "owner@a.test", GivenName: "Olive", FamilyName: "Owner"}})
	if err != nil {
		t.Fatal(err)
	}
	wsB, ownerB, err := f.svc.Workspaces.CreateWorkspace(ctx, cohort.WorkspaceCreate{Name: "Practice B", Slug: "practice-b",
		Owner: cohort.UserCreate{Email: "owner@b.test", GivenName: "Bea", FamilyName: "Owner"}})
	if err != nil {
		t.Fatal(err)
	}
	m.wsB = wsB
	a := sys(ctx, m.wsA.ID)

	m.principals = append(m.principals, principal{name: "signed out"})
	for _, r := range cohort.Roles {
		u, err := f.svc.Users.CreateUser(a, cohort.UserCreate{Email: string(r) + "@a.test", GivenName: "Staff", FamilyName: r.Label(), Role: r})
		if err != nil {
			t.Fatal(err)
		}
		m.principals = append(m.principals, principal{name: "A " + string(r), user: u, session: true})
	}
	m.ownerSession = principal{name: "A owner", user: m.ownerA, session: true}
	m.principals = append(m.principals, m.ownerSession)
	m.principals = append(m.principals, principal{name: "B owner", user: ownerB, session: true, foreign: true})
	for _, s := range cohort.Scopes {
		_, tok, err := f.svc.APIKeys.CreateAPIKey(a, cohort.APIKeyCreate{Name: "key " + string(s), Scopes: []cohort.Scope{s}})
		if err != nil {
			t.Fatal(err)
		}
		if s == cohort.ScopeSCIM {
			m.scimKeyA = tok
		}
		m.principals = append(m.principals, principal{name: "A key " + string(s), token: tok, scopes: []cohort.Scope{s}})
	}
	// A key with both a groups and a users scope sees members as full
	// staff records.
	both := []cohort.Scope{cohort.ScopeGroupsRead, cohort.ScopeUsersRead}
	_, tokBoth, err := f.svc.APIKeys.CreateAPIKey(a, cohort.APIKeyCreate{Name: "key groups:read+users:read", Scopes: both})
	if err != nil {
		t.Fatal(err)
	}
	m.principals = append(m.principals, principal{name: "A key groups:read+users:read", token: tokBoth, scopes: both})
	_, tokB, err := f.svc.APIKeys.CreateAPIKey(sys(ctx, wsB.ID), cohort.APIKeyCreate{Name: "B key", Scopes: cohort.Scopes})
	if err != nil {
		t.Fatal(err)
	}
	m.principals = append(m.principals, principal{name: "B key (all scopes)", token: tokB, scopes: cohort.Scopes, foreign: true})
	revoked, tokRevoked, err := f.svc.APIKeys.CreateAPIKey(a, cohort.APIKeyCreate{Name: "revoked", Scopes: cohort.Scopes})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.APIKeys.RevokeAPIKey(a, revoked.ID); err != nil {
		t.Fatal(err)
	}
	m.principals = append(m.principals, principal{name: "A revoked key", token: tokRevoked, scopes: cohort.Scopes, dead: true})
	// An archived manager's session from before the archive.
	gone, err := f.svc.Users.CreateUser(a, cohort.UserCreate{Email: "gone@a.test", GivenName: "Gone", FamilyName: "Manager", Role: cohort.RolePracticeManager})
	if err != nil {
		t.Fatal(err)
	}
	old := f.signIn(gone.ID, false)
	if _, err := f.svc.Users.ArchiveUser(a, gone.ID, 0); err != nil {
		t.Fatal(err)
	}
	m.principals = append(m.principals, principal{name: "A archived user's old session", user: gone, session: true, dead: true})
	m.deadSession = old
	return m
}

// fresh makes the objects of one call in a workspace.
func (m *matrix) fresh(wsID string, n int) objects {
	m.t.Helper()
	ctx := sys(m.t.Context(), wsID)
	tag := fmt.Sprintf("%s-%d", wsID[len(wsID)-6:], n)
	member, err := m.svc.Users.CreateUser(ctx, cohort.UserCreate{Email: "member-" + tag + "@x.test", GivenName: "Member", FamilyName: tag})
	if err != nil {
		m.t.Fatal(err)
	}
	u, err := m.svc.Users.CreateUser(ctx, cohort.UserCreate{Email: "target-" + tag + "@x.test", GivenName: "Target", FamilyName: tag})
	if err != nil {
		m.t.Fatal(err)
	}
	g, err := m.svc.Groups.CreateGroup(ctx, cohort.GroupCreate{Name: "Group " + tag, MemberIDs: []string{member.ID}})
	if err != nil {
		m.t.Fatal(err)
	}
	k, _, err := m.svc.APIKeys.CreateAPIKey(ctx, cohort.APIKeyCreate{Name: "Key " + tag, Scopes: []cohort.Scope{cohort.ScopeGroupsRead}})
	if err != nil {
		m.t.Fatal(err)
	}
	// The store directly: the address check of the web edge would look
	// the name up in DNS.
	wh, err := m.db.CreateWebhook(ctx, cohort.WebhookCreate{URL: "https://hooks.example.com/" + tag, Events: []string{cohort.ActionGroupCreated}})
	if err != nil {
		m.t.Fatal(err)
	}
	return objects{groupID: g.ID, userID: u.ID, memberID: member.ID, keyID: k.ID, webhookID: wh.ID, groupName: g.Name, tag: tag}
}

// call makes one request of route rt as p against o.
func (m *matrix) call(rt httpx.Route, p principal, o objects) (*http.Response, string) {
	m.t.Helper()
	path := fill(m.t, rt.Pattern, o)
	r := request{method: rt.Method, path: path, header: http.Header{}}
	r.header.Set("Sec-Fetch-Site", "same-origin")
	api := strings.HasPrefix(path, "/api/")
	scim := strings.HasPrefix(path, "/scim/")
	// The CSRF token a browser would send: its session's, or signed out
	// the double-submit cookie's.
	csrf := m.csrfCookie
	switch {
	case p.key():
		r.header.Set("Authorization", "Bearer "+p.token)
	case p.dead && p.session:
		r.cookies = append(r.cookies, m.deadSession.cookie, &http.Cookie{Name: httpx.CSRFCookieName(false), Value: m.csrfCookie})
	case p.session:
		b := m.signIn(p.user.ID, false)
		r.cookies = append(r.cookies, b.cookie)
		csrf = b.csrf
	default:
		r.cookies = append(r.cookies, &http.Cookie{Name: httpx.CSRFCookieName(false), Value: m.csrfCookie})
	}
	if rt.Method == http.MethodGet {
		if rt.Pattern == "/events" {
			r.header.Set("Accept", "text/event-stream")
		}
		return m.do(r)
	}
	// Bodies a permitted caller's request would succeed with, so that
	// the answer is about who calls, not about the input.
	switch {
	case api:
		r.contentType = "application/json"
		r.header.Set("X-CSRF-Token", csrf)
		r.header.Set("If-Match", "*")
		r.body = apiBody(rt, o)
	case scim:
		r.contentType = "application/scim+json"
		r.body = scimBody(rt, o)
	default:
		r.contentType = "application/x-www-form-urlencoded"
		r.body = form(append([]string{"csrf_token", csrf}, webForm(rt, o)...)...)
	}
	return m.do(r)
}

// keepOwner undoes an ownership transfer a call made, so the next call's
// "owner" is still the owner.
func (m *matrix) keepOwner() {
	m.t.Helper()
	u, err := m.svc.Users.FindUserByID(sys(m.t.Context(), m.wsA.ID), m.ownerA.ID)
	if err != nil {
		m.t.Fatal(err)
	}
	if !u.IsOwner {
		if err := m.svc.Users.TransferOwnership(sys(m.t.Context(), m.wsA.ID), m.ownerA.ID); err != nil {
			m.t.Fatal(err)
		}
	}
}

func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	m := newMatrix(t)
	routes := m.h.Routes()
	seen := map[string]bool{}
	calls, n := 0, 0
	shared := m.fresh(m.wsA.ID, 0)
	for _, rt := range routes {
		key := rt.Method + " " + rt.Pattern
		seen[key] = true
		pol, ok := expectations[key]
		if !ok {
			t.Errorf("route %s is not in the authorization matrix: add it to expectations with who may call it", key)
			continue
		}
		for _, p := range m.principals {
			// A GET changes nothing (checked below), so GETs share one set
			// of objects; every other call gets its own.
			o := shared
			if rt.Method != http.MethodGet {
				n++
				o = m.fresh(m.wsA.ID, n)
			}
			want := pol(p)
			// Another workspace's objects are not there for it.
			if p.foreign && namesObject(rt.Pattern) && (want == allowed || want == forbidden) {
				want = notFound
			}
			auditA, auditB := m.newestAudit(m.wsA.ID), m.newestAudit(m.wsB.ID)
			res, body := m.call(rt, p, o)
			calls++
			got, err := classify(res)
			switch {
			case err != nil:
				t.Errorf("%s as %s: %v\n%s", key, p.name, err, body)
			case got != want:
				t.Errorf("%s as %s: got %s (%d), want %s\n%.300s", key, p.name, got, res.StatusCode, want, body)
			}
			if res.StatusCode == http.StatusForbidden && strings.Contains(body, "This form has expired") {
				t.Errorf("%s as %s: refused as a CSRF failure although the call carried a valid token", key, p.name)
			}
			if p.foreign && strings.Contains(body, o.groupName) {
				t.Errorf("%s as %s: the answer shows workspace A's group", key, p.name)
			}
			if rt.Method == http.MethodGet {
				if a, b := m.newestAudit(m.wsA.ID), m.newestAudit(m.wsB.ID); a != auditA || b != auditB {
					t.Errorf("GET %s as %s changed something: a new audit entry was written", rt.Pattern, p.name)
				}
			}
			m.keepOwner()
		}
	}
	for key := range expectations {
		if !seen[key] {
			t.Errorf("the matrix expects route %s, which the server no longer has: remove it", key)
		}
	}

	// Workspace A's principals against workspace B's objects: 404, for
	// every route that names an object.
	cross := 0
	for _, rt := range routes {
		if !namesObject(rt.Pattern) || expectations[rt.Method+" "+rt.Pattern] == nil {
			continue
		}
		p := m.ownerSession
		if strings.HasPrefix(rt.Pattern, "/scim/") {
			p = principal{name: "A key scim", token: m.scimKeyA, scopes: []cohort.Scope{cohort.ScopeSCIM}}
		}
		if expectations[rt.Method+" "+rt.Pattern](p) != allowed {
			continue
		}
		n++
		o := m.fresh(m.wsB.ID, n)
		auditB := m.newestAudit(m.wsB.ID)
		res, body := m.call(rt, p, o)
		cross++
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s as %s on workspace B's objects: %d, want 404\n%.300s", rt.Method, rt.Pattern, p.name, res.StatusCode, body)
		}
		if m.newestAudit(m.wsB.ID) != auditB {
			t.Errorf("%s %s as %s changed workspace B", rt.Method, rt.Pattern, p.name)
		}
	}
	t.Logf("authorization matrix: %d routes × %d principals = %d calls, plus %d calls on another workspace's objects",
		len(routes), len(m.principals), calls, cross)
}

func apiBody(rt httpx.Route, o objects) string {
	switch rt.Method + " " + rt.Pattern {
	case "POST /api/v1/groups":
		return `{"name":"API ` + o.tag + `"}`
	case "PATCH /api/v1/groups/{id}":
		return `{"name":"Renamed ` + o.tag + `"}`
	case "POST /api/v1/groups/{id}/members":
		return `{"add":["` + o.userID + `"]}`
	case "PUT /api/v1/groups/{id}/members":
		return `{"user_ids":["` + o.userID + `"]}`
	case "POST /api/v1/users":
		return `{"email":"api-` + o.tag + `@x.test","given_name":"Api","family_name":"User","role":"practitioner"}`
	case "PATCH /api/v1/users/{id}":
		return `{"given_name":"Renamed"}`
	}
	return ""
}

const (
	scimUser  = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimGroup = "urn:ietf:params:scim:schemas:core:2.0:Group"
	scimPatch = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
)

func scimBody(rt httpx.Route, o objects) string {
	switch rt.Method + " " + rt.Pattern {
	case "POST /scim/v2/Users":
		return `{"schemas":["` + scimUser + `"],"userName":"scim-` + o.tag + `@x.test","name":{"givenName":"Scim","familyName":"User"}}`
	case "PUT /scim/v2/Users/{id}":
		return `{"schemas":["` + scimUser + `"],"userName":"target-` + o.tag + `@x.test","name":{"givenName":"Put","familyName":"User"},"active":true}`
	case "PATCH /scim/v2/Users/{id}":
		return `{"schemas":["` + scimPatch + `"],"Operations":[{"op":"replace","path":"name.givenName","value":"Patched"}]}`
	case "POST /scim/v2/Groups":
		return `{"schemas":["` + scimGroup + `"],"displayName":"SCIM ` + o.tag + `"}`
	case "PUT /scim/v2/Groups/{id}":
		return `{"schemas":["` + scimGroup + `"],"displayName":"` + o.groupName + `","members":[{"value":"` + o.memberID + `"}]}`
	case "PATCH /scim/v2/Groups/{id}":
		return `{"schemas":["` + scimPatch + `"],"Operations":[{"op":"add","path":"members","value":[{"value":"` + o.userID + `"}]}]}`
	case "POST /scim/v2/":
		return `{}`
	}
	return ""
}

func webForm(rt httpx.Route, o objects) []string {
	switch rt.Method + " " + rt.Pattern {
	case "POST /settings/groups/new":
		return []string{"name", "Web " + o.tag}
	case "POST /settings/users/new":
		return []string{"email", "web-" + o.tag + "@x.test", "given_name", "Web", "family_name", "User", "role", "practitioner", "password", "a long unusual passphrase " + o.tag}
	}
	return nil
}

// TestCSRFOnEveryStateChange posts to every state-changing route that a
// browser session can reach as the account owner, without the CSRF token
// and then from another site with it: each is refused with the CSRF
// answer and changes nothing.
func TestCSRFOnEveryStateChange(t *testing.T) {
	t.Parallel()
	m := newMatrix(t)
	n, checked := 1000, 0
	for _, rt := range m.h.Routes() {
		if rt.Method == http.MethodGet || rt.Stateless || expectations[rt.Method+" "+rt.Pattern] == nil {
			continue
		}
		for _, attack := range []string{"no token", "cross-site"} {
			n++
			o := m.fresh(m.wsA.ID, n)
			b := m.signIn(m.ownerA.ID, false)
			path := fill(t, rt.Pattern, o)
			r := request{method: rt.Method, path: path, header: http.Header{}, cookies: []*http.Cookie{b.cookie}}
			tok := ""
			if attack == "cross-site" {
				tok = b.csrf
				r.header.Set("Sec-Fetch-Site", "cross-site")
				r.header.Set("Origin", "https://evil.example")
			}
			if strings.HasPrefix(path, "/api/") {
				r.contentType = "application/json"
				r.header.Set("If-Match", "*")
				r.body = apiBody(rt, o)
				if tok != "" {
					r.header.Set("X-CSRF-Token", tok)
				}
			} else {
				r.contentType = "application/x-www-form-urlencoded"
				r.body = form(append([]string{"csrf_token", tok}, webForm(rt, o)...)...)
			}
			before := m.newestAudit(m.wsA.ID)
			res, body := m.do(r)
			checked++
			if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "This form has expired") {
				t.Errorf("%s %s, %s: %d, want the CSRF refusal\n%.300s", rt.Method, rt.Pattern, attack, res.StatusCode, body)
			}
			if m.newestAudit(m.wsA.ID) != before {
				t.Errorf("%s %s, %s: changed something", rt.Method, rt.Pattern, attack)
			}
			if !m.alive(b.cookie.Value) {
				t.Errorf("%s %s, %s: the forged request ended the session", rt.Method, rt.Pattern, attack)
			}
		}
	}
	t.Logf("CSRF: %d forged state-changing requests refused", checked)
}

// The staff visibility matrix: how much of the staff each principal sees,
// through every route that shows staff, web and API alike. It is the
// table "Who sees which staff" in docs/api.md and docs/staff.md, written
// out independently of the code's cohort.Actor.StaffView so that the two
// are checked against each other.

// staffView is a row of the table.
type staffView string

const (
	seesNoStaff   staffView = "none"
	seesMembers   staffView = "members"   // active staff; ID and name
	seesDirectory staffView = "directory" // active staff; what the Directory shows
	seesAllStaff  staffView = "full"      // every staff member, every field
)

// staffViewOf is the table: what a principal sees of its own workspace's
// staff.
func staffViewOf(p principal) staffView {
	switch {
	case p.dead || (!p.session && !p.key()):
		return seesNoStaff
	case p.session && p.manager():
		return seesAllStaff
	case p.session:
		return seesDirectory
	case p.has(cohort.ScopeUsersRead, cohort.ScopeUsersWrite, cohort.ScopeSCIM):
		return seesAllStaff
	case p.has(cohort.ScopeGroupsRead, cohort.ScopeGroupsWrite):
		return seesMembers
	}
	return seesNoStaff
}

// staffFields are the JSON members of a staff record in each view.
var staffFields = map[staffView][]string{
	seesMembers:   {"family_name", "given_name", "id"},
	seesDirectory: {"email", "employment_type", "family_name", "given_name", "id", "job_title", "location", "phone", "role", "status"},
	seesAllStaff: {"created_at", "email", "employment_type", "family_name", "given_name", "id", "is_owner", "job_title", "location",
		"phone", "role", "status", "updated_at"},
}

// staffCase is one request that shows staff.
type staffCase struct {
	route string // the route's "METHOD pattern" in expectations
	path  string
	// list: the answer is a list of staff ({"data": […]}); record: one
	// staff record; page: an HTML page; other: no staff records in it.
	shape string
	// archived: the request asks for archived staff (status=archived or
	// all), or names an archived staff member.
	archived bool
	// byArchivedID: the path names the archived staff member.
	byArchivedID bool
	// shows: which of the two staff members a full answer lists.
	showsActive, showsArchived bool
	// users, groups: an audit request for user or group entries only.
	users, groups bool
}

// auditTypesOf is the table's audit column: the target types of the
// entries a principal reads through the API ("*": every type).
func auditTypesOf(p principal) []string {
	if !p.key() {
		return []string{"*"}
	}
	var out []string
	if p.has(cohort.ScopeGroupsRead, cohort.ScopeGroupsWrite) {
		out = append(out, "group")
	}
	if p.has(cohort.ScopeUsersRead, cohort.ScopeUsersWrite) {
		out = append(out, "user")
	}
	return out
}

func TestStaffVisibilityMatrix(t *testing.T) {
	t.Parallel()
	m := newMatrix(t)
	ctx := sys(t.Context(), m.wsA.ID)
	act, err := m.svc.Users.CreateUser(ctx, cohort.UserCreate{Email: "vera.active@a.test", GivenName: "Vera", FamilyName: "Zedactive", Role: cohort.RolePractitioner})
	if err != nil {
		t.Fatal(err)
	}
	arc, err := m.svc.Users.CreateUser(ctx, cohort.UserCreate{Email: "otto.archived@a.test", GivenName: "Otto", FamilyName: "Zedarchived", Role: cohort.RoleAccountant})
	if err != nil {
		t.Fatal(err)
	}
	g, err := m.svc.Groups.CreateGroup(ctx, cohort.GroupCreate{Name: "Visibility", MemberIDs: []string{act.ID, arc.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.svc.Users.ArchiveUser(ctx, arc.ID, 0); err != nil {
		t.Fatal(err)
	}

	cases := []staffCase{
		{route: "GET /api/v1/users", path: "/api/v1/users?q=zed", shape: "list", showsActive: true},
		{route: "GET /api/v1/users", path: "/api/v1/users?q=zed&status=active", shape: "list", showsActive: true},
		{route: "GET /api/v1/users", path: "/api/v1/users?q=zed&status=archived", shape: "list", archived: true, showsArchived: true},
		{route: "GET /api/v1/users", path: "/api/v1/users?q=zed&status=all", shape: "list", archived: true, showsActive: true, showsArchived: true},
		{route: "GET /api/v1/users/{id}", path: "/api/v1/users/" + act.ID, shape: "record", showsActive: true},
		{route: "GET /api/v1/users/{id}", path: "/api/v1/users/" + arc.ID, shape: "record", archived: true, byArchivedID: true, showsArchived: true},
		{route: "GET /api/v1/users/{id}/groups", path: "/api/v1/users/" + arc.ID + "/groups", shape: "other", archived: true, byArchivedID: true},
		{route: "GET /api/v1/groups/{id}/members", path: "/api/v1/groups/" + g.ID + "/members", shape: "list", showsActive: true},
		{route: "GET /api/v1/groups/{id}/members", path: "/api/v1/groups/" + g.ID + "/members?status=archived", shape: "list", archived: true, showsArchived: true},
		{route: "GET /api/v1/groups/{id}/members", path: "/api/v1/groups/" + g.ID + "/members?status=all", shape: "list", archived: true, showsActive: true, showsArchived: true},
		// The audit log: a key reads the entries of what its scopes
		// cover (a staff member's changes show their email and role);
		// managers read every entry.
		{route: "GET /api/v1/audit", path: "/api/v1/audit?target_type=user&target_id=" + arc.ID, shape: "audit", users: true},
		{route: "GET /api/v1/audit", path: "/api/v1/audit?target_type=group&target_id=" + g.ID, shape: "audit", groups: true},
		{route: "GET /api/v1/audit", path: "/api/v1/audit?limit=100", shape: "audit"},
		// The pages follow the same rule: the Directory and a group's
		// page show active staff only, to everyone; archived staff are
		// on the managers' Settings → Users.
		{route: "GET /directory", path: "/directory?q=zed", shape: "page", showsActive: true},
		{route: "GET /settings/groups/{id}", path: "/settings/groups/" + g.ID, shape: "page", showsActive: true},
		{route: "GET /settings/users", path: "/settings/users?q=zed&status=archived", shape: "page", archived: true, showsArchived: true},
	}
	checked := 0
	for _, c := range cases {
		pol := expectations[c.route]
		if pol == nil {
			t.Fatalf("%s is not in the authorization matrix", c.route)
		}
		for _, p := range m.principals {
			view := staffViewOf(p)
			want := pol(p)
			switch {
			case p.foreign && want != unauth && namesObject(c.route):
				want = notFound
			case p.foreign:
			case want == allowed && c.byArchivedID && view != seesAllStaff:
				// An archived staff member is not there for those who
				// see active staff only.
				want = notFound
			case want == allowed && c.archived && view != seesAllStaff:
				want = forbidden
			case want == allowed && c.users && !slices.Contains(auditTypesOf(p), "user") && !slices.Contains(auditTypesOf(p), "*"),
				want == allowed && c.groups && !slices.Contains(auditTypesOf(p), "group") && !slices.Contains(auditTypesOf(p), "*"):
				want = forbidden
			}
			r := request{method: http.MethodGet, path: c.path, header: http.Header{}}
			switch {
			case p.key():
				r.header.Set("Authorization", "Bearer "+p.token)
			case p.dead && p.session:
				r.cookies = append(r.cookies, m.deadSession.cookie)
			case p.session:
				r.cookies = append(r.cookies, m.signIn(p.user.ID, false).cookie)
			}
			res, body := m.do(r)
			checked++
			got, err := classify(res)
			if err != nil || got != want {
				t.Errorf("%s as %s (sees %s): got %v %v (%d), want %s\n%.300s", c.path, p.name, view, got, err, res.StatusCode, want, body)
				continue
			}
			if got != allowed {
				continue
			}
			if p.foreign {
				for _, u := range []*cohort.User{act, arc} {
					if strings.Contains(body, u.ID) || strings.Contains(body, u.Email) {
						t.Errorf("%s as %s: the answer shows workspace A's %s", c.path, p.name, u.Email)
					}
				}
				continue
			}
			switch c.shape {
			case "page":
				checkStaffPage(t, c, p, view, body, act, arc)
			case "list", "record":
				checkStaffJSON(t, c, p, view, body, act, arc)
			case "audit":
				checkAuditTypes(t, c, p, body)
			}
		}
	}
	t.Logf("staff visibility: %d requests", checked)
}

// checkStaffJSON checks an API answer lists the staff the case says, each
// with exactly the fields of view.
func checkStaffJSON(t *testing.T, c staffCase, p principal, view staffView, body string, act, arc *cohort.User) {
	t.Helper()
	var records []map[string]any
	if c.shape == "list" {
		var l struct{ Data []map[string]any }
		if err := json.Unmarshal([]byte(body), &l); err != nil {
			t.Errorf("%s as %s: %v\n%.300s", c.path, p.name, err, body)
			return
		}
		records = l.Data
	} else {
		var one map[string]any
		if err := json.Unmarshal([]byte(body), &one); err != nil {
			t.Errorf("%s as %s: %v\n%.300s", c.path, p.name, err, body)
			return
		}
		records = append(records, one)
	}
	ids := map[string]bool{}
	for _, rec := range records {
		id, _ := rec["id"].(string)
		ids[id] = true
		if got, want := slices.Sorted(maps.Keys(rec)), staffFields[view]; !slices.Equal(got, want) {
			t.Errorf("%s as %s (sees %s): a staff record has fields %v, want %v", c.path, p.name, view, got, want)
		}
	}
	if ids[act.ID] != c.showsActive {
		t.Errorf("%s as %s: lists the active staff member: %v, want %v\n%.300s", c.path, p.name, ids[act.ID], c.showsActive, body)
	}
	if ids[arc.ID] != c.showsArchived {
		t.Errorf("%s as %s: lists the archived staff member: %v, want %v\n%.300s", c.path, p.name, ids[arc.ID], c.showsArchived, body)
	}
}

// checkStaffPage checks a page shows the active staff member and never
// the archived one to those who see active staff only. (Managers may
// meet archived staff on any page: a group's History names them.)
func checkStaffPage(t *testing.T, c staffCase, p principal, view staffView, body string, act, arc *cohort.User) {
	t.Helper()
	if got := strings.Contains(body, act.FamilyName); got != c.showsActive {
		t.Errorf("%s as %s: shows the active staff member: %v, want %v", c.path, p.name, got, c.showsActive)
	}
	got := strings.Contains(body, arc.FamilyName) || strings.Contains(body, arc.Email)
	switch {
	case got && view != seesAllStaff:
		t.Errorf("%s as %s (sees %s): shows the archived staff member", c.path, p.name, view)
	case !got && c.showsArchived:
		t.Errorf("%s as %s: does not show the archived staff member", c.path, p.name)
	}
}

// checkAuditTypes checks an audit answer holds entries of the types the
// principal reads, and at least one.
func checkAuditTypes(t *testing.T, c staffCase, p principal, body string) {
	t.Helper()
	var l struct {
		Data []struct {
			TargetType string `json:"target_type"`
		}
	}
	if err := json.Unmarshal([]byte(body), &l); err != nil {
		t.Errorf("%s as %s: %v\n%.300s", c.path, p.name, err, body)
		return
	}
	if len(l.Data) == 0 {
		t.Errorf("%s as %s: no audit entries", c.path, p.name)
	}
	may := auditTypesOf(p)
	for _, e := range l.Data {
		if !slices.Contains(may, "*") && !slices.Contains(may, e.TargetType) {
			t.Errorf("%s as %s: an audit entry about a %s, which it may not read", c.path, p.name, e.TargetType)
		}
	}
}
