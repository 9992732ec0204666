package sqlstore

import (
	"context"
	"encoding/json"

	"github.com/cohorthq/cohort"
)

// emit writes one outbox event in t. The first event of a transaction
// passes the dialect's commit-order point (see postgresDialect).
func (t *tx) emit(typ string, data any) error {
	if !t.events {
		if err := t.db.d.beforeEvents(t.ctx, t.Tx); err != nil {
			return err
		}
		t.events = true
	}
	_, err := t.exec(`INSERT INTO events (id, workspace_id, type, time, data) VALUES ($1, $2, $3, $4, $5)`,
		newID(), t.actor.WorkspaceID, typ, ts(t.now), mustJSON(data))
	return err
}

// FindEventsAfter returns up to limit events with Seq > seq in order, of
// one workspace or (workspaceID "") of all. The event relay calls it
// without an actor; when the context carries one, only the actor's own
// workspace may be read.
func (db *DB) FindEventsAfter(ctx context.Context, workspaceID string, seq int64, limit int) ([]*cohort.Event, error) {
	if a, ok := cohort.ActorFromContext(ctx); ok && workspaceID != a.WorkspaceID {
		return nil, cohort.Errorf(cohort.ENOTFOUND, "No workspace with that ID.")
	}
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	q := `SELECT seq, id, workspace_id, type, time, data FROM events WHERE seq > $1`
	p := []any{seq}
	if workspaceID != "" {
		q += ` AND workspace_id = $3`
	}
	q += ` ORDER BY seq LIMIT $2`
	p = append(p, limit)
	if workspaceID != "" {
		p = append(p, workspaceID)
	}
	rows, err := db.read.QueryContext(ctx, q, p...)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var out []*cohort.Event
	for rows.Next() {
		e := &cohort.Event{}
		var data string
		if err := rows.Scan(&e.Seq, &e.ID, &e.WorkspaceID, &e.Type, timeScan{&e.Time}, &data); err != nil {
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
