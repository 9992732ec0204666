package cohort

import (
	"context"
	"encoding/json"
	"time"
)

// Audit actions. The action names double as event types.
const (
	ActionGroupCreated        = "group.created"
	ActionGroupUpdated        = "group.updated"
	ActionGroupMembersChanged = "group.members_changed"
	ActionGroupArchived       = "group.archived"
	ActionGroupRestored       = "group.restored"
	ActionUserCreated         = "user.created"
	ActionUserUpdated         = "user.updated"
	ActionUserArchived        = "user.archived"
	ActionUserRestored        = "user.restored"
	ActionOwnerTransferred    = "user.owner_transferred"
	ActionAPIKeyCreated       = "api_key.created"
	ActionAPIKeyRevoked       = "api_key.revoked"
	ActionWebhookCreated      = "webhook.created"
	ActionWebhookUpdated      = "webhook.updated"
	ActionWebhookDeleted      = "webhook.deleted"
	ActionSessionsEnded       = "user.sessions_ended"
)

// AuditEntry records one change: who, when, what, from where. It is
// written in the same transaction as the change and is never changed or
// deleted.
type AuditEntry struct {
	ID          string
	WorkspaceID string
	Time        time.Time
	ActorName   string
	ActorUserID string
	ActorKeyID  string
	Action      string
	TargetType  string // "group", "user", "api_key", "webhook"
	TargetID    string
	TargetName  string
	// Changes describes what changed, e.g. {"name":{"from":"a","to":"b"}}
	// or {"added":[…],"removed":[…]}.
	Changes   json.RawMessage
	Via       string
	RequestID string
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	TargetType string
	TargetID   string
	Action     string
	ActorName  string // contains, case-insensitive
	Since      *time.Time
	Until      *time.Time
	Limit      int
	After      string
	Before     string
}

// AuditPage is one page of audit entries.
type AuditPage struct {
	Entries []*AuditEntry
	Next    string
	Prev    string
}

// AuditService reads the audit log (managers).
type AuditService interface {
	FindAuditEntries(ctx context.Context, f AuditFilter) (*AuditPage, error)
}
