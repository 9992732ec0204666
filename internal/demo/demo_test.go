package demo_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/demo"
	"github.com/cohorthq/cohort/internal/sqlstore/sqltest"
)

const password = "demo-password-for-tests"

func TestSeed(t *testing.T) {
	db := sqltest.Open(t)
	svc := db.Services()
	ctx := context.Background()

	ws, err := demo.Seed(ctx, svc, password)
	if err != nil {
		t.Fatal(err)
	}
	if ws == nil || ws.Slug != demo.WorkspaceSlug || ws.Name != demo.WorkspaceName {
		t.Fatalf("Seed returned %+v", ws)
	}
	actx := cohort.NewContextWithActor(ctx, cohort.SystemActor(ws.ID, "test"))

	users, err := svc.Users.FindUsers(actx, cohort.UserFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(users.Users); n < 22 || n > 30 {
		t.Errorf("%d demo users, want about 25", n)
	}
	roles := map[cohort.Role]int{}
	owners := 0
	accented := false
	for _, u := range users.Users {
		if u.Status == cohort.StatusActive {
			roles[u.Role]++
		}
		if u.IsOwner {
			owners++
			if u.Email != demo.OwnerEmail || u.Role != cohort.RolePracticeManager {
				t.Errorf("owner is %s (%s), want %s, practice manager", u.Email, u.Role, demo.OwnerEmail)
			}
		}
		if utf8.RuneCountInString(u.Name()) != len(u.Name()) || strings.Contains(u.Name(), "'") {
			accented = true
		}
	}
	if owners != 1 {
		t.Errorf("%d owners, want exactly 1", owners)
	}
	for _, r := range cohort.Roles {
		if roles[r] == 0 {
			t.Errorf("no active %s in the demo", r)
		}
	}
	if !accented {
		t.Error("no demo name has an accent or apostrophe")
	}

	// One predictable sign-in per role, all with the demo password.
	for email, role := range map[string]cohort.Role{
		demo.OwnerEmail:             cohort.RolePracticeManager,
		demo.PractitionerAdminEmail: cohort.RolePractitionerAdmin,
		demo.PractitionerEmail:      cohort.RolePractitioner,
		demo.ManagerEmail:           cohort.RolePracticeManager,
		demo.ReceptionistEmail:      cohort.RoleReceptionist,
		demo.AccountantEmail:        cohort.RoleAccountant,
	} {
		got, err := svc.Auth.Authenticate(ctx, cohort.Credentials{Practice: demo.WorkspaceSlug, Email: email, Password: password})
		if err != nil {
			t.Errorf("sign in as %s: %v", email, err)
			continue
		}
		if got.Role != role {
			t.Errorf("%s has role %s, want %s", email, got.Role, role)
		}
	}

	active, err := svc.Groups.FindGroups(actx, cohort.GroupFilter{Status: cohort.StatusActive})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, g := range active.Groups {
		counts[g.Name] = g.MemberCount
	}
	for _, name := range []string{"Physiotherapists", "Psychologists", "Practitioners who treat children",
		"After-hours clinicians", "Telehealth providers", "Contractors", "Admin team"} {
		n, ok := counts[name]
		if !ok {
			t.Errorf("no active group %q", name)
			continue
		}
		if n < 1 || n > 12 {
			t.Errorf("%s has %d users, want 1–12", name, n)
		}
	}
	// The archived physiotherapist keeps their membership but is not counted.
	for _, g := range active.Groups {
		if g.Name == "Physiotherapists" && (g.MemberCount != 6 || g.ArchivedMemberCount != 1) {
			t.Errorf("Physiotherapists: %d users and %d archived, want 6 and 1", g.MemberCount, g.ArchivedMemberCount)
		}
	}
	archived, err := svc.Groups.FindGroups(actx, cohort.GroupFilter{Status: cohort.StatusArchived})
	if err != nil {
		t.Fatal(err)
	}
	if len(archived.Groups) != 1 {
		t.Errorf("%d archived groups, want 1", len(archived.Groups))
	}

	// A second seed changes nothing.
	again, err := demo.Seed(ctx, svc, "another-password-entirely")
	if err != nil || again != nil {
		t.Fatalf("second Seed = %v, %v; want nil, nil", again, err)
	}
	if _, err := svc.Auth.Authenticate(ctx, cohort.Credentials{Practice: demo.WorkspaceSlug, Email: demo.OwnerEmail, Password: password}); err != nil {
		t.Errorf("a second Seed changed the owner's password: %v", err)
	}
	after, err := svc.Users.FindUsers(actx, cohort.UserFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Users) != len(users.Users) {
		t.Errorf("a second Seed added users: %d → %d", len(users.Users), len(after.Users))
	}
}

func TestSeedLeavesARealInstallAlone(t *testing.T) {
	db := sqltest.Open(t)
	svc := db.Services()
	ctx := context.Background()
	if _, _, err := svc.Workspaces.CreateWorkspace(ctx, cohort.WorkspaceCreate{
		Name: "Riverside Physio", Slug: "riverside",
		Owner: cohort.UserCreate{Email: "amara@riverside.test", GivenName: "Amara", FamilyName: "Okafor", Password: "riverside-password"},
	}); err != nil {
		t.Fatal(err)
	}
	ws, err := demo.Seed(ctx, svc, password)
	if err != nil || ws != nil {
		t.Fatalf("Seed on a database with a workspace = %v, %v; want nil, nil", ws, err)
	}
	if _, err := svc.Workspaces.FindWorkspaceBySlug(ctx, demo.WorkspaceSlug); cohort.ErrorCode(err) != cohort.ENOTFOUND {
		t.Errorf("demo workspace created next to a real one: %v", err)
	}
}

func TestSeedRefusesAWeakPassword(t *testing.T) {
	db := sqltest.Open(t)
	if _, err := demo.Seed(context.Background(), db.Services(), "short"); err == nil || !strings.Contains(err.Error(), "12 characters") {
		t.Fatalf("Seed with a short password: %v", err)
	}
}

func TestGeneratePassword(t *testing.T) {
	a, b := demo.GeneratePassword(), demo.GeneratePassword()
	if a == b || cohort.ValidatePassword(a, nil) != nil {
		t.Errorf("GeneratePassword gave %q and %q", a, b)
	}
}
