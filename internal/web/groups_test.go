package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
)

// shownIDs returns the IDs of every picker checkbox on a form page.
func shownIDs(p *page) []string {
	var ids []string
	for _, in := range p.doc.All("#picker-results input[name=member]") {
		ids = append(ids, in.Attr("value"))
	}
	return ids
}

func checkedIDs(p *page) map[string]bool {
	out := map[string]bool{}
	for _, in := range p.doc.All("#picker-results input[name=member]") {
		if in.Has("checked") {
			out[in.Attr("value")] = true
		}
	}
	return out
}

func ids(us ...*cohort.User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.ID)
	}
	return out
}

// TestGroupsWorkflow follows DESIGN §1 through HTTP with cookies: create
// with three users, edit (rename, −1, +2), archive, find under Archived,
// restore with its users.
func TestGroupsWorkflow(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.owner)

	list := b.get("/settings/groups")
	wantStatus(t, list, http.StatusOK)
	if got := list.doc.One(t, "main h1").Text(); got != "Groups" {
		t.Errorf("h1 = %q", got)
	}
	tabs := list.doc.All("nav.tabs a")
	if len(tabs) != 2 || tabs[0].Text() != "Active (0)" || tabs[1].Text() != "Archived (0)" {
		t.Fatalf("tabs: %v", list.body)
	}
	if list.doc.One(t, "header nav a[href=/settings]").Text() != "Settings" {
		t.Error("top navigation has no Settings link")
	}
	if list.doc.One(t, "nav.settings-nav a[aria-current=page]").Text() != "Groups" {
		t.Error("Settings sub-navigation does not mark Groups")
	}
	if list.doc.One(t, "a.button[href=/settings/groups/new]").Text() != "Add group" {
		t.Error("no Add group link")
	}

	// Add group with three users.
	form := b.get("/settings/groups/new")
	wantStatus(t, form, http.StatusOK)
	if form.doc.One(t, "label[for=name]").Text() != "Name" {
		t.Error("Name field not labelled Name")
	}
	if form.doc.One(t, "label[for=picker-q]").Text() != "Search staff" {
		t.Error("picker search not labelled")
	}
	for _, u := range e.staff {
		if got := form.doc.One(t, "label[for=pick-"+u.ID+"]").Text(); got != u.Name() {
			t.Errorf("checkbox label = %q, want %q", got, u.Name())
		}
	}
	if form.doc.One(t, "button[value=save]").Text() != "Save" {
		t.Error("no Save button")
	}
	three := e.staff[:3]
	res := b.post("/settings/groups/new", url.Values{
		"name": {"  Physiotherapists  "}, "description": {"Everyone who treats"},
		"shown": shownIDs(form), "member": ids(three...), "op": {"save"},
	})
	list = b.follow(res)
	if got := list.doc.One(t, "div.flash").Text(); got != `Group "Physiotherapists" created.` {
		t.Errorf("flash = %q", got)
	}
	row := groupRow(t, list, "Physiotherapists")
	if row == nil {
		t.Fatalf("new group not listed:\n%s", list.body)
	}
	if got := row.One(t, "td.num").Text(); got != "3" {
		t.Errorf("Users = %s, want 3", got)
	}
	if got := row.One(t, "summary").Text(); got != "Actions for Physiotherapists" {
		t.Errorf("menu button = %q", got)
	}
	edit := row.One(t, "details.menu a")
	if edit.Text() != "Edit" {
		t.Errorf("menu link = %q", edit.Text())
	}
	if row.One(t, "details.menu button").Text() != "Archive" {
		t.Error("no Archive button")
	}

	// Edit: rename, remove one, add two.
	form = b.get(edit.Attr("href"))
	wantStatus(t, form, http.StatusOK)
	if form.doc.One(t, "input#name").Attr("value") != "Physiotherapists" {
		t.Error("name not pre-filled")
	}
	checked := checkedIDs(form)
	for _, u := range three {
		if !checked[u.ID] {
			t.Errorf("member %s not checked", u.Name())
		}
	}
	if len(checked) != 3 {
		t.Errorf("%d checked, want 3", len(checked))
	}
	version := form.doc.One(t, "input[name=version]").Attr("value")
	res = b.post(edit.Attr("href"), url.Values{
		"name": {"Physios"}, "version": {version},
		"shown":  shownIDs(form),
		"member": ids(e.staff[1], e.staff[2], e.staff[3], e.staff[4]),
		"op":     {"save"},
	})
	list = b.follow(res)
	if got := list.doc.One(t, "div.flash").Text(); got != `Group "Physios" saved.` {
		t.Errorf("flash = %q", got)
	}
	row = groupRow(t, list, "Physios")
	if row == nil || row.One(t, "td.num").Text() != "4" {
		t.Fatalf("renamed group with 4 users not listed:\n%s", list.body)
	}
	if groupRow(t, list, "Physiotherapists") != nil {
		t.Error("old name still listed")
	}

	// Archive.
	archive := row.One(t, "details.menu form")
	res = b.post(archive.Attr("action"), nil)
	list = b.follow(res)
	if groupRow(t, list, "Physios") != nil {
		t.Error("archived group still in Active")
	}
	if !strings.Contains(list.doc.One(t, "div.flash").Text(), `Group "Physios" archived.`) {
		t.Error("no archive confirmation")
	}
	if got := list.doc.All("nav.tabs a")[1].Text(); got != "Archived (1)" {
		t.Errorf("Archived tab = %q", got)
	}
	archived := b.get(list.doc.All("nav.tabs a")[1].Attr("href"))
	row = groupRow(t, archived, "Physios")
	if row == nil {
		t.Fatalf("Archived does not list the group:\n%s", archived.body)
	}
	if archived.doc.One(t, "nav.tabs a[aria-current=page]").Text() != "Archived (1)" {
		t.Error("Archived tab not current")
	}
	restore := row.One(t, "details.menu form")
	if restore.One(t, "button").Text() != "Restore" {
		t.Error("no Restore on archived row")
	}
	if len(row.All("details.menu a")) != 0 {
		t.Error("archived row offers Edit")
	}

	// Restore: back in Active with its four users.
	list = b.follow(b.post(restore.Attr("action"), nil))
	row = groupRow(t, list, "Physios")
	if row == nil || row.One(t, "td.num").Text() != "4" {
		t.Fatalf("restored group not back with 4 users:\n%s", list.body)
	}
	if got := list.doc.One(t, "div.flash").Text(); got != `Group "Physios" restored.` {
		t.Errorf("flash = %q", got)
	}
}

