// Package sqltest opens throw-away stores for other packages' tests, so
// they run on both engines. It lives outside sqlstore because it links
// package testing, which the cohort binary must not carry; only tests
// import it.
package sqltest

import (
	"context"
	"testing"

	"github.com/cohorthq/cohort/internal/sqlstore"
	"github.com/cohorthq/cohort/internal/testdb"
)

// Open opens a fresh, migrated store for a test: SQLite in t.TempDir() by
// default, or, when COHORT_TEST_ENGINE=postgres and COHORT_TEST_POSTGRES
// names a server, a new PostgreSQL database that is dropped when the test
// ends.
func Open(t testing.TB) *sqlstore.DB {
	t.Helper()
	if server, ok := testdb.PostgresEngine(t); ok {
		return OpenPostgres(t, server)
	}
	return open(t, testdb.DSN(t), sqlstore.Options{Synchronous: "NORMAL"})
}

// OpenPostgres creates a database with a random name on the server named
// by the URL server, opens it, and drops it when the test ends.
func OpenPostgres(t testing.TB, server string) *sqlstore.DB {
	t.Helper()
	return open(t, testdb.Postgres(t, server), sqlstore.Options{})
}

func open(t testing.TB, dsn string, opts sqlstore.Options) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatalf("sqltest: open test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
