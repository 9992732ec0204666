package web_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
)

// postFile sends a multipart form with one file, as the Import CSV form
// does.
func (b *browser) postFile(path string, fields map[string]string, file string) *page {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf_token", b.csrf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "staff.csv")
	_, _ = fw.Write([]byte(file))
	_ = mw.Close()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// staffRoute is one Users or Directory endpoint and who may use it.
type staffRoute struct {
	method, path string
	// who: "manager" (owner, practitioner admins, practice managers),
	// "owner" (the account owner only) or "everyone".
	who string
	// form builds the POST body; file marks a CSV upload.
	form func(e *env, n int) url.Values
	file string
	// ok is the status when allowed; 0 means 200 for GET, 303 for POST.
	ok int
}

func staffRoutes() []staffRoute {
	none := func(*env, int) url.Values { return url.Values{} }
	return []staffRoute{
		{"GET", "/settings/users", "manager", nil, "", 0},
		{"GET", "/settings/users?q=a&role=practitioner&status=all", "manager", nil, "", 0},
		{"GET", "/settings/users/new", "manager", nil, "", 0},
		{"POST", "/settings/users/new", "manager", func(e *env, n int) url.Values {
			return url.Values{"given_name": {"New"}, "family_name": {fmt.Sprint("Person", n)}, "email": {fmt.Sprintf("new%d@riverside.test", n)},
				"role": {"practitioner"}, "password": {"a perfectly fine password"}}
		}, "", 0},
		{"GET", "/settings/users/import", "manager", nil, "", 0},
		{"POST", "/settings/users/import", "manager", nil, "email,given_name,family_name\nimported@riverside.test,Imp,Orted\n", 0},
		{"GET", "/settings/users/export/users.csv", "manager", nil, "", 0},
		{"GET", "/settings/users/export/groups.csv", "manager", nil, "", 0},
		{"GET", "/settings/users/{user}", "manager", nil, "", 0},
		{"GET", "/settings/users/{user}/edit", "manager", nil, "", 0},
		{"POST", "/settings/users/{user}/edit", "manager", func(e *env, n int) url.Values {
			return url.Values{"given_name": {"Renamed"}, "family_name": {"Target"}, "email": {fmt.Sprintf("target%d@riverside.test", n)},
				"role": {"practitioner"}, "version": {"1"}}
		}, "", 0},
		{"POST", "/settings/users/{user}/archive", "manager", none, "", 0},
		{"POST", "/settings/users/{archived}/restore", "manager", none, "", 0},
		{"POST", "/settings/users/{user}/groups", "manager", func(e *env, n int) url.Values {
			return url.Values{"op": {"add"}, "group": {"{group}"}}
		}, "", 0},
		{"GET", "/settings/users/{user}/owner", "owner", nil, "", 0},
		{"POST", "/settings/users/{user}/owner", "owner", none, "", 0},
		{"GET", "/settings/users/{user}/password", "manager", nil, "", 0},
		{"POST", "/settings/users/{user}/password", "manager", func(*env, int) url.Values {
			return url.Values{"password": {"a brand new passphrase"}, "password_again": {"a brand new passphrase"}}
		}, "", 0},
		{"GET", "/account/password", "everyone", nil, "", 0},
		{"POST", "/account/password", "everyone", func(*env, int) url.Values {
			return url.Values{"current_password": {testPassword}, "password": {"my own new passphrase"}, "password_again": {"my own new passphrase"}}
		}, "", http.StatusOK},
		{"GET", "/directory", "everyone", nil, "", 0},
		{"GET", "/directory?group={group}&q=t", "everyone", nil, "", 0},
	}
}

// TestStaffRoutePermissions: every Users and Directory route, for every
// role: allowed roles get the page (or the change), the others a 403
// that explains, and a refused change changes nothing.
func TestStaffRoutePermissions(t *testing.T) {
	who := map[string]func(cohort.Role, bool) bool{
		"manager": func(r cohort.Role, owner bool) bool {
			return owner || r == cohort.RolePractitionerAdmin || r == cohort.RolePracticeManager
		},
		"owner":    func(_ cohort.Role, owner bool) bool { return owner },
		"everyone": func(cohort.Role, bool) bool { return true },
	}
	type actor struct {
		name  string
		owner bool
		role  cohort.Role
	}
	actors := []actor{{"owner", true, cohort.RolePracticeManager}}
	for _, r := range cohort.Roles {
		actors = append(actors, actor{string(r), false, r})
	}
	for _, a := range actors {
		t.Run(a.name, func(t *testing.T) {
			e := newEnv(t)
			me := e.owner
			if !a.owner {
				me = e.byRole[a.role]
			}
			b := e.browser()
			b.signIn(me)
			for n, rt := range staffRoutes() {
				target, err := e.svc.Users.CreateUser(e.system(), cohort.UserCreate{Email: fmt.Sprintf("target%d@riverside.test", n),
					GivenName: "Target", FamilyName: fmt.Sprint("Person", n), Role: cohort.RolePractitioner})
				if err != nil {
					t.Fatal(err)
				}
				archived, _ := e.svc.Users.CreateUser(e.system(), cohort.UserCreate{Email: fmt.Sprintf("gone%d@riverside.test", n),
					GivenName: "Gone", FamilyName: fmt.Sprint("Person", n), Archived: true})
				g := e.createGroup(fmt.Sprint("Team ", n))
				fill := strings.NewReplacer("{user}", target.ID, "{archived}", archived.ID, "{group}", g.ID)
				path := fill.Replace(rt.path)
				var p *page
				switch {
				case rt.method == "GET":
					p = b.get(path)
				case rt.file != "":
					b.get("/directory")
					p = b.postFile(path, map[string]string{"kind": "users"}, rt.file)
				default:
					b.get("/directory")
					form := rt.form(e, n)
					for k, vs := range form {
						for i := range vs {
							vs[i] = fill.Replace(vs[i])
						}
						form[k] = vs
					}
					p = b.post(path, form)
				}
				allowed := who[rt.who](a.role, a.owner)
				want := http.StatusOK
				if rt.method == "POST" {
					want = http.StatusSeeOther
				}
				if rt.ok != 0 {
					want = rt.ok
				}
				if !allowed {
					want = http.StatusForbidden
				}
				// Staff who do not manage users see active staff only
				// (cohort.Actor.StaffView): an archived colleague is not
				// there for them, as in the API.
				hidden := !allowed && strings.Contains(rt.path, "{archived}") && !a.owner &&
					a.role != cohort.RolePracticeManager && a.role != cohort.RolePractitionerAdmin
				if hidden {
					want = http.StatusNotFound
				}
				if p.status != want {
					t.Errorf("%s %s as %s: %d, want %d\n%.600s", rt.method, rt.path, a.name, p.status, want, p.body)
					continue
				}
				if !allowed && !hidden && !strings.Contains(p.body, "Only the account owner") {
					t.Errorf("%s %s as %s: the 403 does not explain who may", rt.method, rt.path, a.name)
				}
				if !allowed && rt.method == "POST" {
					now, _ := e.svc.Users.FindUserByID(e.system(), target.ID)
					if now.Version != target.Version || now.IsOwner {
						t.Errorf("%s %s as %s: refused but the user changed", rt.method, rt.path, a.name)
					}
					if page, _ := e.svc.Groups.FindMembers(e.system(), g.ID, cohort.UserFilter{}); page.Total != 0 {
						t.Errorf("%s %s as %s: refused but the group changed", rt.method, rt.path, a.name)
					}
				}
			}
			// The navigation offers only what the role may open.
			p := b.get("/settings/groups")
			wantStatus(t, p, http.StatusOK)
			hasUsers := len(p.doc.All("nav.settings-nav a[href=/settings/users]")) > 0
			if hasUsers != who["manager"](a.role, a.owner) {
				t.Errorf("Settings → Users link shown = %v for %s", hasUsers, a.name)
			}
			if len(p.doc.All("nav.top-nav a[href=/directory]")) != 1 {
				t.Errorf("no Directory link in the top navigation for %s", a.name)
			}
		})
	}
}

func signedInManager(t *testing.T) (*env, *browser) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.byRole[cohort.RolePracticeManager])
	return e, b
}

