package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// openCached opens a bare SQLite database through the statement-keeping
// connector, with one connection so every statement meets its cache.
func openCached(t *testing.T) *sql.DB {
	t.Helper()
	db := sql.OpenDB(newSQLiteConnector("file:" + filepath.Join(t.TempDir(), "c.db") + "?_pragma=journal_mode(WAL)"))
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		if _, err := db.ExecContext(ctx, `INSERT INTO t (k, v) VALUES ($1, $2)`, i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// A statement run again while its first run's rows are still open (a
// loop inside a transaction) must not disturb the first run.
func TestStmtCacheNestedSameStatement(t *testing.T) {
	t.Parallel()
	db := openCached(t)
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	const q = `SELECT k, v FROM t WHERE k >= $1 ORDER BY k`
	outer, err := tx.QueryContext(ctx, q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for outer.Next() {
		var k int
		var v string
		if err := outer.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		var n int
		inner, err := tx.QueryContext(ctx, q, k)
		if err != nil {
			t.Fatal(err)
		}
		for inner.Next() {
			n++
		}
		inner.Close()
		got = append(got, fmt.Sprintf("%s:%d", v, n))
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	want := "[v1:5 v2:4 v3:3 v4:2 v5:1]"
	if fmt.Sprint(got) != want {
		t.Fatalf("nested runs of one statement gave %v, want %s", got, want)
	}
}

// Reused statements see new arguments and new data, writes through kept
// statements land, and more distinct statements than the cache holds
// still all answer correctly.
func TestStmtCacheReuseAndEviction(t *testing.T) {
	t.Parallel()
	db := openCached(t)
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		var v string
		if err := db.QueryRowContext(ctx, `SELECT v FROM t WHERE k = $1`, i).Scan(&v); err != nil || v != fmt.Sprint("v", i) {
			t.Fatalf("k=%d: got %q, %v", i, v, err)
		}
	}
	if _, err := db.ExecContext(ctx, `UPDATE t SET v = $1 WHERE k = $2`, "changed", 3); err != nil {
		t.Fatal(err)
	}
	var v string
	if err := db.QueryRowContext(ctx, `SELECT v FROM t WHERE k = $1`, 3).Scan(&v); err != nil || v != "changed" {
		t.Fatalf("after update: got %q, %v", v, err)
	}
	for i := 0; i < 3*maxConnStmts; i++ {
		var n int
		q := fmt.Sprintf(`SELECT COUNT(*) + %d FROM t WHERE k <= $1`, i)
		if err := db.QueryRowContext(ctx, q, 2).Scan(&n); err != nil || n != 2+i {
			t.Fatalf("statement %d: got %d, %v", i, n, err)
		}
	}
	// A bad statement is an error, not a cached failure.
	for range 2 {
		if _, err := db.ExecContext(ctx, `SELECT nope FROM t`); err == nil {
			t.Fatal("a statement naming a missing column ran")
		}
	}
	// A script of several statements still runs every part.
	if _, err := db.ExecContext(ctx, `UPDATE t SET v = 'a' WHERE k = 1; UPDATE t SET v = 'b' WHERE k = 2`); err != nil {
		t.Fatal(err)
	}
	var a, b string
	if err := db.QueryRowContext(ctx, `SELECT (SELECT v FROM t WHERE k = 1), (SELECT v FROM t WHERE k = 2)`).Scan(&a, &b); err != nil || a != "a" || b != "b" {
		t.Fatalf("script: got %q %q, %v", a, b, err)
	}
}
