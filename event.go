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
	// Data is the JSON payload: a GroupEventData for group.* types, a
	// UserEventData for user.* types.
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

// The payloads of events: Event.Data is one of these, marshalled once by
// the store. Webhook receivers parse them (docs/webhooks.md) and the REST
// API returns the same resources (docs/api.md), so a change to a field
// name, to when a field is present, or to the order of fields is a change
// to a public contract. Keys are in alphabetical order where the payloads
// have always had them so.

// GroupResource is a group as the REST API returns it and as group events
// carry it: the group after the change. Times are in UTC.
type GroupResource struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Status      Status     `json:"status"`
	MemberCount int        `json:"member_count"`
	Version     int64      `json:"version"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	ArchivedAt  *time.Time `json:"archived_at"`
}

// NewGroupResource returns g as the API and events show it.
func NewGroupResource(g *Group) GroupResource {
	return GroupResource{ID: g.ID, Name: g.Name, Description: g.Description, Status: g.Status,
		MemberCount: g.MemberCount, Version: g.Version,
		CreatedAt: g.CreatedAt.UTC(), UpdatedAt: g.UpdatedAt.UTC(), ArchivedAt: utcPtr(g.ArchivedAt)}
}

// UserResource is a staff member's full record as the REST API returns it
// and as user events carry it. Times are in UTC.
type UserResource struct {
	ID         string    `json:"id"`
	Email      string    `json:"email"`
	GivenName  string    `json:"given_name"`
	FamilyName string    `json:"family_name"`
	Role       Role      `json:"role"`
	Status     Status    `json:"status"`
	IsOwner    bool      `json:"is_owner"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// The staff attributes, "" when not set.
	JobTitle       string `json:"job_title"`
	Location       string `json:"location"`
	Phone          string `json:"phone"`
	EmploymentType string `json:"employment_type"`
}

// NewUserResource returns u as the API and events show it.
func NewUserResource(u *User) UserResource {
	return UserResource{ID: u.ID, Email: u.Email, GivenName: u.GivenName, FamilyName: u.FamilyName,
		Role: u.Role, Status: u.Status, IsOwner: u.IsOwner, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(),
		JobTitle: u.JobTitle, Location: u.Location, Phone: u.Phone, EmploymentType: u.EmploymentType}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Change is one field's value before and after a change, as events and
// audit entries show it: {"from": …, "to": …}. From is nil (null) when
// the field had no value before, as when the resource is created.
type Change[T any] struct {
	From *T `json:"from"`
	To   T  `json:"to"`
}

// Changed returns the change of a field from one value to another.
func Changed[T any](from, to T) *Change[T] { return &Change[T]{From: &from, To: to} }

// Initial returns the change of a field that had no value to its first.
func Initial[T any](to T) *Change[T] { return &Change[T]{To: to} }

// GroupChanges is what changed in a group: each changed field, nil for
// the others.
type GroupChanges struct {
	Description *Change[string] `json:"description,omitempty"`
	ExternalID  *Change[string] `json:"external_id,omitempty"`
	Name        *Change[string] `json:"name,omitempty"`
	Status      *Change[Status] `json:"status,omitempty"`
}

// Empty reports whether no field changed.
func (c GroupChanges) Empty() bool { return c == GroupChanges{} }

// GroupEventData is the data of every group.* event: the group after the
// change and, by type,
//   - group.created: Added, the first members (absent when none);
//   - group.updated and group.restored: Changes;
//   - group.members_changed: Added and Removed, the user IDs that
//     actually changed (both present, [] when empty);
//   - group.archived: nothing more.
type GroupEventData struct {
	Added   []string      `json:"added,omitzero"`
	Changes *GroupChanges `json:"changes,omitempty"`
	Group   GroupResource `json:"group"`
	Removed []string      `json:"removed,omitzero"`
}

// UserChanges is what changed in a staff member: each changed field, nil
// for the others.
type UserChanges struct {
	Deprovisioned  *Change[bool]   `json:"deprovisioned,omitempty"`
	Email          *Change[string] `json:"email,omitempty"`
	EmploymentType *Change[string] `json:"employment_type,omitempty"`
	ExternalID     *Change[string] `json:"external_id,omitempty"`
	FamilyName     *Change[string] `json:"family_name,omitempty"`
	GivenName      *Change[string] `json:"given_name,omitempty"`
	IsOwner        *Change[bool]   `json:"is_owner,omitempty"`
	JobTitle       *Change[string] `json:"job_title,omitempty"`
	Location       *Change[string] `json:"location,omitempty"`
	Phone          *Change[string] `json:"phone,omitempty"`
	Role           *Change[Role]   `json:"role,omitempty"`
	Status         *Change[Status] `json:"status,omitempty"`
	UserName       *Change[string] `json:"user_name,omitempty"`
}

// Empty reports whether no field changed.
func (c UserChanges) Empty() bool { return c == UserChanges{} }

// UserEventData is the data of every user.* event: the staff member after
// the change and, for user.updated, Changes.
type UserEventData struct {
	Changes *UserChanges `json:"changes,omitempty"`
	User    UserResource `json:"user"`
}