func TestGroupNameRefusals(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.owner)
	e.createGroup("Telehealth providers")

	cases := []struct {
		name, want string
		status     int
	}{
		{"", "Enter a name for the group.", http.StatusUnprocessableEntity},
		{"   ", "Enter a name for the group.", http.StatusUnprocessableEntity},
		{strings.Repeat("x", 101), "The name is too long: use at most 100 characters.", http.StatusUnprocessableEntity},
		{"TELEHEALTH  providers", `A group named "Telehealth providers" already exists. Choose another name.`, http.StatusConflict},
	}
	for _, c := range cases {
		b.get("/settings/groups/new")
		p := b.post("/settings/groups/new", url.Values{"name": {c.name}, "description": {"kept text"}, "member": {e.staff[0].ID}, "shown": {e.staff[0].ID}, "op": {"save"}})
		wantStatus(t, p, c.status)
		in := p.doc.One(t, "input#name")
		if in.Attr("aria-invalid") != "true" || in.Attr("aria-describedby") != "name-error" {
			t.Errorf("%q: name field not marked: %v", c.name, in.attrs)
		}
		if got := p.doc.One(t, "#name-error").Text(); got != c.want {
			t.Errorf("%q: message %q, want %q", c.name, got, c.want)
		}
		if in.Attr("value") != c.name {
			t.Errorf("%q: input not kept: %q", c.name, in.Attr("value"))
		}
		if p.doc.One(t, "textarea#description").Text() != "kept text" {
			t.Errorf("%q: description not kept", c.name)
		}
		if !checkedIDs(p)[e.staff[0].ID] {
			t.Errorf("%q: selection not kept", c.name)
		}
		if p.doc.One(t, "#form-message").Text() == "" {
			t.Errorf("%q: no summary", c.name)
		}
	}
	if active, _, _ := e.svc.Groups.CountGroups(e.system()); active != 1 {
		t.Errorf("refused forms created groups: %d active", active)
	}

	// Too long a description.
	p := b.post("/settings/groups/new", url.Values{"name": {"Ok"}, "description": {strings.Repeat("d", 501)}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	if p.doc.One(t, "textarea#description").Attr("aria-invalid") != "true" {
		t.Error("description not marked")
	}
}

// An archived group's name is not an error: the form points at it first,
// and a second Save creates the new group.
func TestArchivedNameNote(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.owner)
	old := e.createGroup("Contractors")
	if _, err := e.svc.Groups.ArchiveGroup(e.system(), old.ID, 0); err != nil {
		t.Fatal(err)
	}
	b.get("/settings/groups/new")
	p := b.post("/settings/groups/new", url.Values{"name": {"contractors"}, "member": {e.staff[0].ID}, "shown": {e.staff[0].ID}})
	wantStatus(t, p, http.StatusOK)
	note := p.doc.One(t, "#archived-note")
	if !strings.Contains(note.Text(), "An archived group is named “ Contractors ” — you may want to restore it instead.") {
		t.Errorf("note = %q", note.Text())
	}
	if a := note.One(t, "a"); a.Attr("href") != "/settings/groups/"+old.ID || a.Text() != "Contractors" {
		t.Error("note does not link the archived group")
	}
	ok := p.doc.One(t, "input[name=archived_ok]").Attr("value")
	res := b.post("/settings/groups/new", url.Values{"name": {"contractors"}, "archived_ok": {ok}, "member": {e.staff[0].ID}, "shown": {e.staff[0].ID}})
	list := b.follow(res)
	if row := groupRow(t, list, "contractors"); row == nil || row.One(t, "td.num").Text() != "1" {
		t.Fatalf("second Save did not create the group:\n%s", list.body)
	}
}