// Acceptance 1 over HTTP: add a user, put them in a group from their
// page, archive (the group's count drops and one archived user is
// hidden), restore (count back).
func TestAddUserGroupArchiveRestore(t *testing.T) {
	e, b := signedInManager(t)
	g := e.createGroup("Telehealth providers", e.staff[0])

	b.get("/settings/users/new")
	bad := b.post("/settings/users/new", url.Values{"given_name": {""}, "family_name": {"Nguyen"}, "email": {"not-an-email"},
		"role": {"practitioner"}, "password": {"password1234"}})
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	for _, id := range []string{"given_name", "email", "password"} {
		if bad.doc.One(t, "#"+id).Attr("aria-invalid") != "true" {
			t.Errorf("field %s not marked invalid", id)
		}
	}
	if !strings.Contains(bad.body, "too common") || bad.doc.One(t, "#family_name").Attr("value") != "Nguyen" {
		t.Errorf("the form does not explain a common password or lost the input:\n%s", bad.body)
	}
	dup := b.post("/settings/users/new", url.Values{"given_name": {"Ann"}, "family_name": {"Again"}, "email": {"ANN@riverside.test"},
		"role": {"practitioner"}, "password": {"a perfectly fine password"}})
	if dup.status != http.StatusConflict || !strings.Contains(dup.body, "already exists") {
		t.Errorf("duplicate email: %d", dup.status)
	}

	p := b.post("/settings/users/new", url.Values{"given_name": {"Thảo"}, "family_name": {"Nguyễn"}, "email": {"Thao@Riverside.test"},
		"role": {"practitioner"}, "password": {"a perfectly fine password"}})
	wantStatus(t, p, http.StatusSeeOther)
	userPage := b.follow(p)
	wantStatus(t, userPage, http.StatusOK)
	if !strings.Contains(userPage.doc.One(t, "h1").Text(), "Thảo Nguyễn") || !strings.Contains(userPage.body, "initial password") {
		t.Fatalf("user page after Add user:\n%s", userPage.body)
	}
	id := strings.TrimPrefix(strings.SplitN(p.Location(), "?", 2)[0], "/settings/users/")
	// They can sign in with the initial password.
	nb := e.browser()
	nb.get("/signin")
	if s := nb.post("/signin", url.Values{"email": {"thao@riverside.test"}, "password": {"a perfectly fine password"}}); s.status != http.StatusSeeOther {
		t.Errorf("the new user cannot sign in: %d", s.status)
	}

	p = b.post("/settings/users/"+id+"/groups", url.Values{"op": {"add"}, "group": {g.ID}})
	wantStatus(t, p, http.StatusSeeOther)
	userPage = b.follow(p)
	if !strings.Contains(userPage.doc.One(t, "li.user-group").Text(), "Telehealth providers") ||
		!strings.Contains(userPage.body, "added to Telehealth providers") {
		t.Fatalf("group not listed on the user page:\n%s", userPage.body)
	}
	count := func() (int, int) {
		cur, _ := e.svc.Groups.FindGroupByID(e.system(), g.ID)
		return cur.MemberCount, cur.ArchivedMemberCount
	}
	if a, h := count(); a != 2 || h != 0 {
		t.Fatalf("after adding: %d active, %d hidden", a, h)
	}
	// The Users list shows them with their group: one grouped query.
	list := b.get("/settings/users?q=thao")
	wantStatus(t, list, http.StatusOK)
	if row := list.doc.One(t, "table.users tbody tr"); !strings.Contains(row.Text(), "Telehealth providers") || !strings.Contains(row.Text(), "Active") {
		t.Errorf("Users row: %q", row.Text())
	}

	wantStatus(t, b.post("/settings/users/"+id+"/archive", nil), http.StatusSeeOther)
	if n := len(b.get("/settings/users?q=thao").doc.All("table.users tbody tr td a.user-name")); n != 0 {
		t.Errorf("an archived user is in the default (active) list: %d rows", n)
	}
	if row := b.get("/settings/users?q=thao&status=archived").doc.One(t, "table.users tbody tr"); !strings.Contains(row.Text(), "Archived") {
		t.Errorf("archived list row: %q", row.Text())
	}
	if a, h := count(); a != 1 || h != 1 {
		t.Fatalf("after archiving: %d active, %d hidden; want 1 and 1", a, h)
	}
	edit := b.get("/settings/groups/" + g.ID + "/edit")
	if !strings.Contains(edit.body, "1 archived user is hidden.") {
		t.Error("the group's edit page does not say one archived user is hidden")
	}
	if nb.get("/directory").status != http.StatusSeeOther {
		t.Error("the archived user's session still works")
	}
	wantStatus(t, b.post("/settings/users/"+id+"/restore", nil), http.StatusSeeOther)
	if a, h := count(); a != 2 || h != 0 {
		t.Fatalf("after restoring: %d active, %d hidden", a, h)
	}
	p = b.post("/settings/users/"+id+"/groups", url.Values{"op": {"remove"}, "group": {g.ID}})
	wantStatus(t, p, http.StatusSeeOther)
	if a, _ := count(); a != 1 {
		t.Errorf("remove from group: %d members", a)
	}

	// Edit: saved, then a stale version is refused with the current data.
	form := url.Values{"given_name": {"Thảo"}, "family_name": {"Nguyễn-Smith"}, "email": {"thao@riverside.test"}, "role": {"receptionist"}, "version": {"0"}}
	u, _ := e.svc.Users.FindUserByID(e.system(), id)
	form.Set("version", fmt.Sprint(u.Version))
	wantStatus(t, b.post("/settings/users/"+id+"/edit", form), http.StatusSeeOther)
	stale := b.post("/settings/users/"+id+"/edit", form)
	if stale.status != http.StatusConflict || !strings.Contains(stale.body, "changed by someone else") {
		t.Errorf("stale edit: %d", stale.status)
	}
	if u, _ := e.svc.Users.FindUserByID(e.system(), id); u.FamilyName != "Nguyễn-Smith" || u.Role != cohort.RoleReceptionist {
		t.Errorf("edit not saved: %+v", u)
	}
}

