package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
)

// OpenTest opens a throw-away database for a test: SQLite in t.TempDir()
// by default, or, when COHORT_TEST_ENGINE=postgres and
// COHORT_TEST_POSTGRES names a server, a freshly created PostgreSQL
// database with a random name that is dropped when the test ends. Other
// packages' tests use it to run on both engines.
func OpenTest(t testing.TB) *DB {
	t.Helper()
	if os.Getenv("COHORT_TEST_ENGINE") == "postgres" {
		server := os.Getenv("COHORT_TEST_POSTGRES")
		if server == "" {
			t.Fatal("COHORT_TEST_ENGINE=postgres needs COHORT_TEST_POSTGRES, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
		}
		return openTestPostgres(t, server)
	}
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "cohort.db"), Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatalf("sqlstore: open test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// OpenTestPostgres creates a database with a random name on the server
// named by the URL server, opens it, and drops it when the test ends.
func OpenTestPostgres(t testing.TB, server string) *DB {
	t.Helper()
	return openTestPostgres(t, server)
}

func openTestPostgres(t testing.TB, server string) *DB {
	t.Helper()
	dsn, drop, err := createTestPostgres(server)
	if err != nil {
		t.Fatalf("sqlstore: %v", err)
	}
	db, err := Open(context.Background(), dsn, Options{})
	if err != nil {
		_ = drop()
		t.Fatalf("sqlstore: open test database: %v", err)
	}
	t.Cleanup(func() {
		db.Close()
		if err := drop(); err != nil {
			t.Errorf("sqlstore: %v", err)
		}
	})
	return db
}

// createTestPostgres creates a database with a random name on server and
// returns its URL and a function that drops it.
func createTestPostgres(server string) (dsn string, drop func() error, err error) {
	ctx := context.Background()
	u, err := url.Parse(server)
	if err != nil {
		return "", nil, fmt.Errorf("COHORT_TEST_POSTGRES is not a URL: %w", err)
	}
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", nil, fmt.Errorf("connect to %s: %w", server, err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	name := "cohort_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create test database: %w", err)
	}
	u.Path = "/" + name
	drop = func() error {
		c, err := pgx.Connect(ctx, server)
		if err != nil {
			return fmt.Errorf("drop test database %s: %w", name, err)
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop test database %s: %w", name, err)
		}
		return nil
	}
	return u.String(), drop, nil
}
