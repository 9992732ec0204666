package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
)

func testGroupCreate(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	us := f.users(t, 3)
	seq := f.lastSeq(t)
	g, err := f.s.Groups.CreateGroup(f.ctx, cohort.GroupCreate{Name: "  Physiotherapists  ", Description: " Hands on ",
		MemberIDs: append(ids(us...), us[0].ID)})
	must(t, err)
	if g.Name != "Physiotherapists" || g.Description != "Hands on" || g.Status != cohort.StatusActive || g.Version != 1 ||
		g.MemberCount != 3 || g.ArchivedMemberCount != 0 || g.CreatedBy != "Olive Owner" {
		t.Fatalf("created group = %+v", g)
	}
	got := f.getGroup(t, g.ID)
	if got.Name != g.Name || got.MemberCount != 3 || !got.CreatedAt.Equal(g.CreatedAt) || !got.UpdatedAt.Equal(g.UpdatedAt) {
		t.Fatalf("stored group = %+v, created %+v", got, g)
	}
	if got.CreatedAt != g.CreatedAt {
		t.Fatalf("time does not round-trip exactly: %v vs %v", got.CreatedAt, g.CreatedAt)
	}
	if m := f.memberIDs(t, g.ID); !sameSet(m, ids(us...)) {
		t.Fatalf("members = %v", m)
	}
	au := f.audit(t, g.ID)
	if len(au) != 1 || au[0].Action != cohort.ActionGroupCreated || au[0].ActorUserID != f.owner.ID ||
		au[0].ActorName != "Olive Owner" || au[0].Via != cohort.ViaWeb || au[0].RequestID == "" || au[0].TargetName != "Physiotherapists" {
		t.Fatalf("audit = %+v", au)
	}
	ev := f.events(t, seq)
	if len(ev) != 1 || ev[0].Type != cohort.ActionGroupCreated || ev[0].WorkspaceID != f.ws.ID {
		t.Fatalf("events = %+v", ev)
	}
	data := decode(t, ev[0].Data)
	shape := data["group"].(map[string]any)
	for _, k := range []string{"id", "name", "description", "status", "member_count", "version", "created_at", "updated_at", "archived_at"} {
		if _, ok := shape[k]; !ok {
			t.Errorf("event group shape lacks %q: %v", k, shape)
		}
	}
	if shape["id"] != g.ID || shape["member_count"].(float64) != 3 {
		t.Fatalf("event data = %v", data)
	}
}

func testGroupNameRules(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	seq := f.lastSeq(t)
	for _, tc := range []struct{ name, field string }{
		{"", "name"},
		{"   \t ", "name"},
		{strings.Repeat("x", 101), "name"},
		{"Bad\x07name", "name"},
	} {
		_, err := f.s.Groups.CreateGroup(f.ctx, cohort.GroupCreate{Name: tc.name})
		e := wantCode(t, err, cohort.EINVALID)
		if len(e.Fields[tc.field]) == 0 || e.Message == "" {
			t.Errorf("name %q: error %+v has no message for %s", tc.name, e, tc.field)
		}
	}
	_, err := f.s.Groups.CreateGroup(f.ctx, cohort.GroupCreate{Name: "Ok", Description: strings.Repeat("d", 501)})
	wantCode(t, err, cohort.EINVALID)
	// Spaces collapse; a line break or tab inside a name is refused, as
	// every control character is in a one-line field.
	_, err = f.s.Groups.CreateGroup(f.ctx, cohort.GroupCreate{Name: "After hours\n clinicians"})
	wantCode(t, err, cohort.EINVALID)
	g, err := f.s.Groups.CreateGroup(f.ctx, cohort.GroupCreate{Name: " After   hours \u3000clinicians\n"})
	must(t, err)
	if g.Name != "After hours clinicians" {
		t.Fatalf("name not normalised: %q", g.Name)
	}
	if g100, err := f.s.Groups.CreateGroup(f.ctx, cohort.GroupCreate{Name: strings.Repeat("é", 100)}); err != nil || g100.Name != strings.Repeat("é", 100) {
		t.Fatalf("100-character name refused: %v", err)
	}
	if ev := f.events(t, seq); len(ev) != 2 {
		t.Fatalf("refused creates wrote events: %d events", len(ev))
	}
}

