package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cohorthq/cohort"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// tx is one write transaction with its single "now" and its actor.
type tx struct {
	*sql.Tx
	ctx    context.Context
	db     *DB
	now    time.Time
	actor  cohort.Actor
	events bool // an outbox row was written
	// endsSessions: sessions were deleted; subscribers re-check theirs.
	endsSessions bool
}

// maxAttempts bounds how often a transaction is retried after a
// serialization failure, deadlock, busy database or unique race.
const maxAttempts = 8

// errLockRace asks inTx to run a transaction again: what it locked changed
// before it could lock everything in order.
var errLockRace = errors.New("sqlstore: rows to lock changed meanwhile")

// inTx runs fn in a write transaction and commits it, retrying the whole
// transaction when the engine reports a transient conflict. Errors come
// back as domain errors where the cause is known.
func (db *DB) inTx(ctx context.Context, a cohort.Actor, fn func(*tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = db.tryTx(ctx, a, fn)
		if err == nil || attempt >= maxAttempts || !retryable(err) || ctx.Err() != nil {
			break
		}
		db.log.Debug("sqlstore: retrying transaction", "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt*attempt)*2*time.Millisecond + rand.N(5*time.Millisecond)):
		}
	}
	return mapError(err)
}

func (db *DB) tryTx(ctx context.Context, a cohort.Actor, fn func(*tx) error) (err error) {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	t := &tx{Tx: sqlTx, ctx: ctx, db: db, now: now(), actor: a}
	defer func() {
		if err != nil {
			_ = sqlTx.Rollback()
		}
	}()
	if err = fn(t); err != nil {
		return err
	}
	if err = sqlTx.Commit(); err != nil {
		return err
	}
	db.wrote.Store(true)
	if t.events {
		db.notifyLocal()
	}
	if t.endsSessions {
		db.signal(topicSessions)
	}
	return nil
}

// now is the time of a transaction: UTC, microseconds, so that both
// engines store and return exactly the same value.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// exec, query and queryRow run on the transaction with its context.
func (t *tx) exec(q string, args ...any) (sql.Result, error) {
	return t.ExecContext(t.ctx, q, args...)
}

func (t *tx) query(q string, args ...any) (*sql.Rows, error) {
	return t.QueryContext(t.ctx, q, args...)
}

func (t *tx) queryRow(q string, args ...any) *sql.Row {
	return t.QueryRowContext(t.ctx, q, args...)
}

// actorFrom returns the actor of ctx or ErrNoActor.
func actorFrom(ctx context.Context) (cohort.Actor, error) {
	a, ok := cohort.ActorFromContext(ctx)
	if !ok {
		return a, cohort.ErrNoActor
	}
	return a, nil
}

// retryable reports whether the whole transaction should run again: the
// engine gave up on it for reasons another attempt may not meet. A unique
// violation is retried too: a second run sees the committed row and
// refuses with a message that names it.
func retryable(err error) bool {
	if errors.Is(err, errLockRace) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", "40P01", "23505":
			return true
		}
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
	}
	return false
}

// mapError turns driver errors into domain errors by their codes (never
// their text). Domain errors and context errors pass through; anything
// else is wrapped and stays internal.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	if cohort.AsError(err) != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, errLockRace) {
		return &cohort.Error{Code: cohort.EUNAVAILABLE, Message: "The database is busy: try again in a moment."}
	}
	if refusesWrites(err) {
		return cannotSave()
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return &cohort.Error{Code: cohort.ECONFLICT, Message: "That conflicts with something saved at the same moment: try again."}
		case "23503":
			return &cohort.Error{Code: cohort.EINVALID, Message: "That refers to something that does not exist in this practice."}
		case "40001", "40P01", "55P03":
			return &cohort.Error{Code: cohort.EUNAVAILABLE, Message: "The database is busy: try again in a moment."}
		case "57014":
			return &cohort.Error{Code: cohort.EUNAVAILABLE, Message: "The database took too long to answer: try again in a moment."}
		}
		// Class 22 (data exception: NUL bytes, bad encodings, values out
		// of range) and 54 (a value too large for an index) are bad input
		// that got past validation; SQLite would have stored it.
		if strings.HasPrefix(pe.Code, "22") || strings.HasPrefix(pe.Code, "54") {
			return &cohort.Error{Code: cohort.EINVALID, Message: "The request contains text that cannot be stored (for example a NUL character or an over-long value): remove it and try again."}
		}
		return fmt.Errorf("sqlstore: postgres: %w", err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &cohort.Error{Code: cohort.ECONFLICT, Message: "That conflicts with something saved at the same moment: try again."}
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return &cohort.Error{Code: cohort.EINVALID, Message: "That refers to something that does not exist in this practice."}
		}
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return &cohort.Error{Code: cohort.EUNAVAILABLE, Message: "The database is busy: try again in a moment."}
		}
		return fmt.Errorf("sqlstore: sqlite: %w", err)
	}
	return fmt.Errorf("sqlstore: %w", err)
}

// refusesWrites reports whether the database refused a write because it
// cannot take one now, as opposed to refusing this write: PostgreSQL in a
// read-only transaction (a standby, default_transaction_read_only) or out
// of disk; SQLite's file full, read-only (file or directory) or failing
// to write its journal. The transaction was rolled back, so nothing
// partial was kept, and reads still work.
func refusesWrites(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "25006" || pe.Code == "53100"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
			return true
		}
	}
	return false
}

// cannotSave is what every interface shows when the database refuses
// writes (disk full, read-only file or server): the person learns that
// their change was not kept; reads go on working. A new value each time,
// as callers may add to an error.
func cannotSave() error {
	return &cohort.Error{Code: cohort.EUNAVAILABLE,
		Message: "Cohort cannot save changes right now: the database is read-only or the disk is full. Your change was not saved."}
}

// storable reports whether s can be a text parameter on both engines:
// valid UTF-8 without NUL (PostgreSQL refuses both). Lookups by an ID that
// is not storable find nothing instead of asking the database.
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
