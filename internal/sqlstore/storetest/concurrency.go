package storetest

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
)

func testConcurrentEditors(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	us := f.users(t, 2)
	for round := 0; round < 5; round++ {
		g := f.group(t, fmt.Sprintf("Edited %d", round))
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, errs[i] = f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{
					Name: ptr(fmt.Sprintf("Edited %d by %d", round, i)), ReplaceMembers: ptr(ids(us[i])), IfVersion: 1})
			}()
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch cohort.ErrorCode(err) {
			case "":
				if winner >= 0 {
					t.Fatalf("round %d: both editors won", round)
				}
				winner = i
			case cohort.ESTALE:
			default:
				t.Fatalf("round %d editor %d: %v", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody won: %v", round, errs)
		}
		got := f.getGroup(t, g.ID)
		if got.Name != fmt.Sprintf("Edited %d by %d", round, winner) || got.Version != 2 || got.MemberCount != 1 {
			t.Fatalf("round %d: group = %+v, winner %d", round, got, winner)
		}
		if m := f.memberIDs(t, g.ID); len(m) != 1 || m[0] != us[winner].ID {
			t.Fatalf("round %d: members %v, want the winner's", round, m)
		}
	}
}

func testConcurrentDeltas(t *testing.T, db *sqlstore.DB) {
	const workers, ops, per = 16, 50, 4
	f := newFixture(t, db)
	us := f.users(t, workers*per)
	g := f.group(t, "Busy group")
	var wg sync.WaitGroup
	var mu sync.Mutex
	net, changes := 0, 0
	want := map[string]bool{}
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := us[w*per : (w+1)*per]
			in := map[string]bool{}
			r := rand.New(rand.NewPCG(uint64(w), 42))
			for range ops {
				u := mine[r.IntN(per)]
				var upd cohort.GroupUpdate
				if in[u.ID] {
					upd.Remove = []string{u.ID}
				} else {
					upd.Add = []string{u.ID}
				}
				_, mc, err := f.s.Groups.UpdateGroup(f.ctx, g.ID, upd)
				if err != nil {
					errs <- err
					return
				}
				for _, id := range mc.Added {
					in[id] = true
				}
				for _, id := range mc.Removed {
					delete(in, id)
				}
				mu.Lock()
				net += len(mc.Added) - len(mc.Removed)
				if len(mc.Added)+len(mc.Removed) > 0 {
					changes++
				}
				mu.Unlock()
			}
			mu.Lock()
			for id := range in {
				want[id] = true
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a member delta failed: %v", err)
	}
	if changes != workers*ops {
		t.Fatalf("%d of %d deltas changed something; each should have", changes, workers*ops)
	}
	got := f.getGroup(t, g.ID)
	members := f.memberIDs(t, g.ID)
	var wantIDs []string
	for id := range want {
		wantIDs = append(wantIDs, id)
	}
	sort.Strings(wantIDs)
	if !sameSet(members, wantIDs) || got.MemberCount != net || len(members) != net {
		t.Fatalf("final members %d (counter %d), sum of accepted changes %d", len(members), got.MemberCount, net)
	}
	if got.Version != int64(1+changes) {
		t.Fatalf("version %d after %d changes", got.Version, changes)
	}
	ev := f.events(t, 0)
	n := 0
	for _, e := range ev {
		if e.Type == cohort.ActionGroupMembersChanged {
			n++
		}
	}
	if n != changes {
		t.Fatalf("%d members_changed events for %d changes", n, changes)
	}
	for i := 1; i < len(ev); i++ {
		if ev[i].Seq <= ev[i-1].Seq {
			t.Fatal("event seq not increasing")
		}
	}
}