// Acceptance 2: an archived user's session ends at once and they cannot
// sign in again.
func TestArchivedUserIsSignedOut(t *testing.T) {
	e, manager := signedInManager(t)
	self := e.byRole[cohort.RolePracticeManager]
	if p := manager.post("/settings/users/"+self.ID+"/archive", nil); p.status != http.StatusConflict || !strings.Contains(p.body, "cannot archive yourself") {
		t.Errorf("a manager archives themselves: %d", p.status)
	}
	victim := e.staff[1]
	vb := e.browser()
	vb.signIn(victim)
	wantStatus(t, vb.get("/directory"), http.StatusOK)
	wantStatus(t, manager.post("/settings/users/"+victim.ID+"/archive", nil), http.StatusSeeOther)
	if p := vb.get("/directory"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/signin") {
		t.Errorf("archived user's session: %d %q", p.status, p.Location())
	}
	vb.get("/signin")
	if p := vb.post("/signin", url.Values{"email": {victim.Email}, "password": {testPassword}}); p.status != http.StatusUnauthorized {
		t.Errorf("archived user signs in: %d", p.status)
	}
}

func TestOwnerCannotBeArchivedAndTransfersOwnership(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.owner)
	p := b.post("/settings/users/"+e.owner.ID+"/archive", nil)
	if p.status != http.StatusConflict || !strings.Contains(p.body, "account owner, so they cannot be archived") {
		t.Errorf("archiving the owner: %d\n%s", p.status, p.body)
	}
	heir := e.byRole[cohort.RolePractitioner]
	page := b.get("/settings/users/" + heir.ID)
	if len(page.doc.All("a[href=/settings/users/"+heir.ID+"/owner]")) != 1 {
		t.Fatal("no Make account owner link for the owner")
	}
	confirm := b.get("/settings/users/" + heir.ID + "/owner")
	wantStatus(t, confirm, http.StatusOK)
	if !strings.Contains(confirm.body, "You keep your role (Practice manager)") {
		t.Errorf("the confirmation does not say the owner keeps their role:\n%s", confirm.body)
	}
	wantStatus(t, b.post("/settings/users/"+heir.ID+"/owner", nil), http.StatusSeeOther)
	newOwner, _ := e.svc.Users.FindUserByID(e.system(), heir.ID)
	old, _ := e.svc.Users.FindUserByID(e.system(), e.owner.ID)
	if !newOwner.IsOwner || old.IsOwner || old.Role != cohort.RolePracticeManager || newOwner.Role != cohort.RolePractitioner {
		t.Errorf("after transfer: new %+v old %+v", newOwner, old)
	}
	// The old owner, still a practice manager, is no longer offered it.
	if p := b.get("/settings/users/" + e.staff[0].ID + "/owner"); p.status != http.StatusForbidden {
		t.Errorf("old owner opens the transfer page: %d", p.status)
	}
	// Managers cannot archive the new owner either.
	if p := b.post("/settings/users/"+heir.ID+"/archive", nil); p.status != http.StatusConflict {
		t.Errorf("archiving the new owner: %d", p.status)
	}
}

