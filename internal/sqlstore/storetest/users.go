package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
)

func testUserCreate(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	seq := f.lastSeq(t)
	u, err := f.s.Users.CreateUser(f.ctx, cohort.UserCreate{Email: " Ada.Lovelace@Example.COM ", GivenName: " Ada ",
		FamilyName: "Lovelace", Role: cohort.RoleReceptionist, ExternalID: "okta-1"})
	must(t, err)
	// The email is kept as entered (trimmed), compared case-insensitively.
	if u.Email != "Ada.Lovelace@Example.COM" || u.UserName != u.Email || !u.SignsIn || u.GivenName != "Ada" || u.Role != cohort.RoleReceptionist ||
		u.Status != cohort.StatusActive || u.IsOwner || u.Version != 1 || u.ExternalID != "okta-1" {
		t.Fatalf("user = %+v", u)
	}
	got, err := f.s.Users.FindUserByID(f.ctx, u.ID)
	must(t, err)
	if *got != *u {
		t.Fatalf("stored user = %+v, want %+v", got, u)
	}
	_, err = f.s.Users.CreateUser(f.ctx, cohort.UserCreate{Email: "ADA.LOVELACE@example.com", GivenName: "A", FamilyName: "L"})
	e := wantCode(t, err, cohort.ECONFLICT)
	if e.Message != "A staff member with email ADA.LOVELACE@example.com already exists." || len(e.Fields["email"]) != 1 {
		t.Fatalf("conflict = %+v", e)
	}
	_, err = f.s.Users.CreateUser(f.ctx, cohort.UserCreate{Email: "not-an-email", GivenName: " ", FamilyName: "", Role: "boss"})
	e = wantCode(t, err, cohort.EINVALID)
	for _, field := range []string{"email", "given_name", "role"} {
		if len(e.Fields[field]) == 0 {
			t.Errorf("no message for %s: %v", field, e.Fields)
		}
	}
	// The same email in another workspace is fine.
	f2 := newFixture(t, db)
	_, err = f2.s.Users.CreateUser(f2.ctx, cohort.UserCreate{Email: "ada.lovelace@example.com", GivenName: "Ada", FamilyName: "L"})
	must(t, err)
	ev := f.events(t, seq)
	if len(ev) != 1 || ev[0].Type != cohort.ActionUserCreated {
		t.Fatalf("events = %v", ev)
	}
	shape := decode(t, ev[0].Data)["user"].(map[string]any)
	for _, k := range []string{"id", "email", "given_name", "family_name", "role", "status", "is_owner", "created_at", "updated_at"} {
		if _, ok := shape[k]; !ok {
			t.Errorf("user event lacks %s: %v", k, shape)
		}
	}
	if au := f.audit(t, u.ID); len(au) != 1 || au[0].Action != cohort.ActionUserCreated {
		t.Fatalf("audit = %v", au)
	}
}

func testUserUpdate(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	u := f.user(t, "Grace", "Hopper", cohort.RolePractitioner)
	other := f.user(t, "Alan", "Turing", cohort.RolePractitioner)
	u2, err := f.s.Users.UpdateUser(f.ctx, u.ID, cohort.UserUpdate{FamilyName: ptr("Murray Hopper"), Role: ptr(cohort.RolePracticeManager), IfVersion: 1})
	must(t, err)
	if u2.FamilyName != "Murray Hopper" || u2.Role != cohort.RolePracticeManager || u2.Version != 2 {
		t.Fatalf("updated = %+v", u2)
	}
	_, err = f.s.Users.UpdateUser(f.ctx, u.ID, cohort.UserUpdate{GivenName: ptr("G"), IfVersion: 1})
	wantCode(t, err, cohort.ESTALE)
	_, err = f.s.Users.UpdateUser(f.ctx, u.ID, cohort.UserUpdate{Email: ptr(strings.ToUpper(other.Email))})
	wantCode(t, err, cohort.ECONFLICT)
	// The renamed user is found by the new name.
	p, err := f.s.Users.FindUsers(f.ctx, cohort.UserFilter{Query: "murr"})
	must(t, err)
	if p.Total != 1 || p.Users[0].ID != u.ID {
		t.Fatalf("search after rename = %v", ids(p.Users...))
	}
	au := f.audit(t, u.ID)
	if len(au) != 2 || au[1].Action != cohort.ActionUserUpdated || decode(t, au[1].Changes)["role"] == nil {
		t.Fatalf("audit = %v", au)
	}
	_, err = f.s.Users.UpdateUser(f.ctx, "missing", cohort.UserUpdate{GivenName: ptr("x")})
	wantCode(t, err, cohort.ENOTFOUND)
}

