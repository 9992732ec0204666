package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
)

// "Add all": one click chooses everyone the search found (not yet in the
// group); Save saves them with the rest of the form. It works as a plain
// form post, without JavaScript.
func TestPickerAddAllMatching(t *testing.T) {
	e, b := signedInManager(t)
	// Three practitioners named "Fox…" beyond the first page's reach of a
	// search is not needed: the hidden fields carry whoever is not shown.
	for i := range 3 {
		if _, err := e.svc.Users.CreateUser(e.system(), cohort.UserCreate{Email: fmt.Sprintf("fox%d@riverside.test", i),
			GivenName: fmt.Sprint("Kit", i), FamilyName: "Foxley", Role: cohort.RolePractitioner}); err != nil {
			t.Fatal(err)
		}
	}
	b.get("/settings/groups/new")
	p := b.post("/settings/groups/new", url.Values{"name": {"Foxes"}, "q": {"fox"}, "op": {"search"}})
	wantStatus(t, p, http.StatusOK)
	btn := p.doc.One(t, "button[name=op][value=add_all]")
	if got := btn.Text(); got != "Add all 4 matching people" {
		t.Fatalf("Add all button says %q", got)
	}
	p = b.post("/settings/groups/new", url.Values{"name": {"Foxes"}, "q": {"fox"}, "op": {"add_all"}})
	wantStatus(t, p, http.StatusOK)
	checked := 0
	for _, box := range p.doc.All("input[name=member]") {
		if box.Has("checked") {
			checked++
		}
	}
	if checked != 4 {
		t.Fatalf("%d boxes ticked after Add all, want 4 (Fay Fox and three Foxleys)", checked)
	}
	if p.doc.One(t, "#name").Attr("value") != "Foxes" {
		t.Error("the name was lost")
	}
	// Save posts what is on the screen, as the browser would.
	form := url.Values{"name": {"Foxes"}, "q": {"fox"}, "op": {"save"}}
	for _, box := range p.doc.All("input[name=member]") {
		form.Add("shown", box.Attr("value"))
		if box.Has("checked") {
			form.Add("member", box.Attr("value"))
		}
	}
	for _, k := range p.doc.All("#picker-keep input") {
		form.Add(k.Attr("name"), k.Attr("value"))
	}
	wantStatus(t, b.post("/settings/groups/new", form), http.StatusSeeOther)
	g, _ := e.svc.Groups.FindGroups(e.system(), cohort.GroupFilter{Name: "Foxes"})
	if len(g.Groups) != 1 || g.Groups[0].MemberCount != 4 {
		t.Fatalf("Foxes after Save: %+v", g.Groups)
	}

	// On the edit form, Add all offers only people not yet in the group.
	edit := b.post("/settings/groups/"+g.Groups[0].ID+"/edit", url.Values{"name": {"Foxes"}, "version": {fmt.Sprint(g.Groups[0].Version)},
		"q": {"a"}, "op": {"search"}})
	wantStatus(t, edit, http.StatusOK)
	if btn := edit.doc.All("button[name=op][value=add_all]"); len(btn) != 1 || !strings.Contains(btn[0].Text(), "matching") {
		t.Errorf("edit form: Add all button %v", btn)
	}
}

// Beyond maxAddAll matching people the button gives way to a hint, and a
// hand-made add_all adds no one.
func TestPickerAddAllNeedsANarrowList(t *testing.T) {
	e, b := signedInManager(t)
	var rows []cohort.UserImport
	for i := range 1001 {
		rows = append(rows, cohort.UserImport{Row: i + 2, Email: fmt.Sprintf("p%04d@riverside.test", i), GivenName: "Many", FamilyName: fmt.Sprint("P", i)})
	}
	if _, err := e.svc.Imports.ImportUsers(e.system(), rows); err != nil {
		t.Fatal(err)
	}
	b.get("/settings/groups/new")
	p := b.post("/settings/groups/new", url.Values{"name": {"Everyone"}, "op": {"add_all"}})
	wantStatus(t, p, http.StatusOK)
	if len(p.doc.All("button[name=op][value=add_all]")) != 0 || !strings.Contains(p.body, "narrow the list to 1000 people or fewer") {
		t.Error("no hint instead of Add all for a long list")
	}
	if n := len(p.doc.All("#picker-keep input")); n != 0 {
		t.Errorf("a refused Add all carried %d choices", n)
	}
}
