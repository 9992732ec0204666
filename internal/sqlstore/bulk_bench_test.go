package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand"
	"path/filepath"
	"sort"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
	"github.com/cohorthq/cohort/internal/sqlstore/sqltest"
)

// TestBulkLoadMatchesServices checks that BulkLoad writes what CreateUser
// and CreateGroup would: normalised names, searchable keys, version 1,
// member counters equal to the members, and groups that the services then
// change like any other. It runs on the engine sqltest.Open picks.
func TestBulkLoadMatchesServices(t *testing.T) {
	t.Parallel()
	db := sqltest.Open(t)
	ctx, _ := bulkWorkspace(t, db)
	staff := []sqlstore.BulkStaff{
		{Email: " Ana.Lopez@Practice.Example ", GivenName: "Ana", FamilyName: "  Lopez ", Role: cohort.RolePractitioner},
		{Email: "ben@practice.example", GivenName: "Ben", FamilyName: "Smith", Role: cohort.RoleReceptionist},
		{Email: "cai@practice.example", GivenName: "Cai", FamilyName: "Smithers"},
	}
	groups := []sqlstore.BulkGroup{
		{Name: "  Physio   team ", Members: []int{0, 1, 1}},
		{Name: "Empty", Members: nil},
	}
	var calls int
	userIDs, groupIDs, err := db.BulkLoad(ctx, staff, groups, func(done, total int) {
		calls++
		if done > total {
			t.Errorf("progress %d of %d", done, total)
		}
	})
	if err != nil {
		t.Fatalf("BulkLoad: %v", err)
	}
	if len(userIDs) != 3 || len(groupIDs) != 2 || calls == 0 {
		t.Fatalf("got %d users, %d groups, %d progress calls", len(userIDs), len(groupIDs), calls)
	}
	svc := db.Services()
	g, err := svc.Groups.FindGroupByID(ctx, groupIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	if g.Name != "Physio team" || g.Status != cohort.StatusActive || g.Version != 1 || g.MemberCount != 2 ||
		g.ArchivedMemberCount != 0 || g.CreatedBy != "bulk" || g.UpdatedBy != "bulk" {
		t.Errorf("bulk group = %+v", g)
	}
	members, err := svc.Groups.FindMembers(ctx, g.ID, cohort.UserFilter{})
	if err != nil || members.Total != 2 {
		t.Fatalf("members: %v, %+v", err, members)
	}
	u, err := svc.Users.FindUserByID(ctx, userIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "Ana.Lopez@Practice.Example" || u.FamilyName != "Lopez" || u.Status != cohort.StatusActive || u.Version != 1 ||
		u.IsOwner || u.Role != cohort.RolePractitioner {
		t.Errorf("bulk user = %+v", u)
	}
	if u, _ := svc.Users.FindUserByID(ctx, userIDs[2]); u.Role != cohort.RolePractitioner {
		t.Errorf("no role given: got %q, want the default practitioner", u.Role)
	}
	found, err := svc.Users.FindUsers(ctx, cohort.UserFilter{Query: "smi"})
	if err != nil || found.Total != 2 {
		t.Errorf("picker search over bulk users: %v, total %d, want 2", err, found.Total)
	}
	// The services take over: a delta and an archive of a member keep the
	// counters right.
	g, mc, err := svc.Groups.UpdateGroup(ctx, g.ID, cohort.GroupUpdate{Add: []string{userIDs[2]}, Remove: []string{userIDs[0]}})
	if err != nil || len(mc.Added) != 1 || len(mc.Removed) != 1 || g.MemberCount != 2 || g.Version != 2 {
		t.Fatalf("update after bulk load: %v %+v %+v", err, mc, g)
	}
	if _, err := svc.Users.ArchiveUser(ctx, userIDs[1], 0); err != nil {
		t.Fatal(err)
	}
	if g, _ = svc.Groups.FindGroupByID(ctx, g.ID); g.MemberCount != 1 || g.ArchivedMemberCount != 1 {
		t.Errorf("after archiving a bulk member: %d active, %d archived, want 1 and 1", g.MemberCount, g.ArchivedMemberCount)
	}
}

// TestBulkLoadRefusesBadInput checks that bad rows are refused with a
// message and that nothing is written.
func TestBulkLoadRefusesBadInput(t *testing.T) {
	t.Parallel()
	db := sqltest.Open(t)
	ctx, _ := bulkWorkspace(t, db)
	if _, err := db.Services().Groups.CreateGroup(ctx, cohort.GroupCreate{Name: "Taken"}); err != nil {
		t.Fatal(err)
	}
	ok := []sqlstore.BulkStaff{{Email: "a@practice.example", GivenName: "A", FamilyName: "One"}}
	for _, tc := range []struct {
		name   string
		staff  []sqlstore.BulkStaff
		groups []sqlstore.BulkGroup
		code   string
	}{
		{"bad email", []sqlstore.BulkStaff{{Email: "nope", GivenName: "A", FamilyName: "B"}}, nil, cohort.EINVALID},
		{"same email twice", append(ok, ok[0]), nil, cohort.ECONFLICT},
		{"owner's email", []sqlstore.BulkStaff{{Email: "owner@practice.example", GivenName: "A", FamilyName: "B"}}, nil, cohort.ECONFLICT},
		{"same name twice", ok, []sqlstore.BulkGroup{{Name: "Dup"}, {Name: " dup "}}, cohort.ECONFLICT},
		{"name held by an active group", ok, []sqlstore.BulkGroup{{Name: "taken"}}, cohort.ECONFLICT},
		{"member out of range", ok, []sqlstore.BulkGroup{{Name: "G", Members: []int{1}}}, cohort.EINVALID},
		{"empty name", ok, []sqlstore.BulkGroup{{Name: "  "}}, cohort.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := db.BulkLoad(ctx, tc.staff, tc.groups, nil)
			if cohort.ErrorCode(err) != tc.code || cohort.ErrorMessage(err) == "" {
				t.Fatalf("err = %v (code %q), want code %q with a message", err, cohort.ErrorCode(err), tc.code)
			}
			groups, err := db.Services().Groups.FindGroups(ctx, cohort.GroupFilter{})
			if err != nil || groups.Total != 1 {
				t.Errorf("groups after a refused load: %v, total %d, want only the one made before", err, groups.Total)
			}
		})
	}
	staffCtx := cohort.NewContextWithActor(context.Background(), cohort.Actor{WorkspaceID: "x", UserID: "u", Role: cohort.RolePractitioner})
	if _, _, err := db.BulkLoad(staffCtx, ok, nil, nil); cohort.ErrorCode(err) != cohort.EFORBIDDEN {
		t.Errorf("a practitioner may not bulk load: err = %v", err)
	}
}

func bulkWorkspace(t testing.TB, db *sqlstore.DB) (context.Context, *cohort.Workspace) {
	t.Helper()
	ws, _, err := db.CreateWorkspace(context.Background(), cohort.WorkspaceCreate{Name: "Bulk Practice", Slug: "bulk",
		Owner: cohort.UserCreate{Email: "owner@practice.example", GivenName: "Olivia", FamilyName: "Owner"}})
	if err != nil {
		t.Fatal(err)
	}
	return cohort.NewContextWithActor(context.Background(), cohort.SystemActor(ws.ID, "bulk")), ws
}

// BenchmarkBulkLoad measures seeding: 5,000 staff and 500 groups of 0–200
// members (data set M's shape) per iteration, each into a new workspace.
func BenchmarkBulkLoad(b *testing.B) {
	db, err := sqlstore.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	const nStaff, nGroups = 5000, 500
	r := rand.New(rand.NewSource(42))
	var groups []sqlstore.BulkGroup
	members := 0
	for g := range nGroups {
		perm := r.Perm(nStaff)[:r.Intn(201)]
		sort.Ints(perm)
		members += len(perm)
		groups = append(groups, sqlstore.BulkGroup{Name: fmt.Sprintf("Group %04d", g), Members: perm})
	}
	n := 0
	for b.Loop() {
		n++
		ws, _, err := db.CreateWorkspace(context.Background(), cohort.WorkspaceCreate{Name: "Bulk Practice", Slug: fmt.Sprintf("bulk-%d", n),
			Owner: cohort.UserCreate{Email: "owner@practice.example", GivenName: "Olivia", FamilyName: "Owner"}})
		if err != nil {
			b.Fatal(err)
		}
		staff := make([]sqlstore.BulkStaff, nStaff)
		for i := range staff {
			staff[i] = sqlstore.BulkStaff{Email: fmt.Sprintf("u%05d@practice.example", i), GivenName: "Given", FamilyName: fmt.Sprintf("Family%d", i)}
		}
		ctx := cohort.NewContextWithActor(context.Background(), cohort.SystemActor(ws.ID, "bulk"))
		if _, _, err := db.BulkLoad(ctx, staff, groups, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(members*n)/b.Elapsed().Seconds(), "memberships/s")
}
