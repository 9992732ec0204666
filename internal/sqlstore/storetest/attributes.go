package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
)

// staffWith creates a staff member with attributes.
func (f *fixture) staffWith(t *testing.T, given, family string, role cohort.Role, a cohort.StaffAttributes) *cohort.User {
	t.Helper()
	u, err := f.s.Users.CreateUser(f.ctx, cohort.UserCreate{Email: fmt.Sprintf("%s.%d@riverside.test", strings.ToLower(given+"."+family), userSeq.Add(1)),
		GivenName: given, FamilyName: family, Role: role, StaffAttributes: a})
	must(t, err)
	return u
}

func testStaffAttributesStored(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	seq := f.lastSeq(t)
	u, err := f.s.Users.CreateUser(f.ctx, cohort.UserCreate{Email: "grace.turner@riverside.test", GivenName: "Grace", FamilyName: "Turner",
		StaffAttributes: cohort.StaffAttributes{JobTitle: " Paediatric  physiotherapist", Location: "Bondi Junction", Phone: "ext 204", EmploymentType: "Part-time"}})
	must(t, err)
	want := cohort.StaffAttributes{JobTitle: "Paediatric physiotherapist", Location: "Bondi Junction", Phone: "ext 204", EmploymentType: "Part-time"}
	if u.StaffAttributes != want {
		t.Fatalf("created with %+v, want %+v", u.StaffAttributes, want)
	}
	got, err := f.s.Users.FindUserByID(f.ctx, u.ID)
	must(t, err)
	if *got != *u {
		t.Fatalf("stored %+v, want %+v", got, u)
	}
	ev := f.events(t, seq)
	shape := decode(t, ev[len(ev)-1].Data)["user"].(map[string]any)
	if shape["job_title"] != "Paediatric physiotherapist" || shape["location"] != "Bondi Junction" || shape["phone"] != "ext 204" || shape["employment_type"] != "Part-time" {
		t.Errorf("event shape = %v", shape)
	}
	if au := f.audit(t, u.ID); len(au) != 1 || decode(t, au[0].Changes)["job_title"] == nil {
		t.Errorf("audit of the creation = %+v", au[0].Changes)
	}

	// Nil leaves an attribute, "" clears it; one change is one version.
	loc, phone := "Coogee", ""
	u2, err := f.s.Users.UpdateUser(f.ctx, u.ID, cohort.UserUpdate{IfVersion: u.Version,
		StaffAttributesUpdate: cohort.StaffAttributesUpdate{Location: &loc, Phone: &phone}})
	must(t, err)
	want.Location, want.Phone = "Coogee", ""
	if u2.StaffAttributes != want || u2.Version != u.Version+1 {
		t.Fatalf("updated to %+v v%d, want %+v v%d", u2.StaffAttributes, u2.Version, want, u.Version+1)
	}
	got, err = f.s.Users.FindUserByID(f.ctx, u.ID)
	must(t, err)
	if got.StaffAttributes != want {
		t.Fatalf("stored after update %+v, want %+v", got.StaffAttributes, want)
	}
	au := f.audit(t, u.ID)
	if c := decode(t, au[len(au)-1].Changes); c["location"] == nil || c["phone"] == nil || c["job_title"] != nil {
		t.Errorf("audit of the update = %v", c)
	}
	// The same values again change nothing.
	u3, err := f.s.Users.UpdateUser(f.ctx, u.ID, cohort.UserUpdate{StaffAttributesUpdate: cohort.StaffAttributesUpdate{Location: &loc}})
	must(t, err)
	if u3.Version != u2.Version {
		t.Errorf("an update to the same location bumped the version to %d", u3.Version)
	}

	// Bad values are refused by the domain's rule, field by field, and
	// change nothing.
	bad, badPhone := "Coogee\u200b", "call me"
	_, err = f.s.Users.UpdateUser(f.ctx, u.ID, cohort.UserUpdate{StaffAttributesUpdate: cohort.StaffAttributesUpdate{Location: &bad, Phone: &badPhone}})
	e := wantCode(t, err, cohort.EINVALID)
	if len(e.Fields["location"]) != 1 || len(e.Fields["phone"]) != 1 {
		t.Errorf("fields = %v", e.Fields)
	}

	// Staff who are not managers see the Directory's fields, attributes
	// included; a key with groups scopes only sees names.
	colleague := f.user(t, "Colin", "League", cohort.RolePractitioner)
	seen, err := f.s.Users.FindUserByID(f.as(colleague), u.ID)
	must(t, err)
	if seen.StaffAttributes != want {
		t.Errorf("a colleague sees %+v, want %+v", seen.StaffAttributes, want)
	}
	p, err := f.s.Users.FindUsers(f.key(cohort.ScopeGroupsRead), cohort.UserFilter{Status: cohort.StatusActive, IDs: []string{u.ID}})
	must(t, err)
	if len(p.Users) != 1 || !p.Users[0].StaffAttributes.Empty() {
		t.Errorf("a groups key sees %+v", p.Users)
	}
}

