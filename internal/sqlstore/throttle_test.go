package sqlstore_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cohorthq/cohort/internal/sqlstore"
	"github.com/cohorthq/cohort/internal/sqlstore/sqltest"
)

// TestSignInThrottle checks the failure counters on SQLite and, when
// COHORT_TEST_POSTGRES is set, on PostgreSQL.
func TestSignInThrottle(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		db, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "cohort.db"), sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		testSignInThrottle(t, db)
	})
	// Another instance on the same database counts the same failures.
	t.Run("two instances", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "cohort.db")
		var dbs [2]*sqlstore.DB
		for i := range dbs {
			db, err := sqlstore.Open(t.Context(), path, sqlstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			dbs[i] = db
		}
		key := []string{"email:shared@example.com"}
		for _, db := range dbs {
			if err := db.RecordSignInFailure(t.Context(), key, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		for i, db := range dbs {
			if got, err := db.SignInFailures(t.Context(), key, time.Hour); err != nil || got[0] != 2 {
				t.Errorf("instance %d sees %v %v, want both failures", i, got, err)
			}
		}
	})
	t.Run("postgres", func(t *testing.T) {
		pg := os.Getenv("COHORT_TEST_POSTGRES")
		if pg == "" {
			t.Skip("COHORT_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
		}
		testSignInThrottle(t, sqltest.OpenPostgres(t, pg))
	})
}

func testSignInThrottle(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	const window = time.Hour
	// Text PostgreSQL cannot hold is stored as a hash, so it counts too.
	a, b, odd := "email:a@example.com", "addr:192.0.2.1", "email:\x00\xff"
	for range 3 {
		if err := db.RecordSignInFailure(ctx, []string{a, b}, window); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.RecordSignInFailure(ctx, []string{odd}, window); err != nil {
		t.Fatal(err)
	}
	got, err := db.SignInFailures(ctx, []string{a, b, odd, "email:nobody@example.com"}, window)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{3, 3, 1, 0}; !equalInts(got, want) {
		t.Errorf("failures %v, want %v", got, want)
	}
	// A window that has passed counts as nothing, and the next failure
	// starts a new window at one and deletes the windows that are over
	// (odd's, here).
	if got, err := db.SignInFailures(ctx, []string{a}, 0); err != nil || got[0] != 0 {
		t.Errorf("failures in a zero window: %v %v", got, err)
	}
	if err := db.RecordSignInFailure(ctx, []string{a}, 0); err != nil {
		t.Fatal(err)
	}
	if got, err := db.SignInFailures(ctx, []string{a}, window); err != nil || got[0] != 1 {
		t.Errorf("after a window passed: %v %v, want a fresh count of 1", got, err)
	}
	if err := db.ClearSignInFailures(ctx, []string{b}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.SignInFailures(ctx, []string{b, odd}, window); err != nil || got[0] != 0 || got[1] != 0 {
		t.Errorf("after clearing b and expiring odd: %v %v, want [0 0]", got, err)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
