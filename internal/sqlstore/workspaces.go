package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/cohorthq/cohort"
)

// CreateWorkspace creates a workspace and its account owner in one
// transaction. It is trusted code (CLI, demo) and reads no actor; the
// owner's creation is audited as done by the system.
func (db *DB) CreateWorkspace(ctx context.Context, c cohort.WorkspaceCreate) (*cohort.Workspace, *cohort.User, error) {
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	hash := ""
	if c.Owner.Password != "" {
		hash = hashPassword(c.Owner.Password)
	}
	var ws *cohort.Workspace
	var owner *cohort.User
	err := db.inTx(ctx, cohort.Actor{}, func(t *tx) error {
		var taken int
		if err := t.queryRow(`SELECT COUNT(*) FROM workspaces WHERE slug = $1`, c.Slug).Scan(&taken); err != nil {
			return err
		}
		if taken > 0 {
			return &cohort.Error{Code: cohort.ECONFLICT, Message: "A practice with the slug " + c.Slug + " already exists. Choose another slug.",
				Fields: map[string][]string{"slug": {"A practice with the slug " + c.Slug + " already exists. Choose another slug."}}}
		}
		ws = &cohort.Workspace{ID: newID(), Name: c.Name, Slug: c.Slug, CreatedAt: t.now}
		if _, err := t.exec(`INSERT INTO workspaces (id, name, slug, created_at) VALUES ($1, $2, $3, $4)`,
			ws.ID, ws.Name, ws.Slug, ts(t.now)); err != nil {
			return err
		}
		t.actor = cohort.SystemActor(ws.ID, "System")
		var err error
		owner, err = t.insertUser(c.Owner, hash, true)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return ws, owner, nil
}

const workspaceCols = `id, name, slug, created_at`

func scanWorkspace(r interface{ Scan(...any) error }) (*cohort.Workspace, error) {
	w := &cohort.Workspace{}
	if err := r.Scan(&w.ID, &w.Name, &w.Slug, timeScan{&w.CreatedAt}); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, cohort.Errorf(cohort.ENOTFOUND, "No practice with that name.")
		}
		return nil, mapError(err)
	}
	return w, nil
}

// FindWorkspaceBySlug finds a workspace by its slug.
func (db *DB) FindWorkspaceBySlug(ctx context.Context, slug string) (*cohort.Workspace, error) {
	return scanWorkspace(db.read.QueryRowContext(ctx, `SELECT `+workspaceCols+` FROM workspaces WHERE slug = $1`, slug))
}

// FindWorkspaceByID finds a workspace by its ID.
func (db *DB) FindWorkspaceByID(ctx context.Context, id string) (*cohort.Workspace, error) {
	return scanWorkspace(db.read.QueryRowContext(ctx, `SELECT `+workspaceCols+` FROM workspaces WHERE id = $1`, id))
}

// SoleWorkspace returns the only workspace, or nil when there are none or
// several: it reads at most two rows however many practices there are.
func (db *DB) SoleWorkspace(ctx context.Context) (*cohort.Workspace, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+workspaceCols+` FROM workspaces LIMIT 2`)
	if err != nil {
		return nil, mapError(err)
	}
	found, err := scanRows(rows, scanWorkspace)
	if err != nil {
		return nil, mapError(err)
	}
	if len(found) != 1 {
		return nil, nil
	}
	return found[0], nil
}

// FindWorkspaces lists every workspace, oldest first.
func (db *DB) FindWorkspaces(ctx context.Context) ([]*cohort.Workspace, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+workspaceCols+` FROM workspaces ORDER BY created_at, id`)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := scanRows(rows, scanWorkspace)
	return out, mapError(err)
}
