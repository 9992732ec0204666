package storetest

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
)

// testLargeGroups checks member lists and group filters on groups large
// enough for the store to walk staff in list order (over 1,000 members)
// and small ones, with the same answers either way.
func testLargeGroups(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	const n = 1200
	staff := make([]sqlstore.BulkStaff, n)
	for i := range staff {
		staff[i] = sqlstore.BulkStaff{Email: fmt.Sprintf("s%04d@big.test", i), GivenName: []string{"Olive", "Oscar", "Mia", "Noah"}[i%4],
			FamilyName: fmt.Sprintf("Fam%03d", (i*7919)%1000), Role: cohort.RolePractitioner}
	}
	big := make([]int, 0, 1100)
	for i := 0; i < 1100; i++ {
		big = append(big, i)
	}
	uids, gids, err := db.BulkLoad(f.ctx, staff, []sqlstore.BulkGroup{{Name: "Big", Members: big}, {Name: "Small", Members: []int{1, 2, 1150}}}, nil)
	must(t, err)
	bigID, smallID := gids[0], gids[1]
	// Archive two big-group members.
	for _, i := range []int{3, 4} {
		_, err := f.s.Users.ArchiveUser(f.ctx, uids[i], 0)
		must(t, err)
	}
	type person struct{ key, id string }
	expect := func(keep func(i int) bool) []string {
		var ps []person
		for i, s := range staff {
			if keep(i) {
				ps = append(ps, person{strings.ToLower(s.FamilyName) + "\x00" + strings.ToLower(s.GivenName) + "\x00" + uids[i], uids[i]})
			}
		}
		sort.Slice(ps, func(a, b int) bool { return ps[a].key < ps[b].key })
		var out []string
		for _, p := range ps {
			out = append(out, p.id)
		}
		return out
	}
	walk := func(groupID string, filt cohort.UserFilter) ([]string, int) {
		var got []string
		total := -1
		filt.Limit = 97
		for {
			var p *cohort.UserPage
			var err error
			if groupID != "" {
				p, err = f.s.Groups.FindMembers(f.ctx, groupID, filt)
			} else {
				p, err = f.s.Users.FindUsers(f.ctx, filt)
			}
			must(t, err)
			total = p.Total
			got = append(got, ids(p.Users...)...)
			if p.Next == "" {
				return got, total
			}
			filt.After = p.Next
		}
	}
	inBig := func(i int) bool { return i < 1100 }
	for _, tc := range []struct {
		name  string
		group string
		f     cohort.UserFilter
		want  []string
	}{
		{"big active", bigID, cohort.UserFilter{Status: cohort.StatusActive}, expect(func(i int) bool { return inBig(i) && i != 3 && i != 4 })},
		{"big archived", bigID, cohort.UserFilter{Status: cohort.StatusArchived}, expect(func(i int) bool { return i == 3 || i == 4 })},
		{"big all", bigID, cohort.UserFilter{}, expect(inBig)},
		{"big search", bigID, cohort.UserFilter{Query: "osc"}, expect(func(i int) bool { return inBig(i) && i%4 == 1 })},
		{"small", smallID, cohort.UserFilter{}, expect(func(i int) bool { return i == 1 || i == 2 || i == 1150 })},
		{"not in big", "", cohort.UserFilter{ExcludeGroupID: bigID, Query: "fam"}, expect(func(i int) bool { return !inBig(i) })},
		{"either group", "", cohort.UserFilter{GroupIDs: []string{smallID, bigID}, Status: cohort.StatusActive, Query: "mia"},
			expect(func(i int) bool { return (inBig(i) || i == 1150) && i%4 == 2 })},
	} {
		got, total := walk(tc.group, tc.f)
		if strings.Join(got, ",") != strings.Join(tc.want, ",") || total != len(tc.want) {
			t.Errorf("%s: %d rows (total %d), want %d in order", tc.name, len(got), total, len(tc.want))
		}
	}
	g := f.getGroup(t, bigID)
	if g.MemberCount != 1098 || g.ArchivedMemberCount != 2 {
		t.Fatalf("counters %d/%d", g.MemberCount, g.ArchivedMemberCount)
	}
}
