package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
)

// historyItems returns the History section's sentences.
func historyItems(t *testing.T, p *page) []string {
	t.Helper()
	var out []string
	for _, li := range p.doc.One(t, "section.history").All("ol.history-list li") {
		out = append(out, li.Text())
	}
	return out
}

// A group's History says who did what to whom and when, in plain words,
// newest first, on the edit page and the read-only page, and exports as
// CSV.
func TestGroupHistory(t *testing.T) {
	e := newEnv(t)
	sys := e.system()
	mk := func(given, family string, role cohort.Role) *cohort.User {
		u, err := e.svc.Users.CreateUser(sys, cohort.UserCreate{Email: strings.ToLower(given) + "@riverside.test",
			GivenName: given, FamilyName: family, Role: role, Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	priya := mk("Priya", "Shah", cohort.RolePracticeManager)
	tom := mk("Tom", "Nguyen", cohort.RolePractitioner)
	zoe := mk("Zoë", "O'Connor", cohort.RolePractitioner)
	g, err := e.svc.Groups.CreateGroup(e.as(priya), cohort.GroupCreate{Name: "Telehealth"})
	if err != nil {
		t.Fatal(err)
	}

	// Priya adds Tom and Zoë through the edit form.
	b := e.browser()
	b.signIn(priya)
	edit := b.get("/settings/groups/" + g.ID + "/edit")
	wantStatus(t, edit, http.StatusOK)
	saved := b.post("/settings/groups/"+g.ID+"/edit", url.Values{
		"name": {"Telehealth"}, "description": {""}, "version": {fmt.Sprint(g.Version)}, "op": {"save"},
		"shown": {tom.ID, zoe.ID}, "member": {tom.ID, zoe.ID},
	})
	wantStatus(t, saved, http.StatusSeeOther)
	edit = b.get("/settings/groups/" + g.ID + "/edit")
	items := historyItems(t, edit)
	sentence := regexp.MustCompile(`^Priya Shah added Tom Nguyen and Zoë O'Connor — \d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}$`)
	if len(items) != 2 || !sentence.MatchString(items[0]) || !strings.HasPrefix(items[1], "Priya Shah created the group “Telehealth” — ") {
		t.Fatalf("history: %q", items)
	}
	tm := edit.doc.All("section.history li time")[0]
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d`).MatchString(tm.Attr("datetime")) {
		t.Errorf("time element %q", tm.Attr("datetime"))
	}

	// Rename, remove, archive: each in plain words, newest first, also on
	// the read-only page of the archived group.
	cur, _ := e.svc.Groups.FindGroupByID(sys, g.ID)
	name := "Telehealth providers"
	if _, _, err := e.svc.Groups.UpdateGroup(e.as(priya), g.ID, cohort.GroupUpdate{Name: &name, IfVersion: cur.Version}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Groups.UpdateGroup(e.as(e.owner), g.ID, cohort.GroupUpdate{Remove: []string{tom.ID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Groups.ArchiveGroup(e.as(priya), g.ID, 0); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/settings/groups/" + g.ID + "/edit", "/settings/groups/" + g.ID} {
		p := b.get(path)
		wantStatus(t, p, http.StatusOK)
		items := historyItems(t, p)
		want := []string{
			"Priya Shah archived the group",
			"Olive Owner removed Tom Nguyen",
			"Priya Shah renamed the group from “Telehealth” to “Telehealth providers”",
			"Priya Shah added Tom Nguyen and Zoë O'Connor",
			"Priya Shah created the group “Telehealth”",
		}
		if len(items) != len(want) {
			t.Fatalf("%s history: %q", path, items)
		}
		for i, w := range want {
			if !strings.HasPrefix(items[i], w+" — ") {
				t.Errorf("%s item %d = %q, want %q …", path, i, items[i], w)
			}
		}
		log := p.doc.One(t, "section.history a[href=/settings/audit?target_id="+g.ID+"&target_type=group]")
		if log.Text() == "" {
			t.Error("no link to the audit log filtered to the group")
		}
		if p.doc.One(t, "section.history a[download]").Attr("href") != "/settings/groups/"+g.ID+"/history.csv" {
			t.Error("no CSV export link")
		}
	}

	// The link opens the audit log filtered to exactly these entries.
	logPage := b.get("/settings/audit?target_id=" + g.ID + "&target_type=group")
	if n := len(logPage.doc.All("table.audit tbody tr[data-entry-id]")); n != 5 {
		t.Errorf("filtered audit log has %d entries", n)
	}

	// CSV export of the group's history.
	recs := readCSV(t, b.get("/settings/groups/"+g.ID+"/history.csv"))
	if len(recs) != 6 {
		t.Fatalf("history.csv: %v", recs)
	}
	desc := column(recs, "description")
	if desc[1] != "Removed Tom Nguyen" || desc[3] != "Added Tom Nguyen and Zoë O'Connor" {
		t.Errorf("descriptions %q", desc)
	}
	for _, id := range column(recs, "target_id") {
		if id != g.ID {
			t.Errorf("another record in the export: %s", id)
		}
	}

	// Staff who may not read the audit log see no History and cannot
	// export it; an unknown group is 404.
	r := e.browser()
	r.signIn(e.byRole[cohort.RoleReceptionist])
	if p := r.get("/settings/groups/" + g.ID); len(p.doc.All("section.history")) != 0 {
		t.Error("a receptionist sees the History")
	}
	if p := r.get("/settings/groups/" + g.ID + "/history.csv"); p.status != http.StatusForbidden {
		t.Errorf("receptionist history.csv: %d", p.status)
	}
	for _, id := range []string{"no-such-group", "%00", strings.Repeat("g", 100)} {
		if p := b.get("/settings/groups/" + id + "/history.csv"); p.status != http.StatusNotFound {
			t.Errorf("history.csv of %q: %d", id, p.status)
		}
	}
}

// Many people in one change are named up to a limit, then counted, and
// their names come from the store even when they are archived.
func TestGroupHistoryManyMembers(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := range 13 {
		u, err := e.svc.Users.CreateUser(e.system(), cohort.UserCreate{Email: fmt.Sprintf("p%02d@riverside.test", i),
			GivenName: fmt.Sprintf("P%02d", i), FamilyName: "Person", Role: cohort.RolePractitioner})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	if _, err := e.svc.Users.ArchiveUser(e.system(), ids[0], 0); err != nil {
		t.Fatal(err)
	}
	g, err := e.svc.Groups.CreateGroup(e.as(e.owner), cohort.GroupCreate{Name: "Big", MemberIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn(e.owner)
	items := historyItems(t, b.get("/settings/groups/"+g.ID+"/edit"))
	if len(items) != 1 || !strings.HasPrefix(items[0], "Olive Owner created the group “Big” with ") || !strings.Contains(items[0], "P00 Person") ||
		!strings.Contains(items[0], "P09 Person and 3 others — ") || strings.Contains(items[0], "P10") || strings.Contains(items[0], "unknown") {
		t.Errorf("history: %q", items)
	}
}
