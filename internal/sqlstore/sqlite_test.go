package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
	"github.com/cohorthq/cohort/internal/sqlstore/storetest"
)

func TestSQLite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) *sqlstore.DB {
		db, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "cohort.db"), sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

func TestBackupSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "live.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ws, _, err := db.CreateWorkspace(ctx, cohort.WorkspaceCreate{Name: "Backed up", Slug: "backed-up",
		Owner: cohort.UserCreate{Email: "o@b.test", GivenName: "O", FamilyName: "B"}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "copy.db")
	if err := db.Backup(ctx, path); err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(ctx, path); cohort.ErrorCode(err) != cohort.EINVALID {
		t.Fatalf("backup over an existing file: %v", err)
	}
	cp, err := sqlstore.Open(ctx, path, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	got, err := cp.FindWorkspaceBySlug(ctx, "backed-up")
	if err != nil || got.ID != ws.ID {
		t.Fatalf("backup lacks the workspace: %v", err)
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	t.Parallel()
	_, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), sqlstore.Options{Synchronous: "sometimes"})
	if cohort.ErrorCode(err) != cohort.EINVALID {
		t.Fatalf("bad synchronous mode: %v", err)
	}
	for _, dsn := range []string{":memory:", "file::memory:", "file:x?mode=memory"} {
		if _, err := sqlstore.Open(context.Background(), dsn, sqlstore.Options{}); cohort.ErrorCode(err) != cohort.EINVALID {
			t.Fatalf("in-memory %q: %v", dsn, err)
		}
	}
}
