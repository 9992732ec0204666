// Package testdb makes throw-away databases for tests: a SQLite file in the
// test's temp directory, or a freshly created PostgreSQL database that is
// dropped when the test ends. It hands out data source names only, so
// sqlstore's own tests can use it too; sqlstore/sqltest opens them. Only
// tests import it: it links package testing.
package testdb

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

// PostgresEngine reports whether the tests run on PostgreSQL
// (COHORT_TEST_ENGINE=postgres), and names the server to create databases
// on (COHORT_TEST_POSTGRES). It fails the test when the engine is
// PostgreSQL but no server is named.
func PostgresEngine(t testing.TB) (server string, ok bool) {
	t.Helper()
	if os.Getenv("COHORT_TEST_ENGINE") != "postgres" {
		return "", false
	}
	server = os.Getenv("COHORT_TEST_POSTGRES")
	if server == "" {
		t.Fatal("COHORT_TEST_ENGINE=postgres needs COHORT_TEST_POSTGRES, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	return server, true
}

// DSN returns a fresh, empty database for one test: a SQLite file in
// t.TempDir() by default, or, when COHORT_TEST_ENGINE=postgres, a new
// database on the COHORT_TEST_POSTGRES server (see Postgres).
func DSN(t testing.TB) string {
	t.Helper()
	if server, ok := PostgresEngine(t); ok {
		return Postgres(t, server)
	}
	return filepath.Join(t.TempDir(), "cohort.db")
}

// Postgres creates a database with a random name on the server named by
// the URL server, returns its URL, and drops it when the test ends (after
// the test's own cleanups, which close what uses it).
func Postgres(t testing.TB, server string) string {
	t.Helper()
	dsn, drop, err := CreatePostgres(server)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Errorf("testdb: %v", err)
		}
	})
	return dsn
}

// CreatePostgres creates a database with a random name on server and
// returns its URL and a function that drops it, for data that outlives
// one test (benchmarks' shared data sets).
func CreatePostgres(server string) (dsn string, drop func() error, err error) {
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
