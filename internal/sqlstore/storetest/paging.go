package storetest

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
)

func groupNames(gs []*cohort.Group) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.Name)
	}
	return out
}

func testGroupPaging(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	names := []string{"beta", "Alpha", "alpha 2", "Gamma", "delta", "Épsilon", "zeta", "Eta", "theta", "Iota", "kappa", "Lambda", "mu", "Nu", "xi", "Omicron", "pi"}
	for _, n := range names {
		f.group(t, n)
	}
	var want []string
	keyOf := map[string]string{}
	for _, n := range names {
		keyOf[n] = cohort.NameKey(n)
		want = append(want, n)
	}
	sort.Slice(want, func(i, j int) bool { return keyOf[want[i]] < keyOf[want[j]] })
	// Forward walk.
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		p, err := f.s.Groups.FindGroups(f.ctx, cohort.GroupFilter{Limit: 5, After: after})
		must(t, err)
		if p.Total != len(names) {
			t.Fatalf("total %d", p.Total)
		}
		if pages == 0 && p.Prev != "" {
			t.Fatal("first page has a previous page")
		}
		if pages > 0 && p.Prev == "" {
			t.Fatal("later page has no previous page")
		}
		got = append(got, groupNames(p.Groups)...)
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("walk order\n got %v\nwant %v", got, want)
	}
	// Backward walk from the end with Before.
	var back []string
	p, err := f.s.Groups.FindGroups(f.ctx, cohort.GroupFilter{Limit: 5, After: after})
	must(t, err)
	back = groupNames(p.Groups)
	before := p.Prev
	for before != "" {
		p, err := f.s.Groups.FindGroups(f.ctx, cohort.GroupFilter{Limit: 5, Before: before})
		must(t, err)
		if p.Next == "" {
			t.Fatal("a page reached backwards has no next page")
		}
		back = append(groupNames(p.Groups), back...)
		before = p.Prev
	}
	if strings.Join(back, "|") != strings.Join(want, "|") {
		t.Fatalf("backward walk\n got %v\nwant %v", back, want)
	}
	// Offset paging (SCIM startIndex).
	o, err := f.s.Groups.FindGroups(f.ctx, cohort.GroupFilter{Limit: 3, Offset: 4})
	must(t, err)
	if strings.Join(groupNames(o.Groups), "|") != strings.Join(want[4:7], "|") {
		t.Fatalf("offset page = %v", groupNames(o.Groups))
	}
	_, err = f.s.Groups.FindGroups(f.ctx, cohort.GroupFilter{After: "bm90IGEgY3Vyc29y"})
	wantCode(t, err, cohort.EINVALID)
}

func testGroupWalkWithInserts(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	r := rand.New(rand.NewPCG(7, 42))
	word := func() string {
		b := make([]byte, 6)
		for i := range b {
			b[i] = byte('a' + r.IntN(26))
		}
		return string(b)
	}
	initial := map[string]bool{}
	for i := 0; i < 60; i++ {
		initial[f.group(t, fmt.Sprintf("%s %d", word(), i)).ID] = true
	}
	seen := map[string]bool{}
	lastKey := ""
	after := ""
	for i := 0; ; i++ {
		p, err := f.s.Groups.FindGroups(f.ctx, cohort.GroupFilter{Status: cohort.StatusActive, Limit: 7, After: after})
		must(t, err)
		for _, g := range p.Groups {
			if seen[g.ID] {
				t.Fatalf("group %s seen twice", g.Name)
			}
			seen[g.ID] = true
			if k := cohort.NameKey(g.Name); k < lastKey {
				t.Fatalf("order broken: %q after %q", k, lastKey)
			} else {
				lastKey = k
			}
		}
		// Others insert groups while we walk, before and after our position.
		for j := 0; j < 3; j++ {
			f.group(t, fmt.Sprintf("%s insert %d-%d", word(), i, j))
		}
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	for id := range initial {
		if !seen[id] {
			t.Fatalf("group %s present at the start was missed", id)
		}
	}
}

func testGroupFilters(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	us := f.users(t, 2)
	physio := f.group(t, "Physiotherapists", us[0])
	kids := f.group(t, "Practitioners who treat CHILDREN", us[0], us[1])
	pct := f.group(t, "100% remote_team")
	arch := f.group(t, "Old physio team")
	_, err := f.s.Groups.ArchiveGroup(f.ctx, arch.ID, 0)
	must(t, err)
	_, _, err = f.s.Groups.UpdateGroup(f.ctx, pct.ID, cohort.GroupUpdate{ExternalID: ptr("okta-77")})
	must(t, err)
	cases := []struct {
		name string
		f    cohort.GroupFilter
		want []*cohort.Group
	}{
		{"contains any case", cohort.GroupFilter{Query: "PHYSIO"}, []*cohort.Group{arch, physio}},
		{"contains active", cohort.GroupFilter{Query: "physio", Status: cohort.StatusActive}, []*cohort.Group{physio}},
		{"inner words", cohort.GroupFilter{Query: "treat  child"}, []*cohort.Group{kids}},
		{"percent is literal", cohort.GroupFilter{Query: "%"}, []*cohort.Group{pct}},
		{"underscore is literal", cohort.GroupFilter{Query: "e_t"}, []*cohort.Group{pct}},
		{"exact name", cohort.GroupFilter{Name: " physiotherapists "}, []*cohort.Group{physio}},
		{"external id", cohort.GroupFilter{ExternalID: "okta-77"}, []*cohort.Group{pct}},
		{"ids", cohort.GroupFilter{IDs: []string{kids.ID, arch.ID, "nope"}}, []*cohort.Group{arch, kids}},
		{"member", cohort.GroupFilter{MemberID: us[1].ID}, []*cohort.Group{kids}},
		{"updated after", cohort.GroupFilter{UpdatedAfter: &kids.UpdatedAt}, []*cohort.Group{pct, arch}},
	}
	for _, tc := range cases {
		p, err := f.s.Groups.FindGroups(f.ctx, tc.f)
		must(t, err)
		if !sameSet(groupIDs(p.Groups), groupIDs(tc.want)) || p.Total != len(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, groupNames(p.Groups), groupNames(tc.want))
		}
	}
	// Counts come with every listed group.
	p, err := f.s.Groups.FindGroups(f.ctx, cohort.GroupFilter{Status: cohort.StatusActive})
	must(t, err)
	for _, g := range p.Groups {
		want := map[string]int{physio.ID: 1, kids.ID: 2, pct.ID: 0}[g.ID]
		if g.MemberCount != want {
			t.Errorf("%s lists %d members, want %d", g.Name, g.MemberCount, want)
		}
	}
	_, err = f.s.Groups.FindGroups(f.ctx, cohort.GroupFilter{Status: "deleted"})
	wantCode(t, err, cohort.EINVALID)
}

