package scim_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
)

// fixture is a small workspace to filter: the owner (Olive Owner,
// owner…@example.com), three staff and three groups.
type fixture struct {
	*env
	jane, john, ann    *cohort.User
	physio, psych, adm *cohort.Group
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	e := newEnv(t)
	f := &fixture{env: e}
	var err error
	if f.jane, err = e.svc.Users.CreateUser(e.sysCtx, cohort.UserCreate{Email: "jane.doe@example.com", GivenName: "Jane", FamilyName: "Doe", ExternalID: "ext-jane"}); err != nil {
		t.Fatal(err)
	}
	if f.john, err = e.svc.Users.CreateUser(e.sysCtx, cohort.UserCreate{Email: "john.smith@example.com", GivenName: "John", FamilyName: "Smith", Role: cohort.RoleReceptionist}); err != nil {
		t.Fatal(err)
	}
	if f.ann, err = e.svc.Users.CreateUser(e.sysCtx, cohort.UserCreate{Email: "ann.lee@clinic.example", GivenName: "Ann", FamilyName: "Lee", ExternalID: "ext-ann"}); err != nil {
		t.Fatal(err)
	}
	if f.physio, err = e.svc.Groups.CreateGroup(e.sysCtx, cohort.GroupCreate{Name: "Physiotherapists", ExternalID: "okta-physio", MemberIDs: []string{f.jane.ID}}); err != nil {
		t.Fatal(err)
	}
	f.psych = e.group(t, e.sysCtx, "Psychologists", f.ann.ID, f.john.ID)
	f.adm = e.group(t, e.sysCtx, "Admin team")
	if _, err := e.svc.Users.ArchiveUser(e.sysCtx, f.john.ID, 0); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) list(t *testing.T, resource, filter string) []string {
	t.Helper()
	return f.do(t, "GET", "/"+resource+"?filter="+url.QueryEscape(filter), nil).ids(t)
}

func TestUserFilters(t *testing.T) {
	f := newFixture(t)
	o, j, jo, a := f.owner.ID, f.jane.ID, f.john.ID, f.ann.ID
	cases := []struct {
		filter string
		want   []string
	}{
		{`userName eq "JANE.DOE@example.com"`, []string{j}},
		{`USERNAME Eq "ann.lee@clinic.example"`, []string{a}},
		{`userName ne "jane.doe@example.com"`, []string{o, jo, a}},
		{`userName co "SMITH"`, []string{jo}},
		{`userName sw "ann"`, []string{a}},
		{`userName ew "@clinic.example"`, []string{a}},
		{`userName gt "john"`, []string{o, jo}},
		{`userName le "b"`, []string{a}},
		{`userName ge "owner"`, []string{o}},
		{`userName lt "ann.lee@clinic.example"`, nil},
		{`externalId pr`, []string{j, a}},
		{`externalId eq "EXT-JANE"`, nil}, // externalId is caseExact
		{`externalId eq "ext-jane"`, []string{j}},
		{`displayName eq "jane doe"`, []string{j}},
		{`name.familyName sw "L"`, []string{a}},
		{`name.givenName eq "olive"`, []string{o}},
		{`active eq false`, []string{jo}},
		{`active ne false`, []string{o, j, a}},
		{`active eq true and userName co "example.com"`, []string{o, j}},
		{`userName sw "jane" or userName sw "ann"`, []string{j, a}},
		{`not (userName sw "jane")`, []string{o, jo, a}},
		{`(userName sw "jane" or userName sw "ann") and externalId eq "ext-ann"`, []string{a}},
		{`emails[type eq "work" and value co "clinic"]`, []string{a}},
		{`emails[type eq "work"].value eq "ann.lee@clinic.example"`, []string{a}},
		{`emails[type eq "home"]`, nil},
		{`emails.value ew "example.com"`, []string{o, j, jo}},
		{`emails co "clinic"`, []string{a}},
		{`emails pr`, []string{o, j, jo, a}},
		{`emails[primary eq true]`, []string{o, j, jo, a}},
		{`meta.lastModified gt "2000-01-01T00:00:00Z"`, []string{o, j, jo, a}},
		{`meta.lastModified lt "2000-01-01T00:00:00Z"`, nil},
		{`meta.created le "2999-01-01T00:00:00Z"`, []string{o, j, jo, a}},
		{`meta.created ge "2999-01-01T00:00:00+10:00"`, nil},
		{`meta.lastModified pr`, []string{o, j, jo, a}},
		{`meta.resourceType eq "User"`, []string{o, j, jo, a}},
		{`id eq "` + j + `"`, []string{j}},
		{`id eq "` + j + `" or id eq "` + a + `"`, []string{j, a}},
		{`urn:cohort:params:scim:schemas:extension:2.0:User:role eq "receptionist"`, []string{jo}},
		{`urn:cohort:params:scim:schemas:extension:2.0:User:role eq "surgeon"`, nil},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ann.lee@clinic.example"`, []string{a}},
		{`userName eq "jane.doe@example.com" and userName eq "ann.lee@clinic.example"`, nil},
	}
	for _, c := range cases {
		got := f.list(t, "Users", c.filter)
		if !sameSet(got, c.want) {
			t.Errorf("filter %s: got %v, want %v", c.filter, f.names(t, got), f.names(t, c.want))
		}
	}
}

