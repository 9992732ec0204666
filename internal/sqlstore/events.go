package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/cohorthq/cohort"
)

// emit writes one outbox event in t. The first event of a transaction
// passes the dialect's commit-order point (see postgresDialect), so the
// workspace's next number, MAX + 1, is read after every earlier writer
// has committed (on SQLite the one writer is alone anyway).
func (t *tx) emit(typ string, data any) error {
	if !t.events {
		if err := t.db.d.beforeEvents(t.ctx, t.Tx); err != nil {
			return err
		}
		t.events = true
	}
	_, err := t.exec(`INSERT INTO events (id, workspace_id, type, time, data, workspace_seq)
		SELECT $1, $2, $3, $4, $5, COALESCE(MAX(workspace_seq), 0) + 1 FROM events WHERE workspace_id = $2`,
		newID(), t.actor.WorkspaceID, typ, ts(t.now), mustJSON(data))
	return err
}

const eventCols = `seq, workspace_seq, id, workspace_id, type, time, data`

// FindEventsAfter returns up to limit events with Seq > seq in order, of
// one workspace or (workspaceID "") of all. The event relay calls it
// without an actor; when the context carries one, only the actor's own
// workspace may be read.
func (db *DB) FindEventsAfter(ctx context.Context, workspaceID string, seq int64, limit int) ([]*cohort.Event, error) {
	if err := ownWorkspace(ctx, workspaceID); err != nil {
		return nil, err
	}
	q := `SELECT ` + eventCols + ` FROM events WHERE seq > $1`
	p := []any{seq}
	if workspaceID != "" {
		q += ` AND workspace_id = $3`
	}
	q += ` ORDER BY seq LIMIT $2`
	p = append(p, eventLimit(limit))
	if workspaceID != "" {
		p = append(p, workspaceID)
	}
	rows, err := db.read.QueryContext(ctx, q, p...)
	return scanEvents(rows, err)
}

// FindWorkspaceEventsAfter returns up to limit events of one workspace
// with WorkspaceSeq > after, in order. With an actor in the context, only
// the actor's own workspace may be read.
func (db *DB) FindWorkspaceEventsAfter(ctx context.Context, workspaceID string, after int64, limit int) ([]*cohort.Event, error) {
	if err := ownWorkspace(ctx, workspaceID); err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+eventCols+` FROM events
		WHERE workspace_id = $1 AND workspace_seq > $2 ORDER BY workspace_seq LIMIT $3`,
		workspaceID, after, eventLimit(limit))
	return scanEvents(rows, err)
}

// ownWorkspace refuses a read of another workspace's events when ctx
// carries an actor (trusted code without one may read any).
func ownWorkspace(ctx context.Context, workspaceID string) error {
	if a, ok := cohort.ActorFromContext(ctx); ok && workspaceID != a.WorkspaceID {
		return cohort.Errorf(cohort.ENOTFOUND, "No workspace with that ID.")
	}
	return nil
}

func eventLimit(limit int) int {
	if limit <= 0 || limit > 10000 {
		return 1000
	}
	return limit
}

func scanEvents(rows *sql.Rows, err error) ([]*cohort.Event, error) {
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var out []*cohort.Event
	for rows.Next() {
		e := &cohort.Event{}
		var data string
		if err := rows.Scan(&e.Seq, &e.WorkspaceSeq, &e.ID, &e.WorkspaceID, &e.Type, timeScan{&e.Time}, &data); err != nil {
			return nil, mapError(err)
		}
		e.Data = json.RawMessage(data)
		out = append(out, e)
	}
	return out, mapError(rows.Err())
}

// LastEventSeq returns the highest event seq, 0 when there is none.
func (db *DB) LastEventSeq(ctx context.Context) (int64, error) {
	var n int64
	err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&n)
	return n, mapError(err)
}

// LastWorkspaceEventSeq returns a workspace's highest WorkspaceSeq, 0
// when it has none. With an actor, only the actor's own workspace.
func (db *DB) LastWorkspaceEventSeq(ctx context.Context, workspaceID string) (int64, error) {
	if err := ownWorkspace(ctx, workspaceID); err != nil {
		return 0, err
	}
	var n int64
	err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(workspace_seq), 0) FROM events WHERE workspace_id = $1`,
		workspaceID).Scan(&n)
	return n, mapError(err)
}
