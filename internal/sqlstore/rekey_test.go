package sqlstore

import (
	"context"
	"testing"

	"github.com/cohorthq/cohort"
)

// A database whose name keys were stored by the old rule (lower-case
// only) is rekeyed when it is migrated: look-alike names get one key, two
// active groups that now share a name both stay active and unchanged (the
// later one keyed as a duplicate), and the migration does not fail. Runs
// on SQLite, and on PostgreSQL with COHORT_TEST_ENGINE=postgres.
func TestMigrateRekeysGroupNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTest(t)
	s := db.Services()
	ws, owner, err := s.Workspaces.CreateWorkspace(ctx, cohort.WorkspaceCreate{Name: "Rekey", Slug: "rekey",
		Owner: cohort.UserCreate{Email: "o@rekey.test", GivenName: "O", FamilyName: "R"}})
	if err != nil {
		t.Fatal(err)
	}
	actx := cohort.NewContextWithActor(ctx, cohort.Actor{WorkspaceID: ws.ID, UserID: owner.ID, Name: "O R",
		Role: owner.Role, IsOwner: true, Via: "test"})
	admin, err := s.Groups.CreateGroup(actx, cohort.GroupCreate{Name: "Admin team"})
	if err != nil {
		t.Fatal(err)
	}
	// Rows as an older Cohort stored them: names it accepted, keys it
	// computed (strings.ToLower).
	legacy := func(id, name, key, status string, createdAt string) {
		t.Helper()
		if _, err := db.write.ExecContext(ctx, `INSERT INTO groups (id, workspace_id, name, name_key, description,
			external_id, status, member_count, archived_member_count, version, created_at, updated_at, created_by, updated_by)
			VALUES ($1, $2, $3, $4, '', '', $5, 0, 0, 1, $6, $6, 'old', 'old')`, id, ws.ID, name, key, status, createdAt); err != nil {
			t.Fatal(err)
		}
	}
	legacy(newID(), "Straße", "straße", "archived", "2030-01-01T00:00:00.000000Z")
	dup := newID()
	legacy(dup, "Ａｄｍｉｎ team", "ａｄｍｉｎ team", "active", "2030-01-02T00:00:00.000000Z")
	if _, err := db.write.ExecContext(ctx, `UPDATE groups SET name_key = 'ADMIN TEAM' WHERE id = $1`, admin.ID); err != nil {
		t.Fatal(err)
	}

	if err := db.migrate(ctx); err != nil {
		t.Fatalf("migrate with colliding names: %v", err)
	}
	keys := func() map[string]string {
		rows, err := readGroupKeys(ctx, db.read)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, r := range rows {
			if r.workspaceID == ws.ID {
				out[r.name] = r.key
			}
		}
		return out
	}
	got := keys()
	if got["Admin team"] != "admin team" || got["Straße"] != "strasse" || got["Ａｄｍｉｎ team"] != "admin team"+dupKeyMark+dup {
		t.Fatalf("keys after migrate: %q", got)
	}
	if err := db.migrate(ctx); err != nil || len(staleKeys(mustRead(t, db))) != 0 {
		t.Fatalf("a second migrate changes keys again: %v", err)
	}
	// Both groups stay active and usable; the duplicate may not take the
	// name by a rename, but keeps working otherwise.
	for _, id := range []string{admin.ID, dup} {
		if g, err := s.Groups.FindGroupByID(actx, id); err != nil || g.Archived() {
			t.Fatalf("group %s after migrate: %+v, %v", id, g, err)
		}
	}
	if _, _, err := s.Groups.UpdateGroup(actx, dup, cohort.GroupUpdate{Description: ptrTo("Kept")}); err != nil {
		t.Fatalf("changing the duplicate's description: %v", err)
	}
	if _, _, err := s.Groups.UpdateGroup(actx, dup, cohort.GroupUpdate{Name: ptrTo("ADMIN TEAM")}); cohort.ErrorCode(err) != cohort.ECONFLICT {
		t.Fatalf("renaming the duplicate onto the name: %v", err)
	}
	if _, err := s.Groups.CreateGroup(actx, cohort.GroupCreate{Name: "ａｄｍｉｎ TEAM"}); cohort.ErrorCode(err) != cohort.ECONFLICT {
		t.Fatalf("a new look-alike: %v", err)
	}
	// With the older group archived, the next start gives the duplicate
	// the plain key.
	if _, err := s.Groups.ArchiveGroup(actx, admin.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := db.migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if k := keys()["Ａｄｍｉｎ team"]; k != "admin team" {
		t.Fatalf("duplicate's key once alone: %q", k)
	}
}

func mustRead(t *testing.T, db *DB) []groupKeyRow {
	t.Helper()
	rows, err := readGroupKeys(context.Background(), db.read)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func ptrTo[T any](v T) *T { return &v }
