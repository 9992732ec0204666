package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
)

// testUserTotals checks the total of every staff listing against a count
// made here from the staff as created: no filter, a status, a role,
// group filters (one group, several, an archived group, another
// workspace's group), the picker's excluded group, a search, and their
// combinations. Some of these totals come from maintained counters, some
// from counting rows; all must equal the staff that match.
func testUserTotals(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	type person struct {
		u      *cohort.User
		groups []string
	}
	givens := []string{"Olive", "Oscar", "Mia", "Noah", "Ava"}
	families := []string{"Oliver", "Smith", "Olsen", "Brown"}
	roles := []cohort.Role{cohort.RolePractitioner, cohort.RoleReceptionist, cohort.RolePracticeManager}
	people := []*person{{u: f.owner}}
	for i := range 18 {
		email := fmt.Sprintf("staff%02d@riverside.test", i)
		if i%4 == 1 {
			email = fmt.Sprintf("olly%02d@riverside.test", i) // found by email only, for "ol" and "olly"
		}
		u, err := f.s.Users.CreateUser(f.ctx, cohort.UserCreate{Email: email, GivenName: givens[i%len(givens)],
			FamilyName: families[i%len(families)], Role: roles[i%len(roles)]})
		must(t, err)
		people = append(people, &person{u: u})
	}
	staff := people[1:]
	pick := func(idx ...int) []*cohort.User {
		var us []*cohort.User
		for _, i := range idx {
			us = append(us, staff[i].u)
		}
		return us
	}
	ga := f.group(t, "Totals A", pick(0, 1, 2, 3, 4, 5, 6)...)
	gb := f.group(t, "Totals B", pick(4, 5, 6, 7, 8, 9)...)
	gc := f.group(t, "Totals C", pick(2, 9, 10, 11)...)
	other := newFixture(t, db)
	gf := other.group(t, "Elsewhere", other.user(t, "Olive", "Oliver", cohort.RolePractitioner))
	for _, m := range []struct {
		g   *cohort.Group
		idx []int
	}{{ga, []int{0, 1, 2, 3, 4, 5, 6}}, {gb, []int{4, 5, 6, 7, 8, 9}}, {gc, []int{2, 9, 10, 11}}} {
		for _, i := range m.idx {
			staff[i].groups = append(staff[i].groups, m.g.ID)
		}
	}
	// Members leave and staff are archived and restored after joining, so
	// the counters have moved; one group is archived with its members.
	_, _, err := f.s.Groups.UpdateGroup(f.ctx, ga.ID, cohort.GroupUpdate{Remove: []string{staff[0].u.ID}})
	must(t, err)
	staff[0].groups = slices.DeleteFunc(staff[0].groups, func(id string) bool { return id == ga.ID })
	for _, i := range []int{1, 5, 9, 12, 13, 14} {
		staff[i].u, err = f.s.Users.ArchiveUser(f.ctx, staff[i].u.ID, 0)
		must(t, err)
	}
	staff[14].u, err = f.s.Users.RestoreUser(f.ctx, staff[14].u.ID, 0)
	must(t, err)
	_, err = f.s.Groups.ArchiveGroup(f.ctx, gc.ID, 0)
	must(t, err)

	// want counts the people matching filt, by the rules the filters
	// document: a search is a prefix of the family name, the given name,
	// "given family" or the email, case-insensitively. (The queries below
	// are plain ASCII: lower case and single spaces are their whole key.)
	want := func(filt cohort.UserFilter) int {
		q := strings.ToLower(strings.Join(strings.Fields(filt.Query), " "))
		n := 0
		for _, p := range people {
			u := p.u
			switch {
			case filt.Status != "" && u.Status != filt.Status,
				filt.Role != "" && u.Role != filt.Role,
				filt.Email != "" && u.Email != cohort.NormalizeEmail(filt.Email),
				filt.IDs != nil && !slices.Contains(filt.IDs, u.ID),
				filt.UpdatedAfter != nil && !u.UpdatedAt.After(*filt.UpdatedAfter),
				len(filt.GroupIDs) > 0 && !slices.ContainsFunc(filt.GroupIDs, func(g string) bool { return slices.Contains(p.groups, g) }),
				filt.ExcludeGroupID != "" && slices.Contains(p.groups, filt.ExcludeGroupID):
				continue
			}
			if q != "" && !strings.HasPrefix(strings.ToLower(u.FamilyName), q) && !strings.HasPrefix(strings.ToLower(u.Name()), q) &&
				!strings.HasPrefix(u.Email, q) {
				continue
			}
			n++
		}
		return n
	}
	var filters []cohort.UserFilter
	groupSets := [][]string{nil, {ga.ID}, {gb.ID}, {ga.ID, gb.ID}, {ga.ID, ga.ID}, {gc.ID}, {gf.ID}}
	for _, status := range []cohort.Status{"", cohort.StatusActive, cohort.StatusArchived} {
		for _, role := range []cohort.Role{"", cohort.RoleReceptionist} {
			for _, groups := range groupSets {
				for _, exclude := range []string{"", ga.ID, gc.ID, gf.ID} {
					for _, q := range []string{"", "ol", "Smith", "olly", "mia s", "zz"} {
						filters = append(filters, cohort.UserFilter{Status: status, Role: role, GroupIDs: groups, ExcludeGroupID: exclude, Query: q})
					}
				}
			}
		}
	}
	before := staff[14].u.UpdatedAt.Add(-time.Microsecond)
	for _, status := range []cohort.Status{"", cohort.StatusActive} {
		filters = append(filters,
			cohort.UserFilter{Status: status, Email: " OLLY01@Riverside.test"},
			cohort.UserFilter{Status: status, Email: "olly01@riverside.test", GroupIDs: []string{ga.ID}},
			cohort.UserFilter{Status: status, IDs: []string{staff[1].u.ID, staff[2].u.ID, staff[3].u.ID}},
			cohort.UserFilter{Status: status, IDs: []string{staff[2].u.ID, staff[3].u.ID}, ExcludeGroupID: ga.ID},
			cohort.UserFilter{Status: status, IDs: []string{}},
			cohort.UserFilter{Status: status, UpdatedAfter: &before},
			cohort.UserFilter{Status: status, UpdatedAfter: &before, GroupIDs: []string{gb.ID}},
		)
	}
	for _, filt := range filters {
		w := want(filt)
		p, err := f.s.Users.FindUsers(f.ctx, filt)
		must(t, err)
		if p.Total != w || len(p.Users) != w {
			t.Errorf("%s: total %d, %d staff listed, want %d", describeUserFilter(filt, ga, gb, gc, gf), p.Total, len(p.Users), w)
		}
		filt.Limit = 2
		p, err = f.s.Users.FindUsers(f.ctx, filt)
		must(t, err)
		if p.Total != w {
			t.Errorf("%s, 2 a page: total %d, want %d", describeUserFilter(filt, ga, gb, gc, gf), p.Total, w)
		}
	}
}

// describeUserFilter names a filter's groups for a failure message.
func describeUserFilter(filt cohort.UserFilter, groups ...*cohort.Group) string {
	s := fmt.Sprintf("%+v", filt)
	for _, g := range groups {
		s = strings.ReplaceAll(s, g.ID, g.Name)
	}
	return s
}