func testStaffAttributesSearched(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	// Two Grace Turners, told apart by their attributes.
	physio := f.staffWith(t, "Grace", "Turner", cohort.RolePractitioner,
		cohort.StaffAttributes{JobTitle: "Physiotherapist", Location: "Bondi Junction", Phone: "ext 204", EmploymentType: "Full-time"})
	psych := f.staffWith(t, "Grace", "Turner", cohort.RolePractitioner,
		cohort.StaffAttributes{JobTitle: "Psychologist", Location: "Coogee", Phone: "+61 2 9876 5432", EmploymentType: "Contractor"})
	desk := f.staffWith(t, "Pat", "Bondi", cohort.RoleReceptionist, cohort.StaffAttributes{Location: "Bondi Junction"})
	mgr := f.staffWith(t, "Mia", "Physick", cohort.RolePracticeManager, cohort.StaffAttributes{Location: "Coogee", EmploymentType: "Part-time"})
	for _, tc := range []struct {
		f    cohort.UserFilter
		want []*cohort.User
	}{
		{cohort.UserFilter{Query: "physio"}, []*cohort.User{physio}},
		{cohort.UserFilter{Query: "phys"}, []*cohort.User{mgr, physio}}, // family name, then job title
		{cohort.UserFilter{Query: "bondi"}, []*cohort.User{desk, physio}},
		{cohort.UserFilter{Query: "Bondi junction"}, []*cohort.User{desk, physio}},
		{cohort.UserFilter{Query: "coogee"}, []*cohort.User{mgr, psych}},
		{cohort.UserFilter{Query: "ext 2"}, []*cohort.User{physio}},
		{cohort.UserFilter{Query: "+61"}, []*cohort.User{psych}},
		{cohort.UserFilter{Query: "contr"}, []*cohort.User{psych}},
		{cohort.UserFilter{Query: "Receptionist"}, []*cohort.User{desk}},
		{cohort.UserFilter{Query: "manager"}, []*cohort.User{f.owner, mgr}},
		{cohort.UserFilter{Query: "part"}, []*cohort.User{mgr}},
		{cohort.UserFilter{Location: "bondi  JUNCTION"}, []*cohort.User{desk, physio}},
		{cohort.UserFilter{Location: "Coogee", Role: cohort.RolePracticeManager}, []*cohort.User{mgr}},
		{cohort.UserFilter{Location: "Coogee", Query: "grace"}, []*cohort.User{psych}},
		{cohort.UserFilter{Location: "Nowhere"}, nil},
		{cohort.UserFilter{Role: cohort.RoleReceptionist, Query: "bondi"}, []*cohort.User{desk}},
	} {
		tc.f.Status = cohort.StatusActive
		p, err := f.s.Users.FindUsers(f.ctx, tc.f)
		must(t, err)
		if got, want := ids(p.Users...), ids(tc.want...); strings.Join(got, ",") != strings.Join(want, ",") || p.Total != len(want) {
			t.Errorf("%+v: got %v (total %d), want %v", tc.f, names(p.Users), p.Total, names(tc.want))
		}
	}
	// The location filter's choices: each location once, whatever its
	// case, active staff only.
	f.staffWith(t, "Lou", "Case", cohort.RolePractitioner, cohort.StaffAttributes{Location: "BONDI JUNCTION"})
	gone := f.staffWith(t, "Gus", "Gone", cohort.RolePractitioner, cohort.StaffAttributes{Location: "Manly"})
	_, err := f.s.Users.ArchiveUser(f.ctx, gone.ID, 0)
	must(t, err)
	locs, err := f.s.Directory.StaffLocations(f.ctx)
	must(t, err)
	if strings.Join(locs, "|") != "Bondi Junction|Coogee" {
		t.Errorf("locations = %q", locs)
	}
	_, err = f.s.Directory.StaffLocations(f.key(cohort.ScopeGroupsRead))
	wantCode(t, err, cohort.EFORBIDDEN)
	// A page at a time through matches from several arms: each person
	// once, in list order.
	all := []*cohort.User{}
	after := ""
	for {
		p, err := f.s.Users.FindUsers(f.ctx, cohort.UserFilter{Status: cohort.StatusActive, Query: "p", Limit: 1, After: after})
		must(t, err)
		all = append(all, p.Users...)
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	// "p" starts Pat's given name, "Physick", "Physiotherapist",
	// "Psychologist", "Part-time" and the practice roles.
	if got := names(all); strings.Join(got, ",") != "Pat Bondi,Lou Case,Olive Owner,Mia Physick,Grace Turner,Grace Turner" {
		t.Errorf("paged search for p = %v", got)
	}
}

func testStaffAttributesImported(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	u := f.staffWith(t, "Ivy", "Imported", cohort.RolePractitioner, cohort.StaffAttributes{JobTitle: "Dietitian", Location: "Bondi"})
	empty, site := "", "Coogee"
	// A file without a job_title column keeps the title; an empty
	// location cell clears the location; a new row gets its attributes.
	res, err := f.s.Imports.ImportUsers(f.ctx, []cohort.UserImport{
		{Row: 2, Email: u.Email, GivenName: "Ivy", FamilyName: "Imported", Role: cohort.RolePractitioner,
			StaffAttributesUpdate: cohort.StaffAttributesUpdate{Location: &empty}},
		{Row: 3, Email: "new.person@riverside.test", GivenName: "New", FamilyName: "Person", Role: cohort.RoleReceptionist,
			StaffAttributesUpdate: cohort.StaffAttributesUpdate{Location: &site}},
	})
	must(t, err)
	if res.Created != 1 || res.Updated != 1 {
		t.Fatalf("import = %+v", res)
	}
	got, err := f.s.Users.FindUserByID(f.ctx, u.ID)
	must(t, err)
	if got.JobTitle != "Dietitian" || got.Location != "" {
		t.Errorf("after import %+v", got.StaffAttributes)
	}
	p, err := f.s.Users.FindUsers(f.ctx, cohort.UserFilter{Email: "new.person@riverside.test"})
	must(t, err)
	if len(p.Users) != 1 || p.Users[0].Location != "Coogee" {
		t.Errorf("new person = %+v", p.Users)
	}
}
