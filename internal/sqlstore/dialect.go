package sqlstore

import (
	"context"
	"database/sql"
)

// dialect is the seam where SQLite and PostgreSQL truly differ. Everything
// else is one SQL text for both.
type dialect interface {
	// forUpdate is appended to a SELECT that must lock the rows it reads.
	// SQLite needs nothing: its one writer holds the database lock.
	forUpdate() string
	// forShare is appended to a SELECT of users whose status decides which
	// member counter changes, so that archiving a user waits for (or is
	// waited on by) a member change that counted them.
	forShare() string
	// idList returns a subquery yielding the strings of a JSON array
	// parameter, so any number of IDs travels as one parameter.
	idList(param string) string
	// beforeEvents runs inside a transaction right before its first outbox
	// row is inserted. PostgreSQL takes the commit-order lock there and
	// queues the NOTIFY that wakes every instance's relay.
	beforeEvents(ctx context.Context, tx *sql.Tx) error
}

type sqliteDialect struct{}

func (sqliteDialect) forUpdate() string { return "" }

func (sqliteDialect) forShare() string { return "" }

func (sqliteDialect) idList(param string) string { return "SELECT value FROM json_each(" + param + ")" }

func (sqliteDialect) beforeEvents(context.Context, *sql.Tx) error { return nil }

type postgresDialect struct{}

// eventsLockKey is the advisory lock that orders outbox inserts. Holding it
// from the first event insert to commit means sequence numbers become
// visible in increasing order: a relay that has read seq N never later
// finds a committed event with a smaller seq.
const eventsLockKey = 0x636f686f7274 // "cohort"

// notifyChannel is the LISTEN/NOTIFY channel that announces new events.
const notifyChannel = "cohort_events"

func (postgresDialect) forUpdate() string { return " FOR UPDATE" }

func (postgresDialect) forShare() string { return " FOR SHARE" }

func (postgresDialect) idList(param string) string {
	return "SELECT json_array_elements_text(" + param + "::json)"
}

func (postgresDialect) beforeEvents(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(eventsLockKey)); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_notify($1, '')`, notifyChannel)
	return err
}