// Two editors: the second save is refused and shown the current version.
func TestStaleEdit(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.owner)
	g := e.createGroup("After-hours clinicians", e.staff[0])
	form := b.get("/settings/groups/" + g.ID + "/edit")
	version := form.doc.One(t, "input[name=version]").Attr("value")

	// Someone else renames it meanwhile.
	other := "After hours"
	if _, _, err := e.svc.Groups.UpdateGroup(e.system(), g.ID, cohort.GroupUpdate{Name: &other}); err != nil {
		t.Fatal(err)
	}
	p := b.post("/settings/groups/"+g.ID+"/edit", url.Values{
		"name": {"Mine"}, "version": {version}, "shown": shownIDs(form), "member": {e.staff[1].ID},
	})
	wantStatus(t, p, http.StatusConflict)
	if !strings.Contains(p.doc.One(t, "#form-message").Text(), "changed by someone else") {
		t.Errorf("no stale message:\n%s", p.body)
	}
	if p.doc.One(t, "input#name").Attr("value") != "After hours" {
		t.Error("form does not show the current name")
	}
	if p.doc.One(t, "input[name=version]").Attr("value") == version {
		t.Error("form still carries the old version")
	}
	cur, _ := e.svc.Groups.FindGroupByID(e.system(), g.ID)
	if cur.Name != "After hours" || cur.MemberCount != 1 {
		t.Errorf("stale save changed the group: %+v", cur)
	}
	// Saving the re-rendered form now works.
	res := b.post("/settings/groups/"+g.ID+"/edit", url.Values{
		"name": {"Mine"}, "version": {p.doc.One(t, "input[name=version]").Attr("value")}, "shown": shownIDs(p), "member": shownIDs(p),
	})
	wantStatus(t, res, http.StatusSeeOther)
}

func TestArchivedGroupReadOnly(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.owner)
	g := e.createGroup("Admin team", e.staff[0])
	form := b.get("/settings/groups/" + g.ID + "/edit")
	version := form.doc.One(t, "input[name=version]").Attr("value")
	if _, err := e.svc.Groups.ArchiveGroup(e.system(), g.ID, 0); err != nil {
		t.Fatal(err)
	}
	p := b.get("/settings/groups/" + g.ID + "/edit")
	wantStatus(t, p, http.StatusOK)
	if len(p.doc.All("form#group-form")) != 0 {
		t.Error("archived group offers the edit form")
	}
	if p.doc.One(t, "form[action=/settings/groups/"+g.ID+"/restore] button").Text() != "Restore" {
		t.Error("no Restore button")
	}
	if !strings.Contains(p.body, "archived, so it cannot be edited") {
		t.Error("no explanation")
	}
	p = b.post("/settings/groups/"+g.ID+"/edit", url.Values{"name": {"New"}, "version": {version}})
	wantStatus(t, p, http.StatusConflict)
	if cur, _ := e.svc.Groups.FindGroupByID(e.system(), g.ID); cur.Name != "Admin team" {
		t.Error("archived group was renamed")
	}
}

