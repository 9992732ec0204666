package sqlstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/cohorthq/cohort"
)

// hasStats reports whether the planner has statistics on table: SQLite's
// sqlite_stat1 rows, PostgreSQL's row estimate (-1 until ANALYZE).
func hasStats(t *testing.T, db *DB, table string) bool {
	t.Helper()
	q := `SELECT COUNT(*) > 0 FROM sqlite_stat1 WHERE tbl = $1`
	if db.Engine() == EnginePostgres {
		q = `SELECT reltuples > 0 FROM pg_class WHERE relname = $1`
	}
	var ok bool
	if err := db.read.QueryRowContext(context.Background(), q, table).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func usersStats(t *testing.T, db *DB) bool { t.Helper(); return hasStats(t, db, "users") }

func statsWorkspace(t *testing.T, db *DB) context.Context {
	t.Helper()
	ws, _, err := db.CreateWorkspace(context.Background(), cohort.WorkspaceCreate{Name: "Stats Practice", Slug: "stats",
		Owner: cohort.UserCreate{Email: "owner@stats.example", GivenName: "Olivia", FamilyName: "Owner"}})
	if err != nil {
		t.Fatal(err)
	}
	return cohort.NewContextWithActor(context.Background(), cohort.SystemActor(ws.ID, "stats"))
}

// A large import or a bulk load leaves the planner statistics for the
// new sizes, instead of plans made for the empty tables.
func TestBigChangesRefreshPlannerStatistics(t *testing.T) {
	t.Parallel()
	t.Run("import", func(t *testing.T) {
		db := openTest(t)
		ctx := statsWorkspace(t, db)
		if usersStats(t, db) {
			t.Fatal("statistics on users before any import")
		}
		small := []cohort.UserImport{{Row: 2, Email: "a@stats.example", GivenName: "A", FamilyName: "B", Role: cohort.RoleReceptionist}}
		if _, err := db.ImportUsers(ctx, small); err != nil {
			t.Fatal(err)
		}
		if usersStats(t, db) {
			t.Fatal("a one-row import refreshed statistics")
		}
		users := make([]cohort.UserImport, bigChange)
		for i := range users {
			users[i] = cohort.UserImport{Row: i + 2, Email: fmt.Sprintf("p%04d@stats.example", i), GivenName: "Given",
				FamilyName: fmt.Sprint("Family", i), Role: cohort.RolePractitioner}
		}
		if _, err := db.ImportUsers(ctx, users); err != nil {
			t.Fatal(err)
		}
		if !usersStats(t, db) {
			t.Fatalf("no statistics on users after importing %d staff", bigChange)
		}
	})
	t.Run("group import", func(t *testing.T) {
		db := openTest(t)
		ctx := statsWorkspace(t, db)
		users := make([]cohort.UserImport, bigChange/2)
		members := make([]cohort.ImportMember, len(users))
		for i := range users {
			e := fmt.Sprintf("m%04d@stats.example", i)
			users[i] = cohort.UserImport{Row: i + 2, Email: e, GivenName: "Member", FamilyName: fmt.Sprint("N", i), Role: cohort.RolePractitioner}
			members[i] = cohort.ImportMember{Row: i + 2, Email: e}
		}
		if _, err := db.ImportUsers(ctx, users); err != nil {
			t.Fatal(err)
		}
		if hasStats(t, db, "memberships") {
			t.Fatal("statistics on memberships before the group import")
		}
		groups := []cohort.GroupImport{{Row: 2, Name: "Everyone", Members: members}, {Row: 600, Name: "Also everyone", Members: members}}
		if _, err := db.ImportGroups(ctx, groups); err != nil {
			t.Fatal(err)
		}
		if !hasStats(t, db, "memberships") {
			t.Fatalf("no statistics on memberships after importing %d of them", 2*len(members))
		}
	})
	t.Run("bulk load", func(t *testing.T) {
		db := openTest(t)
		ctx := statsWorkspace(t, db)
		staff := make([]BulkStaff, 50)
		for i := range staff {
			staff[i] = BulkStaff{Email: fmt.Sprintf("b%02d@stats.example", i), GivenName: "Bulk", FamilyName: fmt.Sprint("Staff", i)}
		}
		if _, _, err := db.BulkLoad(ctx, staff, []BulkGroup{{Name: "All", Members: []int{0, 1, 2}}}, nil); err != nil {
			t.Fatal(err)
		}
		if !usersStats(t, db) {
			t.Fatal("no statistics on users after a bulk load")
		}
	})
}
