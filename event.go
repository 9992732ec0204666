package cohort

import (
	"context"
	"encoding/json"
	"time"
)

// EventTypes lists the event types a webhook can subscribe to.
var EventTypes = []string{
	ActionGroupCreated, ActionGroupUpdated, ActionGroupMembersChanged, ActionGroupArchived, ActionGroupRestored,
	ActionUserCreated, ActionUserUpdated, ActionUserArchived, ActionUserRestored,
}

// Event is a row of the outbox, written in the same transaction as the
// change it reports. Seq orders events per database (and so per
// workspace); the relay delivers them after commit, at least once. Seq is
// internal: what a workspace's people and clients see is WorkspaceSeq.
type Event struct {
	Seq int64
	// WorkspaceSeq numbers the events of one workspace 1, 2, 3, … in the
	// same order as Seq, so a position shown to a practice (a page's
	// last_event_id, a live stream's ids) says nothing about others.
	WorkspaceSeq int64
	ID           string
	WorkspaceID  string
	Type         string
	Time         time.Time
	// Data is the JSON payload: the resource and, for updates, what changed.
	Data json.RawMessage
}

// EventService reads the outbox for the relay and for live pages.
type EventService interface {
	// FindEventsAfter returns up to limit events with Seq > seq, in order,
	// across all workspaces (the relay) or one (workspaceID != "").
	FindEventsAfter(ctx context.Context, workspaceID string, seq int64, limit int) ([]*Event, error)
	// LastEventSeq returns the highest Seq, 0 when there is none.
	LastEventSeq(ctx context.Context) (int64, error)
	// FindWorkspaceEventsAfter returns up to limit events of one workspace
	// with WorkspaceSeq > after, in order (a live stream resuming).
	FindWorkspaceEventsAfter(ctx context.Context, workspaceID string, after int64, limit int) ([]*Event, error)
	// LastWorkspaceEventSeq returns the highest WorkspaceSeq of a
	// workspace, 0 when it has none (the position a page is rendered at).
	LastWorkspaceEventSeq(ctx context.Context, workspaceID string) (int64, error)
}

// Webhook is a subscriber URL of one workspace.
type Webhook struct {
	ID          string
	WorkspaceID string
	URL         string
	Events      []string
	// Secret signs deliveries; shown once at creation.
	Secret       string
	Active       bool
	PausedAt     *time.Time
	PausedReason string
	CreatedAt    time.Time
	// FailureCount counts consecutive failed deliveries.
	FailureCount int
}

// Wants reports whether w subscribes to an event type.
func (w *Webhook) Wants(typ string) bool {
	for _, e := range w.Events {
		if e == typ || e == "*" {
			return true
		}
	}
	return false
}

// WebhookCreate is the input of CreateWebhook.
type WebhookCreate struct {
	URL    string
	Events []string
}

// Delivery is one webhook delivery of one event, with its attempts.
type Delivery struct {
	ID            string
	WebhookID     string
	WorkspaceID   string
	EventID       string
	EventSeq      int64
	EventType     string
	Status        string // "pending", "delivered", "failed"
	Attempts      int
	LastCode      int
	LastError     string
	NextAttempt   time.Time
	CreatedAt     time.Time
	DeliveredAt   *time.Time
	LastAttemptAt *time.Time
}

// WebhookService manages webhooks (account owner) and their deliveries.
type WebhookService interface {
	CreateWebhook(ctx context.Context, c WebhookCreate) (*Webhook, error)
	FindWebhooks(ctx context.Context) ([]*Webhook, error)
	FindWebhookByID(ctx context.Context, id string) (*Webhook, error)
	DeleteWebhook(ctx context.Context, id string) error
	// ResumeWebhook un-pauses a paused webhook.
	ResumeWebhook(ctx context.Context, id string) error
	FindDeliveries(ctx context.Context, webhookID string, limit int) ([]*Delivery, error)
	// ResendDelivery queues a delivery to be sent again now.
	ResendDelivery(ctx context.Context, id string) error
}
