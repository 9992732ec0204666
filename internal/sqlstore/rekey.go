package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/cohorthq/cohort"
)

// dupKeyMark separates a name key from the group ID in the key of a group
// that rekeyGroupNames leaves as a duplicate. cohort.NameKey never yields
// a control character, so no name's key can equal such a key.
const dupKeyMark = "\x01"

// groupKeyRow is what rekeying reads of a group.
type groupKeyRow struct {
	id, workspaceID, name, key string
	active                     bool
}

// rekeyGroupNames makes every stored groups.name_key equal to what
// cohort.NameKey computes now. It runs after the migrations on every
// start, so keys stored by an older rule (lower-case only, before NFKC
// folding) or by an older Unicode version are brought up to date on both
// engines; when every key is current it only reads.
//
// Two active groups of a workspace may hold the same key under the new
// rule ("Admin team" and "Ａｄｍｉｎ team"). Neither is renamed or
// archived, and the start does not fail: the older group (by creation
// time, then ID) gets the key, and each later one gets the key followed
// by dupKeyMark and its own ID, so both stay active and unchanged for the
// people and systems that use them. The later one cannot keep its name
// through a rename (every rename is checked against the new rule), and
// once the older one is archived the next start gives it the plain key.
// A warning in the log names each such group.
func (db *DB) rekeyGroupNames(ctx context.Context) error {
	rows, err := readGroupKeys(ctx, db.read)
	if err != nil {
		return err
	}
	if len(staleKeys(rows)) == 0 {
		return nil
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: rekey group names: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if db.engine == EnginePostgres {
		// Keeps out writers (and other instances rekeying) until commit,
		// so the keys are computed over every group there is; reads go on.
		if _, err := tx.ExecContext(ctx, `LOCK TABLE groups IN EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("sqlstore: rekey group names: %w", err)
		}
	}
	if rows, err = readGroupKeys(ctx, tx); err != nil {
		return err
	}
	stale := staleKeys(rows)
	// Two steps, so no update meets a key another row still holds.
	for _, s := range stale {
		if _, err := tx.ExecContext(ctx, `UPDATE groups SET name_key = $1 WHERE id = $2`, dupKeyMark+s.row.id, s.row.id); err != nil {
			return fmt.Errorf("sqlstore: rekey group names: %w", err)
		}
	}
	for _, s := range stale {
		if _, err := tx.ExecContext(ctx, `UPDATE groups SET name_key = $1 WHERE id = $2`, s.key, s.row.id); err != nil {
			return fmt.Errorf("sqlstore: rekey group names: %w", err)
		}
		if s.dupOf != "" {
			db.log.Warn("two active groups now have the same name: the later keeps its name until it is renamed",
				"workspace_id", s.row.workspaceID, "group_id", s.row.id, "name", s.row.name, "same_as_group_id", s.dupOf)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: rekey group names: %w", err)
	}
	return nil
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func readGroupKeys(ctx context.Context, q queryer) ([]groupKeyRow, error) {
	rs, err := q.QueryContext(ctx, `SELECT id, workspace_id, name, name_key, status FROM groups ORDER BY workspace_id, created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: rekey group names: %w", err)
	}
	defer rs.Close()
	var out []groupKeyRow
	for rs.Next() {
		var r groupKeyRow
		var status string
		if err := rs.Scan(&r.id, &r.workspaceID, &r.name, &r.key, &status); err != nil {
			return nil, fmt.Errorf("sqlstore: rekey group names: %w", err)
		}
		r.active = status == string(cohort.StatusActive)
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: rekey group names: %w", err)
	}
	return out, nil
}

// staleKey is a group whose stored key is not the one it should have.
type staleKey struct {
	row   groupKeyRow
	key   string
	dupOf string // the older active group holding the same name, if any
}

// staleKeys computes every group's key (rows in workspace, creation
// order) and returns those that differ from the stored ones.
func staleKeys(rows []groupKeyRow) []staleKey {
	var out []staleKey
	holder := map[[2]string]string{} // (workspace, key) → active group ID
	for _, r := range rows {
		key, dupOf := cohort.NameKey(r.name), ""
		if r.active {
			k := [2]string{r.workspaceID, key}
			if first, taken := holder[k]; taken {
				key, dupOf = key+dupKeyMark+r.id, first
			} else {
				holder[k] = r.id
			}
		}
		if key != r.key {
			out = append(out, staleKey{row: r, key: key, dupOf: dupOf})
		}
	}
	return out
}
