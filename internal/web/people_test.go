package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
)

// The staff attributes are edited on Add user / Edit user, shown on the
// user's page and in the Directory, and checked by the domain's rule.
func TestStaffAttributesOnThePages(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.owner)

	form := b.get("/settings/users/new")
	wantStatus(t, form, http.StatusOK)
	for id, label := range map[string]string{"job_title": "Job title (optional)", "location": "Location (optional)",
		"phone": "Phone or extension (optional)", "employment_type": "Employment type (optional)"} {
		if got := form.doc.One(t, "label[for="+id+"]").Text(); got != label {
			t.Errorf("label of %s = %q, want %q", id, got, label)
		}
	}
	res := b.post("/settings/users/new", url.Values{"given_name": {"Grace"}, "family_name": {"Turner"},
		"email": {"grace.t@riverside.test"}, "role": {"practitioner"}, "password": {testPassword},
		"job_title": {" Paediatric  physiotherapist "}, "location": {"Bondi Junction"}, "phone": {"ext 204"}, "employment_type": {"Part-time"}})
	user := b.follow(res)
	wantStatus(t, user, http.StatusOK)
	dl := map[string]string{}
	dts, dds := user.doc.All("dl.details dt"), user.doc.All("dl.details dd")
	for i := range dts {
		dl[dts[i].Text()] = dds[i].Text()
	}
	for k, v := range map[string]string{"Job title": "Paediatric physiotherapist", "Location": "Bondi Junction", "Phone": "ext 204", "Employment type": "Part-time"} {
		if dl[k] != v {
			t.Errorf("user page %s = %q, want %q", k, dl[k], v)
		}
	}

	// A bad value is refused by the domain's rule, marked on its field.
	userPath, _, _ := strings.Cut(res.Location(), "?")
	edit := b.get(userPath + "/edit")
	version := edit.doc.One(t, "input[name=version]").Attr("value")
	if edit.doc.One(t, "input#location").Attr("value") != "Bondi Junction" {
		t.Error("Edit user does not show the location")
	}
	bad := b.post(userPath+"/edit", url.Values{"version": {version}, "given_name": {"Grace"}, "family_name": {"Turner"},
		"email": {"grace.t@riverside.test"}, "role": {"practitioner"}, "job_title": {"Physio\u200btherapist"}, "phone": {"call me"}})
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	if !strings.Contains(bad.doc.One(t, "p#job_title-error").Text(), "invisible character") ||
		!strings.Contains(bad.doc.One(t, "p#phone-error").Text(), "cannot contain") {
		t.Errorf("field errors not shown:\n%s", bad.body)
	}
	if bad.doc.One(t, "input#phone").Attr("aria-invalid") != "true" {
		t.Error("phone not marked invalid")
	}
	// Clearing a field clears the attribute.
	ok := b.post(userPath+"/edit", url.Values{"version": {version}, "given_name": {"Grace"}, "family_name": {"Turner"},
		"email": {"grace.t@riverside.test"}, "role": {"practitioner"}, "job_title": {"Physiotherapist"}, "location": {"Coogee"}})
	wantStatus(t, ok, http.StatusSeeOther)
	page := b.follow(ok)
	if strings.Contains(page.body, "ext 204") {
		t.Error("a cleared phone is still shown")
	}

	// The Directory, for any staff member, shows them.
	staff := e.browser()
	staff.signIn(e.staff[0])
	dir := staff.get("/directory?q=grace")
	wantStatus(t, dir, http.StatusOK)
	rows := dir.doc.All("table.directory tbody tr")
	if len(rows) != 1 {
		t.Fatalf("directory rows = %d", len(rows))
	}
	if rows[0].One(t, "td.person-job").Text() != "Physiotherapist" || rows[0].One(t, "td.person-location").Text() != "Coogee" {
		t.Errorf("directory row = %q", rows[0].Text())
	}
	heads := []string{}
	for _, th := range dir.doc.All("table.directory thead th") {
		heads = append(heads, th.Text())
	}
	if strings.Join(heads, "|") != "Name|Email|Role|Job title|Location|Phone|Groups" {
		t.Errorf("directory columns = %v", heads)
	}
}