func testGroupNameUnique(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	g := f.group(t, "Physiotherapists")
	seq := f.lastSeq(t)
	for _, name := range []string{"physiotherapists", "PHYSIOTHERAPISTS", "  Physiotherapists ", "physioTherapists"} {
		_, err := f.s.Groups.CreateGroup(f.ctx, cohort.GroupCreate{Name: name})
		e := wantCode(t, err, cohort.ECONFLICT)
		want := `A group named "Physiotherapists" already exists. Choose another name.`
		if e.Message != want || e.Detail["group_id"] != g.ID || e.Detail["group_name"] != "Physiotherapists" || len(e.Fields["name"]) == 0 {
			t.Fatalf("conflict = %+v", e)
		}
	}
	// Renaming another group into the name is refused the same way.
	other := f.group(t, "Psychologists")
	_, _, err := f.s.Groups.UpdateGroup(f.ctx, other.ID, cohort.GroupUpdate{Name: ptr("PHYSIOTHERAPISTS")})
	wantCode(t, err, cohort.ECONFLICT)
	// Changing only the letter case of a group's own name is allowed.
	g2, _, err := f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{Name: ptr("physiotherapists")})
	must(t, err)
	if g2.Name != "physiotherapists" || g2.Version != 2 {
		t.Fatalf("case rename = %+v", g2)
	}
	// An archived group's name is free for a new group, and FindArchivedByName points it out.
	_, err = f.s.Groups.ArchiveGroup(f.ctx, g.ID, 0)
	must(t, err)
	arch, err := f.s.Groups.FindArchivedByName(f.ctx, " PhysioTherapists ")
	must(t, err)
	if len(arch) != 1 || arch[0].ID != g.ID {
		t.Fatalf("FindArchivedByName = %v", arch)
	}
	n, err := f.s.Groups.CreateGroup(f.ctx, cohort.GroupCreate{Name: "Physiotherapists"})
	must(t, err)
	if n.ID == g.ID {
		t.Fatal("new group reused the archived group's ID")
	}
	// Another workspace may use the same name.
	f2 := newFixture(t, db)
	f2.group(t, "Physiotherapists")
	// Refusals wrote nothing: exactly rename(1) + archive(1) + create(1) events since seq in f.
	if ev := f.events(t, seq); len(ev) != 4 {
		t.Fatalf("events after refusals = %d, want 4 (create Psychologists, rename, archive, create)", len(ev))
	}
}

func testGroupUpdate(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	g := f.group(t, "Admin team")
	g2, mc, err := f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{Name: ptr("Admin  staff "), Description: ptr("Front desk"), IfVersion: 1})
	must(t, err)
	if g2.Name != "Admin staff" || g2.Description != "Front desk" || g2.Version != 2 || len(mc.Added)+len(mc.Removed) != 0 {
		t.Fatalf("updated = %+v %+v", g2, mc)
	}
	if !g2.UpdatedAt.After(g.UpdatedAt) && !g2.UpdatedAt.Equal(g.UpdatedAt) {
		t.Fatalf("updated_at went back")
	}
	// Saving the same values is no change: no version bump, no audit.
	seq := f.lastSeq(t)
	g3, _, err := f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{Name: ptr("Admin staff"), Description: ptr("Front desk"), IfVersion: 2})
	must(t, err)
	if g3.Version != 2 || len(f.events(t, seq)) != 0 {
		t.Fatalf("no-op update changed version to %d", g3.Version)
	}
	au := f.audit(t, g.ID)
	if len(au) != 2 || au[1].Action != cohort.ActionGroupUpdated {
		t.Fatalf("audit = %+v", au)
	}
	ch := decode(t, au[1].Changes)
	if n := ch["name"].(map[string]any); n["from"] != "Admin team" || n["to"] != "Admin staff" {
		t.Fatalf("audit changes = %s", au[1].Changes)
	}
	ev := f.events(t, 0)
	last := ev[len(ev)-1]
	if last.Type != cohort.ActionGroupUpdated || decode(t, last.Data)["changes"] == nil {
		t.Fatalf("update event = %s %s", last.Type, last.Data)
	}
	// Unknown and foreign IDs are not found.
	_, _, err = f.s.Groups.UpdateGroup(f.ctx, "nope", cohort.GroupUpdate{Name: ptr("x")})
	if e := wantCode(t, err, cohort.ENOTFOUND); e.Message != "No group with that ID." {
		t.Fatalf("message = %q", e.Message)
	}
}