func testRaceArchive(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	us := f.users(t, 30)
	for round := 0; round < 3; round++ {
		g := f.group(t, fmt.Sprintf("Racing %d", round))
		var wg sync.WaitGroup
		added := make(chan string, len(us))
		var failed error
		wg.Add(2)
		go func() {
			defer wg.Done()
			for _, u := range us {
				_, mc, err := f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{Add: []string{u.ID}})
				switch cohort.ErrorCode(err) {
				case "":
					for _, id := range mc.Added {
						added <- id
					}
				case cohort.EARCHIVED:
				default:
					failed = err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := f.s.Groups.ArchiveGroup(f.ctx, g.ID, 0); err != nil {
				t.Errorf("archive: %v", err)
			}
		}()
		wg.Wait()
		close(added)
		if failed != nil {
			t.Fatal(failed)
		}
		var want []string
		for id := range added {
			want = append(want, id)
		}
		got := f.getGroup(t, g.ID)
		if !got.Archived() || !sameSet(f.memberIDs(t, g.ID), want) || got.MemberCount != len(want) {
			t.Fatalf("round %d: archived=%v members %d counter %d, accepted adds %d", round, got.Archived(),
				len(f.memberIDs(t, g.ID)), got.MemberCount, len(want))
		}
		// Every accepted change happened before the archive: the archive
		// is the group's last version.
		if got.Version != int64(len(want)+2) {
			t.Fatalf("round %d: version %d, want %d", round, got.Version, len(want)+2)
		}
	}
}

func testConcurrentCreates(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.s.Groups.CreateGroup(f.ctx, cohort.GroupCreate{Name: []string{"Same name", "SAME NAME", "same  name"}[i%3]})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch cohort.ErrorCode(err) {
		case "":
			ok++
		case cohort.ECONFLICT:
		default:
			t.Fatalf("concurrent create: %v", err)
		}
	}
	p, err := f.s.Groups.FindGroups(f.ctx, cohort.GroupFilter{Name: "same name"})
	must(t, err)
	if ok != 1 || p.Total != 1 {
		t.Fatalf("%d creates succeeded, %d groups exist", ok, p.Total)
	}
}

// concurrently runs fn(0), …, fn(n-1) at once and fails on the first
// error any of them returns.
func concurrently(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- fn(i)
		}()
	}
	wg.Wait()
	for range n {
		must(t, <-errs)
	}
}

// testGroupCountersExact checks the maintained per-status group counters (what
// the Groups page's tabs and a listing's total show) against the groups
// themselves, after concurrent creates, archives and restores.
func testGroupCountersExact(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	check := func(when string) {
		t.Helper()
		active, archived, err := f.s.Groups.CountGroups(f.ctx)
		must(t, err)
		count := func(s cohort.Status) int {
			// A name query forces a real count, not the counters.
			p, err := f.s.Groups.FindGroups(f.ctx, cohort.GroupFilter{Status: s, Query: "count"})
			must(t, err)
			return len(p.Groups)
		}
		wa, wr := count(cohort.StatusActive), count(cohort.StatusArchived)
		if active != wa || archived != wr {
			t.Fatalf("%s: counters say %d active, %d archived; the groups are %d and %d", when, active, archived, wa, wr)
		}
		for _, s := range []cohort.Status{cohort.StatusActive, cohort.StatusArchived, ""} {
			p, err := f.s.Groups.FindGroups(f.ctx, cohort.GroupFilter{Status: s, Limit: 1})
			must(t, err)
			if want := map[cohort.Status]int{cohort.StatusActive: wa, cohort.StatusArchived: wr, "": wa + wr}[s]; p.Total != want {
				t.Fatalf("%s: listing %q says total %d, want %d", when, s, p.Total, want)
			}
		}
	}
	check("empty workspace")
	const n = 12
	gs := make([]*cohort.Group, n)
	concurrently(t, n, func(i int) (err error) {
		gs[i], err = f.s.Groups.CreateGroup(f.ctx, cohort.GroupCreate{Name: fmt.Sprintf("Count %02d", i)})
		return err
	})
	check("after creates")
	concurrently(t, n, func(i int) error {
		_, err := f.s.Groups.ArchiveGroup(f.ctx, gs[i].ID, 0)
		if err == nil && i%3 == 0 {
			_, err = f.s.Groups.RestoreGroup(f.ctx, gs[i].ID, "", 0)
		}
		if err == nil && i%4 == 0 {
			_, err = f.s.Groups.ArchiveGroup(f.ctx, gs[i].ID, 0) // archived twice: idempotent
		}
		return err
	})
	check("after archives and restores")
	// A stale rename changes nothing, the counters included.
	_, _, err := f.s.Groups.UpdateGroup(f.ctx, gs[3].ID, cohort.GroupUpdate{Name: ptr("Count renamed"), IfVersion: 1}) // gs[3] was archived and restored
	if cohort.ErrorCode(err) != cohort.ESTALE {
		t.Fatalf("stale rename: %v", err)
	}
	check("after a refused change")
}

