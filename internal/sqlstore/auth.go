package sqlstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"time"

	"github.com/cohorthq/cohort"
)

var errBadLogin = &cohort.Error{Code: cohort.EUNAUTHORIZED, Message: "Email or password is incorrect."}

var errNoSession = &cohort.Error{Code: cohort.EUNAUTHORIZED, Message: "Your session has ended. Sign in again."}

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("sqlstore: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenHash is how session and API-key tokens are stored: SHA-256, hex.
// The tokens are random, so a fast hash is enough.
func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Authenticate checks the password of one account: the active user with
// the email in the practice named by its slug. Whatever the outcome (no
// such practice, no such email, no password set, wrong password) it costs
// exactly one argon2 check, and every failure gives the same error, so
// neither the answer nor its time tells anything about other practices.
func (db *DB) Authenticate(ctx context.Context, c cohort.Credentials) (*cohort.User, error) {
	slug, email := cohort.NormalizeSlug(c.Practice), cohort.NormalizeEmail(c.Email)
	var u *cohort.User
	var hash string
	// Staff without a sign-in email have "" as theirs: an empty email
	// names nobody.
	if slug != "" && email != "" && storable(slug) && storable(email) {
		var err error
		u, err = scanUser(scanFunc(func(dst ...any) error {
			return db.read.QueryRowContext(ctx, `SELECT `+userCols+`, password_hash FROM users
				WHERE workspace_id = (SELECT id FROM workspaces WHERE slug = $1) AND email = $2 AND status = 'active'`,
				slug, email).Scan(append(dst, &hash)...)
		}))
		if err != nil && cohort.ErrorCode(err) != cohort.ENOTFOUND {
			return nil, err
		}
	}
	if u == nil || hash == "" {
		// Text no practice or address holds, an unknown account or one
		// without a password: the same work as a wrong password.
		checkPassword(dummyHash(), c.Password)
		return nil, errBadLogin
	}
	if !checkPassword(hash, c.Password) {
		return nil, errBadLogin
	}
	return u, nil
}

// CreateSession starts a session for an active user and returns its token.
func (db *DB) CreateSession(ctx context.Context, userID string, ttl time.Duration) (string, *cohort.Session, error) {
	if ttl <= 0 {
		return "", nil, cohort.Errorf(cohort.EINVALID, "A session needs a positive lifetime.")
	}
	if !storable(userID) {
		return "", nil, errUserNotFound
	}
	token := randomToken(32)
	var s *cohort.Session
	err := db.inTx(ctx, cohort.Actor{}, func(t *tx) error {
		var ws, status string
		err := t.queryRow(`SELECT workspace_id, status FROM users WHERE id = $1`, userID).Scan(&ws, &status)
		if errors.Is(err, sql.ErrNoRows) {
			return errUserNotFound
		}
		if err != nil {
			return err
		}
		if cohort.Status(status) != cohort.StatusActive {
			return &cohort.Error{Code: cohort.EUNAUTHORIZED, Message: "This staff member is archived and cannot sign in."}
		}
		s = &cohort.Session{ID: tokenHash(token), WorkspaceID: ws, UserID: userID, CSRFToken: randomToken(32),
			CreatedAt: t.now, LastSeenAt: t.now, ExpiresAt: t.now.Add(ttl).Truncate(time.Microsecond)}
		_, err = t.exec(`INSERT INTO sessions (id, workspace_id, user_id, csrf_token, created_at, last_seen_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $5, $6)`, s.ID, ws, userID, s.CSRFToken, ts(t.now), ts(s.ExpiresAt))
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return token, s, nil
}

// FindSession returns the live session of a token with its user and
// workspace. LastSeenAt is written at most once per touchInterval, so a
// busy page does not turn every read into a write.
func (db *DB) FindSession(ctx context.Context, token string, idle time.Duration) (*cohort.SessionUser, error) {
	if token == "" {
		return nil, errNoSession
	}
	s := &cohort.Session{}
	w := &cohort.Workspace{}
	var hash string
	u, err := scanUser(scanFunc(func(dst ...any) error {
		return db.read.QueryRowContext(ctx, `SELECT s.id, s.workspace_id, s.user_id, s.csrf_token, s.created_at,
			s.last_seen_at, s.expires_at, w.id, w.name, w.slug, w.created_at, u.password_hash,
			u.id, u.workspace_id, u.email, u.given_name, u.family_name, u.role, u.status, u.is_owner, u.external_id,
			u.version, u.created_at, u.updated_at, u.archived_at, u.user_name, u.email_cased, u.deprovisioned_at,
			u.job_title, u.location, u.phone, u.employment_type
			FROM sessions s JOIN users u ON u.id = s.user_id JOIN workspaces w ON w.id = s.workspace_id
			WHERE s.id = $1`, tokenHash(token)).Scan(append([]any{&s.ID, &s.WorkspaceID, &s.UserID, &s.CSRFToken,
			timeScan{&s.CreatedAt}, timeScan{&s.LastSeenAt}, timeScan{&s.ExpiresAt}, &w.ID, &w.Name, &w.Slug,
			timeScan{&w.CreatedAt}, &hash}, dst...)...)
	}))
	if err != nil {
		if cohort.ErrorCode(err) == cohort.ENOTFOUND {
			return nil, errNoSession
		}
		return nil, err
	}
	n := now()
	if !sessionLive(s, u.Archived(), idle, n) {
		return nil, errNoSession
	}
	if n.Sub(s.LastSeenAt) >= touchInterval(idle) {
		_, err := db.write.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2`, ts(n), s.ID)
		switch {
		case err == nil:
			s.LastSeenAt = n
		case refusesWrites(err):
			// The database takes no writes (disk full, read-only): the
			// session still reads pages; its last use is noted once
			// writes work again.
		default:
			return nil, mapError(err)
		}
	}
	return &cohort.SessionUser{Session: s, User: u, Workspace: w}, nil
}

// touchInterval is how stale a session's recorded last use may get: a
// minute, or a quarter of the idle limit when that is shorter, so a
// session in use is always recorded as used well before it counts as idle
// (with --session-idle 1m, a page used every 15 s stays signed in).
func touchInterval(idle time.Duration) time.Duration {
	if idle > 0 && idle/4 < time.Minute {
		return idle / 4
	}
	return time.Minute
}

// DeleteSession ends the session of a token (sign out). An unknown token
// is already signed out.
func (db *DB) DeleteSession(ctx context.Context, token string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, tokenHash(token))
	if err != nil {
		return mapError(err)
	}
	if n, err := res.RowsAffected(); err == nil && n > 0 {
		return mapError(db.sessionsEnded(ctx))
	}
	return nil
}

// DeleteUserSessions ends every session of a user except keep (a session
// ID): the user themselves or a manager may do it.
func (db *DB) DeleteUserSessions(ctx context.Context, userID, keep string) error {
	a, err := actorFrom(ctx)
	if err != nil {
		return err
	}
	if a.UserID != userID && !a.CanManageUsers() {
		return cohort.ErrForbidden("end this person's sessions")
	}
	return db.inTx(ctx, a, func(t *tx) error {
		u, err := t.lockUser(userID)
		if err != nil {
			return err
		}
		res, err := t.exec(`DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, u.ID, keep)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		if err := t.noteSessionsEnded(); err != nil {
			return err
		}
		return t.audit(cohort.ActionSessionsEnded, "user", u.ID, u.Name(), map[string]any{"sessions_ended": n})
	})
}

// sessionLive is the one rule for whether a session still signs its user
// in: not expired, used within idle (when idle > 0), its user active.
func sessionLive(s *cohort.Session, userArchived bool, idle time.Duration, now time.Time) bool {
	return now.Before(s.ExpiresAt) && (idle <= 0 || now.Before(s.LastSeenAt.Add(idle))) && !userArchived
}

// LiveSessions returns which of the given session IDs (token hashes) still
// sign their user in, by FindSession's rule, without touching LastSeenAt:
// a page left open is not a use of its session. The live stream calls it
// for all its open streams at once.
func (db *DB) LiveSessions(ctx context.Context, ids []string, idle time.Duration) (map[string]bool, error) {
	live := make(map[string]bool, len(ids))
	n := now()
	for chunk := range slices.Chunk(ids, 500) {
		rows, err := db.read.QueryContext(ctx, `SELECT s.id, s.last_seen_at, s.expires_at, u.status
			FROM sessions s JOIN users u ON u.id = s.user_id
			WHERE s.id IN (`+db.d.idList("$1")+`)`, mustJSON(chunk))
		if err != nil {
			return nil, mapError(err)
		}
		for rows.Next() {
			var s cohort.Session
			var status string
			if err := rows.Scan(&s.ID, timeScan{&s.LastSeenAt}, timeScan{&s.ExpiresAt}, &status); err != nil {
				rows.Close()
				return nil, mapError(err)
			}
			if sessionLive(&s, cohort.Status(status) != cohort.StatusActive, idle, n) {
				live[s.ID] = true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, mapError(err)
		}
	}
	return live, nil
}
