package sqlstore

import (
	"context"
	"os"
	"testing"

	"github.com/cohorthq/cohort"
)

// TestAuditEntriesAreImmutable checks that the database itself refuses to
// change or delete an audit row, on every engine available.
func TestAuditEntriesAreImmutable(t *testing.T) {
	t.Parallel()
	engines := map[string]func(t *testing.T) *DB{"sqlite": func(t *testing.T) *DB { return openTest(t) }}
	if server := os.Getenv("COHORT_TEST_POSTGRES"); server != "" {
		engines["postgres"] = func(t *testing.T) *DB { return openTestPostgres(t, server) }
	}
	for name, open := range engines {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := context.Background()
			ws, _, err := db.CreateWorkspace(ctx, cohort.WorkspaceCreate{Name: "Audit", Slug: "audit",
				Owner: cohort.UserCreate{Email: "o@audit.test", GivenName: "O", FamilyName: "Wner"}})
			if err != nil {
				t.Fatal(err)
			}
			var n int
			if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_entries WHERE workspace_id = $1`, ws.ID).Scan(&n); err != nil || n == 0 {
				t.Fatalf("no audit rows: %v", err)
			}
			if _, err := db.write.ExecContext(ctx, `UPDATE audit_entries SET actor_name = 'someone else'`); err == nil {
				t.Error("an audit entry was updated")
			}
			if _, err := db.write.ExecContext(ctx, `DELETE FROM audit_entries`); err == nil {
				t.Error("an audit entry was deleted")
			}
			var after int
			if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_entries WHERE actor_name = 'System'`).Scan(&after); err != nil || after != n {
				t.Fatalf("audit rows changed: %d of %d left (%v)", after, n, err)
			}
		})
	}
}