func testGroupStale(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	us := f.users(t, 2)
	g := f.group(t, "Telehealth providers", us[0])
	_, _, err := f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{Name: ptr("Telehealth"), IfVersion: 1})
	must(t, err)
	seq := f.lastSeq(t)
	nAudit := len(f.audit(t, g.ID))
	_, _, err = f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{Name: ptr("Video"), Add: ids(us[1]), IfVersion: 1})
	e := wantCode(t, err, cohort.ESTALE)
	if e.Message != "This group was changed by someone else since you opened it. The current version is shown; make your change again." {
		t.Fatalf("stale message = %q", e.Message)
	}
	cur := f.getGroup(t, g.ID)
	if cur.Name != "Telehealth" || cur.Version != 2 || cur.MemberCount != 1 {
		t.Fatalf("stale write changed the group: %+v", cur)
	}
	if len(f.events(t, seq)) != 0 || len(f.audit(t, g.ID)) != nAudit {
		t.Fatal("stale write left audit or events")
	}
	// A replacement of all members is checked the same way.
	_, _, err = f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{ReplaceMembers: &[]string{}, IfVersion: 1})
	wantCode(t, err, cohort.ESTALE)
	// Deltas without a version always apply.
	_, mc, err := f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{Add: ids(us[1])})
	must(t, err)
	if len(mc.Added) != 1 {
		t.Fatalf("delta = %+v", mc)
	}
}

func testGroupArchiveRestore(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	us := f.users(t, 4)
	g := f.group(t, "Contractors", us...)
	a, err := f.s.Groups.ArchiveGroup(f.ctx, g.ID, 0)
	must(t, err)
	if a.Status != cohort.StatusArchived || a.ArchivedAt == nil || a.Version != 2 || a.MemberCount != 4 {
		t.Fatalf("archived = %+v", a)
	}
	seq := f.lastSeq(t)
	again, err := f.s.Groups.ArchiveGroup(f.ctx, g.ID, 0)
	must(t, err)
	if again.Version != 2 || len(f.events(t, seq)) != 0 {
		t.Fatalf("second archive changed something: %+v", again)
	}
	// Archived groups are read-only.
	for _, u := range []cohort.GroupUpdate{{Name: ptr("X")}, {Description: ptr("x")}, {Add: ids(us[0])}, {Remove: ids(us[0])}, {ReplaceMembers: &[]string{}}} {
		_, _, err := f.s.Groups.UpdateGroup(f.ctx, g.ID, u)
		e := wantCode(t, err, cohort.EARCHIVED)
		if e.Message != "This group is archived and cannot be edited. Restore it first." {
			t.Fatalf("message = %q", e.Message)
		}
	}
	// Lists by status.
	act, err := f.s.Groups.FindGroups(f.ctx, cohort.GroupFilter{Status: cohort.StatusActive})
	must(t, err)
	arc, err := f.s.Groups.FindGroups(f.ctx, cohort.GroupFilter{Status: cohort.StatusArchived})
	must(t, err)
	if act.Total != 0 || arc.Total != 1 || arc.Groups[0].ID != g.ID {
		t.Fatalf("active %d archived %d", act.Total, arc.Total)
	}
	na, nr, err := f.s.Groups.CountGroups(f.ctx)
	must(t, err)
	if na != 0 || nr != 1 {
		t.Fatalf("CountGroups = %d, %d", na, nr)
	}
	r, err := f.s.Groups.RestoreGroup(f.ctx, g.ID, "", 0)
	must(t, err)
	if r.Status != cohort.StatusActive || r.ArchivedAt != nil || r.Version != 3 || r.MemberCount != 4 || r.Name != "Contractors" {
		t.Fatalf("restored = %+v", r)
	}
	if m := f.memberIDs(t, g.ID); !sameSet(m, ids(us...)) {
		t.Fatalf("members after restore = %v", m)
	}
	seq = f.lastSeq(t)
	r2, err := f.s.Groups.RestoreGroup(f.ctx, g.ID, "", 0)
	must(t, err)
	if r2.Version != 3 || len(f.events(t, seq)) != 0 {
		t.Fatal("second restore changed something")
	}
	var actions []string
	for _, e := range f.audit(t, g.ID) {
		actions = append(actions, e.Action)
	}
	if want := "group.created group.archived group.restored"; strings.Join(actions, " ") != want {
		t.Fatalf("audit actions = %v, want %s", actions, want)
	}
	var types []string
	for _, e := range f.events(t, 0) {
		if strings.HasPrefix(e.Type, "group.") {
			types = append(types, e.Type)
		}
	}
	if want := "group.created group.archived group.restored"; strings.Join(types, " ") != want {
		t.Fatalf("event types = %v, want %s", types, want)
	}
}