// Two people of one name are told apart in the picker by email, role and
// attributes; the search matches role names and attributes; role and
// location filter it, with and without the script.
func TestPickerTellsPeopleApart(t *testing.T) {
	e := newEnv(t)
	sys := e.system()
	mk := func(email string, role cohort.Role, a cohort.StaffAttributes) *cohort.User {
		u, err := e.svc.Users.CreateUser(sys, cohort.UserCreate{Email: email, GivenName: "Grace", FamilyName: "Turner", Role: role, StaffAttributes: a})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	physio := mk("grace.t@riverside.test", cohort.RolePractitioner, cohort.StaffAttributes{JobTitle: "Physiotherapist", Location: "Bondi Junction"})
	desk := mk("g.turner@riverside.test", cohort.RoleReceptionist, cohort.StaffAttributes{Location: "Coogee", Phone: "ext 12"})
	b := e.browser()
	b.signIn(e.owner)
	form := b.get("/settings/groups/new")
	res := b.post("/settings/groups/new", url.Values{"op": {"search"}, "q": {"Grace Turner"}})
	wantStatus(t, res, http.StatusOK)
	rows := res.doc.All("#picker-results li.picker-row")
	if len(rows) != 2 {
		t.Fatalf("rows for Grace Turner = %d", len(rows))
	}
	labels := map[string]string{}
	for _, r := range rows {
		labels[r.One(t, "input[name=member]").Attr("value")] = r.One(t, "label").Text() + " | " + r.One(t, "span.person-details").Text()
	}
	if labels[physio.ID] != "Grace Turner grace.t@riverside.test | Practitioner · Physiotherapist · Bondi Junction" ||
		labels[desk.ID] != "Grace Turner g.turner@riverside.test | Receptionist · Coogee · ext 12" {
		t.Errorf("rows = %q", labels)
	}
	// Role names and attributes are searched.
	for q, want := range map[string]string{"Receptionist": desk.ID, "physio": physio.ID, "coogee": desk.ID} {
		res := b.post("/settings/groups/new", url.Values{"op": {"search"}, "q": {q}})
		got := []string{}
		for _, in := range res.doc.All("#picker-results input[name=member]") {
			got = append(got, in.Attr("value"))
		}
		if !containsID(got, want) || q != "Receptionist" && len(got) != 1 {
			t.Errorf("search %q found %v, want %s", q, got, want)
		}
	}
	// The filters, in the form and for the script.
	var locs []string
	for _, o := range form.doc.All("select#picker-location option") {
		locs = append(locs, o.Text())
	}
	if strings.Join(locs, "|") != "Any location|Bondi Junction|Coogee" {
		t.Errorf("location choices = %v", locs)
	}
	res = b.post("/settings/groups/new", url.Values{"op": {"search"}, "picker_role": {"receptionist"}, "picker_location": {"Coogee"}})
	if got := shownIDs(res); len(got) != 1 || got[0] != desk.ID {
		t.Errorf("filtered to %v", got)
	}
	if res.doc.One(t, "select#picker-role option[selected]").Attr("value") != "receptionist" {
		t.Error("the role filter is not kept")
	}
	frag := b.get("/settings/groups/picker?" + url.Values{"location": {"Bondi Junction"}}.Encode())
	wantStatus(t, frag, http.StatusOK)
	if got := frag.doc.All("input[name=member]"); len(got) != 1 || got[0].Attr("value") != physio.ID {
		t.Errorf("fragment filtered by location: %d rows", len(got))
	}
	if !strings.Contains(frag.doc.One(t, "p.picker-status").Text(), "who are at Bondi Junction") {
		t.Errorf("status = %q", frag.doc.One(t, "p.picker-status").Text())
	}
}

func containsID(list []string, id string) bool {
	for _, s := range list {
		if s == id {
			return true
		}
	}
	return false
}

// The Selected panel without the script: every choice, carried across
// searches, is listed with a button that takes it out; on Edit the
// pending change is "+ added / − removed"; Save says what it changed.
func TestSelectedPanelWithoutScript(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.owner)
	ann, ben, cat := e.staff[0], e.staff[1], e.staff[2]

	form := b.get("/settings/groups/new")
	if got := form.doc.One(t, "#selected-count").Text(); got != "0 users selected." {
		t.Errorf("empty panel says %q", got)
	}
	// Tick Ann, search for Ben and tick him: both are in the panel.
	res := b.post("/settings/groups/new", url.Values{"op": {"search"}, "q": {"ben"}, "shown": shownIDs(form), "member": ids(ann)})
	res = b.post("/settings/groups/new", url.Values{"op": {"search"}, "q": {""}, "shown": shownIDs(res), "member": ids(ben),
		"keep_add": keepAdds(res)})
	entries := selectedEntries(t, res)
	if strings.Join(entries, "|") != "Ann Abbott ann@riverside.test Remove Ann Abbott (ann@riverside.test)|Ben Brown ben@riverside.test Remove Ben Brown (ben@riverside.test)" {
		t.Errorf("selected = %q", entries)
	}
	if got := res.doc.One(t, "#selected-count").Text(); got != "2 users selected." {
		t.Errorf("count = %q", got)
	}
	// Remove Ann from the panel: she is unticked and gone.
	res = b.post("/settings/groups/new", url.Values{"unpick": {ann.ID}, "shown": shownIDs(res), "member": ids(ann, ben)})
	wantStatus(t, res, http.StatusOK)
	if entries := selectedEntries(t, res); len(entries) != 1 || !strings.HasPrefix(entries[0], "Ben Brown") {
		t.Errorf("after Remove: %q", entries)
	}
	if checkedIDs(res)[ann.ID] || !checkedIDs(res)[ben.ID] {
		t.Error("the picker does not follow the panel")
	}

	// Edit: Ann and Ben are members; remove Ann, add Cat.
	g := e.createGroup("Physiotherapists", ann, ben)
	edit := b.get("/settings/groups/" + g.ID + "/edit")
	version := edit.doc.One(t, "input[name=version]").Attr("value")
	res = b.post("/settings/groups/"+g.ID+"/edit", url.Values{"op": {"search"}, "version": {version}, "name": {"Physiotherapists"},
		"shown": shownIDs(edit), "member": ids(ben, cat)})
	if got := res.doc.One(t, "#selected-count").Text(); got != "2 users after Save: 2 now, + 1 added, − 1 removed." {
		t.Errorf("edit count = %q", got)
	}
	if a := res.doc.All("#selected-added li.selected-entry"); len(a) != 1 || a[0].Attr("data-id") != cat.ID {
		t.Errorf("added entries = %d", len(a))
	}
	removed := res.doc.All("#selected-removed li.selected-entry")
	if len(removed) != 1 || removed[0].Attr("data-id") != ann.ID || !strings.HasPrefix(removed[0].Text(), "− Ann Abbott") {
		t.Fatalf("removed entries = %d", len(removed))
	}
	if removed[0].One(t, "button[name=unpick]").Text() != "Keep Ann Abbott (ann@riverside.test)" {
		t.Errorf("keep button = %q", removed[0].One(t, "button").Text())
	}
	save := b.post("/settings/groups/"+g.ID+"/edit", url.Values{"op": {"save"}, "version": {version}, "name": {"Physiotherapists"},
		"shown": shownIDs(res), "member": ids(ben, cat)})
	list := b.follow(save)
	if got := list.doc.One(t, "div.flash").Text(); got != `Group "Physiotherapists" saved. Added 1, removed 1.` {
		t.Errorf("flash = %q", got)
	}
}

// selectedEntries are the Selected panel's entries as text.
func selectedEntries(t *testing.T, p *page) []string {
	t.Helper()
	var out []string
	for _, li := range p.doc.All("#selected li.selected-entry") {
		out = append(out, strings.Join(strings.Fields(li.Text()), " "))
	}
	return out
}

func keepAdds(p *page) []string {
	var out []string
	for _, in := range p.doc.All("#picker-keep input[name=keep_add]") {
		out = append(out, in.Attr("value"))
	}
	return out
}
