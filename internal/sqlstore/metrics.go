package sqlstore

import (
	"context"
	"database/sql"
)

// OutboxStatus is how far webhook delivery is behind the outbox, for
// monitoring.
type OutboxStatus struct {
	// Lag is the number of committed events the relay has not yet turned
	// into deliveries: the last event's seq minus the relay's position.
	Lag int64
	// PendingDeliveries counts deliveries waiting to be sent or retried.
	PendingDeliveries int64
}

// Outbox reports the outbox's backlog in one read.
func (db *DB) Outbox(ctx context.Context) (OutboxStatus, error) {
	var s OutboxStatus
	err := db.read.QueryRowContext(ctx, `SELECT
		COALESCE((SELECT MAX(seq) FROM events), 0) - (SELECT seq FROM relay_position WHERE id = 1),
		(SELECT COUNT(*) FROM deliveries WHERE status = 'pending')`).Scan(&s.Lag, &s.PendingDeliveries)
	return s, mapError(err)
}

// PoolStats returns the connection pools' statistics by pool name:
// "read" and "write" on SQLite (one writer connection, a reader pool),
// "main" on PostgreSQL (one pool for both).
func (db *DB) PoolStats() map[string]sql.DBStats {
	if db.read == db.write {
		return map[string]sql.DBStats{"main": db.write.Stats()}
	}
	return map[string]sql.DBStats{"read": db.read.Stats(), "write": db.write.Stats()}
}