func testGroupRestoreTaken(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	old := f.group(t, "Physiotherapists")
	_, err := f.s.Groups.ArchiveGroup(f.ctx, old.ID, 0)
	must(t, err)
	now := f.group(t, "physiotherapists")
	seq := f.lastSeq(t)
	_, err = f.s.Groups.RestoreGroup(f.ctx, old.ID, "", 0)
	e := wantCode(t, err, cohort.ECONFLICT)
	if e.Message != `An active group is already named "physiotherapists". Restore this one under another name.` ||
		e.Detail["offer"] != "rename" || e.Detail["group_id"] != now.ID || e.Detail["group_name"] != "physiotherapists" {
		t.Fatalf("conflict = %+v", e)
	}
	if len(f.events(t, seq)) != 0 || f.getGroup(t, old.ID).Status != cohort.StatusArchived {
		t.Fatal("refused restore changed something")
	}
	// A new name that is taken too is refused; a bad one is invalid.
	_, err = f.s.Groups.RestoreGroup(f.ctx, old.ID, "PHYSIOTHERAPISTS", 0)
	wantCode(t, err, cohort.ECONFLICT)
	_, err = f.s.Groups.RestoreGroup(f.ctx, old.ID, strings.Repeat("n", 101), 0)
	wantCode(t, err, cohort.EINVALID)
	r, err := f.s.Groups.RestoreGroup(f.ctx, old.ID, "  Physiotherapists  (2019) ", 0)
	must(t, err)
	if r.Name != "Physiotherapists (2019)" || r.Status != cohort.StatusActive {
		t.Fatalf("restored = %+v", r)
	}
	au := f.audit(t, old.ID)
	ch := decode(t, au[len(au)-1].Changes)
	if ch["name"] == nil || ch["status"] == nil {
		t.Fatalf("restore audit changes = %s", au[len(au)-1].Changes)
	}
}

func testGroupMembers(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	us := f.users(t, 5)
	g := f.group(t, "Practitioners who treat children", us[0], us[1])
	seq := f.lastSeq(t)
	g2, mc, err := f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{Add: ids(us[1], us[2], us[3]), Remove: ids(us[0], us[4])})
	must(t, err)
	if !sameSet(mc.Added, ids(us[2], us[3])) || !sameSet(mc.Removed, ids(us[0])) {
		t.Fatalf("change = %+v", mc)
	}
	if g2.MemberCount != 3 || g2.Version != 2 {
		t.Fatalf("group = %+v", g2)
	}
	if m := f.memberIDs(t, g.ID); !sameSet(m, ids(us[1], us[2], us[3])) {
		t.Fatalf("members = %v", m)
	}
	ev := f.events(t, seq)
	if len(ev) != 1 || ev[0].Type != cohort.ActionGroupMembersChanged {
		t.Fatalf("events = %v", ev)
	}
	d := decode(t, ev[0].Data)
	if len(d["added"].([]any)) != 2 || len(d["removed"].([]any)) != 1 || d["group"] == nil {
		t.Fatalf("event data = %s", ev[0].Data)
	}
	au := f.audit(t, g.ID)
	last := decode(t, au[len(au)-1].Changes)
	if au[len(au)-1].Action != cohort.ActionGroupMembersChanged || len(last["added"].([]any)) != 2 {
		t.Fatalf("audit = %s %s", au[len(au)-1].Action, au[len(au)-1].Changes)
	}
	// Repeating the same change is a no-op: no version bump, no event.
	seq = f.lastSeq(t)
	g3, mc, err := f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{Add: ids(us[1], us[2], us[3]), Remove: ids(us[0], us[4])})
	must(t, err)
	if len(mc.Added)+len(mc.Removed) != 0 || g3.Version != 2 || len(f.events(t, seq)) != 0 {
		t.Fatalf("repeat = %+v %+v", mc, g3)
	}
	// The same ID added and removed at once is refused.
	_, _, err = f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{Add: ids(us[4]), Remove: ids(us[4])})
	wantCode(t, err, cohort.EINVALID)
	// A user's groups.
	p, err := f.s.Users.FindUserGroups(f.ctx, us[2].ID, cohort.GroupFilter{})
	must(t, err)
	if p.Total != 1 || p.Groups[0].ID != g.ID {
		t.Fatalf("FindUserGroups = %+v", p)
	}
	// The picker's "not yet in the group" list.
	rest, err := f.s.Users.FindUsers(f.ctx, cohort.UserFilter{ExcludeGroupID: g.ID, Status: cohort.StatusActive})
	must(t, err)
	if !sameSet(ids(rest.Users...), append(ids(us[0], us[4]), f.owner.ID)) {
		t.Fatalf("ExcludeGroupID = %v", ids(rest.Users...))
	}
}