func TestGroupFilters(t *testing.T) {
	f := newFixture(t)
	ph, ps, ad := f.physio.ID, f.psych.ID, f.adm.ID
	cases := []struct {
		filter string
		want   []string
	}{
		{`displayName eq "physiotherapists"`, []string{ph}},
		{`displayName co "OLOG"`, []string{ps}},
		{`displayName sw "P"`, []string{ph, ps}},
		{`displayName ew "team"`, []string{ad}},
		{`displayName ne "Admin team"`, []string{ph, ps}},
		{`displayName gt "B"`, []string{ph, ps}},
		{`externalId eq "okta-physio"`, []string{ph}},
		{`externalId pr`, []string{ph}},
		{`id eq "` + ad + `"`, []string{ad}},
		{`members[value eq "` + f.ann.ID + `"]`, []string{ps}},
		{`members.value eq "` + f.jane.ID + `"`, []string{ph}},
		{`members eq "` + f.jane.ID + `"`, []string{ph}},
		{`members[value eq "` + f.jane.ID + `" or value eq "` + f.ann.ID + `"]`, []string{ph, ps}},
		{`members pr`, []string{ph, ps}},
		{`not (members pr)`, []string{ad}},
		{`displayName sw "p" and members[value eq "` + f.jane.ID + `"]`, []string{ph}},
		{`displayName eq "Admin team" or members[value eq "` + f.ann.ID + `"]`, []string{ad, ps}},
		{`id eq "` + ps + `" and members eq "` + f.ann.ID + `"`, []string{ps}},
		{`id eq "` + ph + `" and members eq "` + f.ann.ID + `"`, nil},
		{`meta.lastModified ge "2000-01-01T00:00:00Z"`, []string{ph, ps, ad}},
		{`meta.created lt "2000-01-01T00:00:00Z"`, nil},
	}
	for _, c := range cases {
		got := f.list(t, "Groups", c.filter)
		if !sameSet(got, c.want) {
			t.Errorf("filter %s: got %v, want %v", c.filter, got, c.want)
		}
	}
}

