package scim_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
)

func TestBearerTokens(t *testing.T) {
	e := newEnv(t)
	revoked, rk := e.key(t, e.sysCtx, "old okta", cohort.ScopeSCIM)
	if err := e.svc.APIKeys.RevokeAPIKey(e.sysCtx, rk.ID); err != nil {
		t.Fatal(err)
	}
	restKey, _ := e.key(t, e.sysCtx, "calendar", cohort.ScopeGroupsWrite, cohort.ScopeUsersWrite)
	cases := []struct {
		name   string
		header string
		status int
	}{
		{"no header", "", http.StatusUnauthorized},
		{"unknown token", "Bearer " + cohort.APIKeyPrefix + "nothing-like-a-real-key", http.StatusUnauthorized},
		{"wrong scheme", "Basic b2t0YTpzZWNyZXQ=", http.StatusUnauthorized},
		{"empty bearer", "Bearer ", http.StatusUnauthorized},
		{"revoked key", "Bearer " + revoked, http.StatusUnauthorized},
		{"key without the scim scope", "Bearer " + restKey, http.StatusForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, path := range []string{"/Users", "/Groups", "/ServiceProviderConfig"} {
				r := e.doToken(t, "", "GET", path, nil, "Authorization", c.header)
				r.scimError(t, c.status, "")
				if c.status == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("401 without a Bearer WWW-Authenticate: %q", r.header.Get("WWW-Authenticate"))
				}
			}
		})
	}
	// Writes are refused the same way and change nothing.
	r := e.doToken(t, revoked, "POST", "/Groups", map[string]any{"displayName": "Sneaky"})
	r.scimError(t, http.StatusUnauthorized, "")
	if page, _ := e.svc.Groups.FindGroups(e.sysCtx, cohort.GroupFilter{Name: "Sneaky"}); page.Total != 0 {
		t.Fatal("a refused request created a group")
	}
	// Without any token a write is refused by SCIM too (no CSRF refusal).
	e.doToken(t, "", "POST", "/Groups", map[string]any{"displayName": "Sneaky"}).scimError(t, http.StatusUnauthorized, "")
	// "bearer" in any letter case is the Bearer scheme.
	e.doToken(t, "", "GET", "/Users", nil, "Authorization", "bearer "+e.token).want(t, http.StatusOK)
}

// A browser session is not a SCIM credential.
func TestSessionCookieIsNotAccepted(t *testing.T) {
	e := newEnv(t)
	token, _, err := e.svc.Auth.CreateSession(t.Context(), e.owner.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r := e.doToken(t, "", "GET", "/Users", nil, "Cookie", "cohort_session="+token)
	r.scimError(t, http.StatusUnauthorized, "")
}

// Another workspace's IDs answer 404, never 403, on every method.
func TestOtherWorkspaceIs404(t *testing.T) {
	e := newEnv(t)
	_, _, otherCtx := e.newWorkspace(t)
	ou := e.user(t, otherCtx, "stranger@elsewhere.example", "Sam", "Stranger")
	og := e.group(t, otherCtx, "Their group", ou.ID)
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/Users/" + ou.ID, nil},
		{"PUT", "/Users/" + ou.ID, map[string]any{"userName": "x@example.com", "name": map[string]any{"givenName": "X", "familyName": "Y"}}},
		{"PATCH", "/Users/" + ou.ID, patchOp(map[string]any{"op": "replace", "path": "active", "value": false})},
		{"DELETE", "/Users/" + ou.ID, nil},
		{"GET", "/Groups/" + og.ID, nil},
		{"PUT", "/Groups/" + og.ID, map[string]any{"displayName": "Mine now"}},
		{"PATCH", "/Groups/" + og.ID, patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "Mine now"})},
		{"DELETE", "/Groups/" + og.ID, nil},
		{"GET", "/Users/not-an-id", nil},
		{"GET", "/Groups/not-an-id", nil},
	} {
		e.do(t, c.method, c.path, c.body).scimError(t, http.StatusNotFound, "")
	}
	// Nor do their resources show in lists or filters, nor can they be
	// added as members.
	if n := e.do(t, "GET", "/Users?filter="+url.QueryEscape(`userName eq "stranger@elsewhere.example"`), nil).total(t); n != 0 {
		t.Errorf("found %d foreign users", n)
	}
	if n := e.do(t, "GET", "/Groups?filter="+url.QueryEscape(`id eq "`+og.ID+`"`), nil).total(t); n != 0 {
		t.Errorf("found %d foreign groups", n)
	}
	mine := e.group(t, e.sysCtx, "Mine")
	e.do(t, "PATCH", "/Groups/"+mine.ID, patchOp(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": ou.ID}}})).
		scimError(t, http.StatusBadRequest, "invalidValue")
	if got, _ := e.svc.Users.FindUserByID(otherCtx, ou.ID); got.Archived() {
		t.Error("a foreign user was archived")
	}
}

// Everything SCIM changes is audited under the key's name.
func TestAuditActorIsKeyName(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, "POST", "/Groups", map[string]any{"displayName": "Audited"}).want(t, http.StatusCreated)
	id := r.obj(t)["id"].(string)
	page, err := e.svc.Audit.FindAuditEntries(e.sysCtx, cohort.AuditFilter{TargetID: id})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 1 || page.Entries[0].ActorName != "okta" || page.Entries[0].Via != cohort.ViaSCIM {
		t.Fatalf("audit entries %+v", page.Entries)
	}
}

