package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/cohorthq/cohort"
)

var errBadAPIKey = &cohort.Error{Code: cohort.EUNAUTHORIZED, Message: "The API key is invalid, revoked or expired."}

// apiKeyPrefixLen is how much of a token is stored in clear to tell keys
// apart in lists: "cohort_" and five random characters.
const apiKeyPrefixLen = 12

const apiKeyCols = `id, workspace_id, name, scopes, prefix, created_at, created_by, expires_at, last_used_at, revoked_at`

func scanAPIKey(r interface{ Scan(...any) error }) (*cohort.APIKey, error) {
	k := &cohort.APIKey{}
	var scopes string
	err := r.Scan(&k.ID, &k.WorkspaceID, &k.Name, &scopes, &k.Prefix, timeScan{&k.CreatedAt}, &k.CreatedBy,
		nullTimeScan{&k.ExpiresAt}, nullTimeScan{&k.LastUsedAt}, nullTimeScan{&k.RevokedAt})
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, cohort.Errorf(cohort.ENOTFOUND, "No API key with that ID.")
		}
		return nil, mapError(err)
	}
	for _, s := range strings.Split(scopes, ",") {
		if s != "" {
			k.Scopes = append(k.Scopes, cohort.Scope(s))
		}
	}
	return k, nil
}

// CreateAPIKey creates a key (account owner only) and returns its token,
// which is shown once: only its SHA-256 is stored.
func (db *DB) CreateAPIKey(ctx context.Context, c cohort.APIKeyCreate) (*cohort.APIKey, string, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, "", err
	}
	if !a.CanManageIntegrations() {
		return nil, "", cohort.ErrForbidden("manage API keys")
	}
	var v cohort.Validation
	for f, msgs := range cohort.ErrorFields(c.Validate()) {
		for _, m := range msgs {
			v.Add(f, m)
		}
	}
	n := now()
	if c.ExpiresAt != nil && !c.ExpiresAt.After(n) {
		v.Add("expires_at", "Choose an expiry date in the future.")
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	scopes := make([]string, len(c.Scopes))
	for i, s := range c.Scopes {
		scopes[i] = string(s)
	}
	token := cohort.APIKeyPrefix + randomToken(32)
	k := &cohort.APIKey{ID: newID(), WorkspaceID: a.WorkspaceID, Name: c.Name, Scopes: c.Scopes, Prefix: token[:apiKeyPrefixLen], CreatedBy: a.Name}
	if c.ExpiresAt != nil {
		e := c.ExpiresAt.UTC().Truncate(time.Microsecond)
		k.ExpiresAt = &e
	}
	err = db.inTx(ctx, a, func(t *tx) error {
		k.CreatedAt = t.now
		if _, err := t.exec(`INSERT INTO api_keys (id, workspace_id, name, scopes, prefix, token_hash, created_at, created_by, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, k.ID, k.WorkspaceID, k.Name, strings.Join(scopes, ","), k.Prefix,
			tokenHash(token), ts(t.now), k.CreatedBy, tsPtr(k.ExpiresAt)); err != nil {
			return err
		}
		return t.audit(cohort.ActionAPIKeyCreated, "api_key", k.ID, k.Name, map[string]any{"scopes": scopes, "expires_at": k.ExpiresAt})
	})
	if err != nil {
		return nil, "", err
	}
	return k, token, nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// FindAPIKeys lists the workspace's keys, newest first, revoked included.
func (db *DB) FindAPIKeys(ctx context.Context) ([]*cohort.APIKey, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.CanManageIntegrations() {
		return nil, cohort.ErrForbidden("manage API keys")
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE workspace_id = $1
		ORDER BY created_at DESC, id DESC`, a.WorkspaceID)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := scanRows(rows, scanAPIKey)
	return out, mapError(err)
}

// RevokeAPIKey revokes a key at once. Revoking a revoked key changes nothing.
func (db *DB) RevokeAPIKey(ctx context.Context, id string) error {
	a, err := actorFrom(ctx)
	if err != nil {
		return err
	}
	if !a.CanManageIntegrations() {
		return cohort.ErrForbidden("manage API keys")
	}
	if !storable(id) {
		return cohort.Errorf(cohort.ENOTFOUND, "No API key with that ID.")
	}
	return db.inTx(ctx, a, func(t *tx) error {
		k, err := scanAPIKey(t.queryRow(`SELECT `+apiKeyCols+` FROM api_keys WHERE id = $1 AND workspace_id = $2`+t.db.d.forUpdate(),
			id, a.WorkspaceID))
		if err != nil || k.RevokedAt != nil {
			return err
		}
		if _, err := t.exec(`UPDATE api_keys SET revoked_at = $1 WHERE id = $2`, ts(t.now), k.ID); err != nil {
			return err
		}
		return t.audit(cohort.ActionAPIKeyRevoked, "api_key", k.ID, k.Name, map[string]any{"revoked_at": t.now})
	})
}

// AuthenticateAPIKey finds the live key of a bearer token. It records the
// last use at most once a minute, so every request stays a read.
func (db *DB) AuthenticateAPIKey(ctx context.Context, token string) (*cohort.APIKey, error) {
	if !strings.HasPrefix(token, cohort.APIKeyPrefix) || len(token) > 200 {
		return nil, errBadAPIKey
	}
	k, err := scanAPIKey(db.read.QueryRowContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE token_hash = $1`, tokenHash(token)))
	if err != nil {
		if cohort.ErrorCode(err) == cohort.ENOTFOUND {
			return nil, errBadAPIKey
		}
		return nil, err
	}
	n := now()
	if k.RevokedAt != nil || k.ExpiresAt != nil && !n.Before(*k.ExpiresAt) {
		return nil, errBadAPIKey
	}
	if k.LastUsedAt == nil || n.Sub(*k.LastUsedAt) >= time.Minute {
		_, err := db.write.ExecContext(ctx, `UPDATE api_keys SET last_used_at = $1 WHERE id = $2`, ts(n), k.ID)
		switch {
		case err == nil:
			k.LastUsedAt = &n
		case refusesWrites(err):
			// The database takes no writes (disk full, read-only): the key
			// still reads; its last use is noted once writes work again.
		default:
			return nil, mapError(err)
		}
	}
	return k, nil
}
