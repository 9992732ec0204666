package sqlstore_test

import (
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore/sqltest"
)

// The import and directory methods check the actor like every other store
// method, for every role, API key scope and workspace. sqltest.Open runs them
// on SQLite, or PostgreSQL with COHORT_TEST_ENGINE=postgres.
func TestImportAndDirectoryPermissions(t *testing.T) {
	t.Parallel()
	db := sqltest.Open(t)
	ctx := t.Context()
	ws, owner, err := db.CreateWorkspace(ctx, cohort.WorkspaceCreate{Name: "Riverside", Slug: "riverside",
		Owner: cohort.UserCreate{Email: "owner@r.test", GivenName: "O", FamilyName: "Owner"}})
	if err != nil {
		t.Fatal(err)
	}
	sys := cohort.NewContextWithActor(ctx, cohort.SystemActor(ws.ID, "test"))
	member, err := db.CreateUser(sys, cohort.UserCreate{Email: "m@r.test", GivenName: "M", FamilyName: "Member"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := db.CreateGroup(sys, cohort.GroupCreate{Name: "Team", MemberIDs: []string{member.ID}})
	if err != nil {
		t.Fatal(err)
	}
	as := func(a cohort.Actor) cohort.Actor { a.WorkspaceID = ws.ID; a.UserID = member.ID; return a }
	cases := []struct {
		name                   string
		actor                  cohort.Actor
		users, groups, viewers bool
	}{
		{"owner", cohort.Actor{WorkspaceID: ws.ID, UserID: owner.ID, Role: owner.Role, IsOwner: true}, true, true, true},
		{"practitioner_admin", as(cohort.Actor{Role: cohort.RolePractitionerAdmin}), true, true, true},
		{"practice_manager", as(cohort.Actor{Role: cohort.RolePracticeManager}), true, true, true},
		{"practitioner", as(cohort.Actor{Role: cohort.RolePractitioner}), false, false, true},
		{"receptionist", as(cohort.Actor{Role: cohort.RoleReceptionist}), false, false, true},
		{"accountant", as(cohort.Actor{Role: cohort.RoleAccountant}), false, false, true},
		{"key users:write", cohort.Actor{WorkspaceID: ws.ID, APIKeyID: "k", Scopes: []cohort.Scope{cohort.ScopeUsersWrite}}, true, false, false},
		{"key groups:write", cohort.Actor{WorkspaceID: ws.ID, APIKeyID: "k", Scopes: []cohort.Scope{cohort.ScopeGroupsWrite}}, false, true, true},
		{"key users:read", cohort.Actor{WorkspaceID: ws.ID, APIKeyID: "k", Scopes: []cohort.Scope{cohort.ScopeUsersRead}}, false, false, false},
	}
	code := func(ok bool) string {
		if ok {
			return ""
		}
		return cohort.EFORBIDDEN
	}
	for _, c := range cases {
		actx := cohort.NewContextWithActor(ctx, c.actor)
		_, err := db.ImportUsers(actx, nil)
		if cohort.ErrorCode(err) != code(c.users) {
			t.Errorf("%s ImportUsers: %v", c.name, err)
		}
		_, err = db.ImportGroups(actx, nil)
		if cohort.ErrorCode(err) != code(c.groups) {
			t.Errorf("%s ImportGroups: %v", c.name, err)
		}
		got, err := db.GroupsOfUsers(actx, []string{member.ID}, cohort.StatusActive)
		if cohort.ErrorCode(err) != code(c.viewers) {
			t.Errorf("%s GroupsOfUsers: %v", c.name, err)
		}
		if c.viewers && (len(got[member.ID]) != 1 || got[member.ID][0].ID != g.ID) {
			t.Errorf("%s GroupsOfUsers = %v", c.name, got)
		}
	}
	if _, err := db.ImportUsers(ctx, nil); cohort.ErrorCode(err) != cohort.EUNAUTHORIZED {
		t.Errorf("ImportUsers without an actor: %v", err)
	}
	if _, err := db.GroupsOfUsers(ctx, nil, ""); cohort.ErrorCode(err) != cohort.EUNAUTHORIZED {
		t.Errorf("GroupsOfUsers without an actor: %v", err)
	}

	// Another practice sees none of these memberships, and its import of
	// the same email creates its own staff member.
	ws2, _, err := db.CreateWorkspace(ctx, cohort.WorkspaceCreate{Name: "Hillside", Slug: "hillside",
		Owner: cohort.UserCreate{Email: "owner@h.test", GivenName: "H", FamilyName: "Owner"}})
	if err != nil {
		t.Fatal(err)
	}
	other := cohort.NewContextWithActor(ctx, cohort.SystemActor(ws2.ID, "test"))
	if got, err := db.GroupsOfUsers(other, []string{member.ID}, ""); err != nil || len(got) != 0 {
		t.Errorf("another practice reads the groups of our staff: %v %v", got, err)
	}
	res, err := db.ImportUsers(other, []cohort.UserImport{{Row: 2, Email: "m@r.test", GivenName: "Other", FamilyName: "Person"}})
	if err != nil || res.Created != 1 {
		t.Fatalf("import in another practice: %+v %v", res, err)
	}
	if u, _ := db.FindUserByID(sys, member.ID); u.GivenName != "M" {
		t.Errorf("an import in another practice changed ours: %+v", u)
	}
	if _, err := db.ImportGroups(other, []cohort.GroupImport{{Row: 2, Name: "Team", Members: []cohort.ImportMember{{Row: 2, Email: "owner@r.test"}}}}); cohort.ErrorCode(err) != cohort.EINVALID {
		t.Errorf("another practice adds our owner to its group: %v", err)
	}
	if _, err := db.GroupsOfUsers(sys, make([]string, cohort.MaxGroupsOfUsers+1), ""); cohort.ErrorCode(err) != cohort.EINVALID {
		t.Errorf("too many users at once: %v", err)
	}
}