func testUserOwner(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	if !f.owner.IsOwner || f.owner.Role != cohort.RolePracticeManager {
		t.Fatalf("owner = %+v", f.owner)
	}
	_, err := f.s.Users.ArchiveUser(f.ctx, f.owner.ID, 0)
	e := wantCode(t, err, cohort.ECONFLICT)
	if !strings.Contains(e.Message, "account owner") {
		t.Fatalf("message = %q", e.Message)
	}
	// The owner's role may change; the owner flag stays.
	o, err := f.s.Users.UpdateUser(f.ctx, f.owner.ID, cohort.UserUpdate{Role: ptr(cohort.RolePractitioner)})
	must(t, err)
	if !o.IsOwner || o.Role != cohort.RolePractitioner {
		t.Fatalf("owner after role change = %+v", o)
	}
	mgr := f.user(t, "Mona", "Manager", cohort.RolePracticeManager)
	arch := f.user(t, "Archie", "Ved", cohort.RolePractitioner)
	_, err = f.s.Users.ArchiveUser(f.ctx, arch.ID, 0)
	must(t, err)
	// Only the owner transfers ownership, only to an active user.
	err = f.s.Users.TransferOwnership(f.as(mgr), mgr.ID)
	wantCode(t, err, cohort.EFORBIDDEN)
	err = f.s.Users.TransferOwnership(f.ctx, arch.ID)
	wantCode(t, err, cohort.EINVALID)
	err = f.s.Users.TransferOwnership(f.ctx, "missing")
	wantCode(t, err, cohort.ENOTFOUND)
	must(t, f.s.Users.TransferOwnership(f.ctx, mgr.ID))
	old, err := f.s.Users.FindUserByID(f.ctx, f.owner.ID)
	must(t, err)
	now, err := f.s.Users.FindUserByID(f.ctx, mgr.ID)
	must(t, err)
	if old.IsOwner || old.Role != cohort.RolePractitioner || !now.IsOwner || now.Role != cohort.RolePracticeManager {
		t.Fatalf("after transfer: old %+v new %+v", old, now)
	}
	owners, err := f.s.Users.FindUsers(f.ctx, cohort.UserFilter{})
	must(t, err)
	n := 0
	for _, u := range owners.Users {
		if u.IsOwner {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d owners", n)
	}
	au := f.audit(t, mgr.ID)
	if au[len(au)-1].Action != cohort.ActionOwnerTransferred {
		t.Fatalf("audit = %v", au[len(au)-1].Action)
	}
	// The old owner may now be archived.
	_, err = f.s.Users.ArchiveUser(f.as(now), old.ID, 0)
	must(t, err)
}

func testUserArchiveSessions(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	u := f.user(t, "Sam", "Session", cohort.RolePractitioner)
	tok, _, err := f.s.Auth.CreateSession(f.ctx, u.ID, 3600e9)
	must(t, err)
	if _, err := f.s.Auth.FindSession(f.ctx, tok, 0); err != nil {
		t.Fatal(err)
	}
	seq := f.lastSeq(t)
	a, err := f.s.Users.ArchiveUser(f.ctx, u.ID, 0)
	must(t, err)
	if a.Status != cohort.StatusArchived || a.ArchivedAt == nil || a.Version != 2 {
		t.Fatalf("archived = %+v", a)
	}
	_, err = f.s.Auth.FindSession(f.ctx, tok, 0)
	wantCode(t, err, cohort.EUNAUTHORIZED)
	_, _, err = f.s.Auth.CreateSession(f.ctx, u.ID, 3600e9)
	wantCode(t, err, cohort.EUNAUTHORIZED)
	again, err := f.s.Users.ArchiveUser(f.ctx, u.ID, 0)
	must(t, err)
	if again.Version != 2 {
		t.Fatal("archiving twice changed the user")
	}
	r, err := f.s.Users.RestoreUser(f.ctx, u.ID, 0)
	must(t, err)
	if r.Status != cohort.StatusActive || r.ArchivedAt != nil {
		t.Fatalf("restored = %+v", r)
	}
	var types []string
	for _, e := range f.events(t, seq) {
		types = append(types, e.Type)
	}
	if strings.Join(types, " ") != "user.archived user.restored" {
		t.Fatalf("events = %v", types)
	}
}

func testUserSearch(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	ann := f.user(t, "Ann", "Smith", cohort.RolePractitioner)
	anna := f.user(t, "Anna", "Åberg", cohort.RolePractitioner)
	bob := f.user(t, "Bob", "Annandale", cohort.RolePractitioner)
	zed := f.user(t, "Zed", "Young", cohort.RoleReceptionist)
	for _, tc := range []struct {
		q    string
		want []*cohort.User
	}{
		{"ann", []*cohort.User{bob, ann, anna}},
		{"ANN", []*cohort.User{bob, ann, anna}},
		{"anna", []*cohort.User{bob, anna}},
		{"ann smi", []*cohort.User{ann}},
		{"  ann   smi ", []*cohort.User{ann}},
		{"åb", []*cohort.User{anna}},
		{"ÅBERG", []*cohort.User{anna}},
		{"zed.young", []*cohort.User{zed}},
		{"mith", nil},
		{"%", nil},
		{"_", nil},
	} {
		p, err := f.s.Users.FindUsers(f.ctx, cohort.UserFilter{Query: tc.q})
		must(t, err)
		if got, want := ids(p.Users...), ids(tc.want...); strings.Join(got, ",") != strings.Join(want, ",") || p.Total != len(want) {
			t.Errorf("query %q: got %v (total %d), want %v", tc.q, names(p.Users), p.Total, names(tc.want))
		}
	}
}

// testUserSearchPaging pages through a search whose matches come from
// every searched key (family name, given name, "given family", email
// only), forwards, backwards and by offset, and always sees the one
// sorted list with its full count.
func testUserSearchPaging(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	var want []*cohort.User
	mk := func(email, given, family string) *cohort.User {
		u, err := f.s.Users.CreateUser(f.ctx, cohort.UserCreate{Email: email, GivenName: given, FamilyName: family, Role: cohort.RolePractitioner})
		must(t, err)
		return u
	}
	// Created out of order; want is sorted by family, given, id.
	byFamily2 := mk("pz1@clinic.test", "Zoe", "Quillon")
	byGiven := mk("qu.given@clinic.test", "Quentin", "Adams")
	byEmailOnly := mk("quokka@clinic.test", "Mary", "Brown")
	byFamily1 := mk("pz2@clinic.test", "Amy", "Quill")
	both := mk("quade.quaid@clinic.test", "Quade", "Quaid")
	mk("nobody@clinic.test", "Nora", "Quiet") // archived below: not found when asking for active
	_ = mk("other@clinic.test", "Ola", "Other")
	p, err := f.s.Users.FindUsers(f.ctx, cohort.UserFilter{Email: "nobody@clinic.test"})
	must(t, err)
	_, err = f.s.Users.ArchiveUser(f.ctx, p.Users[0].ID, 0)
	must(t, err)
	want = []*cohort.User{byGiven, byEmailOnly, both, byFamily1, byFamily2}
	base := cohort.UserFilter{Query: "qu", Status: cohort.StatusActive}

	var got []*cohort.User
	fwd := base
	fwd.Limit = 2
	for range 10 {
		p, err := f.s.Users.FindUsers(f.ctx, fwd)
		must(t, err)
		if p.Total != len(want) {
			t.Fatalf("page after %q: total %d, want %d", fwd.After, p.Total, len(want))
		}
		got = append(got, p.Users...)
		if p.Next == "" {
			break
		}
		fwd.After = p.Next
	}
	if a, b := strings.Join(ids(got...), ","), strings.Join(ids(want...), ","); a != b {
		t.Fatalf("forward pages: got %v, want %v", names(got), names(want))
	}
	// Backwards from the cursor that led to the last page (the key of
	// the fourth match): the two matches before it.
	back := base
	back.Limit, back.Before = 2, fwd.After
	p, err = f.s.Users.FindUsers(f.ctx, back)
	must(t, err)
	if a, b := strings.Join(ids(p.Users...), ","), strings.Join(ids(want[1:3]...), ","); a != b {
		t.Fatalf("page before the fourth: got %v, want %v", names(p.Users), names(want[1:3]))
	}
	for off := 0; off <= len(want); off++ {
		o := base
		o.Limit, o.Offset = 2, off
		p, err := f.s.Users.FindUsers(f.ctx, o)
		must(t, err)
		exp := want[off:min(off+2, len(want))]
		if a, b := strings.Join(ids(p.Users...), ","), strings.Join(ids(exp...), ","); a != b || p.Total != len(want) {
			t.Fatalf("offset %d: got %v (total %d), want %v", off, names(p.Users), p.Total, names(exp))
		}
	}
	// Skipping the total changes only the total.
	skip := base
	skip.Limit, skip.SkipTotal = 2, true
	p, err = f.s.Users.FindUsers(f.ctx, skip)
	must(t, err)
	if a, b := strings.Join(ids(p.Users...), ","), strings.Join(ids(want[:2]...), ","); a != b || p.Total != 0 || p.Next == "" {
		t.Fatalf("SkipTotal: got %v (total %d, next %q), want %v with total 0", names(p.Users), p.Total, p.Next, names(want[:2]))
	}
	// Without a status, the archived match counts too.
	all := base
	all.Status = ""
	p, err = f.s.Users.FindUsers(f.ctx, all)
	must(t, err)
	if p.Total != len(want)+1 || len(p.Users) != len(want)+1 {
		t.Fatalf("any status: %d of total %d, want %d", len(p.Users), p.Total, len(want)+1)
	}
}

func names(us []*cohort.User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.Name())
	}
	return out
}