func testGroupMembersUnknown(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	us := f.users(t, 2)
	other := newFixture(t, db)
	stranger := other.user(t, "Stan", "Ger", cohort.RolePractitioner)
	g := f.group(t, "Admin team", us[0])
	seq := f.lastSeq(t)
	for _, bad := range []string{"no-such-user", stranger.ID} {
		_, _, err := f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{Add: []string{us[1].ID, bad}})
		e := wantCode(t, err, cohort.EINVALID)
		want := fmt.Sprintf("No staff member with ID %s in this practice.", bad)
		if len(e.Fields["member_ids"]) != 1 || e.Fields["member_ids"][0] != want {
			t.Fatalf("fields = %v", e.Fields)
		}
		_, err = f.s.Groups.CreateGroup(f.ctx, cohort.GroupCreate{Name: "New " + bad, MemberIDs: []string{bad}})
		wantCode(t, err, cohort.EINVALID)
	}
	if m := f.memberIDs(t, g.ID); !sameSet(m, ids(us[0])) || len(f.events(t, seq)) != 0 {
		t.Fatalf("refused change changed members: %v", m)
	}
	p, err := f.s.Groups.FindGroups(f.ctx, cohort.GroupFilter{})
	must(t, err)
	if p.Total != 1 {
		t.Fatalf("a refused create left a group: %d groups", p.Total)
	}
}

func testGroupReplace(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	us := f.users(t, 5)
	g := f.group(t, "Psychologists", us[0], us[1], us[2])
	g2, mc, err := f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{ReplaceMembers: ptr(ids(us[2], us[3], us[4])), IfVersion: 1})
	must(t, err)
	if !sameSet(mc.Added, ids(us[3], us[4])) || !sameSet(mc.Removed, ids(us[0], us[1])) || g2.MemberCount != 3 || g2.Version != 2 {
		t.Fatalf("replace = %+v %+v", mc, g2)
	}
	if m := f.memberIDs(t, g.ID); !sameSet(m, ids(us[2], us[3], us[4])) {
		t.Fatalf("members = %v", m)
	}
	g3, mc, err := f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{ReplaceMembers: &[]string{}})
	must(t, err)
	if len(mc.Removed) != 3 || g3.MemberCount != 0 || len(f.memberIDs(t, g.ID)) != 0 {
		t.Fatalf("replace with none = %+v %+v", mc, g3)
	}
}

