package scim_test

import (
	"net/http"
	"net/url"
	"testing"
)

// userName keeps its case and need not be an email; a user may have one
// name; DELETE removes from SCIM and a later POST of the same userName
// restores the same record with its memberships (issue 14).
func TestUserNameCaseDeleteAndReprovision(t *testing.T) {
	e := newEnv(t)
	m := e.do(t, "POST", "/Users", map[string]any{"userName": "OMalley", "name": map[string]any{"givenName": "Siobhan"}}).want(t, http.StatusCreated).obj(t)
	id := m["id"].(string)
	if m["userName"] != "OMalley" || m["emails"] != nil || at(m, "name.familyName") != nil {
		t.Fatalf("created %v", m)
	}
	if u, _ := e.svc.Users.FindUserByID(e.sysCtx, id); u.SignsIn || u.Email != "" {
		t.Errorf("a user without an email signs in: %+v", u)
	}
	e.do(t, "POST", "/Users", map[string]any{"userName": "omalley", "name": map[string]any{"familyName": "X"}}).scimError(t, http.StatusConflict, "uniqueness")
	if got := e.do(t, "GET", "/Users?filter="+url.QueryEscape(`userName eq " OMALLEY "`), nil).want(t, http.StatusOK).ids(t); len(got) != 1 || got[0] != id {
		t.Errorf("filter by userName, other case and spaces: %v", got)
	}
	g := e.group(t, e.sysCtx, "Physio Team", id)

	e.do(t, "DELETE", "/Users/"+id, nil).want(t, http.StatusNoContent)
	e.do(t, "GET", "/Users/"+id, nil).want(t, http.StatusNotFound)
	if total := e.do(t, "GET", "/Users?filter="+url.QueryEscape(`userName eq "OMalley"`), nil).want(t, http.StatusOK).total(t); total != 0 {
		t.Errorf("deleted user still listed: %d", total)
	}
	if u, err := e.svc.Users.FindUserByID(e.sysCtx, id); err != nil || !u.Archived() {
		t.Errorf("in Cohort: %+v, %v", u, err)
	}
	m = e.do(t, "POST", "/Users", map[string]any{"userName": "OMALLEY", "name": map[string]any{"givenName": "Siobhan", "familyName": "O'Malley"},
		"emails": []any{map[string]any{"value": "Siobhan@Example.com", "primary": "True"}}}).want(t, http.StatusCreated).obj(t)
	if m["id"] != id || m["userName"] != "OMALLEY" || at(m, "emails[0].value") != "Siobhan@Example.com" || m["active"] != true {
		t.Fatalf("re-provisioned %v, want id %s", m, id)
	}
	if !e.memberIDs(t, g.ID)[id] {
		t.Errorf("re-provisioned user lost their membership")
	}
	if u, _ := e.svc.Users.FindUserByID(e.sysCtx, id); !u.SignsIn {
		t.Errorf("re-provisioned user with an email cannot sign in: %+v", u)
	}
	// A filter compares what is stored: names are normalised on write.
	if got := e.do(t, "GET", "/Groups?filter="+url.QueryEscape(`displayName eq "Physio  Team "`), nil).want(t, http.StatusOK).total(t); got != 1 {
		t.Errorf("displayName eq with extra spaces: %d, want 1", got)
	}
	if got := e.do(t, "GET", "/Groups?filter="+url.QueryEscape(`displayName sw "physio  t"`), nil).want(t, http.StatusOK).total(t); got != 1 {
		t.Errorf("displayName sw with extra spaces: %d, want 1", got)
	}
}
