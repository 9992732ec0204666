package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
)

// No odd input on the staff pages gives a 500 or logs an internal error
// (the env fails the test on any error-level log line): forms, addresses
// and uploaded files.
func TestStaffOddInputsNever500(t *testing.T) {
	e, b := signedInManager(t)
	g := e.createGroup("Physiotherapists", e.staff[0])
	target := e.staff[1]
	odd := []string{
		"", " ", "\x00", "a\x07b", "\xff\xfe", "name\xc3", strings.Repeat("é", 300), strings.Repeat("x", 5000),
		"<script>alert(1)</script>", "'; DROP TABLE users; --", "\u202eevil", "%00", "../../etc/passwd",
		"\r\nSet-Cookie: x=y", "=HYPERLINK(\"http://evil\")", "\"", "a,b\nc,d",
	}
	for _, s := range odd {
		b.get("/settings/users/new")
		forms := map[string]url.Values{
			"/settings/users/new": {"given_name": {s}, "family_name": {s}, "email": {s}, "role": {s}, "password": {s}},
			"/settings/users/" + target.ID + "/edit": {"given_name": {s}, "family_name": {s}, "email": {s}, "role": {s},
				"version": {s}},
			"/settings/users/" + target.ID + "/groups":   {"group": {s}, "op": {s}},
			"/settings/users/" + target.ID + "/password": {"password": {s}, "password_again": {s}},
			"/account/password":                          {"current_password": {s}, "password": {s}, "password_again": {s}},
		}
		for path, form := range forms {
			if p := b.post(path, form); p.status >= 500 {
				t.Errorf("POST %s %q: %d", path, s, p.status)
			}
		}
		for _, kind := range []string{"users", "groups", s} {
			for _, file := range []string{s, "email,given_name,family_name\n" + s + "," + s + "," + s + "\n",
				"group_name,description,status,member_email\n" + s + "," + s + "," + s + "," + s + "\n"} {
				if p := b.postFile("/settings/users/import", map[string]string{"kind": kind}, file); p.status >= 500 {
					t.Errorf("import %s %q: %d", kind, file, p.status)
				}
			}
		}
		q := url.QueryEscape(s)
		for _, path := range []string{
			"/settings/users?q=" + q + "&role=" + q + "&group=" + q + "&status=" + q + "&group_q=" + q,
			"/settings/users?after=" + q + "&imported=users&created=" + q,
			"/settings/users?before=" + q,
			"/settings/users/" + url.PathEscape(s),
			"/settings/users/" + url.PathEscape(s) + "/edit",
			"/settings/users/" + target.ID + "?done=" + q + "&group=" + q + "&group_q=" + q,
			"/directory?q=" + q + "&group=" + q + "&group=" + g.ID + "&after=" + q + "&group_q=" + q,
			"/directory?before=" + q,
		} {
			if p := b.get(path); p.status >= 500 {
				t.Errorf("GET %s: %d", path, p.status)
			}
		}
	}
	// Nothing above changed the target or the group.
	if u, _ := e.svc.Users.FindUserByID(e.system(), target.ID); u.Version != target.Version || u.Archived() {
		t.Errorf("odd input changed a user: %+v", u)
	}
	if page, _ := e.svc.Groups.FindMembers(e.system(), g.ID, cohort.UserFilter{}); page.Total != 1 {
		t.Errorf("odd input changed a group's members: %d", page.Total)
	}
	// A file larger than the upload limit is a clear 413.
	big := "email,given_name,family_name\n" + strings.Repeat("a@b.test,A,B\n", 3<<20)
	if p := b.postFile("/settings/users/import", map[string]string{"kind": "users"}, big); p.status != http.StatusRequestEntityTooLarge {
		t.Errorf("huge upload: %d", p.status)
	}
}