func testGroupCounts(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	us := f.users(t, 4)
	g := f.group(t, "After-hours clinicians", us...)
	g2 := f.group(t, "Telehealth providers", us[0], us[1])
	_, err := f.s.Users.ArchiveUser(f.ctx, us[0].ID, 0)
	must(t, err)
	for _, tc := range []struct {
		id               string
		active, archived int
	}{{g.ID, 3, 1}, {g2.ID, 1, 1}} {
		got := f.getGroup(t, tc.id)
		if got.MemberCount != tc.active || got.ArchivedMemberCount != tc.archived {
			t.Fatalf("after archiving a member: %s counts %d/%d, want %d/%d", got.Name, got.MemberCount, got.ArchivedMemberCount, tc.active, tc.archived)
		}
	}
	// Membership is kept; the member list can show or hide archived users.
	act, err := f.s.Groups.FindMembers(f.ctx, g.ID, cohort.UserFilter{Status: cohort.StatusActive})
	must(t, err)
	all, err := f.s.Groups.FindMembers(f.ctx, g.ID, cohort.UserFilter{})
	must(t, err)
	if act.Total != 3 || all.Total != 4 {
		t.Fatalf("members active %d all %d", act.Total, all.Total)
	}
	// Removing an archived member lowers the archived counter only.
	g3, _, err := f.s.Groups.UpdateGroup(f.ctx, g2.ID, cohort.GroupUpdate{Remove: ids(us[0])})
	must(t, err)
	if g3.MemberCount != 1 || g3.ArchivedMemberCount != 0 {
		t.Fatalf("counts %d/%d", g3.MemberCount, g3.ArchivedMemberCount)
	}
	_, err = f.s.Users.RestoreUser(f.ctx, us[0].ID, 0)
	must(t, err)
	if got := f.getGroup(t, g.ID); got.MemberCount != 4 || got.ArchivedMemberCount != 0 {
		t.Fatalf("after restore: %d/%d", got.MemberCount, got.ArchivedMemberCount)
	}
	if got := f.getGroup(t, g2.ID); got.MemberCount != 1 || got.ArchivedMemberCount != 0 {
		t.Fatalf("after restore: %d/%d", got.MemberCount, got.ArchivedMemberCount)
	}
	// Adding an archived user counts them as archived.
	_, err = f.s.Users.ArchiveUser(f.ctx, us[3].ID, 0)
	must(t, err)
	g4, _, err := f.s.Groups.UpdateGroup(f.ctx, g2.ID, cohort.GroupUpdate{Add: ids(us[3])})
	must(t, err)
	if g4.MemberCount != 1 || g4.ArchivedMemberCount != 1 {
		t.Fatalf("counts %d/%d", g4.MemberCount, g4.ArchivedMemberCount)
	}
	checkCounters(t, f)
}

// checkCounters compares every group's maintained counters with a count
// of its members.
func checkCounters(t *testing.T, f *fixture) {
	t.Helper()
	p, err := f.s.Groups.FindGroups(f.ctx, cohort.GroupFilter{})
	must(t, err)
	for _, g := range p.Groups {
		act, err := f.s.Groups.FindMembers(f.ctx, g.ID, cohort.UserFilter{Status: cohort.StatusActive, Limit: 1})
		must(t, err)
		arc, err := f.s.Groups.FindMembers(f.ctx, g.ID, cohort.UserFilter{Status: cohort.StatusArchived, Limit: 1})
		must(t, err)
		if g.MemberCount != act.Total || g.ArchivedMemberCount != arc.Total {
			t.Errorf("group %s counters %d/%d, members %d/%d", g.Name, g.MemberCount, g.ArchivedMemberCount, act.Total, arc.Total)
		}
	}
}

func testGroupRenameAndMembers(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	us := f.users(t, 3)
	g := f.group(t, "Admin team", us[0])
	seq := f.lastSeq(t)
	g2, _, err := f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{Name: ptr("Front desk"), Add: ids(us[1], us[2]), Remove: ids(us[0]), IfVersion: 1})
	must(t, err)
	if g2.Version != 2 || g2.MemberCount != 2 {
		t.Fatalf("group = %+v", g2)
	}
	ev := f.events(t, seq)
	if len(ev) != 2 || ev[0].Type != cohort.ActionGroupUpdated || ev[1].Type != cohort.ActionGroupMembersChanged || ev[0].Seq >= ev[1].Seq {
		t.Fatalf("events = %+v", ev)
	}
	au := f.audit(t, g.ID)
	if len(au) != 3 || au[1].Action == au[2].Action {
		t.Fatalf("audit = %d entries", len(au))
	}
}
