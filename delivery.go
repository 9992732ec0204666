package cohort

import (
	"context"
	"time"
)

// DeliveryJob is a claimed webhook delivery with what is needed to send it.
type DeliveryJob struct {
	Delivery *Delivery
	Webhook  *Webhook
	Event    *Event
}

// DeliveryAttempt is the outcome of one attempt to deliver.
type DeliveryAttempt struct {
	At         time.Time
	StatusCode int    // 0 when no response was received
	Error      string // short reason when it failed
	Delivered  bool
	// NextAttempt is when to try again after a failure; nil gives up and
	// marks the delivery failed.
	NextAttempt *time.Time
	// PauseWebhook pauses the endpoint (too many consecutive failures);
	// PauseReason tells the owner why.
	PauseWebhook bool
	PauseReason  string
}

// DeliveryQueue is the event relay's view of the outbox. It is trusted
// code and does not read an actor. Every method is safe to call from many
// instances at once.
type DeliveryQueue interface {
	// FanOutEvents turns events committed since the relay's last position
	// into pending deliveries, one per subscribed active webhook, and
	// advances the position, in one transaction. It returns how many
	// events it consumed (0 when it is caught up).
	FanOutEvents(ctx context.Context, limit int) (int, error)
	// ClaimDeliveries leases up to limit due deliveries (pending, next
	// attempt ≤ now, lease expired) for lease. For each webhook only its
	// oldest undelivered delivery is eligible, so a subscriber sees events
	// in commit order.
	ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*DeliveryJob, error)
	// RecordDeliveryAttempt stores the outcome of an attempt, releases the
	// lease, and updates the webhook's failure count (reset on success).
	RecordDeliveryAttempt(ctx context.Context, deliveryID string, a DeliveryAttempt) error
}

// Idempotency records the first result of a create sent with an
// Idempotency-Key, so a retry returns it instead of creating twice.
type Idempotency struct {
	WorkspaceID string
	// Principal is the API key ID or user ID that sent the request.
	Principal   string
	Key         string
	RequestHash string
	StatusCode  int
	Body        []byte
	CreatedAt   time.Time
}

// IdempotencyService stores idempotency records (kept 24 hours).
type IdempotencyService interface {
	// FindIdempotency returns the record for (workspace, principal, key),
	// or ENOTFOUND.
	FindIdempotency(ctx context.Context, principal, key string) (*Idempotency, error)
	// SaveIdempotency stores a record; when one already exists for the same
	// key it returns ECONFLICT and the stored record is left as it is.
	SaveIdempotency(ctx context.Context, r *Idempotency) error
}