func testUserFilters(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	a := f.user(t, "Amy", "Alpha", cohort.RoleReceptionist)
	b := f.user(t, "Ben", "Beta", cohort.RoleAccountant)
	c := f.user(t, "Cat", "Gamma", cohort.RolePractitioner)
	g1 := f.group(t, "One", a, b)
	g2 := f.group(t, "Two", b, c)
	_, err := f.s.Users.ArchiveUser(f.ctx, c.ID, 0)
	must(t, err)
	_, err = f.s.Users.UpdateUser(f.ctx, a.ID, cohort.UserUpdate{ExternalID: ptr("ext-a")})
	must(t, err)
	cases := []struct {
		name string
		f    cohort.UserFilter
		want []*cohort.User
	}{
		{"role", cohort.UserFilter{Role: cohort.RoleAccountant}, []*cohort.User{b}},
		{"archived", cohort.UserFilter{Status: cohort.StatusArchived}, []*cohort.User{c}},
		{"any group", cohort.UserFilter{GroupIDs: []string{g1.ID, g2.ID}}, []*cohort.User{a, b, c}},
		{"one group active", cohort.UserFilter{GroupIDs: []string{g2.ID}, Status: cohort.StatusActive}, []*cohort.User{b}},
		{"email", cohort.UserFilter{Email: strings.ToUpper(b.Email)}, []*cohort.User{b}},
		{"external", cohort.UserFilter{ExternalID: "ext-a"}, []*cohort.User{a}},
		{"ids", cohort.UserFilter{IDs: ids(a, c)}, []*cohort.User{a, c}},
		{"no ids", cohort.UserFilter{IDs: []string{}}, nil},
		{"exclude", cohort.UserFilter{ExcludeGroupID: g1.ID, Status: cohort.StatusActive}, []*cohort.User{f.owner}},
		{"updated after", cohort.UserFilter{UpdatedAfter: &b.UpdatedAt}, []*cohort.User{a, c}},
		{"updated before", cohort.UserFilter{UpdatedBefore: &b.UpdatedAt, IDs: ids(a, b, c)}, nil},
	}
	for _, tc := range cases {
		p, err := f.s.Users.FindUsers(f.ctx, tc.f)
		must(t, err)
		if !sameSet(ids(p.Users...), ids(tc.want...)) || p.Total != len(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, names(p.Users), names(tc.want))
		}
	}
	_, err = f.s.Users.FindUsers(f.ctx, cohort.UserFilter{Status: "gone"})
	wantCode(t, err, cohort.EINVALID)
	_, err = f.s.Users.FindUsers(f.ctx, cohort.UserFilter{After: "!!not a cursor"})
	wantCode(t, err, cohort.EINVALID)
}

