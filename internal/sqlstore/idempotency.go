package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/cohorthq/cohort"
)

// idempotencyTTL is how long a stored result answers a retried request.
const idempotencyTTL = 24 * time.Hour

// FindIdempotency returns the stored result for (workspace, principal,
// key), or ENOTFOUND when there is none younger than 24 hours.
func (db *DB) FindIdempotency(ctx context.Context, principal, key string) (*cohort.Idempotency, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	r := &cohort.Idempotency{}
	err = db.read.QueryRowContext(ctx, `SELECT workspace_id, principal, key, request_hash, status_code, body, created_at
		FROM idempotency WHERE workspace_id = $1 AND principal = $2 AND key = $3 AND created_at > $4`,
		a.WorkspaceID, principal, key, ts(now().Add(-idempotencyTTL))).Scan(&r.WorkspaceID, &r.Principal, &r.Key,
		&r.RequestHash, &r.StatusCode, &r.Body, timeScan{&r.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cohort.Errorf(cohort.ENOTFOUND, "No stored result for that Idempotency-Key.")
	}
	if err != nil {
		return nil, mapError(err)
	}
	return r, nil
}

// SaveIdempotency stores the first result for a key. When a live record
// exists it returns ECONFLICT and leaves it. Expired records are removed
// on the way, so the table holds about one day of keys.
func (db *DB) SaveIdempotency(ctx context.Context, r *cohort.Idempotency) error {
	a, err := actorFrom(ctx)
	if err != nil {
		return err
	}
	if r.Key == "" || len(r.Key) > 255 {
		return cohort.FieldError("idempotency_key", "Use an Idempotency-Key of 1 to 255 characters.")
	}
	return db.inTx(ctx, a, func(t *tx) error {
		if _, err := t.exec(`DELETE FROM idempotency WHERE created_at <= $1`, ts(t.now.Add(-idempotencyTTL))); err != nil {
			return err
		}
		body := r.Body
		if body == nil {
			body = []byte{}
		}
		res, err := t.exec(`INSERT INTO idempotency (workspace_id, principal, key, request_hash, status_code, body, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (workspace_id, principal, key) DO NOTHING`,
			a.WorkspaceID, r.Principal, r.Key, r.RequestHash, r.StatusCode, body, ts(t.now))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			return cohort.Errorf(cohort.ECONFLICT, "A request with this Idempotency-Key was already handled.")
		}
		r.WorkspaceID, r.CreatedAt = a.WorkspaceID, t.now
		return nil
	})
}
