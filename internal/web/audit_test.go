package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
)

// as returns a context acting as u in the browser, the way the server's
// session middleware builds the actor.
func (e *env) as(u *cohort.User) context.Context {
	return cohort.NewContextWithActor(e.t.Context(), cohort.Actor{
		WorkspaceID: e.ws.ID, UserID: u.ID, Name: u.Name(), Role: u.Role, IsOwner: u.IsOwner, Via: cohort.ViaWeb,
	})
}

// readCSV parses an export, without its byte order mark.
func readCSV(t *testing.T, p *page) [][]string {
	t.Helper()
	if ct := p.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Fatalf("Content-Type %q\n%s", ct, p.body)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(p.body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatalf("reading CSV: %v\n%s", err, p.body)
	}
	return recs
}

// column returns the values of one named column.
func column(recs [][]string, name string) []string {
	idx := -1
	for i, h := range recs[0] {
		if h == name {
			idx = i
		}
	}
	var out []string
	for _, r := range recs[1:] {
		out = append(out, r[idx])
	}
	return out
}

// send makes the request of rt, posting a copy of its form (post adds
// the browser's CSRF token to the form it is given).
func (rt integrationRoute) send(b *browser) *page {
	if rt.method == "GET" {
		return b.get(rt.path)
	}
	form := url.Values{}
	for k, v := range rt.form {
		form[k] = v
	}
	return b.post(rt.path, form)
}

// integrationRoute is one new page or form endpoint and who may use it.
type integrationRoute struct {
	method, path string
	who          string // "owner" or "manager"
	form         url.Values
}