// eventTypes lists the types of the workspace's events after seq, in order.
func (f *fixture) eventTypes(t *testing.T, after int64) []string {
	t.Helper()
	var types []string
	for _, e := range f.events(t, after) {
		types = append(types, e.Type)
	}
	return types
}

// counts returns a group's active and archived member counters.
func (f *fixture) counts(t *testing.T, id string) [2]int {
	t.Helper()
	g := f.getGroup(t, id)
	return [2]int{g.MemberCount, g.ArchivedMemberCount}
}

// lastActions returns the actions of the newest n audit entries of a
// target, sorted (entries of one transaction share their time).
func (f *fixture) lastActions(t *testing.T, targetID string, n int) []string {
	t.Helper()
	au := f.audit(t, targetID)
	if len(au) < n {
		t.Fatalf("%d audit entries, want at least %d", len(au), n)
	}
	var out []string
	for _, e := range au[len(au)-n:] {
		out = append(out, e.Action)
	}
	slices.Sort(out)
	return out
}

// An UpdateUser that changes fields and archives applies both in one
// transaction, with the effects of UpdateUser and ArchiveUser together and
// one version step.
func testUserUpdateArchive(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	u := f.user(t, "Ada", "Archive", cohort.RolePractitioner)
	other := f.user(t, "Otto", "Other", cohort.RolePractitioner)
	g1 := f.group(t, "Physio", u, other)
	g2 := f.group(t, "Front desk", u)
	tok, _, err := f.s.Auth.CreateSession(f.ctx, u.ID, time.Hour)
	must(t, err)
	seq, auditBefore := f.lastSeq(t), len(f.audit(t, u.ID))

	got, err := f.s.Users.UpdateUser(f.ctx, u.ID, cohort.UserUpdate{GivenName: ptr("Adele"), Role: ptr(cohort.RoleReceptionist),
		Status: ptr(cohort.StatusArchived), IfVersion: u.Version})
	must(t, err)
	if got.GivenName != "Adele" || got.Role != cohort.RoleReceptionist || got.Status != cohort.StatusArchived ||
		got.ArchivedAt == nil || got.Version != u.Version+1 {
		t.Fatalf("updated = %+v", got)
	}
	stored, err := f.s.Users.FindUserByID(f.ctx, u.ID)
	must(t, err)
	if stored.GivenName != got.GivenName || stored.Role != got.Role || stored.Status != got.Status ||
		stored.Version != got.Version || stored.ArchivedAt == nil || !stored.ArchivedAt.Equal(*got.ArchivedAt) {
		t.Fatalf("stored = %+v, returned %+v", stored, got)
	}
	if c := f.counts(t, g1.ID); c != [2]int{1, 1} {
		t.Errorf("Physio counters = %v, want [1 1]", c)
	}
	if c := f.counts(t, g2.ID); c != [2]int{0, 1} {
		t.Errorf("Front desk counters = %v, want [0 1]", c)
	}
	_, err = f.s.Auth.FindSession(f.ctx, tok, 0)
	wantCode(t, err, cohort.EUNAUTHORIZED)

	ev := f.events(t, seq)
	if types := f.eventTypes(t, seq); strings.Join(types, " ") != "user.updated user.archived" {
		t.Fatalf("events = %v", types)
	}
	changes := decode(t, ev[0].Data)["changes"].(map[string]any)
	if changes["given_name"] == nil || changes["role"] == nil || changes["status"] != nil {
		t.Errorf("user.updated changes = %v", changes)
	}
	for _, e := range ev {
		shape := decode(t, e.Data)["user"].(map[string]any)
		if shape["given_name"] != "Adele" || shape["status"] != "archived" {
			t.Errorf("%s shows %v, want the user as committed", e.Type, shape)
		}
	}
	au := f.audit(t, u.ID)
	if len(au) != auditBefore+2 {
		t.Fatalf("%d new audit entries, want 2", len(au)-auditBefore)
	}
	if acts := f.lastActions(t, u.ID, 2); strings.Join(acts, " ") != "user.archived user.updated" {
		t.Fatalf("audit = %v", acts)
	}
	for _, e := range au[auditBefore:] {
		ch := decode(t, e.Changes)
		if e.Action == cohort.ActionUserArchived && (len(ch) != 1 || ch["status"] == nil) {
			t.Errorf("user.archived changes = %v", ch)
		}
	}

	// The same status again with no field change is no change.
	again, err := f.s.Users.UpdateUser(f.ctx, u.ID, cohort.UserUpdate{Status: ptr(cohort.StatusArchived), GivenName: ptr("Adele")})
	must(t, err)
	if again.Version != got.Version || len(f.events(t, seq)) != 2 {
		t.Fatalf("repeating the update changed the user: %+v", again)
	}
	// The session was deleted, not just refused while archived: it stays
	// ended after a restore.
	_, err = f.s.Users.RestoreUser(f.ctx, u.ID, 0)
	must(t, err)
	_, err = f.s.Auth.FindSession(f.ctx, tok, 0)
	wantCode(t, err, cohort.EUNAUTHORIZED)
}