func TestDirectoryFiltersByGroupsAndCopiesAddresses(t *testing.T) {
	e := newEnv(t)
	tele := e.createGroup("Telehealth providers", e.staff[0], e.staff[1])
	kids := e.createGroup("Children", e.staff[1], e.staff[2], e.staff[3])
	if _, err := e.svc.Users.ArchiveUser(e.system(), e.staff[3].ID, 0); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn(e.byRole[cohort.RoleReceptionist])
	p := b.get("/directory?group=" + tele.ID)
	wantStatus(t, p, http.StatusOK)
	if got := p.doc.One(t, "textarea#emails").Text(); got != "ann@riverside.test, ben@riverside.test" {
		t.Errorf("addresses for Telehealth providers: %q", got)
	}
	if h := p.doc.One(t, "h2#people-heading").Text(); h != "Members of Telehealth providers (2)" {
		t.Errorf("heading %q", h)
	}
	if !p.doc.One(t, "input#g-"+tele.ID).Has("checked") || p.doc.One(t, "input#g-"+kids.ID).Has("checked") {
		t.Error("the ticked groups are not kept")
	}
	p = b.get("/directory?group=" + tele.ID + "&group=" + kids.ID)
	if got := p.doc.One(t, "textarea#emails").Text(); got != "ann@riverside.test, ben@riverside.test, cat@riverside.test" {
		t.Errorf("addresses for two groups (archived Dan left out): %q", got)
	}
	if n := len(p.doc.All("table.directory tbody tr")); n != 3 {
		t.Errorf("%d rows for two groups, want 3", n)
	}
	// A stale or foreign group ID is ignored, not an error.
	wantStatus(t, b.get("/directory?group=nope&group=%00"), http.StatusOK)
	// No management links for a receptionist.
	if len(p.doc.All("a[href=/settings/users]")) != 0 {
		t.Error("a receptionist is offered Settings → Users")
	}
}

