package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/cohorthq/cohort"
)

// FanOutEvents turns events committed after the relay's position into
// pending deliveries, one per subscribed active webhook, and moves the
// position, in one transaction. The position row is locked, so instances
// running this at once take turns and no event fans out twice.
func (db *DB) FanOutEvents(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		limit = 500
	}
	// Most rounds find nothing new (or, without webhooks, nothing to
	// send): a read answers that without taking the writer.
	var pos, last int64
	if err := db.read.QueryRowContext(ctx, `SELECT (SELECT seq FROM relay_position WHERE id = 1),
		COALESCE((SELECT MAX(seq) FROM events), 0)`).Scan(&pos, &last); err != nil {
		return 0, mapError(err)
	}
	if last <= pos {
		return 0, nil
	}
	var n int
	err := db.inTx(ctx, cohort.Actor{}, func(t *tx) error {
		n = 0
		var pos int64
		if err := t.queryRow(`SELECT seq FROM relay_position WHERE id = 1` + t.db.d.forUpdate()).Scan(&pos); err != nil {
			return err
		}
		rows, err := t.query(`SELECT seq, id, workspace_id, type, time FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`, pos, limit)
		if err != nil {
			return err
		}
		type ev struct {
			seq           int64
			id, ws, etype string
			at            time.Time
		}
		var evs []ev
		for rows.Next() {
			var e ev
			if err := rows.Scan(&e.seq, &e.id, &e.ws, &e.etype, timeScan{&e.at}); err != nil {
				rows.Close()
				return err
			}
			evs = append(evs, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		hooks := map[string][]*cohort.Webhook{}
		for _, e := range evs {
			if _, ok := hooks[e.ws]; ok {
				continue
			}
			hs, err := t.activeWebhooks(e.ws)
			if err != nil {
				return err
			}
			hooks[e.ws] = hs
		}
		for _, e := range evs {
			for _, w := range hooks[e.ws] {
				if !w.Wants(e.etype) || e.at.Before(w.CreatedAt) {
					// A webhook hears of what happens after it is added,
					// even when the relay catches up on older events.
					continue
				}
				if _, err := t.exec(`INSERT INTO deliveries (id, webhook_id, workspace_id, event_id, event_seq, event_type,
					status, next_attempt, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7)
					ON CONFLICT (webhook_id, event_seq) DO NOTHING`, newID(), w.ID, e.ws, e.id, e.seq, e.etype, ts(t.now)); err != nil {
					return err
				}
			}
		}
		if _, err := t.exec(`UPDATE relay_position SET seq = $1 WHERE id = 1`, evs[len(evs)-1].seq); err != nil {
			return err
		}
		n = len(evs)
		return nil
	})
	return n, err
}

// activeWebhooks returns the webhooks of a workspace that are not deleted.
// Paused ones are included: their deliveries wait, unclaimed, until the
// owner resumes the webhook, so no event is lost while it is paused.
func (t *tx) activeWebhooks(workspaceID string) ([]*cohort.Webhook, error) {
	rows, err := t.query(`SELECT `+webhookCols+` FROM webhooks WHERE workspace_id = $1 AND deleted_at IS NULL`, workspaceID)
	if err != nil {
		return nil, err
	}
	return scanRows(rows, scanWebhook)
}

// ClaimDeliveries leases due deliveries. Only each webhook's oldest
// pending delivery is eligible, so a subscriber receives events in commit
// order; the lease makes a second instance skip what the first is sending
// (the UPDATE re-checks the lease on the row it is about to change).
func (db *DB) ClaimDeliveries(ctx context.Context, at time.Time, limit int, lease time.Duration) ([]*cohort.DeliveryJob, error) {
	if limit <= 0 {
		limit = 10
	}
	if lease <= 0 {
		lease = 30 * time.Second
	}
	// Without a due delivery there is nothing to claim: a read answers
	// that without taking the writer.
	var due int
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM deliveries
		WHERE status = 'pending' AND next_attempt <= $1 LIMIT 1) AS due`, ts(at)).Scan(&due)
	if err != nil {
		return nil, mapError(err)
	}
	if due == 0 {
		return nil, nil
	}
	var jobs []*cohort.DeliveryJob
	err = db.inTx(ctx, cohort.Actor{}, func(t *tx) error {
		jobs = nil
		nowS := ts(at)
		rows, err := t.query(`UPDATE deliveries SET lease_until = $2
			WHERE id IN (
				SELECT d.id FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
				WHERE d.status = 'pending' AND d.next_attempt <= $1 AND (d.lease_until IS NULL OR d.lease_until <= $1)
					AND w.active = $4 AND w.deleted_at IS NULL
					AND d.event_seq = (SELECT MIN(d2.event_seq) FROM deliveries d2
						WHERE d2.webhook_id = d.webhook_id AND d2.status = 'pending')
				ORDER BY d.next_attempt, d.event_seq LIMIT $3)
			AND status = 'pending' AND (lease_until IS NULL OR lease_until <= $1)
			RETURNING id`, nowS, ts(at.Add(lease)), limit, true)
		if err != nil {
			return err
		}
		claimed, err := scanStrings(rows)
		if err != nil || len(claimed) == 0 {
			return err
		}
		ds, err := t.deliveriesByID(claimed)
		if err != nil {
			return err
		}
		for _, d := range ds {
			w, err := scanWebhook(t.queryRow(`SELECT `+webhookCols+` FROM webhooks WHERE id = $1`, d.WebhookID))
			if err != nil {
				return err
			}
			e := &cohort.Event{}
			var data string
			if err := t.queryRow(`SELECT seq, id, workspace_id, type, time, data FROM events WHERE seq = $1`, d.EventSeq).Scan(
				&e.Seq, &e.ID, &e.WorkspaceID, &e.Type, timeScan{&e.Time}, &data); err != nil {
				return err
			}
			e.Data = json.RawMessage(data)
			jobs = append(jobs, &cohort.DeliveryJob{Delivery: d, Webhook: w, Event: e})
		}
		return nil
	})
	return jobs, err
}

// deliveriesByID reads deliveries in event order.
func (t *tx) deliveriesByID(ids []string) ([]*cohort.Delivery, error) {
	rows, err := t.query(`SELECT `+deliveryCols+` FROM deliveries WHERE id IN (`+t.db.d.idList("$1")+`) ORDER BY event_seq, id`,
		jsonIDs(ids))
	if err != nil {
		return nil, err
	}
	return scanRows(rows, scanDelivery)
}

// RecordDeliveryAttempt stores the outcome of one attempt, releases the
// lease and keeps the webhook's count of consecutive failures.
func (db *DB) RecordDeliveryAttempt(ctx context.Context, deliveryID string, a cohort.DeliveryAttempt) error {
	at := a.At
	if at.IsZero() {
		at = now()
	}
	return db.inTx(ctx, cohort.Actor{}, func(t *tx) error {
		ds, err := t.deliveriesByID([]string{deliveryID})
		if err != nil {
			return err
		}
		if len(ds) == 0 {
			return cohort.Errorf(cohort.ENOTFOUND, "No delivery with that ID.")
		}
		d := ds[0]
		status, next, delivered := "pending", d.NextAttempt, any(nil)
		switch {
		case a.Delivered:
			status, delivered = "delivered", ts(at)
		case a.NextAttempt != nil:
			next = *a.NextAttempt
		default:
			status = "failed"
		}
		errText := a.Error
		if len(errText) > 500 {
			errText = errText[:500]
		}
		if _, err := t.exec(`UPDATE deliveries SET status = $1, attempts = attempts + 1, last_code = $2, last_error = $3,
			next_attempt = $4, lease_until = NULL, delivered_at = COALESCE($5, delivered_at), last_attempt_at = $6 WHERE id = $7`,
			status, a.StatusCode, errText, ts(next), delivered, ts(at), d.ID); err != nil {
			return err
		}
		if a.Delivered {
			_, err = t.exec(`UPDATE webhooks SET failure_count = 0 WHERE id = $1`, d.WebhookID)
			return err
		}
		if _, err := t.exec(`UPDATE webhooks SET failure_count = failure_count + 1 WHERE id = $1`, d.WebhookID); err != nil {
			return err
		}
		if a.PauseWebhook {
			reason := a.PauseReason
			if reason == "" {
				reason = "Paused after repeated failed deliveries."
			}
			_, err = t.exec(`UPDATE webhooks SET active = $1, paused_at = $2, paused_reason = $3 WHERE id = $4 AND active = $5`,
				false, ts(at), reason, d.WebhookID, true)
		}
		return err
	})
}
