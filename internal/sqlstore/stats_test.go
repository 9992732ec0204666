package sqlstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/cohorthq/cohort"
)

// usersStats reports whether the planner has statistics on users: SQLite's
// sqlite_stat1 rows, PostgreSQL's row estimate (-1 until ANALYZE).
func usersStats(t *testing.T, db *DB) bool {
	t.Helper()
	q := `SELECT COUNT(*) > 0 FROM sqlite_stat1 WHERE tbl = 'users'`
	if db.Engine() == EnginePostgres {
		q = `SELECT reltuples > 0 FROM pg_class WHERE relname = 'users'`
	}
	var ok bool
	if err := db.read.QueryRowContext(context.Background(), q).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

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
	t.Run("import", func(t *testing.T) {
		db := OpenTest(t)
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
	t.Run("bulk load", func(t *testing.T) {
		db := OpenTest(t)
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