// An UpdateUser that changes fields and restores applies both in one
// transaction.
func testUserUpdateRestore(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	u := f.user(t, "Rita", "Restore", cohort.RolePractitioner)
	g := f.group(t, "Physio", u)
	a, err := f.s.Users.ArchiveUser(f.ctx, u.ID, 0)
	must(t, err)
	if c := f.counts(t, g.ID); c != [2]int{0, 1} {
		t.Fatalf("counters after archive = %v", c)
	}
	seq := f.lastSeq(t)
	got, err := f.s.Users.UpdateUser(f.ctx, u.ID, cohort.UserUpdate{FamilyName: ptr("Returned"), ExternalID: ptr("okta-9"),
		Status: ptr(cohort.StatusActive), IfVersion: a.Version})
	must(t, err)
	if got.FamilyName != "Returned" || got.ExternalID != "okta-9" || got.Status != cohort.StatusActive ||
		got.ArchivedAt != nil || got.Version != a.Version+1 {
		t.Fatalf("updated = %+v", got)
	}
	stored, err := f.s.Users.FindUserByID(f.ctx, u.ID)
	must(t, err)
	if *stored != *got {
		t.Fatalf("stored = %+v, returned %+v", stored, got)
	}
	if c := f.counts(t, g.ID); c != [2]int{1, 0} {
		t.Errorf("counters after restore = %v, want [1 0]", c)
	}
	if types := f.eventTypes(t, seq); strings.Join(types, " ") != "user.updated user.restored" {
		t.Fatalf("events = %v", types)
	}
	if acts := f.lastActions(t, u.ID, 2); strings.Join(acts, " ") != "user.restored user.updated" {
		t.Fatalf("audit = %v", acts)
	}
	// Restored, they can sign in again.
	_, _, err = f.s.Auth.CreateSession(f.ctx, u.ID, time.Hour)
	must(t, err)
	// A search finds them by the new name.
	p, err := f.s.Users.FindUsers(f.ctx, cohort.UserFilter{Query: "retur", Status: cohort.StatusActive})
	must(t, err)
	if p.Total != 1 || p.Users[0].ID != u.ID {
		t.Fatalf("search = %v", names(p.Users))
	}
}

