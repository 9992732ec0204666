package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"strings"

	"github.com/cohorthq/cohort"
)

const webhookCols = `id, workspace_id, url, events, secret, active, paused_at, paused_reason, created_at, failure_count`

var errWebhookNotFound = &cohort.Error{Code: cohort.ENOTFOUND, Message: "No webhook with that ID."}

func scanWebhook(r interface{ Scan(...any) error }) (*cohort.Webhook, error) {
	w := &cohort.Webhook{}
	var events string
	err := r.Scan(&w.ID, &w.WorkspaceID, &w.URL, &events, &w.Secret, &w.Active, nullTimeScan{&w.PausedAt}, &w.PausedReason,
		timeScan{&w.CreatedAt}, &w.FailureCount)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errWebhookNotFound
		}
		return nil, mapError(err)
	}
	w.Events = strings.Split(events, ",")
	return w, nil
}

// validateWebhook checks the URL and event list of a new webhook.
func validateWebhook(c *cohort.WebhookCreate) error {
	var v cohort.Validation
	c.URL = strings.TrimSpace(c.URL)
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		v.Add("url", "Enter the URL that receives the events.")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || len(c.URL) > 2000:
		v.Add("url", "Enter an absolute http:// or https:// URL without a user name, e.g. https://example.com/hooks/cohort.")
	}
	var events []string
	for _, e := range c.Events {
		e = strings.TrimSpace(e)
		if e == "*" || contains(cohort.EventTypes, e) {
			if !contains(events, e) {
				events = append(events, e)
			}
			continue
		}
		v.Add("events", "Unknown event type "+e+": use "+strings.Join(cohort.EventTypes, ", ")+" or *.")
	}
	if len(c.Events) == 0 {
		v.Add("events", "Choose at least one event type.")
	}
	c.Events = events
	return v.Err()
}

