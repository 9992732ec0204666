package sqlstore

import (
	"context"

	"github.com/cohorthq/cohort"
)

var _ cohort.DirectoryService = (*DB)(nil)

// GroupsOfUsers returns the groups of a page of users in one query, so a
// staff list costs the same for 10 and for 50,000 staff.
func (db *DB) GroupsOfUsers(ctx context.Context, userIDs []string, status cohort.Status) (map[string][]cohort.GroupRef, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.CanViewGroups() {
		return nil, cohort.ErrForbidden("view groups")
	}
	if len(userIDs) > cohort.MaxGroupsOfUsers {
		return nil, cohort.Errorf(cohort.EINVALID, "Ask for the groups of at most %d staff at once.", cohort.MaxGroupsOfUsers)
	}
	out := make(map[string][]cohort.GroupRef, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	var p args
	q := `SELECT m.user_id, g.id, g.name, g.status FROM memberships m JOIN groups g ON g.id = m.group_id
		WHERE m.workspace_id = ` + p.add(a.WorkspaceID) + ` AND m.user_id IN (` + db.d.idList(p.add(jsonIDs(userIDs))) + `)`
	if status != "" {
		if !status.Valid() {
			return nil, cohort.FieldError("status", "Choose a status: active or archived.")
		}
		q += ` AND g.status = ` + p.add(string(status))
	}
	rows, err := db.read.QueryContext(ctx, q+` ORDER BY g.name_key, g.id`, p...)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var uid, s string
		var g cohort.GroupRef
		if err := rows.Scan(&uid, &g.ID, &g.Name, &s); err != nil {
			return nil, mapError(err)
		}
		g.Status = cohort.Status(s)
		out[uid] = append(out[uid], g)
	}
	return out, mapError(rows.Err())
}

// StaffLocations walks the (workspace, status, location_key) index from
// one distinct key to the next, so it costs one seek per location rather
// than a read of every staff member.
func (db *DB) StaffLocations(ctx context.Context) ([]string, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.StaffView().SeesContact() {
		return nil, cohort.ErrForbidden("view staff locations")
	}
	rows, err := db.read.QueryContext(ctx, `WITH RECURSIVE loc(k) AS (
			SELECT MIN(location_key) FROM users WHERE workspace_id = $1 AND status = 'active' AND location_key > ''
			UNION ALL
			SELECT (SELECT MIN(location_key) FROM users WHERE workspace_id = $1 AND status = 'active' AND location_key > loc.k)
			FROM loc WHERE loc.k IS NOT NULL
		)
		SELECT (SELECT location FROM users WHERE workspace_id = $1 AND status = 'active' AND location_key = loc.k
			ORDER BY family_key, given_key, id LIMIT 1)
		FROM loc WHERE loc.k IS NOT NULL ORDER BY loc.k LIMIT $2`, a.WorkspaceID, cohort.MaxStaffLocations)
	if err != nil {
		return nil, mapError(err)
	}
	return scanStrings(rows)
}