func TestBadFilters(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct{ resource, filter string }{
		{"Users", `userName eq`},
		{"Users", `userName xx "a"`},
		{"Users", `userName eq "a" and`},
		{"Users", `(userName eq "a"`},
		{"Users", `userName eq "unterminated`},
		{"Users", ``},
		{"Users", `password eq "secret"`},
		{"Users", `name eq "x"`},
		{"Users", `groups.value eq "x"`},
		{"Users", `active gt true`},
		{"Users", `active co "t"`},
		{"Users", `active eq "maybe"`},
		{"Users", `meta.lastModified co "2020"`},
		{"Users", `meta.lastModified gt "yesterday"`},
		{"Users", `meta.lastModified gt 5`},
		{"Users", `userName eq 5`},
		{"Users", `userName eq true`},
		{"Users", `userName eq null`},
		{"Users", `emails[foo eq "x"]`},
		{"Users", `emails.foo eq "x"`},
		{"Users", `emails[type eq "work" or type eq "home"].value eq "x"`},
		{"Users", `userName[value eq "x"]`},
		{"Users", `urn:example:other:2.0:User:userName eq "x"`},
		{"Users", `urn:cohort:params:scim:schemas:extension:2.0:User:isOwner eq true`},
		{"Users", strings.Repeat("(", 2000)}, // deep nesting, still under the 8 KiB URL limit
		{"Groups", `userName eq "x"`},
		{"Groups", `members[value co "x"]`},
		{"Groups", `members[display eq "x"]`},
		{"Groups", `members.display eq "x"`},
		{"Groups", `members ne "x"`},
		{"Groups", `displayName[value eq "x"]`},
	} {
		r := f.do(t, "GET", "/"+c.resource+"?filter="+url.QueryEscape(c.filter), nil)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s filter %q: status %d, want 400; %s", c.resource, c.filter, r.status, r.body)
			continue
		}
		r.scimError(t, http.StatusBadRequest, "invalidFilter")
	}
}

func TestPaging(t *testing.T) {
	f := newFixture(t)
	for i := range 7 {
		f.user(t, f.sysCtx, "staff"+string(rune('a'+i))+"@example.com", "Staff", "Member "+string(rune('A'+i)))
	}
	all := f.do(t, "GET", "/Users?count=1000", nil)
	allIDs := all.ids(t)
	if len(allIDs) != 11 || all.total(t) != 11 {
		t.Fatalf("%d users listed, total %d", len(allIDs), all.total(t))
	}
	// Pages of 3 walk the same stable order.
	var walked []string
	for start := 1; start <= 11; start += 3 {
		r := f.do(t, "GET", "/Users?count=3&startIndex="+strconv.Itoa(start), nil)
		m := r.obj(t)
		if m["startIndex"] != float64(start) || m["totalResults"] != float64(11) {
			t.Fatalf("page at %d: %v", start, m)
		}
		walked = append(walked, r.ids(t)...)
	}
	if !slices.Equal(walked, allIDs) {
		t.Fatalf("paging order %v, want %v", walked, allIDs)
	}
	// The same through the evaluated (not pushed-down) path.
	var scanned []string
	for start := 1; start <= 11; start += 4 {
		r := f.do(t, "GET", "/Users?count=4&startIndex="+strconv.Itoa(start)+"&filter="+url.QueryEscape(`userName co "e"`), nil)
		scanned = append(scanned, r.ids(t)...)
		if r.total(t) != 11 {
			t.Fatalf("evaluated total %d", r.total(t))
		}
	}
	if !slices.Equal(scanned, allIDs) {
		t.Fatalf("evaluated paging order %v, want %v", scanned, allIDs)
	}
	// count=0 answers only the total.
	r := f.do(t, "GET", "/Users?count=0", nil)
	if len(r.ids(t)) != 0 || r.total(t) != 11 {
		t.Fatalf("count=0: %s", r.body)
	}
	// Beyond the end: an empty page, the total still right.
	r = f.do(t, "GET", "/Users?startIndex=50", nil)
	if len(r.ids(t)) != 0 || r.total(t) != 11 {
		t.Fatalf("startIndex=50: %s", r.body)
	}
	// startIndex below 1 is read as 1; count above the maximum is capped.
	r = f.do(t, "GET", "/Users?startIndex=0&count=5000", nil)
	if m := r.obj(t); m["startIndex"] != float64(1) || len(r.ids(t)) != 11 {
		t.Fatalf("startIndex=0: %s", r.body)
	}
	if n := len(f.do(t, "GET", "/Users?count=-3", nil).ids(t)); n != 0 {
		t.Fatalf("count=-3 returned %d", n)
	}
	f.do(t, "GET", "/Users?startIndex=abc", nil).scimError(t, http.StatusBadRequest, "invalidValue")
	f.do(t, "GET", "/Groups?count=many", nil).scimError(t, http.StatusBadRequest, "invalidValue")
	// Groups page too; archived groups never appear.
	if _, err := f.svc.Groups.ArchiveGroup(f.sysCtx, f.adm.ID, 0); err != nil {
		t.Fatal(err)
	}
	g := f.do(t, "GET", "/Groups?count=1&startIndex=2", nil)
	if g.total(t) != 2 || len(g.ids(t)) != 1 || g.ids(t)[0] != f.psych.ID {
		t.Fatalf("groups page: %s", g.body)
	}
}