// testUserCountersExact checks the maintained staff counters (the Users
// page's and the picker's totals) against the staff themselves, after
// concurrent creates, archives and restores and a CSV import.
func testUserCountersExact(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	g := f.group(t, "Counted")
	check := func(when string) {
		t.Helper()
		for _, s := range []cohort.Status{cohort.StatusActive, cohort.StatusArchived, ""} {
			all, err := f.s.Users.FindUsers(f.ctx, cohort.UserFilter{Status: s})
			must(t, err)
			p, err := f.s.Users.FindUsers(f.ctx, cohort.UserFilter{Status: s, Limit: 1})
			must(t, err)
			if p.Total != len(all.Users) {
				t.Fatalf("%s: status %q: total %d, but %d staff", when, s, p.Total, len(all.Users))
			}
		}
		others, err := f.s.Users.FindUsers(f.ctx, cohort.UserFilter{Status: cohort.StatusActive, ExcludeGroupID: g.ID})
		must(t, err)
		p, err := f.s.Users.FindUsers(f.ctx, cohort.UserFilter{Status: cohort.StatusActive, ExcludeGroupID: g.ID, Limit: 1})
		must(t, err)
		if p.Total != len(others.Users) {
			t.Fatalf("%s: picker total %d, but %d active staff outside the group", when, p.Total, len(others.Users))
		}
	}
	check("owner only")
	const n = 10
	us := make([]*cohort.User, n)
	concurrently(t, n, func(i int) (err error) {
		us[i], err = f.s.Users.CreateUser(f.ctx, cohort.UserCreate{Email: fmt.Sprintf("count%02d@riverside.test", i),
			GivenName: "Count", FamilyName: fmt.Sprint("Person", i), Role: cohort.RolePractitioner})
		return err
	})
	_, _, err := f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{Add: ids(us[:4]...)})
	must(t, err)
	check("after creates")
	concurrently(t, n, func(i int) error {
		_, err := f.s.Users.ArchiveUser(f.ctx, us[i].ID, 0)
		if err == nil && i%3 == 0 {
			_, err = f.s.Users.RestoreUser(f.ctx, us[i].ID, 0)
		}
		return err
	})
	check("after archives and restores")
	_, err = f.s.Imports.ImportUsers(f.ctx, []cohort.UserImport{
		{Row: 2, Email: "count01@riverside.test", GivenName: "Count", FamilyName: "Person1", Role: cohort.RolePractitioner, Status: cohort.StatusActive},
		{Row: 3, Email: "count00@riverside.test", GivenName: "Count", FamilyName: "Person0", Role: cohort.RolePractitioner, Status: cohort.StatusArchived},
		{Row: 4, Email: "newcount@riverside.test", GivenName: "New", FamilyName: "Count", Role: cohort.RoleReceptionist, Status: cohort.StatusArchived},
	})
	must(t, err)
	check("after an import")
}

func testConcurrentUserArchive(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	us := f.users(t, 12)
	gs := []*cohort.Group{f.group(t, "A", us[:6]...), f.group(t, "B", us[3:9]...), f.group(t, "C")}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i, u := range us {
		wg.Add(2)
		go func() {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				_, err = f.s.Users.ArchiveUser(f.ctx, u.ID, 0)
			} else {
				_, err = f.s.Users.ArchiveUser(f.ctx, u.ID, 0)
				if err == nil {
					_, err = f.s.Users.RestoreUser(f.ctx, u.ID, 0)
				}
			}
			errs <- err
		}()
		go func() {
			defer wg.Done()
			g := gs[i%3]
			_, _, err := f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{Add: []string{u.ID}})
			errs <- err
			_, _, err = f.s.Groups.UpdateGroup(f.ctx, gs[(i+1)%3].ID, cohort.GroupUpdate{Remove: []string{u.ID}})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent change: %v", err)
		}
	}
	checkCounters(t, f)
}
