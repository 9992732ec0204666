package cohort

import (
	"context"
	"strings"
	"time"
)

// Session is a signed-in browser session. Sessions live in the database so
// that any instance serves any request. The token is random and only its
// SHA-256 hash is stored; the CSRF token is bound to the session.
type Session struct {
	// ID is the hash of the token; the token itself is only in the cookie.
	ID          string
	WorkspaceID string
	UserID      string
	CSRFToken   string
	CreatedAt   time.Time
	LastSeenAt  time.Time
	ExpiresAt   time.Time
}

// SessionUser is a session joined with its user and workspace, as the
// middleware needs it on every request.
type SessionUser struct {
	Session   *Session
	User      *User
	Workspace *Workspace
}

// Actor returns the actor of a signed-in staff member.
func (s *SessionUser) Actor(via, requestID string) Actor {
	return Actor{
		WorkspaceID: s.Workspace.ID,
		UserID:      s.User.ID,
		Name:        s.User.Name(),
		Role:        s.User.Role,
		IsOwner:     s.User.IsOwner,
		Via:         via,
		RequestID:   requestID,
		SessionID:   s.Session.ID,
	}
}

// Credentials are what a person types to sign in. A sign-in always names
// its practice: an email is unique only within a practice, and a password
// is checked against exactly one account, so no answer can say anything
// about an account in another practice (SECURITY.md, "Sign-in across
// practices").
type Credentials struct {
	// Practice is the workspace's slug, as in its sign-in link.
	Practice string
	Email    string
	Password string
}

// NormalizeSlug is how a typed practice slug is compared: trimmed and
// lower-cased.
func NormalizeSlug(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// AuthService signs staff in and out. It is called before there is an actor.
type AuthService interface {
	// Authenticate checks one account: the active user with c.Email in
	// the practice c.Practice. An unknown practice, an unknown email, a
	// user without a password and a wrong password all return
	// EUNAUTHORIZED with the same message after the same work (one
	// password check).
	Authenticate(ctx context.Context, c Credentials) (*User, error)
	// CreateSession starts a session for an active user and returns the
	// raw token for the cookie.
	CreateSession(ctx context.Context, userID string, ttl time.Duration) (token string, s *Session, err error)
	// FindSession returns the live session for a raw token; EUNAUTHORIZED
	// when it is unknown, expired, idle too long, or its user is archived.
	// It refreshes LastSeenAt at most once a minute.
	FindSession(ctx context.Context, token string, idle time.Duration) (*SessionUser, error)
	// DeleteSession ends one session (sign out).
	DeleteSession(ctx context.Context, token string) error
	// DeleteUserSessions ends every session of a user ("sign out
	// everywhere"), except the one whose ID is keep, if given.
	DeleteUserSessions(ctx context.Context, userID, keep string) error
	// LiveSessions returns which of the given session IDs still sign
	// their user in, by FindSession's rule, without recording a use: open
	// live streams are re-checked with it, so they end with their session.
	LiveSessions(ctx context.Context, ids []string, idle time.Duration) (map[string]bool, error)
}
