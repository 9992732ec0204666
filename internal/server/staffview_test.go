package server_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
)

// The staff visibility matrix: how much of the staff each principal sees,
// through every route that shows staff, web and API alike. It is the
// table "Who sees which staff" in docs/api.md and docs/staff.md, written
// out independently of the code's cohort.Actor.StaffView so that the two
// are checked against each other.

// staffView is a row of the table.
type staffView string

const (
	seesNoStaff   staffView = "none"
	seesMembers   staffView = "members"   // active staff; ID and name
	seesDirectory staffView = "directory" // active staff; what the Directory shows
	seesAllStaff  staffView = "full"      // every staff member, every field
)

// staffViewOf is the table: what a principal sees of its own workspace's
// staff.
func staffViewOf(p principal) staffView {
	switch {
	case p.dead || (!p.session && !p.key()):
		return seesNoStaff
	case p.session && p.manager():
		return seesAllStaff
	case p.session:
		return seesDirectory
	case p.has(cohort.ScopeUsersRead, cohort.ScopeUsersWrite, cohort.ScopeSCIM):
		return seesAllStaff
	case p.has(cohort.ScopeGroupsRead, cohort.ScopeGroupsWrite):
		return seesMembers
	}
	return seesNoStaff
}

// staffFields are the JSON members of a staff record in each view.
var staffFields = map[staffView][]string{
	seesMembers:   {"family_name", "given_name", "id"},
	seesDirectory: {"email", "family_name", "given_name", "id", "role", "status"},
	seesAllStaff:  {"created_at", "email", "family_name", "given_name", "id", "is_owner", "role", "status", "updated_at"},
}

// staffCase is one request that shows staff.
type staffCase struct {
	route string // the route's "METHOD pattern" in expectations
	path  string
	// list: the answer is a list of staff ({"data": […]}); record: one
	// staff record; page: an HTML page; other: no staff records in it.
	shape string
	// archived: the request asks for archived staff (status=archived or
	// all), or names an archived staff member.
	archived bool
	// byArchivedID: the path names the archived staff member.
	byArchivedID bool
	// shows: which of the two staff members a full answer lists.
	showsActive, showsArchived bool
	// users, groups: an audit request for user or group entries only.
	users, groups bool
}

// auditTypesOf is the table's audit column: the target types of the
// entries a principal reads through the API ("*": every type).
func auditTypesOf(p principal) []string {
	if !p.key() {
		return []string{"*"}
	}
	var out []string
	if p.has(cohort.ScopeGroupsRead, cohort.ScopeGroupsWrite) {
		out = append(out, "group")
	}
	if p.has(cohort.ScopeUsersRead, cohort.ScopeUsersWrite) {
		out = append(out, "user")
	}
	return out
}

