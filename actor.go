package cohort

import (
	"context"
	"time"
)

// Interface names where a change came from; recorded in audit entries.
const (
	ViaWeb  = "web"
	ViaAPI  = "api"
	ViaSCIM = "scim"
	ViaCLI  = "cli"
)

// Actor is who is acting on a request: a signed-in staff member, an API
// key, or the system itself (CLI, demo seeding). Every service method reads
// the actor from its context, scopes every query to Actor.WorkspaceID and
// checks the actor's permission before it changes anything.
type Actor struct {
	WorkspaceID string
	// UserID is set for a staff member (browser session); empty otherwise.
	UserID string
	// APIKeyID is set when the request carries an API key.
	APIKeyID string
	// Name is what the audit log shows: the person's name or the key's name.
	Name    string
	Role    Role
	IsOwner bool
	// Scopes limits an API key. A staff member has no scopes: the role rules.
	Scopes []Scope
	// System marks trusted internal callers (CLI, demo, migrations): every
	// permission check passes, the workspace scope still applies.
	System bool
	// Via and RequestID say which interface and request caused a change.
	Via       string
	RequestID string
	// SessionID (hashed) of a browser session, so a user can sign out their
	// other sessions but keep this one.
	SessionID string
}

type actorKey struct{}

// NewContextWithActor returns ctx carrying a.
func NewContextWithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFromContext returns the actor of ctx, and whether there was one.
func ActorFromContext(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok && a.WorkspaceID != ""
}

// SystemActor is the actor for CLI commands and seeding in a workspace.
func SystemActor(workspaceID, name string) Actor {
	return Actor{WorkspaceID: workspaceID, Name: name, System: true, Via: ViaCLI}
}

// Permissions. They are written once here; the store enforces them on every
// write and read, and the UI only hides what the store would refuse.

// IsManager reports whether the actor's role manages groups and users:
// the account owner, practitioner admins and practice managers.
func (a Actor) IsManager() bool {
	if a.System || a.IsOwner {
		return true
	}
	return a.Role == RolePractitionerAdmin || a.Role == RolePracticeManager
}

// hasScope reports whether an API-key actor carries s. Staff and system
// actors are governed by role, not scopes.
func (a Actor) hasScope(s Scope) bool {
	if a.APIKeyID == "" {
		return true
	}
	for _, have := range a.Scopes {
		if have == s {
			return true
		}
	}
	return false
}

// CanViewGroups: every active staff member and keys with a groups scope.
func (a Actor) CanViewGroups() bool {
	if a.APIKeyID != "" {
		return a.hasScope(ScopeGroupsRead) || a.hasScope(ScopeGroupsWrite) || a.hasScope(ScopeSCIM)
	}
	return a.System || a.UserID != ""
}

// CanManageGroups: managers, and keys with groups:write or scim.
func (a Actor) CanManageGroups() bool {
	if a.APIKeyID != "" {
		return a.hasScope(ScopeGroupsWrite) || a.hasScope(ScopeSCIM)
	}
	return a.IsManager()
}

// CanViewUsers: every active staff member (the directory) and keys with a
// users or groups scope; StaffView says how much of the staff each sees.
func (a Actor) CanViewUsers() bool {
	if a.APIKeyID != "" {
		return a.hasScope(ScopeUsersRead) || a.hasScope(ScopeUsersWrite) || a.hasScope(ScopeSCIM) ||
			a.hasScope(ScopeGroupsRead) || a.hasScope(ScopeGroupsWrite)
	}
	return a.System || a.UserID != ""
}

// StaffView is how much of the staff an actor sees. It is the one rule
// behind every staff list and staff record (REST, pages, CSV, SCIM): the
// store keeps rows and fields outside it from the actor, and the API
// shapes a record by it. docs/api.md and docs/staff.md show it as a
// table.
type StaffView int

const (
	// StaffHidden: no actor, or one that sees no staff.
	StaffHidden StaffView = iota
	// StaffMembers: active staff only, as much as names them in a group's
	// member list (ID, given and family name). Keys whose only scopes are
	// groups:read and groups:write.
	StaffMembers
	// StaffDirectory: active staff only, with what the Directory shows
	// (ID, name, email, role, status, staff attributes). Staff who do not manage users.
	StaffDirectory
	// StaffFull: every staff member, archived included, every field.
	// Managers, the system, and keys with users:read, users:write or scim.
	StaffFull
)

