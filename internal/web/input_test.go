package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// No input makes a page fail: every odd form and address gets a 4xx or a
// re-rendered form, never a 500, and no internal error is logged (the
// env fails the test on any error-level log line).
func TestOddInputsNever500(t *testing.T) {
	e := newEnv(t)
	g := e.createGroup("Physiotherapists", e.staff[0])
	b := e.browser()
	b.signIn(e.owner)
	b.get("/settings/groups/" + g.ID + "/edit")

	huge := strings.Repeat("A", 2<<20)
	odd := []string{
		"", " ", "\x00", "\x00name", "a\x07b", "\xff\xfe", "name\xc3", strings.Repeat("é", 101),
		strings.Repeat("x", 5000), "<script>alert(1)</script>", "'; DROP TABLE groups; --", "\u202eevil",
		"%00", "../../etc/passwd", "\r\nSet-Cookie: x=y",
	}
	versions := []string{"", "0", "-1", "abc", "99999999999999999999", "1e3", "\x00"}
	memberIDs := []string{"", "nope", "\xff", "../x", strings.Repeat("9", 70), e.staff[1].ID, "' OR 1=1 --"}

	for _, s := range odd {
		for _, path := range []string{"/settings/groups/new", "/settings/groups/" + g.ID + "/edit", "/settings/groups/" + g.ID + "/restore"} {
			for _, op := range []string{"save", "search", ""} {
				form := url.Values{
					"name": {s}, "description": {s}, "q": {s}, "op": {op},
					"version": versions[len(s)%len(versions) : len(s)%len(versions)+1],
					"member":  {memberIDs[len(s)%len(memberIDs)], s}, "shown": {s},
					"keep_add": {s}, "keep_remove": {s}, "picker_after": {s}, "archived_ok": {s},
				}
				p := b.post(path, form)
				if p.status >= 500 {
					t.Errorf("POST %s name=%q: %d", path, s, p.status)
				}
			}
		}
		for _, path := range []string{
			"/settings/groups?q=" + url.QueryEscape(s),
			"/settings/groups?status=" + url.QueryEscape(s) + "&after=" + url.QueryEscape(s),
			"/settings/groups?before=" + url.QueryEscape(s) + "&done=created&group=" + url.QueryEscape(s),
			"/settings/groups/" + url.PathEscape(s),
			"/settings/groups/" + url.PathEscape(s) + "/edit",
			"/settings/groups/picker?q=" + url.QueryEscape(s) + "&group=" + url.QueryEscape(s) + "&after=" + url.QueryEscape(s),
			"/signin?next=" + url.QueryEscape(s),
		} {
			if p := b.get(path); p.status >= 500 {
				t.Errorf("GET %s: %d", path, p.status)
			}
		}
	}
	for _, v := range versions {
		p := b.post("/settings/groups/"+g.ID+"/edit", url.Values{"name": {"Renamed"}, "version": {v}})
		if p.status != http.StatusConflict {
			t.Errorf("version %q: %d, want the stale-edit page", v, p.status)
		}
	}
	// Missing fields entirely.
	if p := b.post("/settings/groups/new", nil); p.status != http.StatusUnprocessableEntity {
		t.Errorf("empty create: %d", p.status)
	}
	// Too large a body is a clear 413.
	p := b.post("/settings/groups/new", url.Values{"name": {huge}})
	if p.status != http.StatusRequestEntityTooLarge || !strings.Contains(p.body, "larger than") {
		t.Errorf("huge body: %d", p.status)
	}
	// Sign-in with odd input.
	sb := e.browser()
	sb.get("/signin")
	for _, s := range odd {
		if p := sb.post("/signin", url.Values{"email": {s}, "password": {s}, "workspace": {s}, "next": {s}}); p.status >= 500 {
			t.Errorf("sign-in %q: %d", s, p.status)
		}
	}
}