// Every new route answers each role as the rules say: API keys and
// webhooks the account owner only, the audit log and history managers
// only; the navigation shows only what the actor may open.
func TestIntegrationPermissions(t *testing.T) {
	e := newFullEnv(t)
	g := e.createGroup("Physiotherapists", e.staff[0])
	owner := e.as(e.owner)
	key, _, err := e.svc.APIKeys.CreateAPIKey(owner, cohort.APIKeyCreate{Name: "Sync", Scopes: []cohort.Scope{cohort.ScopeGroupsRead}})
	if err != nil {
		t.Fatal(err)
	}
	hook, err := e.svc.Webhooks.CreateWebhook(owner, cohort.WebhookCreate{URL: publicHook, Events: []string{cohort.ActionGroupCreated}})
	if err != nil {
		t.Fatal(err)
	}
	routes := []integrationRoute{
		{"GET", "/settings/api-keys", "owner", nil},
		{"GET", "/settings/api-keys/new", "owner", nil},
		{"POST", "/settings/api-keys/new", "owner", url.Values{"name": {"Hijack"}, "scope": {"scim"}}},
		{"GET", "/settings/api-keys/" + key.ID + "/revoke", "owner", nil},
		{"POST", "/settings/api-keys/" + key.ID + "/revoke", "owner", url.Values{}},
		{"GET", "/settings/webhooks", "owner", nil},
		{"GET", "/settings/webhooks/new", "owner", nil},
		{"POST", "/settings/webhooks/new", "owner", url.Values{"url": {publicHook}, "event": {"group.created"}}},
		{"GET", "/settings/webhooks/" + hook.ID, "owner", nil},
		{"POST", "/settings/webhooks/" + hook.ID + "/resume", "owner", url.Values{}},
		{"POST", "/settings/webhooks/" + hook.ID + "/resend", "owner", url.Values{"delivery": {"x"}}},
		{"GET", "/settings/webhooks/" + hook.ID + "/delete", "owner", nil},
		{"POST", "/settings/webhooks/" + hook.ID + "/delete", "owner", url.Values{}},
		{"GET", "/settings/audit", "manager", nil},
		{"GET", "/settings/audit/export.csv", "manager", nil},
		{"GET", "/settings/groups/" + g.ID + "/history.csv", "manager", nil},
	}
	// Every new route is in the table, so a route added later without a
	// rule here fails this test.
	listed := map[string]bool{}
	for _, r := range routes {
		listed[r.method+" "+r.path] = true
	}
	for _, r := range e.handle.Routes() {
		p := r.Pattern
		if strings.HasPrefix(p, "/settings/api-keys") || strings.HasPrefix(p, "/settings/webhooks") || strings.HasPrefix(p, "/settings/audit") || strings.HasSuffix(p, "history.csv") {
			p = strings.NewReplacer("{id}/revoke", key.ID+"/revoke", "webhooks/{id}", "webhooks/"+hook.ID, "groups/{id}", "groups/"+g.ID).Replace(p)
			if !listed[r.Method+" "+p] {
				t.Errorf("route %s %s has no permission rule in this test", r.Method, r.Pattern)
			}
		}
	}

	// A practice manager who is not the owner, and the other roles.
	for _, role := range []cohort.Role{cohort.RolePracticeManager, cohort.RolePractitionerAdmin, cohort.RoleReceptionist, cohort.RolePractitioner, cohort.RoleAccountant} {
		t.Run(string(role), func(t *testing.T) {
			u := e.byRole[role]
			manager := role == cohort.RolePracticeManager || role == cohort.RolePractitionerAdmin
			b := e.browser()
			b.signIn(u)
			nav := navLabels(b.get("/settings/groups"))
			if hasLabel(nav, "API keys") || hasLabel(nav, "Webhooks") {
				t.Errorf("non-owner sees %v", nav)
			}
			if hasLabel(nav, "Audit log") != manager {
				t.Errorf("Audit log in nav = %v for %s", hasLabel(nav, "Audit log"), role)
			}
			for _, rt := range routes {
				p := rt.send(b)
				allowed := rt.who == "manager" && manager
				if allowed && p.status != http.StatusOK {
					t.Errorf("%s %s: %d, want 200", rt.method, rt.path, p.status)
				}
				if !allowed && p.status != http.StatusForbidden {
					t.Errorf("%s %s: %d, want 403", rt.method, rt.path, p.status)
				}
			}
			view := b.get("/settings/groups/" + g.ID)
			if got := len(view.doc.All("section.history")); got != map[bool]int{true: 1, false: 0}[manager] {
				t.Errorf("group page has %d History sections", got)
			}
		})
	}
	if n := e.keyCount(); n != 1 {
		t.Errorf("non-owners changed API keys: %d keys", n)
	}
	if k, _ := e.svc.APIKeys.FindAPIKeys(owner); k[0].RevokedAt != nil {
		t.Error("a non-owner revoked the key")
	}
	if n := e.hookCount(); n != 1 {
		t.Errorf("non-owners changed webhooks: %d", n)
	}

	// The owner may use them all.
	b := e.browser()
	b.signIn(e.owner)
	nav := navLabels(b.get("/settings/groups"))
	for _, l := range []string{"Groups", "Users", "Audit log", "API keys", "Webhooks"} {
		if !hasLabel(nav, l) {
			t.Errorf("owner's nav lacks %q: %v", l, nav)
		}
	}
	for _, rt := range routes {
		p := rt.send(b)
		if p.status == http.StatusForbidden || p.status >= 500 {
			t.Errorf("owner %s %s: %d", rt.method, rt.path, p.status)
		}
	}
}

// Audit entries can be read and exported, never changed: the pages have
// no state-changing route for them and no form on the log.
func TestAuditLogReadOnly(t *testing.T) {
	e := newEnv(t)
	e.createGroup("Physiotherapists")
	for _, r := range e.handle.Routes() {
		if strings.Contains(r.Pattern, "audit") && r.Method != "GET" {
			t.Errorf("%s %s changes the audit log", r.Method, r.Pattern)
		}
	}
	b := e.browser()
	b.signIn(e.owner)
	p := b.get("/settings/audit")
	for _, f := range p.doc.All("main form") {
		if f.Attr("method") != "get" {
			t.Errorf("the audit log has a %s form", f.Attr("method"))
		}
	}
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		req, _ := http.NewRequest(m, e.srv.URL+"/settings/audit", strings.NewReader("csrf_token="+b.csrf))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-CSRF-Token", b.csrf)
		if r := b.do(req); r.status != http.StatusMethodNotAllowed && r.status != http.StatusNotFound {
			t.Errorf("%s /settings/audit: %d", m, r.status)
		}
	}
}