// Input that no database column can hold (NUL, invalid UTF-8) is refused
// at the edge with a SCIM 400/404 on both engines, never a 500.
func TestUnstorableInput(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, e.sysCtx, "nul@example.com", "Nul", "Test")
	g := e.group(t, e.sysCtx, "Nul group", u.ID)
	for _, c := range []struct {
		method, path string
		body         any
		status       int
		scimType     string
	}{
		{"GET", "/Users?filter=" + url.QueryEscape(`userName eq "\u0000"`), nil, 400, "invalidFilter"},
		{"GET", "/Users?filter=" + url.QueryEscape(`externalId eq "a`) + "%00" + url.QueryEscape(`b"`), nil, 400, "invalidFilter"},
		{"GET", "/Users?filter=userName%20eq%20%22%FF%22", nil, 400, "invalidFilter"},
		{"GET", "/Groups?filter=" + url.QueryEscape(`members[value eq "\u0000"]`), nil, 400, "invalidFilter"},
		{"GET", "/Users/%00", nil, 404, ""},
		{"GET", "/Groups/%FF", nil, 404, ""},
		{"DELETE", "/Groups/a%00b", nil, 404, ""},
		{"POST", "/Users", `{"userName":"a\u0000b@example.com","name":{"givenName":"A","familyName":"B"}}`, 400, "invalidValue"},
		{"POST", "/Users", `{"userName":"ab@example.com","name":{"givenName":"A","familyName":"B"},"externalId":"x\u0000"}`, 400, "invalidValue"},
		{"POST", "/Groups", `{"displayName":"x\u0000"}`, 400, "invalidValue"},
		{"POST", "/Groups", `{"displayName":"x","externalId":"x\u0000"}`, 400, "invalidValue"},
		{"POST", "/Groups", `{"displayName":"y","members":[{"value":"\u0000"}]}`, 400, "invalidValue"},
		{"PATCH", "/Groups/" + g.ID, `{"Operations":[{"op":"add","path":"members","value":[{"value":"u\u0000"}]}]}`, 400, "invalidValue"},
		{"PATCH", "/Groups/" + g.ID, `{"Operations":[{"op":"remove","path":"members[value eq \"\\u0000\"]"}]}`, 400, "invalidPath"},
		{"PATCH", "/Groups/" + g.ID, `{"Operations":[{"op":"replace","path":"externalId","value":"\u0000"}]}`, 400, "invalidValue"},
		{"PATCH", "/Users/" + u.ID, `{"Operations":[{"op":"replace","path":"externalId","value":"a\u0001"}]}`, 400, "invalidValue"},
		{"PATCH", "/Users/" + u.ID, `{"Operations":[{"op":"replace","path":"name.givenName","value":"a\u0000"}]}`, 400, "invalidValue"},
	} {
		r := e.do(t, c.method, c.path, c.body)
		if r.status != c.status {
			t.Errorf("%s %s: status %d, want %d; %s", c.method, c.path, r.status, c.status, r.body)
			continue
		}
		r.scimError(t, c.status, c.scimType)
	}
}