func TestRestoreUnderAnotherName(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.owner)
	g := e.createGroup("Psychologists", e.staff[0])
	if _, err := e.svc.Groups.ArchiveGroup(e.system(), g.ID, 0); err != nil {
		t.Fatal(err)
	}
	e.createGroup("psychologists")
	b.get("/settings/groups?status=archived")
	p := b.post("/settings/groups/"+g.ID+"/restore", nil)
	wantStatus(t, p, http.StatusConflict)
	if p.doc.One(t, "h1").Text() != "Restore under another name" {
		t.Fatalf("no rename offer:\n%s", p.body)
	}
	if p.doc.One(t, "label[for=name]").Text() != "New name" {
		t.Error("no New name field")
	}
	if !strings.Contains(p.doc.One(t, "#restore-message").Text(), `An active group is already named "psychologists"`) {
		t.Errorf("message = %q", p.doc.One(t, "#restore-message").Text())
	}
	// The taken name again is refused again; an empty one too.
	for _, name := range []string{"PSYCHOLOGISTS", ""} {
		p = b.post("/settings/groups/"+g.ID+"/restore", url.Values{"name": {name}})
		if p.status != http.StatusConflict && p.status != http.StatusUnprocessableEntity {
			t.Fatalf("%q: status %d", name, p.status)
		}
		if p.doc.One(t, "input#name").Attr("aria-invalid") != "true" {
			t.Errorf("%q: field not marked", name)
		}
	}
	list := b.follow(b.post("/settings/groups/"+g.ID+"/restore", url.Values{"name": {"Psychologists (old)"}}))
	if row := groupRow(t, list, "Psychologists (old)"); row == nil || row.One(t, "td.num").Text() != "1" {
		t.Fatalf("not restored under the new name:\n%s", list.body)
	}
}

// The picker works without JavaScript: a search re-renders the form with
// the typed name and every choice kept, even choices no longer shown.
func TestPickerSearchKeepsInput(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.owner)
	g := e.createGroup("Children", e.staff[0], e.staff[1])
	form := b.get("/settings/groups/" + g.ID + "/edit")
	version := form.doc.One(t, "input[name=version]").Attr("value")
	// Uncheck Ann (staff 0), check Cat (staff 2), then search for "Fay".
	p := b.post("/settings/groups/"+g.ID+"/edit", url.Values{
		"name": {"Kids"}, "version": {version}, "op": {"search"}, "q": {"Fay"},
		"shown": shownIDs(form), "member": {e.staff[1].ID, e.staff[2].ID},
	})
	wantStatus(t, p, http.StatusOK)
	if p.doc.One(t, "input#name").Attr("value") != "Kids" {
		t.Error("typed name lost")
	}
	shown := shownIDs(p)
	if len(shown) != 1 || shown[0] != e.staff[5].ID {
		t.Fatalf("search shows %v, want only Fay", shown)
	}
	keepAdd := p.doc.All("#picker-keep input[name=keep_add]")
	keepRemove := p.doc.All("#picker-keep input[name=keep_remove]")
	if len(keepAdd) != 1 || keepAdd[0].Attr("value") != e.staff[2].ID {
		t.Errorf("keep_add = %v", keepAdd)
	}
	if len(keepRemove) != 1 || keepRemove[0].Attr("value") != e.staff[0].ID {
		t.Errorf("keep_remove = %v", keepRemove)
	}
	// Check Fay too and save: members are Ben, Cat, Fay.
	form2 := url.Values{"name": {"Kids"}, "version": {version}, "op": {"save"}, "shown": shown, "member": {e.staff[5].ID}}
	for _, k := range keepAdd {
		form2.Add("keep_add", k.Attr("value"))
	}
	for _, k := range keepRemove {
		form2.Add("keep_remove", k.Attr("value"))
	}
	wantStatus(t, b.post("/settings/groups/"+g.ID+"/edit", form2), http.StatusSeeOther)
	page, err := e.svc.Groups.FindMembers(e.system(), g.ID, cohort.UserFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, u := range page.Users {
		got[u.ID] = true
	}
	want := ids(e.staff[1], e.staff[2], e.staff[5])
	if len(got) != 3 || !got[want[0]] || !got[want[1]] || !got[want[2]] {
		t.Errorf("members = %v, want Ben, Cat, Fay", page.Users)
	}

	// The fragment endpoint for picker.js.
	frag := b.get("/settings/groups/picker?q=dan&group=" + g.ID)
	wantStatus(t, frag, http.StatusOK)
	if ids := shownIDs(fragment(t, frag)); len(ids) != 1 || ids[0] != e.staff[3].ID {
		t.Errorf("fragment shows %v", ids)
	}
}

// fragment wraps a picker fragment as the form holds it, so the
// #picker-results selectors apply.
func fragment(t *testing.T, p *page) *page {
	return &page{status: p.status, body: p.body, doc: parseHTML(t, `<div id="picker-results">`+p.body+`</div>`)}
}