// StaffView returns how much of the staff a sees.
func (a Actor) StaffView() StaffView {
	switch {
	case a.APIKeyID != "":
		switch {
		case a.hasScope(ScopeUsersRead) || a.hasScope(ScopeUsersWrite) || a.hasScope(ScopeSCIM):
			return StaffFull
		case a.hasScope(ScopeGroupsRead) || a.hasScope(ScopeGroupsWrite):
			return StaffMembers
		}
		return StaffHidden
	case a.IsManager():
		return StaffFull
	case a.UserID != "":
		return StaffDirectory
	}
	return StaffHidden
}

// SeesArchived reports whether v includes archived staff.
func (v StaffView) SeesArchived() bool { return v == StaffFull }

// SeesContact reports whether v includes email, role and status.
func (v StaffView) SeesContact() bool { return v >= StaffDirectory }

// SeesRecord reports whether v includes the rest of a staff record: the
// owner flag, the external ID and the times. (The version is kept: it is
// the record's ETag, which a cache needs whatever it may read.)
func (v StaffView) SeesRecord() bool { return v == StaffFull }

// Redact clears the fields of u that v does not include, so an edge that
// shows a record it was given shows no more than v allows.
func (v StaffView) Redact(u *User) {
	if !v.SeesContact() {
		u.Email, u.Role, u.Status = "", "", ""
		u.StaffAttributes = StaffAttributes{}
	}
	if !v.SeesRecord() {
		u.IsOwner, u.ExternalID = false, ""
		u.CreatedAt, u.UpdatedAt, u.ArchivedAt = time.Time{}, time.Time{}, nil
	}
}

// CheckStaffStatus refuses a staff list by status ("" is every status)
// that reaches past what a sees: only StaffFull sees archived staff.
func (a Actor) CheckStaffStatus(s Status) error {
	if s == StatusActive || a.StaffView().SeesArchived() {
		return nil
	}
	if a.APIKeyID != "" {
		return Errorf(EFORBIDDEN, "This API key sees active staff only: archived staff need a key with the users:read scope. Ask for status=active, or leave status out.")
	}
	return Errorf(EFORBIDDEN, "Only the account owner, practitioner admins and practice managers see archived staff: ask for status=active, or leave status out. The Directory lists active staff.")
}

// CanManageUsers: managers, and keys with users:write or scim.
func (a Actor) CanManageUsers() bool {
	if a.APIKeyID != "" {
		return a.hasScope(ScopeUsersWrite) || a.hasScope(ScopeSCIM)
	}
	return a.IsManager()
}

// CanViewAudit: managers, and any API key that can read groups or users.
func (a Actor) CanViewAudit() bool {
	if a.APIKeyID != "" {
		return a.hasScope(ScopeGroupsRead) || a.hasScope(ScopeGroupsWrite) ||
			a.hasScope(ScopeUsersRead) || a.hasScope(ScopeUsersWrite)
	}
	return a.IsManager()
}

// AuditTargets lists the target types of the audit entries a reads, nil
// for every type. A key reads the entries of what its scopes cover
// (group entries with a groups scope, user entries with a users scope):
// a staff member's entries show their email, role and archiving, and API
// key and webhook entries are the account owner's. Staff who read the
// audit log at all (CanViewAudit) read every entry.
func (a Actor) AuditTargets() []string {
	if a.APIKeyID == "" {
		return nil
	}
	out := []string{}
	if a.hasScope(ScopeGroupsRead) || a.hasScope(ScopeGroupsWrite) {
		out = append(out, "group")
	}
	if a.hasScope(ScopeUsersRead) || a.hasScope(ScopeUsersWrite) {
		out = append(out, "user")
	}
	return out
}

// CanManageIntegrations: only the account owner manages API keys and
// webhooks; API keys never do.
func (a Actor) CanManageIntegrations() bool {
	if a.APIKeyID != "" {
		return false
	}
	return a.System || a.IsOwner
}

// CanTransferOwnership: only the current owner (or the system).
func (a Actor) CanTransferOwnership() bool {
	return a.APIKeyID == "" && (a.System || a.IsOwner)
}

// ErrForbidden is returned when the actor may not do something.
func ErrForbidden(what string) error {
	return Errorf(EFORBIDDEN, "You do not have permission to %s.", what)
}

// ErrNoActor is returned when a service is called without an actor.
var ErrNoActor = &Error{Code: EUNAUTHORIZED, Message: "Sign in to continue."}