// A refused UpdateUser with a status change changes nothing: neither the
// fields nor the status, counters, sessions, events or audit.
func testUserUpdateStatusRefused(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	u := f.user(t, "Una", "Touched", cohort.RolePractitioner)
	taken := f.user(t, "Tess", "Taken", cohort.RolePractitioner)
	g := f.group(t, "Physio", f.owner, u)
	ownerTok, _, err := f.s.Auth.CreateSession(f.ctx, f.owner.ID, time.Hour)
	must(t, err)
	tok, _, err := f.s.Auth.CreateSession(f.ctx, u.ID, time.Hour)
	must(t, err)
	seq := f.lastSeq(t)
	unchanged := func(who *cohort.User, token string) {
		t.Helper()
		now, err := f.s.Users.FindUserByID(f.ctx, who.ID)
		must(t, err)
		if *now != *who {
			t.Fatalf("user changed: %+v, was %+v", now, who)
		}
		if _, err := f.s.Auth.FindSession(f.ctx, token, 0); err != nil {
			t.Fatalf("session after a refused update: %v", err)
		}
		if c := f.counts(t, g.ID); c != [2]int{2, 0} {
			t.Fatalf("counters = %v, want [2 0]", c)
		}
		if types := f.eventTypes(t, seq); len(types) != 0 {
			t.Fatalf("events after a refused update: %v", types)
		}
	}
	owner, err := f.s.Users.FindUserByID(f.ctx, f.owner.ID)
	must(t, err)
	ownerAudit := len(f.audit(t, owner.ID))

	// The account owner cannot be archived, and the field changes sent
	// with the archive are not applied either.
	_, err = f.s.Users.UpdateUser(f.ctx, owner.ID, cohort.UserUpdate{GivenName: ptr("Oops"), Role: ptr(cohort.RoleAccountant),
		Status: ptr(cohort.StatusArchived)})
	e := wantCode(t, err, cohort.ECONFLICT)
	if !strings.Contains(e.Message, "account owner") {
		t.Fatalf("message = %q", e.Message)
	}
	unchanged(owner, ownerTok)
	if n := len(f.audit(t, owner.ID)); n != ownerAudit {
		t.Fatalf("%d audit entries after a refused update, want %d", n, ownerAudit)
	}

	// A refusal of a field (a taken email) rolls back the archive too.
	_, err = f.s.Users.UpdateUser(f.ctx, u.ID, cohort.UserUpdate{Email: ptr(taken.Email), Status: ptr(cohort.StatusArchived)})
	wantCode(t, err, cohort.ECONFLICT)
	unchanged(u, tok)

	// A stale version refuses the whole update.
	_, err = f.s.Users.UpdateUser(f.ctx, u.ID, cohort.UserUpdate{GivenName: ptr("Late"), Status: ptr(cohort.StatusArchived), IfVersion: u.Version + 1})
	wantCode(t, err, cohort.ESTALE)
	unchanged(u, tok)

	// A status other than active or archived is invalid.
	for _, s := range []cohort.Status{"", "deleted", "ACTIVE"} {
		_, err = f.s.Users.UpdateUser(f.ctx, u.ID, cohort.UserUpdate{GivenName: ptr("Valid"), Status: ptr(s)})
		e := wantCode(t, err, cohort.EINVALID)
		if len(e.Fields["status"]) != 1 || len(e.Fields) != 1 {
			t.Fatalf("status %q: fields = %v", s, e.Fields)
		}
		unchanged(u, tok)
	}
}

