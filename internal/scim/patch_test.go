package scim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/scim"
)

func ref(id string) map[string]any { return map[string]any{"value": id} }

func refs(ids ...string) []any {
	out := []any{}
	for _, id := range ids {
		out = append(out, ref(id))
	}
	return out
}

func op(o, path string, value any) map[string]any {
	m := map[string]any{"op": o}
	if path != "" {
		m["path"] = path
	}
	if value != nil {
		m["value"] = value
	}
	return m
}

func (e *env) wantMembers(t *testing.T, groupID string, want ...string) {
	t.Helper()
	got := e.memberIDs(t, groupID)
	if len(got) != len(want) {
		t.Fatalf("members %v, want %v", got, want)
	}
	for _, id := range want {
		if !got[id] {
			t.Fatalf("members %v, want %v", got, want)
		}
	}
}

func TestGroupPatchForms(t *testing.T) {
	e := newEnv(t)
	u := make([]string, 5)
	for i := range u {
		u[i] = e.user(t, e.sysCtx, fmt.Sprintf("u%d@example.com", i), "User", fmt.Sprintf("Number %d", i)).ID
	}
	g := e.group(t, e.sysCtx, "Telehealth providers", u[0], u[1])
	path := "/Groups/" + g.ID
	steps := []struct {
		name string
		body map[string]any
		want []string
	}{
		{"Add in any letter case", patchOp(op("Add", "members", refs(u[2]))), []string{u[0], u[1], u[2]}},
		{"ADD with a single object", patchOp(op("ADD", "members", ref(u[3]))), []string{u[0], u[1], u[2], u[3]}},
		{"adding a member again is a no-op", patchOp(op("add", "members", refs(u[3]))), []string{u[0], u[1], u[2], u[3]}},
		{"remove with a value list removes only those", patchOp(op("remove", "members", refs(u[0]))), []string{u[1], u[2], u[3]}},
		{"remove a non-member is a no-op", patchOp(op("remove", "members", refs(u[4]))), []string{u[1], u[2], u[3]}},
		{"remove with a filter of alternatives", patchOp(op("Remove", `members[value eq "`+u[1]+`" or value eq "`+u[2]+`"]`, nil)), []string{u[3]}},
		{"remove without value removes all", patchOp(op("remove", "members", nil)), nil},
		{"replace sets the list", patchOp(op("Replace", "members", refs(u[0], u[1]))), []string{u[0], u[1]}},
		{"pathless add of members", patchOp(op("add", "", map[string]any{"members": refs(u[4])})), []string{u[0], u[1], u[4]}},
		{"pathless replace of members", patchOp(op("replace", "", map[string]any{"members": refs(u[2])})), []string{u[2]}},
		{"several operations apply in order", patchOp(
			op("add", "members", refs(u[0], u[1])),
			op("remove", `members[value eq "`+u[0]+`"]`, nil),
			op("replace", "displayName", "Telehealth"),
		), []string{u[1], u[2]}},
		{"add then remove the same member nets nothing", patchOp(
			op("add", "members", refs(u[4])),
			op("remove", "members", refs(u[4])),
		), []string{u[1], u[2]}},
		{"replace then add", patchOp(
			op("replace", "members", refs(u[3])),
			op("add", "members", refs(u[4])),
		), []string{u[3], u[4]}},
		{"replace with an empty list", patchOp(op("replace", "members", []any{})), nil},
	}
	for _, s := range steps {
		r := e.do(t, "PATCH", path, s.body)
		if r.status != http.StatusNoContent {
			t.Fatalf("%s: status %d; %s", s.name, r.status, r.body)
		}
		e.wantMembers(t, g.ID, s.want...)
	}
	got, err := e.svc.Groups.FindGroupByID(e.sysCtx, g.ID)
	if err != nil || got.Name != "Telehealth" {
		t.Fatalf("name %q, %v", got.Name, err)
	}
	// Fields: pathless replace, externalId set and removed.
	e.do(t, "PATCH", path, patchOp(op("replace", "", map[string]any{"displayName": "Telehealth providers", "externalId": "okta-42", "id": g.ID}))).want(t, http.StatusNoContent)
	got, _ = e.svc.Groups.FindGroupByID(e.sysCtx, g.ID)
	if got.Name != "Telehealth providers" || got.ExternalID != "okta-42" {
		t.Fatalf("after pathless replace: %q %q", got.Name, got.ExternalID)
	}
	e.do(t, "PATCH", path, patchOp(op("remove", "externalId", nil))).want(t, http.StatusNoContent)
	if got, _ = e.svc.Groups.FindGroupByID(e.sysCtx, g.ID); got.ExternalID != "" {
		t.Fatalf("externalId not removed: %q", got.ExternalID)
	}
	// Asking for attributes turns the 204 into 200 with the group.
	r := e.do(t, "PATCH", path+"?excludedAttributes=members", patchOp(op("add", "members", refs(u[0])))).want(t, http.StatusOK)
	if m := r.obj(t); m["id"] != g.ID || m["members"] != nil {
		t.Fatalf("PATCH with excludedAttributes: %s", r.body)
	}
	r = e.do(t, "PATCH", path+"?attributes=members", patchOp(op("add", "members", refs(u[1])))).want(t, http.StatusOK)
	if ms := r.obj(t)["members"].([]any); len(ms) != 2 {
		t.Fatalf("PATCH with attributes=members: %s", r.body)
	}
}