func TestArchivedMembersHidden(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.owner)
	g := e.createGroup("Everyone", e.staff[0], e.staff[1])
	if _, err := e.svc.Users.ArchiveUser(e.system(), e.staff[0].ID, 0); err != nil {
		t.Fatal(err)
	}
	p := b.get("/settings/groups/" + g.ID + "/edit")
	if !strings.Contains(p.doc.One(t, "#picker").Text(), "1 archived user is hidden.") {
		t.Errorf("no hidden note:\n%s", p.body)
	}
	if _, ok := checkedIDs(p)[e.staff[0].ID]; ok {
		t.Error("archived member listed")
	}
	list := b.get("/settings/groups")
	if groupRow(t, list, "Everyone").One(t, "td.num").Text() != "1" {
		t.Error("archived member counted")
	}
	// Saving the form keeps the archived member.
	var members []string
	for id := range checkedIDs(p) {
		members = append(members, id)
	}
	res := b.post("/settings/groups/"+g.ID+"/edit", url.Values{"name": {"Everyone"}, "version": {p.doc.One(t, "input[name=version]").Attr("value")}, "shown": shownIDs(p), "member": members})
	wantStatus(t, res, http.StatusSeeOther)
	cur, _ := e.svc.Groups.FindGroupByID(e.system(), g.ID)
	if cur.ArchivedMemberCount != 1 || cur.MemberCount != 1 {
		t.Errorf("counts after save: %d active, %d archived", cur.MemberCount, cur.ArchivedMemberCount)
	}
}

func TestSearchAndPagination(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.owner)
	for i := range 30 {
		e.createGroup(fmt.Sprintf("Team %02d", i))
	}
	e.createGroup("Psychologists")
	p := b.get("/settings/groups")
	if n := len(p.doc.All("table.groups tbody tr")); n != 25 {
		t.Errorf("first page has %d rows", n)
	}
	next := p.doc.One(t, "nav.pagination a[rel=next]")
	p2 := b.get(next.Attr("href"))
	if n := len(p2.doc.All("table.groups tbody tr")); n != 6 {
		t.Errorf("second page has %d rows", n)
	}
	if len(p2.doc.All("nav.pagination a[rel=prev]")) != 1 {
		t.Error("no previous link")
	}
	s := b.get("/settings/groups?q=psych")
	if s.doc.One(t, "label[for=group-search]").Text() != "Search groups" {
		t.Error("search not labelled")
	}
	if s.doc.One(t, "input#group-search").Attr("value") != "psych" {
		t.Error("search not kept")
	}
	if rows := s.doc.All("table.groups tbody tr"); len(rows) != 1 || groupRow(t, s, "Psychologists") == nil {
		t.Errorf("search found %d rows", len(rows))
	}
}

// Without JavaScript the picker pages with "More staff", carrying every
// choice made on earlier pages into the save.
func TestPickerPagesWithoutJS(t *testing.T) {
	e := newEnv(t)
	for i := range 55 {
		if _, err := e.svc.Users.CreateUser(e.system(), cohort.UserCreate{
			Email: fmt.Sprintf("zz%02d@riverside.test", i), GivenName: "Zed", FamilyName: fmt.Sprintf("Zulu %02d", i),
		}); err != nil {
			t.Fatal(err)
		}
	}
	b := e.browser()
	b.signIn(e.owner)
	form := b.get("/settings/groups/new")
	first := shownIDs(form)
	if len(first) != 50 {
		t.Fatalf("first picker page shows %d", len(first))
	}
	more := form.doc.One(t, "button[name=picker_after]")
	if more.Text() != "More staff" {
		t.Errorf("paging button = %q", more.Text())
	}
	p := b.post("/settings/groups/new", url.Values{
		"name": {"Everyone"}, "shown": first, "member": first[:2], "picker_after": {more.Attr("value")},
	})
	wantStatus(t, p, http.StatusOK)
	second := shownIDs(p)
	if len(second) == 0 || second[0] == first[0] {
		t.Fatalf("second page shows %v", second)
	}
	if p.doc.One(t, "input#name").Attr("value") != "Everyone" {
		t.Error("name lost when paging")
	}
	if n := len(p.doc.All("#picker-keep input[name=keep_add]")); n != 2 {
		t.Errorf("%d choices carried, want 2", n)
	}
	if len(p.doc.All("button[name=picker_before]")) != 1 {
		t.Error("no Previous staff button")
	}
	save := url.Values{"name": {"Everyone"}, "shown": second, "member": second[:1], "op": {"save"}}
	for _, k := range p.doc.All("#picker-keep input") {
		save.Add(k.Attr("name"), k.Attr("value"))
	}
	list := b.follow(b.post("/settings/groups/new", save))
	if row := groupRow(t, list, "Everyone"); row == nil || row.One(t, "td.num").Text() != "3" {
		t.Fatalf("group from two picker pages:\n%s", list.body)
	}
}
