package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A save of an archived group is refused by the store, inside its
// transaction, even when the form carries the group's current version:
// the page is the read-only group with the same words as before, and
// nothing changes. A picker search on it saves nothing and shows the
// same page.
func TestArchivedGroupSaveRefusedByStore(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.owner)
	g := e.createGroup("Front desk", e.staff[0])
	b.get("/settings/groups/" + g.ID + "/edit")
	archived, err := e.svc.Groups.ArchiveGroup(e.system(), g.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	current := fmt.Sprint(archived.Version)
	for _, op := range []string{"save", "search"} {
		p := b.post("/settings/groups/"+g.ID+"/edit", url.Values{"op": {op}, "q": {"a"}, "name": {"Reception"}, "version": {current},
			"shown": {e.staff[1].ID}, "member": {e.staff[1].ID}})
		wantStatus(t, p, http.StatusConflict)
		if len(p.doc.All("form#group-form")) != 0 || !strings.Contains(p.body, "This group is archived, so it cannot be edited and nothing was saved.") {
			t.Errorf("op=%s: not the read-only page:\n%s", op, p.body)
		}
	}
	if cur, _ := e.svc.Groups.FindGroupByID(e.system(), g.ID); cur.Name != "Front desk" || cur.Version != archived.Version {
		t.Errorf("archived group changed: %+v", cur)
	}
}
