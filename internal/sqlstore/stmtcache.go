package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"

	"modernc.org/sqlite"
)

// The SQLite driver parses every statement it is given afresh: a query's
// text is compiled to a program each time it runs, which was 15–20% of a
// page's database time. PostgreSQL needs no help here (pgx keeps each
// connection's statements prepared); for SQLite, each connection keeps
// the statements it has run prepared, keyed by their text, and runs the
// prepared program again with new arguments.
//
// Cohort's statements are fixed texts with placeholders (lists travel as
// one JSON argument), so a connection sees a bounded set of them;
// maxConnStmts still bounds the cache, dropping an idle entry at random
// when full. A prepared statement that is reset holds no lock and no
// snapshot, and SQLite prepares it again by itself after a schema change.

// maxConnStmts bounds the statements one connection keeps prepared.
const maxConnStmts = 200

// sqliteConnector opens SQLite connections that keep their statements.
type sqliteConnector struct {
	dsn string
	drv *sqlite.Driver
}

func newSQLiteConnector(dsn string) *sqliteConnector {
	return &sqliteConnector{dsn: dsn, drv: &sqlite.Driver{}}
}

func (c *sqliteConnector) Connect(context.Context) (driver.Conn, error) {
	inner, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &stmtConn{inner: inner, stmts: map[string]*cachedStmt{}}, nil
}

func (c *sqliteConnector) Driver() driver.Driver { return c.drv }

// cachedStmt is a prepared statement and whether rows of it are open:
// a statement can only run once at a time, so a second use while the
// first one's rows are open runs unprepared.
type cachedStmt struct {
	ds   driver.Stmt
	busy bool
}

// The inner connection's optional interfaces, which the modernc driver
// implements; database/sql never uses one connection from two goroutines
// at once, so stmtConn needs no lock.
type innerConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type stmtConn struct {
	inner driver.Conn
	stmts map[string]*cachedStmt
}

var errNotModernc = errors.New("sqlstore: the SQLite driver lacks an expected interface")

func (c *stmtConn) in() (innerConn, error) {
	ic, ok := c.inner.(innerConn)
	if !ok {
		return nil, errNotModernc
	}
	return ic, nil
}

// cacheable reports whether a statement is worth keeping: one statement
// (a script of several is parsed per run by the driver anyway).
func cacheable(query string) bool {
	q := strings.TrimSpace(query)
	return !strings.Contains(strings.TrimSuffix(q, ";"), ";")
}

// stmt returns the connection's prepared statement for query, preparing
// and keeping it when new; nil means run it unprepared.
func (c *stmtConn) stmt(ctx context.Context, ic innerConn, query string) (*cachedStmt, error) {
	if cs := c.stmts[query]; cs != nil {
		if cs.busy {
			return nil, nil
		}
		return cs, nil
	}
	if !cacheable(query) {
		return nil, nil
	}
	ds, err := ic.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if len(c.stmts) >= maxConnStmts {
		for q, old := range c.stmts { // map order: a random victim
			if !old.busy {
				_ = old.ds.Close()
				delete(c.stmts, q)
				break
			}
		}
	}
	cs := &cachedStmt{ds: ds}
	c.stmts[query] = cs
	return cs, nil
}

// prepared returns the inner connection and, when query is kept
// prepared and free, its statement (nil: run query unprepared).
func (c *stmtConn) prepared(ctx context.Context, query string) (innerConn, *cachedStmt, error) {
	ic, err := c.in()
	if err != nil {
		return nil, nil, err
	}
	cs, err := c.stmt(ctx, ic, query)
	return ic, cs, err
}

func (c *stmtConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	ic, cs, err := c.prepared(ctx, query)
	switch {
	case err != nil:
		return nil, err
	case cs == nil:
		return ic.QueryContext(ctx, query, args)
	}
	rows, err := cs.ds.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	cs.busy = true
	return &cachedRows{Rows: rows, cs: cs}, nil
}

func (c *stmtConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	ic, cs, err := c.prepared(ctx, query)
	switch {
	case err != nil:
		return nil, err
	case cs == nil:
		return ic.ExecContext(ctx, query, args)
	}
	return cs.ds.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *stmtConn) Prepare(query string) (driver.Stmt, error) { return c.inner.Prepare(query) }

func (c *stmtConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	ic, err := c.in()
	if err != nil {
		return nil, err
	}
	return ic.PrepareContext(ctx, query)
}

func (c *stmtConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *stmtConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	ic, err := c.in()
	if err != nil {
		return nil, err
	}
	return ic.BeginTx(ctx, opts)
}

func (c *stmtConn) Ping(ctx context.Context) error {
	ic, err := c.in()
	if err != nil {
		return err
	}
	return ic.Ping(ctx)
}

func (c *stmtConn) ResetSession(ctx context.Context) error {
	ic, err := c.in()
	if err != nil {
		return err
	}
	return ic.ResetSession(ctx)
}

func (c *stmtConn) IsValid() bool {
	ic, err := c.in()
	return err == nil && ic.IsValid()
}

// Close finalizes the kept statements, then closes the connection.
func (c *stmtConn) Close() error {
	for q, cs := range c.stmts {
		_ = cs.ds.Close()
		delete(c.stmts, q)
	}
	return c.inner.Close()
}

// cachedRows frees its statement for the next run when closed.
type cachedRows struct {
	driver.Rows
	cs *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.cs.busy = false
	return err
}