func TestImportPageShowsEveryBadRowAndChangesNothing(t *testing.T) {
	e, b := signedInManager(t)
	b.get("/settings/users/import")
	p := b.postFile("/settings/users/import", map[string]string{"kind": "users"},
		"email,given_name,family_name,role\ngood@riverside.test,Good,Row,practitioner\nbad,Bad,Row,dentist\n")
	wantStatus(t, p, http.StatusUnprocessableEntity)
	rows := p.doc.All("table.import-errors tbody tr")
	if len(rows) != 2 || !strings.HasPrefix(rows[0].Text(), "3 email") || !strings.HasPrefix(rows[1].Text(), "3 role") {
		var got []string
		for _, r := range rows {
			got = append(got, r.Text())
		}
		t.Errorf("error rows: %q", got)
	}
	if page, _ := e.svc.Users.FindUsers(e.system(), cohort.UserFilter{Email: "good@riverside.test"}); page.Total != 0 {
		t.Error("a refused import created a user")
	}
	p = b.postFile("/settings/users/import", map[string]string{"kind": "users"},
		"\uFEFFemail,given_name,family_name,role\ngood@riverside.test,Renée,D'Arcy,practitioner\n")
	wantStatus(t, p, http.StatusSeeOther)
	if list := b.follow(p); !strings.Contains(list.doc.One(t, "div.flash").Text(), "1 created, 0 updated") {
		t.Errorf("no import confirmation: %s", list.doc.One(t, "div.flash").Text())
	}
	p = b.postFile("/settings/users/import", map[string]string{"kind": "groups"},
		"group_name,member_email\nHand therapy,good@riverside.test\nHand therapy,ann@riverside.test\n")
	wantStatus(t, p, http.StatusSeeOther)
	for _, path := range []string{"/settings/users/export/users.csv", "/settings/users/export/groups.csv"} {
		csv := b.get(path)
		wantStatus(t, csv, http.StatusOK)
		if !strings.HasPrefix(csv.header.Get("Content-Disposition"), "attachment;") || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") {
			t.Errorf("%s headers: %v", path, csv.header)
		}
		kind := "users"
		if strings.Contains(path, "groups") {
			kind = "groups"
		}
		if !strings.Contains(csv.body, "Renée,D'Arcy") && !strings.Contains(csv.body, "Hand therapy,,active,ann@riverside.test") {
			t.Errorf("%s lacks the imported data:\n%s", path, csv.body)
		}
		b.get("/settings/users/import")
		again := b.postFile("/settings/users/import", map[string]string{"kind": kind}, csv.body)
		if again.status != http.StatusSeeOther || !strings.Contains(again.Location(), "created=0&imported="+kind+"&unchanged=") ||
			!strings.Contains(again.Location(), "updated=0") {
			t.Errorf("re-importing the %s export: %d %q", kind, again.status, again.Location())
		}
	}
	if p := b.post("/settings/users/import", url.Values{"kind": {"users"}}); p.status != http.StatusBadRequest && p.status != http.StatusUnprocessableEntity {
		t.Errorf("a form without a file: %d", p.status)
	}
}