// A request whose last operation fails changes nothing, although the
// earlier operations were fine.
func TestGroupPatchIsAtomic(t *testing.T) {
	e := newEnv(t)
	a := e.user(t, e.sysCtx, "a@example.com", "Amy", "Adams").ID
	b := e.user(t, e.sysCtx, "b@example.com", "Ben", "Brown").ID
	g := e.group(t, e.sysCtx, "After-hours clinicians", a)
	e.group(t, e.sysCtx, "Contractors")
	before, _ := e.svc.Groups.FindGroupByID(e.sysCtx, g.ID)
	for _, c := range []struct {
		name     string
		body     map[string]any
		status   int
		scimType string
	}{
		{"bad path last", patchOp(op("add", "members", refs(b)), op("replace", "owner", "x")), 400, "invalidPath"},
		{"empty name last", patchOp(op("remove", "members", refs(a)), op("replace", "displayName", "  ")), 400, "invalidValue"},
		{"unknown user", patchOp(op("remove", "members", refs(a)), op("add", "members", refs("no-such-user"))), 400, "invalidValue"},
		{"name taken", patchOp(op("add", "members", refs(b)), op("replace", "displayName", "contractors")), 409, "uniqueness"},
	} {
		e.do(t, "PATCH", "/Groups/"+g.ID, c.body).scimError(t, c.status, c.scimType)
		e.wantMembers(t, g.ID, a)
		after, _ := e.svc.Groups.FindGroupByID(e.sysCtx, g.ID)
		if after.Name != before.Name || after.Version != before.Version {
			t.Fatalf("%s: the group changed: %+v", c.name, after)
		}
	}
}