func TestStaffVisibilityMatrix(t *testing.T) {
	m := newMatrix(t)
	ctx := sys(t.Context(), m.wsA.ID)
	act, err := m.svc.Users.CreateUser(ctx, cohort.UserCreate{Email: "vera.active@a.test", GivenName: "Vera", FamilyName: "Zedactive", Role: cohort.RolePractitioner})
	if err != nil {
		t.Fatal(err)
	}
	arc, err := m.svc.Users.CreateUser(ctx, cohort.UserCreate{Email: "otto.archived@a.test", GivenName: "Otto", FamilyName: "Zedarchived", Role: cohort.RoleAccountant})
	if err != nil {
		t.Fatal(err)
	}
	g, err := m.svc.Groups.CreateGroup(ctx, cohort.GroupCreate{Name: "Visibility", MemberIDs: []string{act.ID, arc.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.svc.Users.ArchiveUser(ctx, arc.ID); err != nil {
		t.Fatal(err)
	}

	cases := []staffCase{
		{route: "GET /api/v1/users", path: "/api/v1/users?q=zed", shape: "list", showsActive: true},
		{route: "GET /api/v1/users", path: "/api/v1/users?q=zed&status=active", shape: "list", showsActive: true},
		{route: "GET /api/v1/users", path: "/api/v1/users?q=zed&status=archived", shape: "list", archived: true, showsArchived: true},
		{route: "GET /api/v1/users", path: "/api/v1/users?q=zed&status=all", shape: "list", archived: true, showsActive: true, showsArchived: true},
		{route: "GET /api/v1/users/{id}", path: "/api/v1/users/" + act.ID, shape: "record", showsActive: true},
		{route: "GET /api/v1/users/{id}", path: "/api/v1/users/" + arc.ID, shape: "record", archived: true, byArchivedID: true, showsArchived: true},
		{route: "GET /api/v1/users/{id}/groups", path: "/api/v1/users/" + arc.ID + "/groups", shape: "other", archived: true, byArchivedID: true},
		{route: "GET /api/v1/groups/{id}/members", path: "/api/v1/groups/" + g.ID + "/members", shape: "list", showsActive: true},
		{route: "GET /api/v1/groups/{id}/members", path: "/api/v1/groups/" + g.ID + "/members?status=archived", shape: "list", archived: true, showsArchived: true},
		{route: "GET /api/v1/groups/{id}/members", path: "/api/v1/groups/" + g.ID + "/members?status=all", shape: "list", archived: true, showsActive: true, showsArchived: true},
		// The audit log: a key reads the entries of what its scopes
		// cover (a staff member's changes show their email and role);
		// managers read every entry.
		{route: "GET /api/v1/audit", path: "/api/v1/audit?target_type=user&target_id=" + arc.ID, shape: "audit", users: true},
		{route: "GET /api/v1/audit", path: "/api/v1/audit?target_type=group&target_id=" + g.ID, shape: "audit", groups: true},
		{route: "GET /api/v1/audit", path: "/api/v1/audit?limit=100", shape: "audit"},
		// The pages follow the same rule: the Directory and a group's
		// page show active staff only, to everyone; archived staff are
		// on the managers' Settings → Users.
		{route: "GET /directory", path: "/directory?q=zed", shape: "page", showsActive: true},
		{route: "GET /settings/groups/{id}", path: "/settings/groups/" + g.ID, shape: "page", showsActive: true},
		{route: "GET /settings/users", path: "/settings/users?q=zed&status=archived", shape: "page", archived: true, showsArchived: true},
	}
	checked := 0
	for _, c := range cases {
		pol := expectations[c.route]
		if pol == nil {
			t.Fatalf("%s is not in the authorization matrix", c.route)
		}
		for _, p := range m.principals {
			view := staffViewOf(p)
			want := pol(p)
			switch {
			case p.foreign && want != unauth && namesObject(c.route):
				want = notFound
			case p.foreign:
			case want == allowed && c.byArchivedID && view != seesAllStaff:
				// An archived staff member is not there for those who
				// see active staff only.
				want = notFound
			case want == allowed && c.archived && view != seesAllStaff:
				want = forbidden
			case want == allowed && c.users && !slices.Contains(auditTypesOf(p), "user") && !slices.Contains(auditTypesOf(p), "*"),
				want == allowed && c.groups && !slices.Contains(auditTypesOf(p), "group") && !slices.Contains(auditTypesOf(p), "*"):
				want = forbidden
			}
			r := request{method: http.MethodGet, path: c.path, header: http.Header{}}
			switch {
			case p.key():
				r.header.Set("Authorization", "Bearer "+p.token)
			case p.dead && p.session:
				r.cookies = append(r.cookies, m.deadSession.cookie)
			case p.session:
				r.cookies = append(r.cookies, m.signIn(p.user.ID, false).cookie)
			}
			res, body := m.do(r)
			checked++
			got, err := classify(res)
			if err != nil || got != want {
				t.Errorf("%s as %s (sees %s): got %v %v (%d), want %s\n%.300s", c.path, p.name, view, got, err, res.StatusCode, want, body)
				continue
			}
			if got != allowed {
				continue
			}
			if p.foreign {
				for _, u := range []*cohort.User{act, arc} {
					if strings.Contains(body, u.ID) || strings.Contains(body, u.Email) {
						t.Errorf("%s as %s: the answer shows workspace A's %s", c.path, p.name, u.Email)
					}
				}
				continue
			}
			switch c.shape {
			case "page":
				checkStaffPage(t, c, p, view, body, act, arc)
			case "list", "record":
				checkStaffJSON(t, c, p, view, body, act, arc)
			case "audit":
				checkAuditTypes(t, c, p, body)
			}
		}
	}
	t.Logf("staff visibility: %d requests", checked)
}

// checkStaffJSON checks an API answer lists the staff the case says, each
// with exactly the fields of view.
func checkStaffJSON(t *testing.T, c staffCase, p principal, view staffView, body string, act, arc *cohort.User) {
	t.Helper()
	var records []map[string]any
	if c.shape == "list" {
		var l struct{ Data []map[string]any }
		if err := json.Unmarshal([]byte(body), &l); err != nil {
			t.Errorf("%s as %s: %v\n%.300s", c.path, p.name, err, body)
			return
		}
		records = l.Data
	} else {
		var one map[string]any
		if err := json.Unmarshal([]byte(body), &one); err != nil {
			t.Errorf("%s as %s: %v\n%.300s", c.path, p.name, err, body)
			return
		}
		records = append(records, one)
	}
	ids := map[string]bool{}
	for _, rec := range records {
		id, _ := rec["id"].(string)
		ids[id] = true
		if got, want := slices.Sorted(maps.Keys(rec)), staffFields[view]; !slices.Equal(got, want) {
			t.Errorf("%s as %s (sees %s): a staff record has fields %v, want %v", c.path, p.name, view, got, want)
		}
	}
	if ids[act.ID] != c.showsActive {
		t.Errorf("%s as %s: lists the active staff member: %v, want %v\n%.300s", c.path, p.name, ids[act.ID], c.showsActive, body)
	}
	if ids[arc.ID] != c.showsArchived {
		t.Errorf("%s as %s: lists the archived staff member: %v, want %v\n%.300s", c.path, p.name, ids[arc.ID], c.showsArchived, body)
	}
}

// checkStaffPage checks a page shows the active staff member and never
// the archived one to those who see active staff only. (Managers may
// meet archived staff on any page: a group's History names them.)
func checkStaffPage(t *testing.T, c staffCase, p principal, view staffView, body string, act, arc *cohort.User) {
	t.Helper()
	if got := strings.Contains(body, act.FamilyName); got != c.showsActive {
		t.Errorf("%s as %s: shows the active staff member: %v, want %v", c.path, p.name, got, c.showsActive)
	}
	got := strings.Contains(body, arc.FamilyName) || strings.Contains(body, arc.Email)
	switch {
	case got && view != seesAllStaff:
		t.Errorf("%s as %s (sees %s): shows the archived staff member", c.path, p.name, view)
	case !got && c.showsArchived:
		t.Errorf("%s as %s: does not show the archived staff member", c.path, p.name)
	}
}

// checkAuditTypes checks an audit answer holds entries of the types the
// principal reads, and at least one.
func checkAuditTypes(t *testing.T, c staffCase, p principal, body string) {
	t.Helper()
	var l struct {
		Data []struct {
			TargetType string `json:"target_type"`
		}
	}
	if err := json.Unmarshal([]byte(body), &l); err != nil {
		t.Errorf("%s as %s: %v\n%.300s", c.path, p.name, err, body)
		return
	}
	if len(l.Data) == 0 {
		t.Errorf("%s as %s: no audit entries", c.path, p.name)
	}
	may := auditTypesOf(p)
	for _, e := range l.Data {
		if !slices.Contains(may, "*") && !slices.Contains(may, e.TargetType) {
			t.Errorf("%s as %s: an audit entry about a %s, which it may not read", c.path, p.name, e.TargetType)
		}
	}
}