// Another practice's staff member, or an unknown ID, is 404 on every
// Users route, for a manager and for a receptionist alike: existence
// never leaks.
func TestForeignUserIsNotFound(t *testing.T) {
	e := newEnv(t)
	ws2, _, err := e.svc.Workspaces.CreateWorkspace(t.Context(), cohort.WorkspaceCreate{Name: "Hillside", Slug: "hillside",
		Owner: cohort.UserCreate{Email: "owner@hillside.test", GivenName: "Hal", FamilyName: "Hill", Password: testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := e.svc.Users.CreateUser(cohort.NewContextWithActor(t.Context(), cohort.SystemActor(ws2.ID, "test")),
		cohort.UserCreate{Email: "x@hillside.test", GivenName: "X", FamilyName: "Y"})
	if err != nil {
		t.Fatal(err)
	}
	mine := e.createGroup("Mine")
	owner, rec := e.browser(), e.browser()
	owner.signIn(e.owner)
	rec.signIn(e.byRole[cohort.RoleReceptionist])
	for _, id := range []string{theirs.ID, "no-such-user"} {
		for _, rt := range staffRoutes() {
			if !strings.Contains(rt.path, "{user}") && !strings.Contains(rt.path, "{archived}") {
				continue
			}
			path := strings.NewReplacer("{user}", id, "{archived}", id).Replace(rt.path)
			for _, b := range []*browser{owner, rec} {
				var p *page
				if rt.method == "GET" {
					p = b.get(path)
				} else {
					b.get("/directory")
					p = b.post(path, url.Values{"op": {"add"}, "group": {mine.ID}, "version": {"1"}, "given_name": {"A"},
						"family_name": {"B"}, "email": {"a@b.test"}})
				}
				if p.status != http.StatusNotFound {
					t.Errorf("%s %s: %d, want 404", rt.method, path, p.status)
				}
			}
		}
	}
	if u, _ := e.svc.Users.FindUserByID(cohort.NewContextWithActor(t.Context(), cohort.SystemActor(ws2.ID, "test")), theirs.ID); u.Archived() || u.IsOwner || u.GivenName != "X" {
		t.Errorf("another practice's staff member changed: %+v", u)
	}
}

func TestPasswords(t *testing.T) {
	e, manager := signedInManager(t)
	// Someone added without a password (CSV import) gets one from a
	// manager on their page, and signs in with it.
	nopw, err := e.svc.Users.CreateUser(e.system(), cohort.UserCreate{Email: "imported@riverside.test", GivenName: "Imp", FamilyName: "Orted"})
	if err != nil {
		t.Fatal(err)
	}
	manager.get("/settings/users/" + nopw.ID + "/password")
	p := manager.post("/settings/users/"+nopw.ID+"/password", url.Values{"password": {"a brand new passphrase"}, "password_again": {"a brand new passphrase!"}})
	if p.status != http.StatusUnprocessableEntity || p.doc.One(t, "#password_again").Attr("aria-invalid") != "true" {
		t.Errorf("differing passwords: %d", p.status)
	}
	wantStatus(t, manager.post("/settings/users/"+nopw.ID+"/password", url.Values{"password": {"a brand new passphrase"}, "password_again": {"a brand new passphrase"}}), http.StatusSeeOther)
	nb := e.browser()
	nb.get("/signin")
	if p := nb.post("/signin", url.Values{"email": {nopw.Email}, "password": {"a brand new passphrase"}}); p.status != http.StatusSeeOther {
		t.Fatalf("sign in with the password a manager set: %d", p.status)
	}
	// A manager cannot set the owner's password.
	if p := manager.get("/settings/users/" + e.owner.ID + "/password"); p.status != http.StatusForbidden {
		t.Errorf("manager opens the owner's password page: %d", p.status)
	}
	if p := manager.post("/settings/users/"+e.owner.ID+"/password", url.Values{"password": {"taken over owner pass"}, "password_again": {"taken over owner pass"}}); p.status != http.StatusForbidden {
		t.Errorf("manager sets the owner's password: %d", p.status)
	}

	// Changing one's own password needs the current one and signs out
	// the other browsers, not this one.
	other := e.browser()
	other.signIn(e.byRole[cohort.RoleReceptionist])
	me := e.browser()
	me.signIn(e.byRole[cohort.RoleReceptionist])
	me.get("/account/password")
	p = me.post("/account/password", url.Values{"current_password": {"wrong password here"}, "password": {"receptionist passphrase"}, "password_again": {"receptionist passphrase"}})
	if p.status != http.StatusUnprocessableEntity || p.doc.One(t, "#current_password").Attr("aria-invalid") != "true" {
		t.Errorf("wrong current password: %d", p.status)
	}
	p = me.post("/account/password", url.Values{"current_password": {testPassword}, "password": {"qwertyuiop123"}, "password_again": {"qwertyuiop123"}})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "too common") {
		t.Errorf("common password: %d", p.status)
	}
	p = me.post("/account/password", url.Values{"current_password": {testPassword}, "password": {"receptionist passphrase"}, "password_again": {"receptionist passphrase"}})
	if p.status != http.StatusOK || !strings.Contains(p.body, "Your password is changed") {
		t.Fatalf("change own password: %d", p.status)
	}
	wantStatus(t, me.get("/directory"), http.StatusOK)
	if p := other.get("/directory"); p.status != http.StatusSeeOther {
		t.Errorf("the other browser is still signed in: %d", p.status)
	}
	nb = e.browser()
	nb.get("/signin")
	if p := nb.post("/signin", url.Values{"email": {e.byRole[cohort.RoleReceptionist].Email}, "password": {"receptionist passphrase"}}); p.status != http.StatusSeeOther {
		t.Errorf("sign in with the new password: %d", p.status)
	}
}

// With more groups than a page should carry, the group choices come from
// a search instead of a list of every group.
func TestManyGroupsAreFoundBySearch(t *testing.T) {
	e, b := signedInManager(t)
	var rows []cohort.GroupImport
	for i := range 301 {
		rows = append(rows, cohort.GroupImport{Row: i + 2, Name: fmt.Sprintf("Clinic %03d", i)})
	}
	rows = append(rows, cohort.GroupImport{Row: 400, Name: "Telehealth providers", Members: []cohort.ImportMember{{Row: 400, Email: e.staff[0].Email}}})
	if _, err := e.svc.Imports.ImportGroups(e.system(), rows); err != nil {
		t.Fatal(err)
	}
	tele, _ := e.svc.Groups.FindGroups(e.system(), cohort.GroupFilter{Name: "Telehealth providers"})
	teleID := tele.Groups[0].ID

	p := b.get("/settings/users")
	if n := len(p.doc.All("select#user-group option")); n != 1 || len(p.doc.All("input#group-q")) != 1 {
		t.Errorf("Users with 302 groups: %d options, want only Any group, and a Find groups field", n)
	}
	p = b.get("/settings/users?group_q=tele")
	if opts := p.doc.All("select#user-group option"); len(opts) != 2 || opts[1].Text() != "Telehealth providers" {
		t.Errorf("Find groups tele: %d options", len(opts))
	}
	p = b.get("/settings/users?group=" + teleID)
	if opts := p.doc.All("select#user-group option[selected]"); len(opts) != 1 || len(p.doc.All("table.users tbody tr")) != 1 {
		t.Errorf("filtering by a found group: %d selected, %d rows", len(opts), len(p.doc.All("table.users tbody tr")))
	}

	p = b.get("/directory?group_q=clinic%2000")
	if n := len(p.doc.All("fieldset.group-filter input[name=group]")); n != 10 {
		t.Errorf("Directory Find groups 'clinic 00': %d checkboxes, want 10", n)
	}
	p = b.get("/directory?group=" + teleID)
	if boxes := p.doc.All("fieldset.group-filter input[name=group]"); len(boxes) != 1 || !boxes[0].Has("checked") {
		t.Errorf("the chosen group is not kept as a checkbox: %d", len(boxes))
	}
	if got := p.doc.One(t, "textarea#emails").Text(); got != e.staff[0].Email {
		t.Errorf("addresses: %q", got)
	}

	p = b.get("/settings/users/" + e.staff[1].ID + "?group_q=tele")
	if opts := p.doc.All("select#add-group option"); len(opts) != 1 || opts[0].Text() != "Telehealth providers" {
		t.Errorf("user page Find a group: %d options", len(opts))
	}
}