// A manager cannot archive themselves through any path (it would end
// their sessions with no way back in): the page forbade it, but an import
// with their own row set to archived did it. The store refuses it for
// every interface; another manager may still archive them.
func testNoSelfArchive(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	m := f.user(t, "Mia", "Manager", cohort.RolePracticeManager)
	asM := f.as(m)
	seq := f.lastSeq(t)
	_, err := f.s.Imports.ImportUsers(asM, []cohort.UserImport{
		{Row: 2, Email: m.Email, GivenName: m.GivenName, FamilyName: m.FamilyName, Role: m.Role, Status: cohort.StatusArchived}})
	var ie *cohort.ImportError
	if !errors.As(err, &ie) || len(ie.Rows) != 1 || ie.Rows[0].Row != 2 || ie.Rows[0].Column != "status" ||
		!strings.Contains(ie.Rows[0].Message, "cannot archive yourself") {
		t.Fatalf("import archiving oneself: %v", err)
	}
	_, err = f.s.Users.ArchiveUser(asM, m.ID, 0)
	wantCode(t, err, cohort.ECONFLICT)
	_, err = f.s.Users.UpdateUser(asM, m.ID, cohort.UserUpdate{Status: ptr(cohort.StatusArchived)})
	wantCode(t, err, cohort.ECONFLICT)
	if got, err := f.s.Users.FindUserByID(f.ctx, m.ID); err != nil || got.Archived() || len(f.events(t, seq)) != 0 {
		t.Fatalf("a refused self-archive changed something: %+v %v", got, err)
	}
	if _, err := f.s.Imports.ImportUsers(f.ctx, []cohort.UserImport{
		{Row: 2, Email: m.Email, GivenName: m.GivenName, FamilyName: m.FamilyName, Role: m.Role, Status: cohort.StatusArchived}}); err != nil {
		t.Fatalf("another manager archiving them by import: %v", err)
	}
}
