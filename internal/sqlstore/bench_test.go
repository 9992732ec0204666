package sqlstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/testdb"
)

// The hot paths of the benchmark workloads (cmd/cohort-bench), measured on the store alone:
//
//	go test ./internal/sqlstore -run '^$' -bench . -benchtime 2s
//
// COHORT_BENCH_SET=S|M|L picks the data set (default L: 50,000 staff,
// 5,000 groups, one group of 50,000 members). COHORT_BENCH_ENGINE=postgres
// with COHORT_TEST_POSTGRES runs them on PostgreSQL.

type benchData struct {
	db      *DB
	ctx     context.Context
	ws      string
	users   []string
	big     string // the 50,000-member group (or the largest)
	small   string // a 10-member group
	outside []string
}

// TestMain removes the benchmarks' SQLite data set after the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if bench != nil {
		bench.db.Close()
	}
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	if benchDrop != nil {
		if err := benchDrop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

var (
	benchDir  string
	benchDrop func() error
	benchOnce sync.Once
	bench     *benchData
	benchErr  error
)

func benchSet(b *testing.B) *benchData {
	b.Helper()
	benchOnce.Do(func() {
		set := os.Getenv("COHORT_BENCH_SET")
		if set == "" {
			set = "L"
		}
		sizes := map[string][3]int{"S": {25, 7, 12}, "M": {5000, 500, 200}, "L": {50000, 5000, 200}}
		sz, ok := sizes[set]
		if !ok {
			benchErr = fmt.Errorf("COHORT_BENCH_SET=%s: use S, M or L", set)
			return
		}
		var db *DB
		if keep := os.Getenv("COHORT_BENCH_DB"); keep != "" {
			// A kept SQLite data set: seeded once, reused by later runs.
			var err error
			if db, err = Open(context.Background(), keep, Options{}); err != nil {
				benchErr = err
				return
			}
			if bench, benchErr = loadBench(db); bench != nil || benchErr != nil {
				return
			}
			bench, benchErr = seedBench(db, sz[0], sz[1], sz[2], set == "L")
			return
		}
		if os.Getenv("COHORT_BENCH_ENGINE") == "postgres" {
			// Not b.Cleanup: the data set outlives the first benchmark.
			dsn, drop, err := testdb.CreatePostgres(os.Getenv("COHORT_TEST_POSTGRES"))
			if err != nil {
				benchErr = err
				return
			}
			benchDrop = drop
			if db, err = Open(context.Background(), dsn, Options{}); err != nil {
				benchErr = err
				return
			}
		} else {
			dir, err := os.MkdirTemp("", "sqlstore-bench-")
			if err != nil {
				benchErr = err
				return
			}
			benchDir = dir
			db, err = Open(context.Background(), filepath.Join(dir, "bench.db"), Options{})
			if err != nil {
				benchErr = err
				return
			}
		}
		bench, benchErr = seedBench(db, sz[0], sz[1], sz[2], set == "L")
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return bench
}

var givenNames = []string{"Olivia", "Noah", "Amelia", "Jack", "Isla", "Oliver", "Mia", "Leo", "Ava", "Henry", "Grace",
	"Lucas", "Chloe", "Thomas", "Zoe", "William", "Ruby", "James", "Ella", "Charlie", "Harper", "Mason", "Sophie", "Ethan"}

var syllables = []string{"an", "ber", "cal", "dor", "el", "fin", "gar", "hol", "is", "jen", "kim", "lor", "mac", "nor",
	"ol", "par", "quin", "ros", "sul", "tan", "ul", "ver", "wes", "yor", "zan"}

// seedBench writes a data set straight into the tables (one transaction),
// with the counters the store maintains, seed 42.
func seedBench(db *DB, nUsers, nGroups, maxMembers int, bigGroup bool) (*benchData, error) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(42, 42))
	ws, owner, err := db.CreateWorkspace(ctx, cohort.WorkspaceCreate{Name: "Bench Practice", Slug: "bench",
		Owner: cohort.UserCreate{Email: "owner@bench.test", GivenName: "Bench", FamilyName: "Owner"}})
	if err != nil {
		return nil, err
	}
	d := &benchData{db: db, ws: ws.ID, users: []string{owner.ID}}
	d.ctx = cohort.NewContextWithActor(ctx, cohort.Actor{WorkspaceID: ws.ID, UserID: owner.ID, Name: "Bench Owner", IsOwner: true, Via: cohort.ViaAPI})
	err = db.inTx(ctx, cohort.SystemActor(ws.ID, "bench"), func(t *tx) error {
		at := ts(t.now)
		for i := 1; i < nUsers; i++ {
			given := givenNames[r.IntN(len(givenNames))]
			family := ""
			for range 2 + r.IntN(2) {
				family += syllables[r.IntN(len(syllables))]
			}
			family = string(family[0]-32) + family[1:]
			id := newID()
			email := fmt.Sprintf("%s.%s.%d@bench.test", personKey(given), personKey(family), i)
			if _, err := t.exec(`INSERT INTO users (id, workspace_id, email, given_name, family_name, given_key, family_key,
				full_key, role, status, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'practitioner',
				'active', 1, $9, $9)`, id, ws.ID, email, given, family, personKey(given), personKey(family),
				personKey(given+" "+family), at); err != nil {
				return err
			}
			d.users = append(d.users, id)
		}
		group := func(name string, members []string) (string, error) {
			id := newID()
			if _, err := t.exec(`INSERT INTO groups (id, workspace_id, name, name_key, status, member_count, version,
				created_at, updated_at) VALUES ($1, $2, $3, $4, 'active', $5, 1, $6, $6)`,
				id, ws.ID, name, cohort.NameKey(name), len(members), at); err != nil {
				return "", err
			}
			for _, u := range members {
				if _, err := t.exec(`INSERT INTO memberships (group_id, user_id, workspace_id, created_at) VALUES ($1, $2, $3, $4)`,
					id, u, ws.ID, at); err != nil {
					return "", err
				}
			}
			return id, nil
		}
		for i := range nGroups {
			n := r.IntN(maxMembers + 1)
			members := make([]string, 0, n)
			picked := make(map[int]bool, n)
			for len(members) < min(n, len(d.users)) {
				if j := r.IntN(len(d.users)); !picked[j] {
					picked[j] = true
					members = append(members, d.users[j])
				}
			}
			if _, err := group(fmt.Sprintf("Group %s %04d", syllables[r.IntN(len(syllables))], i), members); err != nil {
				return err
			}
		}
		all := d.users[:len(d.users)-10]
		d.outside = d.users[len(d.users)-10:]
		if !bigGroup {
			all = all[:min(len(all), 5000)]
		}
		if d.big, err = group("Everyone", all); err != nil {
			return err
		}
		d.small, err = group("Ten people", all[:10])
		return err
	})
	if err != nil {
		return nil, err
	}
	_, err = db.write.ExecContext(ctx, `ANALYZE`)
	return d, err
}

// loadBench finds a data set seeded by an earlier run, or returns nil.
func loadBench(db *DB) (*benchData, error) {
	ctx := context.Background()
	ws, err := db.FindWorkspaceBySlug(ctx, "bench")
	if cohort.ErrorCode(err) == cohort.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d := &benchData{db: db, ws: ws.ID}
	var owner string
	if err := db.read.QueryRowContext(ctx, `SELECT id FROM users WHERE workspace_id = $1 AND is_owner`, ws.ID).Scan(&owner); err != nil {
		return nil, err
	}
	d.ctx = cohort.NewContextWithActor(ctx, cohort.Actor{WorkspaceID: ws.ID, UserID: owner, Name: "Bench Owner", IsOwner: true, Via: cohort.ViaAPI})
	rows, err := db.read.QueryContext(ctx, `SELECT id FROM users WHERE workspace_id = $1 ORDER BY id`, ws.ID)
	if err != nil {
		return nil, err
	}
	if d.users, err = scanStrings(rows); err != nil {
		return nil, err
	}
	d.outside = d.users[len(d.users)-10:]
	for name, dst := range map[string]*string{"everyone": &d.big, "ten people": &d.small} {
		if err := db.read.QueryRowContext(ctx, `SELECT id FROM groups WHERE workspace_id = $1 AND name_key = $2`, ws.ID, name).Scan(dst); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// BenchmarkFindGroupsPage is B1's query: the first page of active groups
// with their member counts and the total.
func BenchmarkFindGroupsPage(b *testing.B) {
	d := benchSet(b)
	for b.Loop() {
		p, err := d.db.FindGroups(d.ctx, cohort.GroupFilter{Status: cohort.StatusActive, Limit: 50})
		if err != nil || len(p.Groups) != 50 {
			b.Fatal(err)
		}
	}
}

// BenchmarkFindGroupsWalk is B2: every active group, 100 per page.
func BenchmarkFindGroupsWalk(b *testing.B) {
	d := benchSet(b)
	for b.Loop() {
		after := ""
		for {
			p, err := d.db.FindGroups(d.ctx, cohort.GroupFilter{Status: cohort.StatusActive, Limit: 100, After: after})
			if err != nil {
				b.Fatal(err)
			}
			if p.Next == "" {
				break
			}
			after = p.Next
		}
	}
}

// benchDelta is B4: one member in and out again.
func benchDelta(b *testing.B, group string) {
	d := benchSet(b)
	u := d.outside[0]
	for b.Loop() {
		if _, _, err := d.db.UpdateGroup(d.ctx, group, cohort.GroupUpdate{Add: []string{u}}); err != nil {
			b.Fatal(err)
		}
		if _, _, err := d.db.UpdateGroup(d.ctx, group, cohort.GroupUpdate{Remove: []string{u}}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemberDeltaBigGroup(b *testing.B)   { benchDelta(b, benchSet(b).big) }
func BenchmarkMemberDeltaSmallGroup(b *testing.B) { benchDelta(b, benchSet(b).small) }

// BenchmarkUserPrefixSearch is B7: three letters typed into the picker.
func BenchmarkUserPrefixSearch(b *testing.B) {
	d := benchSet(b)
	queries := []string{"mac", "oli", "ber", "gra", "zan", "tho"}
	i := 0
	for b.Loop() {
		q := queries[i%len(queries)]
		i++
		if _, err := d.db.FindUsers(d.ctx, cohort.UserFilter{Query: q, Status: cohort.StatusActive, Limit: 20}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFindMembersBigGroup: the first page of the 50,000-member group.
func BenchmarkFindMembersBigGroup(b *testing.B) {
	d := benchSet(b)
	for b.Loop() {
		p, err := d.db.FindMembers(d.ctx, d.big, cohort.UserFilter{Status: cohort.StatusActive, Limit: 20})
		if err != nil || len(p.Users) != 20 {
			b.Fatal(err)
		}
	}
}

// BenchmarkPickerExcludingBigGroup: the picker's "not yet a member" list
// on the 50,000-member group.
func BenchmarkPickerExcludingBigGroup(b *testing.B) {
	d := benchSet(b)
	for b.Loop() {
		if _, err := d.db.FindUsers(d.ctx, cohort.UserFilter{Query: "oli", ExcludeGroupID: d.big, Status: cohort.StatusActive, Limit: 20}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateGroup1000 is B6: a new group with 1,000 members.
func BenchmarkCreateGroup1000(b *testing.B) {
	d := benchSet(b)
	members := d.users[1:min(1001, len(d.users))]
	run, i := newID(), 0 // a kept data set has groups of earlier runs
	for b.Loop() {
		i++
		if _, err := d.db.CreateGroup(d.ctx, cohort.GroupCreate{Name: fmt.Sprintf("Bench created %s %d", run, i), MemberIDs: members}); err != nil {
			b.Fatal(err)
		}
	}
}