func groupIDs(gs []*cohort.Group) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.ID)
	}
	return out
}

func testUserWalkWithInserts(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	initial := map[string]bool{f.owner.ID: true}
	for _, u := range f.users(t, 40) {
		initial[u.ID] = true
	}
	seen := map[string]bool{}
	after := ""
	for i := 0; ; i++ {
		p, err := f.s.Users.FindUsers(f.ctx, cohort.UserFilter{Limit: 6, After: after})
		must(t, err)
		for _, u := range p.Users {
			if seen[u.ID] {
				t.Fatalf("%s seen twice", u.Name())
			}
			seen[u.ID] = true
		}
		f.user(t, fmt.Sprintf("Aaron%d", i), "Aardvark", cohort.RolePractitioner)
		f.user(t, fmt.Sprintf("Zoe%d", i), "Zulu", cohort.RolePractitioner)
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	for id := range initial {
		if !seen[id] {
			t.Fatalf("user %s missed", id)
		}
	}
	p, err := f.s.Users.FindUsers(f.ctx, cohort.UserFilter{Limit: 3})
	must(t, err)
	if len(p.Users) != 3 || p.Users[0].FamilyName != "Aardvark" || p.Next == "" || p.Prev != "" {
		t.Fatalf("first page = %v next %q prev %q", names(p.Users), p.Next, p.Prev)
	}
}

func testAuditPaging(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	g := f.group(t, "Audited")
	for i := 0; i < 9; i++ {
		_, _, err := f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{Description: ptr(fmt.Sprintf("v%d", i))})
		must(t, err)
	}
	all := f.audit(t, g.ID) // oldest first
	if len(all) != 10 {
		t.Fatalf("%d entries", len(all))
	}
	var walked []string
	after := ""
	for {
		p, err := f.s.Audit.FindAuditEntries(f.ctx, cohort.AuditFilter{TargetID: g.ID, Limit: 4, After: after})
		must(t, err)
		for _, e := range p.Entries {
			walked = append(walked, e.ID)
		}
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	if len(walked) != 10 || walked[0] != all[9].ID || walked[9] != all[0].ID {
		t.Fatalf("audit walk is not newest first: %d entries", len(walked))
	}
	p, err := f.s.Audit.FindAuditEntries(f.ctx, cohort.AuditFilter{Action: cohort.ActionGroupCreated, TargetType: "group"})
	must(t, err)
	if len(p.Entries) != 1 || p.Entries[0].TargetID != g.ID {
		t.Fatalf("action filter = %d", len(p.Entries))
	}
	p, err = f.s.Audit.FindAuditEntries(f.ctx, cohort.AuditFilter{ActorName: "olive OWN"})
	must(t, err)
	if len(p.Entries) < 10 {
		t.Fatalf("actor filter = %d", len(p.Entries))
	}
	since := all[5].Time
	p, err = f.s.Audit.FindAuditEntries(f.ctx, cohort.AuditFilter{TargetID: g.ID, Since: &since})
	must(t, err)
	for _, e := range p.Entries {
		if e.Time.Before(since) {
			t.Fatal("Since not applied")
		}
	}
}