// CreateWebhook subscribes a URL to events (account owner only). The
// returned webhook carries its signing secret; lists never show it again.
func (db *DB) CreateWebhook(ctx context.Context, c cohort.WebhookCreate) (*cohort.Webhook, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.CanManageIntegrations() {
		return nil, cohort.ErrForbidden("manage webhooks")
	}
	if err := validateWebhook(&c); err != nil {
		return nil, err
	}
	w := &cohort.Webhook{ID: newID(), WorkspaceID: a.WorkspaceID, URL: c.URL, Events: c.Events,
		Secret: "whsec_" + randomToken(32), Active: true}
	err = db.inTx(ctx, a, func(t *tx) error {
		w.CreatedAt = t.now
		if _, err := t.exec(`INSERT INTO webhooks (id, workspace_id, url, events, secret, active, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, w.ID, w.WorkspaceID, w.URL, strings.Join(w.Events, ","), w.Secret, true,
			ts(t.now)); err != nil {
			return err
		}
		return t.audit(cohort.ActionWebhookCreated, "webhook", w.ID, w.URL, map[string]any{"url": w.URL, "events": w.Events})
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// FindWebhooks lists the workspace's webhooks, oldest first, without
// their secrets.
func (db *DB) FindWebhooks(ctx context.Context) ([]*cohort.Webhook, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.CanManageIntegrations() {
		return nil, cohort.ErrForbidden("manage webhooks")
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+webhookCols+` FROM webhooks
		WHERE workspace_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`, a.WorkspaceID)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := scanRows(rows, scanWebhook)
	for _, w := range out {
		w.Secret = ""
	}
	return out, mapError(err)
}

// FindWebhookByID returns one webhook without its secret.
func (db *DB) FindWebhookByID(ctx context.Context, id string) (*cohort.Webhook, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.CanManageIntegrations() {
		return nil, cohort.ErrForbidden("manage webhooks")
	}
	if !storable(id) {
		return nil, errWebhookNotFound
	}
	w, err := scanWebhook(db.read.QueryRowContext(ctx, `SELECT `+webhookCols+` FROM webhooks
		WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL`, id, a.WorkspaceID))
	if err != nil {
		return nil, err
	}
	w.Secret = ""
	return w, nil
}

// changeWebhook runs change on a live webhook of the actor's workspace,
// locked, in one transaction: the account owner only.
func (db *DB) changeWebhook(ctx context.Context, id string, change func(t *tx, w *cohort.Webhook) error) error {
	a, err := actorFrom(ctx)
	if err != nil {
		return err
	}
	if !a.CanManageIntegrations() {
		return cohort.ErrForbidden("manage webhooks")
	}
	if !storable(id) {
		return errWebhookNotFound
	}
	return db.inTx(ctx, a, func(t *tx) error {
		w, err := scanWebhook(t.queryRow(`SELECT `+webhookCols+` FROM webhooks
			WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL`+t.db.d.forUpdate(), id, t.actor.WorkspaceID))
		if err != nil {
			return err
		}
		return change(t, w)
	})
}

// DeleteWebhook stops a webhook for good. The row stays (marked deleted)
// so its delivery log remains readable in the audit trail; its pending
// deliveries are never sent.
func (db *DB) DeleteWebhook(ctx context.Context, id string) error {
	return db.changeWebhook(ctx, id, func(t *tx, w *cohort.Webhook) error {
		if _, err := t.exec(`UPDATE webhooks SET deleted_at = $1, active = $2 WHERE id = $3`, ts(t.now), false, w.ID); err != nil {
			return err
		}
		if _, err := t.exec(`UPDATE deliveries SET status = 'failed', last_error = 'webhook deleted', lease_until = NULL
			WHERE webhook_id = $1 AND status = 'pending'`, w.ID); err != nil {
			return err
		}
		return t.audit(cohort.ActionWebhookDeleted, "webhook", w.ID, w.URL, map[string]any{"url": w.URL})
	})
}

// ResumeWebhook un-pauses a webhook; its waiting deliveries go out again.
func (db *DB) ResumeWebhook(ctx context.Context, id string) error {
	return db.changeWebhook(ctx, id, func(t *tx, w *cohort.Webhook) error {
		if w.Active {
			return nil
		}
		if _, err := t.exec(`UPDATE webhooks SET active = $1, paused_at = NULL, paused_reason = '', failure_count = 0
			WHERE id = $2`, true, w.ID); err != nil {
			return err
		}
		if _, err := t.exec(`UPDATE deliveries SET next_attempt = $1 WHERE webhook_id = $2 AND status = 'pending'`,
			ts(t.now), w.ID); err != nil {
			return err
		}
		return t.audit(cohort.ActionWebhookUpdated, "webhook", w.ID, w.URL, map[string]any{"active": cohort.Changed(false, true)})
	})
}

const deliveryCols = `id, webhook_id, workspace_id, event_id, event_seq, event_type, status, attempts, last_code,
	last_error, next_attempt, created_at, delivered_at, last_attempt_at`

func scanDelivery(r interface{ Scan(...any) error }) (*cohort.Delivery, error) {
	d := &cohort.Delivery{}
	err := r.Scan(&d.ID, &d.WebhookID, &d.WorkspaceID, &d.EventID, &d.EventSeq, &d.EventType, &d.Status, &d.Attempts,
		&d.LastCode, &d.LastError, timeScan{&d.NextAttempt}, timeScan{&d.CreatedAt}, nullTimeScan{&d.DeliveredAt},
		nullTimeScan{&d.LastAttemptAt})
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, cohort.Errorf(cohort.ENOTFOUND, "No delivery with that ID.")
		}
		return nil, mapError(err)
	}
	return d, nil
}

// FindDeliveries lists a webhook's deliveries, newest first.
func (db *DB) FindDeliveries(ctx context.Context, webhookID string, limit int) ([]*cohort.Delivery, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.CanManageIntegrations() {
		return nil, cohort.ErrForbidden("manage webhooks")
	}
	if !storable(webhookID) {
		return nil, errWebhookNotFound
	}
	var one int
	err = db.read.QueryRowContext(ctx, `SELECT 1 FROM webhooks WHERE id = $1 AND workspace_id = $2`, webhookID, a.WorkspaceID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errWebhookNotFound
	}
	if err != nil {
		return nil, mapError(err)
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE webhook_id = $1
		ORDER BY event_seq DESC LIMIT $2`, webhookID, limit)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := scanRows(rows, scanDelivery)
	return out, mapError(err)
}

// ResendDelivery queues a delivery to be sent again now, whatever its
// outcome so far.
func (db *DB) ResendDelivery(ctx context.Context, id string) error {
	a, err := actorFrom(ctx)
	if err != nil {
		return err
	}
	if !a.CanManageIntegrations() {
		return cohort.ErrForbidden("manage webhooks")
	}
	if !storable(id) {
		return cohort.Errorf(cohort.ENOTFOUND, "No delivery with that ID.")
	}
	return db.inTx(ctx, a, func(t *tx) error {
		d, err := scanDelivery(t.queryRow(`SELECT `+deliveryCols+` FROM deliveries WHERE id = $1 AND workspace_id = $2`+t.db.d.forUpdate(),
			id, a.WorkspaceID))
		if err != nil {
			return err
		}
		var deleted int
		if err := t.queryRow(`SELECT COUNT(*) FROM webhooks WHERE id = $1 AND deleted_at IS NOT NULL`, d.WebhookID).Scan(&deleted); err != nil {
			return err
		}
		if deleted > 0 {
			return cohort.Errorf(cohort.EINVALID, "The webhook of this delivery was deleted, so it cannot be sent again.")
		}
		_, err = t.exec(`UPDATE deliveries SET status = 'pending', next_attempt = $1, lease_until = NULL, delivered_at = NULL
			WHERE id = $2`, ts(t.now), d.ID)
		return err
	})
}