func TestBadPatches(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, e.sysCtx, "pat@example.com", "Pat", "Jones")
	g := e.group(t, e.sysCtx, "Admin team", u.ID)
	gp, up := "/Groups/"+g.ID, "/Users/"+u.ID
	for _, c := range []struct {
		path     string
		body     any
		status   int
		scimType string
	}{
		{gp, patchOp(), 400, "invalidSyntax"},
		{gp, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`, 400, "invalidSyntax"},
		{gp, `{"Operations": [`, 400, "invalidSyntax"},
		{gp, `[]`, 400, "invalidSyntax"},
		{gp, ``, 400, "invalidSyntax"},
		{gp, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"}, "Operations": []any{op("add", "members", refs(u.ID))}}, 400, "invalidSyntax"},
		{gp, patchOp(op("move", "members", refs(u.ID))), 400, "invalidSyntax"},
		{gp, patchOp(op("", "members", refs(u.ID))), 400, "invalidSyntax"},
		{gp, patchOp(op("remove", "", nil)), 400, "noTarget"},
		{gp, patchOp(op("replace", "displayName", nil)), 400, "invalidValue"},
		{gp, patchOp(op("remove", `members[value eq`, nil)), 400, "invalidPath"},
		{gp, patchOp(op("remove", `members[value co "x"]`, nil)), 400, "invalidPath"},
		{gp, patchOp(op("remove", `members[display eq "x"]`, nil)), 400, "invalidPath"},
		{gp, patchOp(op("add", `members[value eq "`+u.ID+`"]`, refs(u.ID))), 400, "invalidPath"},
		{gp, patchOp(op("replace", "members.display", "x")), 400, "invalidPath"},
		{gp, patchOp(op("replace", `members[value eq "`+u.ID+`"].display`, "x")), 400, "invalidPath"},
		{gp, patchOp(op("replace", "owner", "x")), 400, "invalidPath"},
		{gp, patchOp(op("replace", "description", "x")), 400, "invalidPath"},
		{gp, patchOp(op("replace", "urn:example:other:2.0:Group:displayName", "x")), 400, "invalidPath"},
		{gp, patchOp(op("replace", `displayName[value eq "x"]`, "x")), 400, "invalidPath"},
		{gp, patchOp(op("replace", "displayName.value", "x")), 400, "invalidPath"},
		{gp, patchOp(op("replace", "", map[string]any{"owner": "x"})), 400, "invalidPath"},
		{gp, patchOp(op("replace", "", "not an object")), 400, "invalidValue"},
		{gp, patchOp(op("remove", "displayName", nil)), 400, "mutability"},
		{gp, patchOp(op("replace", "id", "x")), 400, "mutability"},
		{gp, patchOp(op("replace", "meta.version", "x")), 400, "mutability"},
		{gp, patchOp(op("add", "members", "just-an-id")), 400, "invalidValue"},
		{gp, patchOp(op("add", "members", []any{map[string]any{"display": "no value"}})), 400, "invalidValue"},
		{gp, patchOp(op("add", "members", []any{map[string]any{"value": 42}})), 400, "invalidValue"},
		{gp, patchOp(op("replace", "displayName", 5)), 400, "invalidValue"},
		{gp, patchOp(op("replace", "externalId", true)), 400, "invalidValue"},
		{up, patchOp(op("replace", "name.nickname", "x")), 400, "invalidPath"},
		{up, patchOp(op("replace", "foo", "x")), 400, "invalidPath"},
		{up, patchOp(op("replace", "userName.value", "x")), 400, "invalidPath"},
		{up, patchOp(op("replace", `name[givenName eq "x"]`, "x")), 400, "invalidPath"},
		{up, patchOp(op("replace", "urn:cohort:params:scim:schemas:extension:2.0:User:shoeSize", "x")), 400, "invalidPath"},
		{up, patchOp(op("replace", "urn:example:other:2.0:User:x", "x")), 400, "invalidPath"},
		{up, patchOp(op("add", "groups", refs(g.ID))), 400, "mutability"},
		{up, patchOp(op("replace", "id", "x")), 400, "mutability"},
		{up, patchOp(op("remove", "userName", nil)), 400, "mutability"},
		{up, patchOp(op("remove", "name", nil)), 400, "mutability"},
		{up, patchOp(op("remove", "active", nil)), 400, "mutability"},
		{up, patchOp(op("replace", "active", "maybe")), 400, "invalidValue"},
		{up, patchOp(op("replace", "active", 1)), 400, "invalidValue"},
		{up, patchOp(op("replace", "userName", " ")), 400, "invalidValue"},
		{up, patchOp(op("replace", "name.givenName", 42)), 400, "invalidValue"},
		{up, patchOp(op("replace", "name", "Pat Jones")), 400, "invalidValue"},
		{up, patchOp(op("replace", "urn:cohort:params:scim:schemas:extension:2.0:User:role", "surgeon")), 400, "invalidValue"},
		{up, patchOp(op("replace", "", map[string]any{"active": "sometimes"})), 400, "invalidValue"},
	} {
		r := e.do(t, "PATCH", c.path, c.body)
		if r.status != c.status {
			t.Errorf("PATCH %s %v: status %d, want %d; %s", c.path, c.body, r.status, c.status, r.body)
			continue
		}
		r.scimError(t, c.status, c.scimType)
	}
	// Nothing above changed anything.
	e.wantMembers(t, g.ID, u.ID)
	if got, _ := e.svc.Groups.FindGroupByID(e.sysCtx, g.ID); got.Version != g.Version {
		t.Errorf("group version %d, want %d", got.Version, g.Version)
	}
	if got, _ := e.svc.Users.FindUserByID(e.sysCtx, u.ID); got.Version != u.Version {
		t.Errorf("user version %d, want %d", got.Version, u.Version)
	}
	// A body that is not JSON by its type.
	r := e.do(t, "PATCH", gp, `op=add`, "Content-Type", "application/x-www-form-urlencoded")
	r.scimError(t, http.StatusUnsupportedMediaType, "")
	// A malformed attributes list is refused before the change is made.
	e.do(t, "PATCH", gp+"?attributes="+url.QueryEscape("display name"), patchOp(op("replace", "displayName", "Renamed"))).
		scimError(t, http.StatusBadRequest, "invalidValue")
	if got, _ := e.svc.Groups.FindGroupByID(e.sysCtx, g.ID); got.Name != "Admin team" {
		t.Errorf("a refused PATCH renamed the group to %q", got.Name)
	}
	// A body over the limit, declared by Content-Length: the server
	// refuses it (413) before reading it (see TestBodyLimit for one
	// that is not declared).
	big := `{"displayName":"` + strings.Repeat("x", scim.MaxBodyBytes) + `"}`
	e.do(t, "POST", "/Groups", big).want(t, http.StatusRequestEntityTooLarge)
	// Unknown group or user.
	e.do(t, "PATCH", "/Groups/nope", patchOp(op("add", "members", refs(u.ID)))).scimError(t, http.StatusNotFound, "")
	e.do(t, "PATCH", "/Users/nope", patchOp(op("replace", "active", false))).scimError(t, http.StatusNotFound, "")
}

func TestUserPatchForms(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, e.sysCtx, "kim@example.com", "Kim", "Lo")
	path := "/Users/" + u.ID
	// Entra-style pathless replace with full-path keys, ignored attributes
	// and the role extension.
	r := e.do(t, "PATCH", path, patchOp(op("Replace", "", map[string]any{
		"name.givenName": "Kimberly",
		"urn:cohort:params:scim:schemas:extension:2.0:User:role":                "practice_manager",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Front desk",
		"title":      "Dr",
		"externalId": "entra-kim",
	}))).want(t, http.StatusOK)
	m := r.obj(t)
	if m["name"].(map[string]any)["givenName"] != "Kimberly" || m["externalId"] != "entra-kim" ||
		m["urn:cohort:params:scim:schemas:extension:2.0:User"].(map[string]any)["role"] != "practice_manager" {
		t.Fatalf("pathless replace: %s", r.body)
	}
	// The extension as an object, and name as an object.
	e.do(t, "PATCH", path, patchOp(
		op("add", "urn:cohort:params:scim:schemas:extension:2.0:User", map[string]any{"role": "accountant"}),
		op("replace", "name", map[string]any{"givenName": "Kim", "familyName": "Lowe"}),
		op("replace", "phoneNumbers[type eq \"work\"].value", "555 0100"),
	)).want(t, http.StatusOK)
	got, _ := e.svc.Users.FindUserByID(e.sysCtx, u.ID)
	if got.Role != cohort.RoleAccountant || got.GivenName != "Kim" || got.FamilyName != "Lowe" {
		t.Fatalf("after object patches: %+v", got)
	}
	// If-Match: a stale version is refused with 412 and changes nothing.
	e.do(t, "PATCH", path, patchOp(op("replace", "name.givenName", "Stale")), "If-Match", `W/"1"`).scimError(t, http.StatusPreconditionFailed, "")
	e.do(t, "PATCH", path, patchOp(op("replace", "name.givenName", "Stale")), "If-Match", `"garbage"`).scimError(t, http.StatusPreconditionFailed, "")
	cur := e.do(t, "GET", path, nil).want(t, http.StatusOK)
	tag := cur.header.Get("ETag")
	if tag != cur.obj(t)["meta"].(map[string]any)["version"] {
		t.Fatalf("ETag %q differs from meta.version", tag)
	}
	e.do(t, "GET", path, nil, "If-None-Match", tag).want(t, http.StatusNotModified)
	r = e.do(t, "PATCH", path, patchOp(op("replace", "name.givenName", "Fresh")), "If-Match", tag).want(t, http.StatusOK)
	if r.header.Get("ETag") == tag {
		t.Fatal("the ETag did not change")
	}
	e.do(t, "PUT", path, map[string]any{"userName": "kim@example.com", "name": map[string]any{"givenName": "A", "familyName": "B"}}, "If-Match", tag).
		scimError(t, http.StatusPreconditionFailed, "")
	e.do(t, "DELETE", path, nil, "If-Match", tag).scimError(t, http.StatusPreconditionFailed, "")
}

// A PATCH that changes names and sets active=false is one store
// transaction: both apply, with one version step, or neither does.
func TestUserPatchNamesAndActiveTogether(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, e.sysCtx, "nia@example.com", "Nia", "Old")
	e.user(t, e.sysCtx, "taken@example.com", "Tay", "Ken")
	g := e.group(t, e.sysCtx, "Physio", u.ID, e.owner.ID)
	token, _, err := e.svc.Auth.CreateSession(t.Context(), u.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	path := "/Users/" + u.ID
	seq, err := e.svc.Events.LastEventSeq(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tag := e.do(t, "GET", path, nil).want(t, http.StatusOK).header.Get("ETag")

	r := e.do(t, "PATCH", path, patchOp(
		op("replace", "name.givenName", "Nina"),
		op("replace", "name.familyName", "New"),
		op("replace", "active", false),
	), "If-Match", tag).want(t, http.StatusOK)
	m := r.obj(t)
	if m["active"] != false || m["name"].(map[string]any)["givenName"] != "Nina" || m["name"].(map[string]any)["familyName"] != "New" {
		t.Fatalf("PATCH answered %s", r.body)
	}
	want := fmt.Sprintf(`W/"%d"`, u.Version+1)
	if got := r.header.Get("ETag"); got != want {
		t.Errorf("ETag %s, want %s: one change, one version", got, want)
	}
	got, err := e.svc.Users.FindUserByID(e.sysCtx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.GivenName != "Nina" || got.FamilyName != "New" || !got.Archived() || got.Version != u.Version+1 {
		t.Fatalf("stored %+v", got)
	}
	if gr, _ := e.svc.Groups.FindGroupByID(e.sysCtx, g.ID); gr.MemberCount != 1 || gr.ArchivedMemberCount != 1 {
		t.Errorf("group counters %d/%d, want 1/1", gr.MemberCount, gr.ArchivedMemberCount)
	}
	if _, err := e.svc.Auth.FindSession(t.Context(), token, time.Hour); cohort.ErrorCode(err) != cohort.EUNAUTHORIZED {
		t.Errorf("session after deactivation: %v", err)
	}
	evs, err := e.svc.Events.FindEventsAfter(t.Context(), e.ws.ID, seq, 100)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range evs {
		types = append(types, ev.Type)
	}
	if strings.Join(types, " ") != "user.updated user.archived" {
		t.Errorf("events %v", types)
	}

	// Refused requests change nothing, the names sent with them included.
	owner, _ := e.svc.Users.FindUserByID(e.sysCtx, e.owner.ID)
	e.do(t, "PATCH", "/Users/"+owner.ID, patchOp(op("replace", "name.givenName", "Oops"), op("replace", "active", false))).
		scimError(t, http.StatusBadRequest, "mutability")
	e.do(t, "PATCH", path, patchOp(op("replace", "name.givenName", "Taken"), op("replace", "userName", "TAKEN@example.com"), op("replace", "active", true))).
		scimError(t, http.StatusConflict, "uniqueness")
	e.do(t, "PATCH", path, patchOp(op("replace", "name.givenName", "Stale"), op("replace", "active", true)), "If-Match", tag).
		scimError(t, http.StatusPreconditionFailed, "")
	if after, _ := e.svc.Users.FindUserByID(e.sysCtx, owner.ID); *after != *owner {
		t.Errorf("owner changed: %+v, was %+v", after, owner)
	}
	if after, _ := e.svc.Users.FindUserByID(e.sysCtx, u.ID); after.Version != got.Version || after.GivenName != got.GivenName || after.Email != got.Email || !after.Archived() {
		t.Errorf("user changed: %+v, was %+v", after, got)
	}
	if evs, _ := e.svc.Events.FindEventsAfter(t.Context(), e.ws.ID, evs[len(evs)-1].Seq, 100); len(evs) != 0 {
		t.Errorf("%d events after refused requests", len(evs))
	}

	// PUT restores and renames in one step too.
	r = e.do(t, "PUT", path, map[string]any{"userName": "nia@example.com", "name": map[string]any{"givenName": "Nia", "familyName": "Back"}, "active": true}).
		want(t, http.StatusOK)
	if m := r.obj(t); m["active"] != true || m["name"].(map[string]any)["familyName"] != "Back" || r.header.Get("ETag") != fmt.Sprintf(`W/"%d"`, got.Version+1) {
		t.Fatalf("PUT restore: %s (ETag %s)", r.body, r.header.Get("ETag"))
	}
	if gr, _ := e.svc.Groups.FindGroupByID(e.sysCtx, g.ID); gr.MemberCount != 2 || gr.ArchivedMemberCount != 0 {
		t.Errorf("group counters after restore %d/%d, want 2/0", gr.MemberCount, gr.ArchivedMemberCount)
	}
}

func TestUserLifecycle(t *testing.T) {
	e := newEnv(t)
	// Create: role defaults to practitioner, the extension sets it, a
	// displayName alone gives the names.
	r := e.do(t, "POST", "/Users", map[string]any{"userName": "Dana.Fox@Example.com", "displayName": "Dana van Fox"}).want(t, http.StatusCreated)
	m := r.obj(t)
	if m["userName"] != "Dana.Fox@Example.com" || m["name"].(map[string]any)["familyName"] != "van Fox" ||
		m["urn:cohort:params:scim:schemas:extension:2.0:User"].(map[string]any)["role"] != "practitioner" {
		t.Fatalf("created %s", r.body)
	}
	id := m["id"].(string)
	r = e.do(t, "POST", "/Users", map[string]any{"userName": "lee@example.com", "name": map[string]any{"givenName": "Lee", "familyName": "Ho"},
		"urn:cohort:params:scim:schemas:extension:2.0:User": map[string]any{"role": "receptionist"}, "active": false}).want(t, http.StatusCreated)
	if m := r.obj(t); m["active"] != false || m["urn:cohort:params:scim:schemas:extension:2.0:User"].(map[string]any)["role"] != "receptionist" {
		t.Fatalf("created %s", r.body)
	}
	// Refusals.
	e.do(t, "POST", "/Users", map[string]any{"userName": "DANA.FOX@example.com", "name": map[string]any{"givenName": "D", "familyName": "F"}}).scimError(t, http.StatusConflict, "uniqueness")
	e.do(t, "POST", "/Users", map[string]any{"name": map[string]any{"givenName": "D", "familyName": "F"}}).scimError(t, http.StatusBadRequest, "invalidValue")
	e.do(t, "POST", "/Users", map[string]any{"userName": "da\u200bna", "name": map[string]any{"givenName": "D", "familyName": "F"}}).scimError(t, http.StatusBadRequest, "invalidValue")
	e.do(t, "POST", "/Users", map[string]any{"userName": "x@example.com"}).scimError(t, http.StatusBadRequest, "invalidValue")
	e.do(t, "POST", "/Users", map[string]any{"userName": "y@example.com", "displayName": "Y Z", "urn:cohort:params:scim:schemas:extension:2.0:User": map[string]any{"role": "boss"}}).scimError(t, http.StatusBadRequest, "invalidValue")
	e.do(t, "POST", "/Users", map[string]any{"userName": 5}).scimError(t, http.StatusBadRequest, "invalidValue")
	e.do(t, "POST", "/Users", `{"userName": "z@example.com",`).scimError(t, http.StatusBadRequest, "invalidSyntax")
	e.do(t, "PATCH", "/Users/"+id, patchOp(op("replace", "userName", "LEE@example.com"))).scimError(t, http.StatusConflict, "uniqueness")

	// Deactivating ends the user's sessions at once.
	if err := e.svc.Users.SetPassword(e.sysCtx, id, "a long enough password"); err != nil {
		t.Fatal(err)
	}
	token, _, err := e.svc.Auth.CreateSession(t.Context(), id, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e.do(t, "PATCH", "/Users/"+id, patchOp(op("replace", "active", false))).want(t, http.StatusOK)
	if _, err := e.svc.Auth.FindSession(t.Context(), token, time.Hour); cohort.ErrorCode(err) != cohort.EUNAUTHORIZED {
		t.Fatalf("session after deactivation: %v", err)
	}
	// PUT on an archived user with active=true restores and updates it.
	r = e.do(t, "PUT", "/Users/"+id, map[string]any{"userName": "dana.fox@example.com", "name": map[string]any{"givenName": "Dana", "familyName": "Fox"}, "active": true}).want(t, http.StatusOK)
	if m := r.obj(t); m["active"] != true || m["name"].(map[string]any)["familyName"] != "Fox" || m["externalId"] != nil {
		t.Fatalf("PUT restore: %s", r.body)
	}
	// The account owner cannot be deactivated or deleted.
	e.do(t, "PATCH", "/Users/"+e.owner.ID, patchOp(op("replace", "active", false))).scimError(t, http.StatusBadRequest, "mutability")
	e.do(t, "DELETE", "/Users/"+e.owner.ID, nil).scimError(t, http.StatusBadRequest, "mutability")
	// DELETE removes the user from SCIM (RFC 7644 §3.6: 404 afterwards,
	// DELETE again included); Cohort keeps them archived.
	e.do(t, "DELETE", "/Users/"+id, nil).want(t, http.StatusNoContent)
	e.do(t, "GET", "/Users/"+id, nil).want(t, http.StatusNotFound)
	e.do(t, "DELETE", "/Users/"+id, nil).want(t, http.StatusNotFound)
	if u, err := e.svc.Users.FindUserByID(e.sysCtx, id); err != nil || !u.Archived() || !u.Deprovisioned {
		t.Fatalf("in Cohort after DELETE: %+v, %v", u, err)
	}
}

func TestGroupLifecycle(t *testing.T) {
	e := newEnv(t)
	a := e.user(t, e.sysCtx, "a@example.com", "Amy", "Adams").ID
	b := e.user(t, e.sysCtx, "b@example.com", "Ben", "Brown").ID
	r := e.do(t, "POST", "/Groups", map[string]any{"displayName": "  Physio   team ", "externalId": "okta-1", "members": refs(a)}).want(t, http.StatusCreated)
	g := r.obj(t)
	id := g["id"].(string)
	if g["displayName"] != "Physio team" || len(g["members"].([]any)) != 1 {
		t.Fatalf("created %s", r.body)
	}
	e.do(t, "POST", "/Groups", map[string]any{"displayName": "PHYSIO TEAM"}).scimError(t, http.StatusConflict, "uniqueness")
	e.do(t, "POST", "/Groups", map[string]any{"externalId": "x"}).scimError(t, http.StatusBadRequest, "invalidValue")
	e.do(t, "POST", "/Groups", map[string]any{"displayName": "Ghosts", "members": refs("nobody")}).scimError(t, http.StatusBadRequest, "invalidValue")
	// PUT renames and replaces members; without members it keeps them.
	r = e.do(t, "PUT", "/Groups/"+id, map[string]any{"displayName": "Physiotherapists", "externalId": "okta-1", "members": refs(b)}).want(t, http.StatusOK)
	if m := r.obj(t); m["displayName"] != "Physiotherapists" || len(m["members"].([]any)) != 1 {
		t.Fatalf("PUT: %s", r.body)
	}
	e.wantMembers(t, id, b)
	e.do(t, "PUT", "/Groups/"+id, map[string]any{"displayName": "Physiotherapists", "externalId": "okta-1"}).want(t, http.StatusOK)
	e.wantMembers(t, id, b)
	e.do(t, "PUT", "/Groups/"+id, map[string]any{"externalId": "okta-1"}).scimError(t, http.StatusBadRequest, "invalidValue")
	// DELETE archives: gone from SCIM, still in Cohort with its members.
	e.do(t, "DELETE", "/Groups/"+id, nil).want(t, http.StatusNoContent)
	e.do(t, "GET", "/Groups/"+id, nil).scimError(t, http.StatusNotFound, "")
	e.do(t, "DELETE", "/Groups/"+id, nil).scimError(t, http.StatusNotFound, "")
	e.do(t, "PATCH", "/Groups/"+id, patchOp(op("add", "members", refs(a)))).scimError(t, http.StatusNotFound, "")
	if got, _ := e.svc.Groups.FindGroupByID(e.sysCtx, id); !got.Archived() {
		t.Fatal("DELETE did not archive")
	}
	e.wantMembers(t, id, b)
	// The same name with another (or no) externalId is a new group.
	r = e.do(t, "POST", "/Groups", map[string]any{"displayName": "Physiotherapists", "externalId": "other"}).want(t, http.StatusCreated)
	other := r.obj(t)["id"].(string)
	if other == id {
		t.Fatal("a different externalId restored the archived group")
	}
	// Restoring into a name an active group holds is a conflict.
	e.do(t, "POST", "/Groups", map[string]any{"displayName": "Physiotherapists", "externalId": "okta-1"}).scimError(t, http.StatusConflict, "uniqueness")
	e.do(t, "DELETE", "/Groups/"+other, nil).want(t, http.StatusNoContent)
	// The same displayName and externalId restores it, with the members
	// the POST lists.
	r = e.do(t, "POST", "/Groups", map[string]any{"displayName": "physiotherapists", "externalId": "okta-1", "members": refs(a)}).want(t, http.StatusCreated)
	if m := r.obj(t); m["id"] != id || m["displayName"] != "physiotherapists" {
		t.Fatalf("restore: %s", r.body)
	}
	e.wantMembers(t, id, a)
}

// 32 concurrent single-member PATCHes to one group: 16 add a user, 16
// remove one; every change lands.
func TestConcurrentMemberPatches(t *testing.T) {
	e := newEnv(t)
	var keep, drop []string
	for i := range 16 {
		keep = append(keep, e.user(t, e.sysCtx, fmt.Sprintf("add%d@example.com", i), "Add", fmt.Sprint(i)).ID)
		drop = append(drop, e.user(t, e.sysCtx, fmt.Sprintf("drop%d@example.com", i), "Drop", fmt.Sprint(i)).ID)
	}
	g := e.group(t, e.sysCtx, "Busy group", drop...)
	var wg sync.WaitGroup
	statuses := make([]int, 32)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := patchOp(op("add", "members", refs(keep[i/2])))
			if i%2 == 1 {
				body = patchOp(op("remove", `members[value eq "`+drop[i/2]+`"]`, nil))
			}
			statuses[i] = e.do(t, "PATCH", "/Groups/"+g.ID, body).status
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusNoContent {
			t.Errorf("PATCH %d: status %d", i, s)
		}
	}
	e.wantMembers(t, g.ID, keep...)
}