func TestAttributes(t *testing.T) {
	f := newFixture(t)
	keys := func(m map[string]any) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	u := f.do(t, "GET", "/Users/"+f.jane.ID+"?attributes=userName", nil).want(t, http.StatusOK).obj(t)
	if got := keys(u); !slices.Equal(got, []string{"id", "schemas", "userName"}) {
		t.Errorf("attributes=userName: %v", got)
	}
	u = f.do(t, "GET", "/Users/"+f.jane.ID+"?attributes=name.givenName,urn:cohort:params:scim:schemas:extension:2.0:User:role", nil).obj(t)
	if name := u["name"].(map[string]any); len(name) != 1 || name["givenName"] != "Jane" {
		t.Errorf("attributes=name.givenName: %v", u["name"])
	}
	if ext := u["urn:cohort:params:scim:schemas:extension:2.0:User"].(map[string]any); len(ext) != 1 || ext["role"] != "practitioner" {
		t.Errorf("role extension: %v", ext)
	}
	u = f.do(t, "GET", "/Users/"+f.jane.ID+"?excludedAttributes=emails,name.givenName,groups,id", nil).obj(t)
	if _, ok := u["emails"]; ok {
		t.Error("emails not excluded")
	}
	if _, ok := u["groups"]; ok {
		t.Error("groups not excluded")
	}
	if u["id"] != f.jane.ID {
		t.Error("id must always be returned")
	}
	if name := u["name"].(map[string]any); name["givenName"] != nil || name["familyName"] != "Doe" {
		t.Errorf("excluded name.givenName: %v", name)
	}
	// A single user lists its groups; lists do so only when asked.
	one := f.do(t, "GET", "/Users/"+f.jane.ID, nil).obj(t)
	gs := one["groups"].([]any)
	if len(gs) != 1 || gs[0].(map[string]any)["value"] != f.physio.ID || gs[0].(map[string]any)["display"] != "Physiotherapists" {
		t.Errorf("groups of jane: %v", one["groups"])
	}
	res := f.do(t, "GET", "/Users?filter="+url.QueryEscape(`userName eq "jane.doe@example.com"`), nil).resources(t)
	if _, ok := res[0]["groups"]; ok {
		t.Error("lists must not load groups by default")
	}
	res = f.do(t, "GET", "/Users?attributes=userName,groups&filter="+url.QueryEscape(`userName eq "jane.doe@example.com"`), nil).resources(t)
	if gs, _ := res[0]["groups"].([]any); len(gs) != 1 {
		t.Errorf("attributes=groups: %v", res[0])
	}
	// Groups: excludedAttributes=members leaves members out, in lists too.
	g := f.do(t, "GET", "/Groups/"+f.psych.ID+"?excludedAttributes=members", nil).obj(t)
	if _, ok := g["members"]; ok || g["displayName"] != "Psychologists" {
		t.Errorf("excludedAttributes=members: %v", g)
	}
	for _, res := range f.do(t, "GET", "/Groups?excludedAttributes=members", nil).resources(t) {
		if _, ok := res["members"]; ok {
			t.Errorf("list with excludedAttributes=members: %v", res)
		}
	}
	g = f.do(t, "GET", "/Groups/"+f.psych.ID+"?attributes=members.value", nil).obj(t)
	ms := g["members"].([]any)
	if len(ms) != 2 || len(ms[0].(map[string]any)) != 1 {
		t.Errorf("attributes=members.value: %v", g)
	}
	f.do(t, "GET", "/Users?attributes="+url.QueryEscape("user name"), nil).scimError(t, http.StatusBadRequest, "invalidValue")
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func (f *fixture) names(t *testing.T, ids []string) []string {
	byID := map[string]string{f.owner.ID: "owner", f.jane.ID: "jane", f.john.ID: "john", f.ann.ID: "ann"}
	var out []string
	for _, id := range ids {
		out = append(out, byID[id])
	}
	return out
}