// The log lists entries in plain words, filters by actor, action, record
// and time, pages, and exports what the filters select.
func TestAuditLogFiltersAndExport(t *testing.T) {
	e := newEnv(t)
	manager := e.byRole[cohort.RolePracticeManager]
	mctx := e.as(manager)
	ann, ben := e.staff[0], e.staff[1]
	g, err := e.svc.Groups.CreateGroup(mctx, cohort.GroupCreate{Name: "Physiotherapists", MemberIDs: []string{ann.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Groups.UpdateGroup(mctx, g.ID, cohort.GroupUpdate{Add: []string{ben.ID}}); err != nil {
		t.Fatal(err)
	}
	other, err := e.svc.Groups.CreateGroup(e.as(e.owner), cohort.GroupCreate{Name: "=HYPERLINK(\"http://evil\")"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Groups.ArchiveGroup(e.as(e.owner), other.ID, 0); err != nil {
		t.Fatal(err)
	}

	b := e.browser()
	b.signIn(manager)
	all := b.get("/settings/audit")
	wantStatus(t, all, http.StatusOK)
	if all.doc.One(t, "main h1").Text() != "Audit log" || all.doc.One(t, "nav.settings-nav a[aria-current=page]").Text() != "Audit log" {
		t.Error("heading or nav")
	}
	for _, id := range []string{"audit-actor", "audit-action", "audit-target-type", "audit-target-id", "audit-from", "audit-to"} {
		if all.doc.One(t, "label[for="+id+"]").Text() == "" {
			t.Errorf("%s not labelled", id)
		}
	}
	rows := all.doc.All("table.audit tbody tr[data-entry-id]")
	if len(rows) < 4 {
		t.Fatalf("%d rows", len(rows))
	}
	// Newest first; "Ben Brown" resolved from his ID.
	if got := rows[0].Text(); !strings.Contains(got, "Archived the group") || !strings.Contains(got, "Olive Owner") {
		t.Errorf("first row %q", got)
	}
	var membersRow string
	for _, r := range rows {
		if strings.Contains(r.Text(), "Added Ben Brown Group: Physiotherapists") {
			membersRow = r.Text()
		}
	}
	if !strings.Contains(membersRow, manager.Name()) || !strings.Contains(membersRow, "Group: Physiotherapists") || !strings.Contains(membersRow, "Web") {
		t.Errorf("members row %q", membersRow)
	}

	count := func(q string) int {
		t.Helper()
		p := b.get("/settings/audit?" + q)
		wantStatus(t, p, http.StatusOK)
		return len(p.doc.All("table.audit tbody tr[data-entry-id]"))
	}
	if n := count("action=group.archived"); n != 1 {
		t.Errorf("action filter: %d", n)
	}
	if n := count("target_type=group&target_id=" + g.ID); n != 2 {
		t.Errorf("target filter: %d", n)
	}
	if n := count("actor=" + url.QueryEscape("olive")); n != 2 {
		t.Errorf("actor filter: %d", n)
	}
	today := time.Now().Format("2006-01-02")
	tomorrow := time.Now().AddDate(0, 0, 1).Format("2006-01-02")
	if n := count("from=" + today + "&to=" + today); n < 4 {
		t.Errorf("today: %d", n)
	}
	if n := count("from=" + tomorrow); n != 0 {
		t.Errorf("from tomorrow: %d", n)
	}
	// The filter is kept in the form and in the export link.
	p := b.get("/settings/audit?action=group.members_changed&actor=Practice")
	if !p.doc.One(t, "select#audit-action option[value=group.members_changed]").Has("selected") ||
		p.doc.One(t, "input#audit-actor").Attr("value") != "Practice" {
		t.Error("filter not kept")
	}
	export := p.doc.One(t, "a[download]").Attr("href")
	if !strings.HasPrefix(export, "/settings/audit/export.csv?") || !strings.Contains(export, "action=group.members_changed") {
		t.Errorf("export link %q", export)
	}
	recs := readCSV(t, b.get(export))
	if len(recs) != 2 || strings.Join(recs[0], ",") != "time,actor,actor_user_id,actor_key_id,action,description,target_type,target_id,target_name,via,request_id,changes" {
		t.Fatalf("export: %v", recs)
	}
	if d := column(recs, "description")[0]; d != "Added Ben Brown" {
		t.Errorf("description %q", d)
	}
	if a := column(recs, "actor")[0]; a != manager.Name() {
		t.Errorf("actor %q", a)
	}
	// Spreadsheet formulas are defused in the export.
	recs = readCSV(t, b.get("/settings/audit/export.csv?target_id="+other.ID))
	for _, name := range column(recs, "target_name") {
		if !strings.HasPrefix(name, "'=") {
			t.Errorf("formula not defused: %q", name)
		}
	}

	// Bad filters: a message on the field, 422, nothing listed, no 500.
	for _, c := range []struct{ q, field string }{
		{"from=27/11/2026", "from"},
		{"to=yesterday", "to"},
		{"from=" + tomorrow + "&to=" + today, "to"},
		{"action=group.deleted", "action"},
		{"target_type=secret", "target_type"},
		{"target_id=" + url.QueryEscape("'; DROP TABLE audit_entries; --"), "target_id"},
		{"from=2026-13-45", "from"},
	} {
		p := b.get("/settings/audit?" + c.q)
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if len(p.doc.All("#audit-"+strings.ReplaceAll(c.field, "_", "-")+"-error")) != 1 && len(p.doc.All("a[href=#audit-"+strings.ReplaceAll(c.field, "_", "-")+"]")) != 1 {
			t.Errorf("%s: no message for %s\n%s", c.q, c.field, p.body)
		}
		if len(p.doc.All("table.audit")) != 0 {
			t.Errorf("%s: entries listed despite a bad filter", c.q)
		}
		if x := b.get("/settings/audit/export.csv?" + c.q); x.status != http.StatusUnprocessableEntity {
			t.Errorf("export %s: %d", c.q, x.status)
		}
	}
	// Odd but harmless input: long or odd text, bad cursors.
	for _, q := range []string{"actor=" + strings.Repeat("%FF", 500), "actor=%00%01", "after=garbage", "before=" + strings.Repeat("z", 600), "after=YWJj"} {
		p := b.get("/settings/audit?" + q)
		if p.status != http.StatusOK && p.status != http.StatusSeeOther {
			t.Errorf("%s: %d", q, p.status)
		}
	}
}

// The log pages through many entries without repeating or missing one.
func TestAuditLogPagination(t *testing.T) {
	e := newEnv(t)
	for i := range 60 {
		e.createGroup(fmt.Sprintf("Group %02d", i))
	}
	b := e.browser()
	b.signIn(e.owner)
	seen := map[string]bool{}
	p := b.get("/settings/audit?action=group.created")
	pages := 0
	for {
		pages++
		for _, r := range p.doc.All("table.audit tbody tr[data-entry-id]") {
			id := r.Attr("data-entry-id")
			if seen[id] {
				t.Fatalf("entry %s listed twice", id)
			}
			seen[id] = true
		}
		next := p.doc.All("nav.pagination a[rel=next]")
		if len(next) == 0 {
			break
		}
		if !strings.Contains(next[0].Attr("href"), "action=group.created") {
			t.Errorf("next link loses the filter: %s", next[0].Attr("href"))
		}
		p = b.get(next[0].Attr("href"))
	}
	if len(seen) != 60 || pages != 2 {
		t.Errorf("%d entries on %d pages", len(seen), pages)
	}
	if prev := p.doc.All("nav.pagination a[rel=prev]"); len(prev) != 1 {
		t.Error("no link back to newer entries")
	} else if back := b.get(prev[0].Attr("href")); len(back.doc.All("table.audit tbody tr[data-entry-id]")) != 50 {
		t.Error("newer page is not full")
	}
	recs := readCSV(t, b.get("/settings/audit/export.csv?action=group.created"))
	if len(recs) != 61 {
		t.Errorf("export has %d rows, want 60 and a header", len(recs)-1)
	}
}
