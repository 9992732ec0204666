package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/cohorthq/cohort"
)

const groupCols = `id, workspace_id, name, description, external_id, status, member_count, archived_member_count,
	version, created_at, updated_at, archived_at, created_by, updated_by`

var errGroupNotFound = &cohort.Error{Code: cohort.ENOTFOUND, Message: "No group with that ID."}

var errGroupArchived = &cohort.Error{Code: cohort.EARCHIVED, Message: "This group is archived and cannot be edited. Restore it first."}

var errGroupStale = &cohort.Error{Code: cohort.ESTALE,
	Message: "This group was changed by someone else since you opened it. The current version is shown; make your change again."}

func scanGroup(r interface{ Scan(...any) error }) (*cohort.Group, error) {
	g := &cohort.Group{}
	var status string
	err := r.Scan(&g.ID, &g.WorkspaceID, &g.Name, &g.Description, &g.ExternalID, &status, &g.MemberCount,
		&g.ArchivedMemberCount, &g.Version, timeScan{&g.CreatedAt}, timeScan{&g.UpdatedAt}, nullTimeScan{&g.ArchivedAt},
		&g.CreatedBy, &g.UpdatedBy)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errGroupNotFound
		}
		return nil, mapError(err)
	}
	g.Status = cohort.Status(status)
	return g, nil
}

// groupChanged writes the audit row (with changes) and the outbox event
// of a group change; the event's data is data with the group as it is now.
func (t *tx) groupChanged(action string, g *cohort.Group, changes any, data cohort.GroupEventData) error {
	if err := t.audit(action, "group", g.ID, g.Name, changes); err != nil {
		return err
	}
	data.Group = cohort.NewGroupResource(g)
	return t.emit(action, data)
}

// groupCreatedAudit is the audit entry of a new group: its first values
// and first members.
type groupCreatedAudit struct {
	Added []string `json:"added,omitempty"`
	cohort.GroupChanges
}

// memberDelta is the audit entry of a member change.
type memberDelta struct {
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
}

// membersChanged writes the audit row and the group.members_changed event
// of the members mc actually added and removed.
func (t *tx) membersChanged(g *cohort.Group, mc cohort.MemberChange) error {
	added, removed := nonNil(mc.Added), nonNil(mc.Removed)
	return t.groupChanged(cohort.ActionGroupMembersChanged, g, memberDelta{added, removed},
		cohort.GroupEventData{Added: added, Removed: removed})
}

// groupCreated writes the audit row and the group.created event of g,
// created with the fields in changes and the members mc added.
func (t *tx) groupCreated(g *cohort.Group, changes cohort.GroupChanges, mc cohort.MemberChange) error {
	var added []string
	if len(mc.Added) > 0 {
		added = mc.Added
	}
	return t.groupChanged(cohort.ActionGroupCreated, g, groupCreatedAudit{added, changes}, cohort.GroupEventData{Added: added})
}

// groupArchived writes the audit row and the group.archived event of g.
func (t *tx) groupArchived(g *cohort.Group) error {
	return t.groupChanged(cohort.ActionGroupArchived, g,
		cohort.GroupChanges{Status: cohort.Changed(cohort.StatusActive, cohort.StatusArchived)}, cohort.GroupEventData{})
}

// lockGroup reads a group of the actor's workspace and locks its row, so
// that everything after it in the transaction sees the group as it stays.
func (t *tx) lockGroup(id string) (*cohort.Group, error) {
	if !storable(id) {
		return nil, errGroupNotFound
	}
	return scanGroup(t.queryRow(`SELECT `+groupCols+` FROM groups WHERE id = $1 AND workspace_id = $2`+t.db.d.forUpdate(),
		id, t.actor.WorkspaceID))
}

// activeNameHolder returns the active group (other than exceptID) whose
// name has the key of name, or nil.
func (t *tx) activeNameHolder(name, exceptID string) (id, holder string, err error) {
	err = t.queryRow(`SELECT id, name FROM groups WHERE workspace_id = $1 AND name_key = $2 AND status = 'active' AND id <> $3`,
		t.actor.WorkspaceID, cohort.NameKey(name), exceptID).Scan(&id, &holder)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return id, holder, err
}

// nameTaken refuses a name that an active group holds, naming that group.
func (t *tx) nameTaken(name, exceptID string) error {
	id, holder, err := t.activeNameHolder(name, exceptID)
	if err != nil || id == "" {
		return err
	}
	msg := fmt.Sprintf("A group named %q already exists. Choose another name.", holder)
	return &cohort.Error{Code: cohort.ECONFLICT, Message: msg, Fields: map[string][]string{"name": {msg}},
		Detail: map[string]string{"group_id": id, "group_name": holder}}
}

// FindGroupByID returns one group of the actor's workspace.
func (db *DB) FindGroupByID(ctx context.Context, id string) (*cohort.Group, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.CanViewGroups() {
		return nil, cohort.ErrForbidden("view groups")
	}
	if !storable(id) {
		return nil, errGroupNotFound
	}
	return scanGroup(db.read.QueryRowContext(ctx, `SELECT `+groupCols+` FROM groups WHERE id = $1 AND workspace_id = $2`,
		id, a.WorkspaceID))
}

// FindGroups lists groups of the actor's workspace, with their counts.
func (db *DB) FindGroups(ctx context.Context, f cohort.GroupFilter) (*cohort.GroupPage, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.CanViewGroups() {
		return nil, cohort.ErrForbidden("view groups")
	}
	return db.findGroups(ctx, a.WorkspaceID, f)
}

// findGroups pages through groups ordered by (name_key, id). Member counts
// are the maintained counters: one query per page, never one per row.
func (db *DB) findGroups(ctx context.Context, workspaceID string, f cohort.GroupFilter) (*cohort.GroupPage, error) {
	var p args
	where := []string{"workspace_id = " + p.add(workspaceID)}
	// narrowed records that a filter other than the status is set: then
	// the maintained counters (one per status) do not answer the total.
	narrowed := false
	narrow := func(cond string) {
		where = append(where, cond)
		narrowed = true
	}
	if f.Status != "" {
		if !f.Status.Valid() {
			return nil, cohort.FieldError("status", "Choose a status: active or archived.")
		}
		where = append(where, "status = "+p.add(string(f.Status)))
	}
	if q := cohort.NameKey(f.Query); q != "" {
		narrow(`name_key LIKE ` + p.add(likeContains(q)) + ` ESCAPE '\'`)
	}
	if f.Name != "" {
		narrow("name_key = " + p.add(cohort.NameKey(f.Name)))
	}
	if f.ExternalID != "" {
		narrow("external_id = " + p.add(f.ExternalID))
	}
	if f.IDs != nil {
		narrow("id IN (" + db.d.idList(p.add(jsonIDs(f.IDs))) + ")")
	}
	if f.MemberID != "" {
		narrow("id IN (SELECT group_id FROM memberships WHERE user_id = " + p.add(f.MemberID) + ")")
	}
	if f.UpdatedAfter != nil {
		narrow("updated_at > " + p.add(ts(*f.UpdatedAfter)))
	}
	if f.UpdatedBefore != nil {
		narrow("updated_at < " + p.add(ts(*f.UpdatedBefore)))
	}
	var total int
	switch {
	case f.SkipTotal:
	case !narrowed:
		// Only the workspace and perhaps a status: the counters answer.
		active, archived, err := db.statusCounts(ctx, "group_counts", workspaceID)
		if err != nil {
			return nil, err
		}
		total = byStatus(f.Status, active, archived)
	default:
		if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM groups WHERE `+strings.Join(where, " AND "), p...).Scan(&total); err != nil {
			return nil, mapError(err)
		}
	}
	ks := keyset{cols: []string{"name_key", "id"}}
	q, err := ks.query(`SELECT `+groupCols+`, name_key FROM groups`, where, &p, f.Limit, f.Offset, f.After, f.Before)
	if err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, q, p...)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var groups []*cohort.Group
	var keys [][]string
	for rows.Next() {
		var nk string
		g, err := scanGroup(scanFunc(func(dst ...any) error { return rows.Scan(append(dst, &nk)...) }))
		if err != nil {
			return nil, err
		}
		groups = append(groups, g)
		keys = append(keys, []string{nk, g.ID})
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	page := &cohort.GroupPage{Total: total}
	page.Groups, page.Next, page.Prev = pageOf(f.Limit, groups, keys, f.After, f.Before)
	return page, nil
}

// CountGroups returns how many active and archived groups there are.
func (db *DB) CountGroups(ctx context.Context) (active, archived int, err error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return 0, 0, err
	}
	if !a.CanViewGroups() {
		return 0, 0, cohort.ErrForbidden("view groups")
	}
	return db.statusCounts(ctx, "group_counts", a.WorkspaceID)
}

// statusCounts reads one workspace's row of a counter table the
// triggers of migrations 00004 (group_counts) and 00005 (user_counts)
// maintain; no row means nothing counted yet.
func (db *DB) statusCounts(ctx context.Context, table, workspaceID string) (active, archived int, err error) {
	err = db.read.QueryRowContext(ctx, `SELECT active, archived FROM `+table+` WHERE workspace_id = $1`,
		workspaceID).Scan(&active, &archived)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	return active, archived, mapError(err)
}

// FindArchivedByName lists archived groups whose name has the key of name,
// so the form can point them out when a manager reuses a name.
func (db *DB) FindArchivedByName(ctx context.Context, name string) ([]*cohort.Group, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.CanViewGroups() {
		return nil, cohort.ErrForbidden("view groups")
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+groupCols+` FROM groups
		WHERE workspace_id = $1 AND name_key = $2 AND status = 'archived' ORDER BY archived_at DESC, id`,
		a.WorkspaceID, cohort.NameKey(name))
	if err != nil {
		return nil, mapError(err)
	}
	out, err := scanRows(rows, scanGroup)
	return out, mapError(err)
}

// CreateGroup creates an active group with its first members.
func (db *DB) CreateGroup(ctx context.Context, c cohort.GroupCreate) (*cohort.Group, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.CanManageGroups() {
		return nil, cohort.ErrForbidden("add groups")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var out *cohort.Group
	err = db.inTx(ctx, a, func(t *tx) error {
		if err := t.nameTaken(c.Name, ""); err != nil {
			return err
		}
		g := &cohort.Group{ID: newID(), WorkspaceID: a.WorkspaceID, Name: c.Name, Description: c.Description,
			ExternalID: c.ExternalID, Status: cohort.StatusActive, Version: 1, CreatedAt: t.now, UpdatedAt: t.now,
			CreatedBy: a.Name, UpdatedBy: a.Name}
		if _, err := t.exec(`INSERT INTO groups (id, workspace_id, name, name_key, description, external_id, status,
			member_count, archived_member_count, version, created_at, updated_at, created_by, updated_by)
			VALUES ($1, $2, $3, $4, $5, $6, 'active', 0, 0, 1, $7, $7, $8, $8)`,
			g.ID, g.WorkspaceID, g.Name, cohort.NameKey(g.Name), g.Description, g.ExternalID, ts(t.now), a.Name); err != nil {
			return err
		}
		mc, d, err := t.changeMembers(g.ID, c.MemberIDs, nil, nil)
		if err != nil {
			return err
		}
		if d.active != 0 || d.archived != 0 {
			if _, err := t.exec(`UPDATE groups SET member_count = $1, archived_member_count = $2 WHERE id = $3`,
				d.active, d.archived, g.ID); err != nil {
				return err
			}
		}
		g.MemberCount, g.ArchivedMemberCount = d.active, d.archived
		changes := cohort.GroupChanges{Name: cohort.Initial(g.Name)}
		if g.Description != "" {
			changes.Description = cohort.Initial(g.Description)
		}
		out = g
		return t.groupCreated(g, changes, mc)
	})
	return out, err
}

// UpdateGroup changes a group's fields and members in one transaction.
func (db *DB) UpdateGroup(ctx context.Context, id string, u cohort.GroupUpdate) (*cohort.Group, cohort.MemberChange, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, cohort.MemberChange{}, err
	}
	if !a.CanManageGroups() {
		return nil, cohort.MemberChange{}, cohort.ErrForbidden("change groups")
	}
	if err := u.Validate(); err != nil {
		return nil, cohort.MemberChange{}, err
	}
	var out *cohort.Group
	var mc cohort.MemberChange
	err = db.inTx(ctx, a, func(t *tx) error {
		g, err := t.lockGroup(id)
		if err != nil {
			return err
		}
		if g.Archived() {
			return errGroupArchived
		}
		if err := checkGroupVersion(g, u.IfVersion); err != nil {
			return err
		}
		var changes cohort.GroupChanges
		if u.Name != nil && *u.Name != g.Name {
			// Checked on every rename, not only when the key changes: a
			// group the name-key migration left as a duplicate of another
			// (see rekeyGroupNames) must not take its holder's key.
			if err := t.nameTaken(*u.Name, g.ID); err != nil {
				return err
			}
			changes.Name = cohort.Changed(g.Name, *u.Name)
			g.Name = *u.Name
		}
		if u.Description != nil && *u.Description != g.Description {
			changes.Description = cohort.Changed(g.Description, *u.Description)
			g.Description = *u.Description
		}
		if u.ExternalID != nil && *u.ExternalID != g.ExternalID {
			changes.ExternalID = cohort.Changed(g.ExternalID, *u.ExternalID)
			g.ExternalID = *u.ExternalID
		}
		var d counts
		mc = cohort.MemberChange{}
		if u.ChangesMembers() {
			if mc, d, err = t.changeMembers(g.ID, u.Add, u.Remove, u.ReplaceMembers); err != nil {
				return err
			}
		}
		out = g
		membersChanged := len(mc.Added) > 0 || len(mc.Removed) > 0
		if changes.Empty() && !membersChanged {
			return nil
		}
		g.Version++
		g.UpdatedAt, g.UpdatedBy = t.now, a.Name
		g.MemberCount += d.active
		g.ArchivedMemberCount += d.archived
		// name_key is recomputed only with the name, so a group the
		// name-key migration marked as a duplicate keeps working until it
		// is renamed.
		if _, err := t.exec(`UPDATE groups SET name = $1, name_key = CASE WHEN name = $1 THEN name_key ELSE $2 END, description = $3, external_id = $4,
			member_count = $5, archived_member_count = $6, version = $7, updated_at = $8, updated_by = $9 WHERE id = $10`,
			g.Name, cohort.NameKey(g.Name), g.Description, g.ExternalID, g.MemberCount, g.ArchivedMemberCount,
			g.Version, ts(t.now), a.Name, g.ID); err != nil {
			return err
		}
		if !changes.Empty() {
			if err := t.groupChanged(cohort.ActionGroupUpdated, g, changes, cohort.GroupEventData{Changes: &changes}); err != nil {
				return err
			}
		}
		if membersChanged {
			if err := t.membersChanged(g, mc); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, cohort.MemberChange{}, err
	}
	return out, mc, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// lockGroupAt locks a group of the actor's workspace and refuses it when
// ifVersion (when non-zero) is not its current version.
func (t *tx) lockGroupAt(id string, ifVersion int64) (*cohort.Group, error) {
	g, err := t.lockGroup(id)
	if err != nil {
		return nil, err
	}
	return g, checkGroupVersion(g, ifVersion)
}

// checkGroupVersion refuses a write made against another version of g
// than its current one; ifVersion 0 writes unconditionally. Callers hold
// g's row lock, so the answer stays true until they commit.
func checkGroupVersion(g *cohort.Group, ifVersion int64) error {
	if ifVersion != 0 && ifVersion != g.Version {
		return errGroupStale
	}
	return nil
}

// ArchiveGroup archives a group, keeping its members and history.
// Archiving an archived group changes nothing.
func (db *DB) ArchiveGroup(ctx context.Context, id string, ifVersion int64) (*cohort.Group, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.CanManageGroups() {
		return nil, cohort.ErrForbidden("archive groups")
	}
	var out *cohort.Group
	err = db.inTx(ctx, a, func(t *tx) error {
		g, err := t.lockGroupAt(id, ifVersion)
		if err != nil {
			return err
		}
		out = g
		if g.Archived() {
			return nil
		}
		g.Status, g.ArchivedAt, g.UpdatedAt, g.UpdatedBy = cohort.StatusArchived, &t.now, t.now, a.Name
		g.Version++
		if _, err := t.exec(`UPDATE groups SET status = 'archived', archived_at = $1, version = $2, updated_at = $1,
			updated_by = $3 WHERE id = $4`, ts(t.now), g.Version, a.Name, g.ID); err != nil {
			return err
		}
		return t.groupArchived(g)
	})
	return out, err
}

// RestoreGroup makes an archived group active again, optionally under a
// new name. Restoring an active group changes nothing.
func (db *DB) RestoreGroup(ctx context.Context, id string, newName string, ifVersion int64) (*cohort.Group, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.CanManageGroups() {
		return nil, cohort.ErrForbidden("restore groups")
	}
	rename := strings.TrimSpace(newName) != ""
	if rename {
		if newName, err = cohort.ValidateGroupName(newName); err != nil {
			return nil, err
		}
	}
	var out *cohort.Group
	err = db.inTx(ctx, a, func(t *tx) error {
		g, err := t.lockGroupAt(id, ifVersion)
		if err != nil {
			return err
		}
		out = g
		if !g.Archived() {
			return nil
		}
		name := g.Name
		if rename {
			name = newName
		}
		if holderID, holder, err := t.activeNameHolder(name, g.ID); err != nil {
			return err
		} else if holderID != "" {
			msg := fmt.Sprintf("An active group is already named %q. Restore this one under another name.", holder)
			return &cohort.Error{Code: cohort.ECONFLICT, Message: msg, Fields: map[string][]string{"name": {msg}},
				Detail: map[string]string{"offer": "rename", "group_id": holderID, "group_name": holder}}
		}
		changes := cohort.GroupChanges{Status: cohort.Changed(cohort.StatusArchived, cohort.StatusActive)}
		if name != g.Name {
			changes.Name = cohort.Changed(g.Name, name)
		}
		g.Name, g.Status, g.ArchivedAt, g.UpdatedAt, g.UpdatedBy = name, cohort.StatusActive, nil, t.now, a.Name
		g.Version++
		if _, err := t.exec(`UPDATE groups SET name = $1, name_key = $2, status = 'active', archived_at = NULL,
			version = $3, updated_at = $4, updated_by = $5 WHERE id = $6`,
			g.Name, cohort.NameKey(g.Name), g.Version, ts(t.now), a.Name, g.ID); err != nil {
			return err
		}
		return t.groupChanged(cohort.ActionGroupRestored, g, changes, cohort.GroupEventData{Changes: &changes})
	})
	return out, err
}

// FindMembers pages through a group's members.
func (db *DB) FindMembers(ctx context.Context, groupID string, f cohort.UserFilter) (*cohort.UserPage, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.CanViewGroups() {
		return nil, cohort.ErrForbidden("view groups")
	}
	if !storable(groupID) {
		return nil, errGroupNotFound
	}
	var one int
	err = db.read.QueryRowContext(ctx, `SELECT 1 FROM groups WHERE id = $1 AND workspace_id = $2`, groupID, a.WorkspaceID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errGroupNotFound
	}
	if err != nil {
		return nil, mapError(err)
	}
	f.GroupIDs = []string{groupID}
	return db.findVisibleUsers(ctx, a, f)
}

// counts is a change of a group's two member counters.
type counts struct{ active, archived int }

// changeMembers applies a member change to a locked group: add and remove
// are deltas; replace (non-nil) sets the whole list, with add and remove
// applied on top. Every named ID must be a user of the workspace, else
// nothing changes. It returns what actually changed and the counters'
// delta; the cost depends on the size of the change, not of the group.
func (t *tx) changeMembers(groupID string, add, remove []string, replace *[]string) (cohort.MemberChange, counts, error) {
	var mc cohort.MemberChange
	var d counts
	inRemove := make(map[string]bool, len(remove))
	for _, id := range remove {
		inRemove[id] = true
	}
	var v cohort.Validation
	for _, id := range add {
		if inRemove[id] {
			v.Add("member_ids", fmt.Sprintf("Staff member %s is both added and removed: choose one.", id))
		}
	}
	if err := v.Err(); err != nil {
		return mc, d, err
	}
	var target []string
	if replace != nil {
		target = cohort.UniqueIDs(append(append([]string(nil), *replace...), add...))
		target = slicesFilter(target, func(id string) bool { return !inRemove[id] })
		add = target
	}
	named := cohort.UniqueIDs(append(append(append([]string(nil), add...), remove...), valueOr(replace)...))
	status, err := t.userStatuses(named)
	if err != nil {
		return mc, d, err
	}
	for _, id := range named {
		if _, ok := status[id]; !ok {
			v.Add("member_ids", fmt.Sprintf("No staff member with ID %s in this practice.", id))
		}
	}
	if err := v.Err(); err != nil {
		return mc, d, err
	}
	count := func(ids []string, sign int) {
		for _, id := range ids {
			if status[id] == cohort.StatusActive {
				d.active += sign
			} else {
				d.archived += sign
			}
		}
	}
	if replace != nil {
		// "Replace all" means all the actor can see: an actor that does
		// not see archived staff (a groups-only key) cannot name them, so
		// their memberships are kept, not dropped unseen.
		keepArchived := ""
		if !t.actor.StaffView().SeesArchived() {
			keepArchived = ` AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = memberships.user_id AND u.status = 'archived')`
		}
		rows, err := t.query(`DELETE FROM memberships WHERE group_id = $1 AND user_id NOT IN (`+t.db.d.idList("$2")+`)`+
			keepArchived+` RETURNING user_id`, groupID, jsonIDs(target))
		if err != nil {
			return mc, d, err
		}
		removed, err := scanStrings(rows)
		if err != nil {
			return mc, d, err
		}
		sort.Strings(removed)
		// The removed were not named, so their statuses are read now.
		rs, err := t.userStatuses(removed)
		if err != nil {
			return mc, d, err
		}
		for id, s := range rs {
			status[id] = s
		}
		mc.Removed = removed
		count(removed, -1)
	}
	if len(add) > 0 {
		// "workspace_id || ''": see userStatuses.
		rows, err := t.query(`INSERT INTO memberships (group_id, user_id, workspace_id, created_at)
			SELECT $1, id, workspace_id, $2 FROM users WHERE workspace_id || '' = $3 AND `+t.idsCond("id", "$4", add)+`
			ON CONFLICT (group_id, user_id) DO NOTHING RETURNING user_id`,
			groupID, ts(t.now), t.actor.WorkspaceID, idsArg(add))
		if err != nil {
			return mc, d, err
		}
		got, err := scanStrings(rows)
		if err != nil {
			return mc, d, err
		}
		mc.Added = inOrder(add, got)
		count(mc.Added, 1)
	}
	if len(remove) > 0 {
		rows, err := t.query(`DELETE FROM memberships WHERE group_id = $1 AND `+t.idsCond("user_id", "$2", remove)+`
			RETURNING user_id`, groupID, idsArg(remove))
		if err != nil {
			return mc, d, err
		}
		got, err := scanStrings(rows)
		if err != nil {
			return mc, d, err
		}
		gone := inOrder(remove, got)
		mc.Removed = append(mc.Removed, gone...)
		count(gone, -1)
	}
	return mc, d, nil
}

// userStatuses returns the status of each of ids that is a user of the
// actor's workspace, locking those rows against a concurrent archive.
func (t *tx) userStatuses(ids []string) (map[string]cohort.Status, error) {
	out := make(map[string]cohort.Status, len(ids))
	// An ID that cannot be stored is no user's: leave it out of the query
	// so it is reported as unknown.
	ids = slicesFilter(ids, storable)
	if len(ids) == 0 {
		return out, nil
	}
	// The named IDs are found by primary key. "workspace_id || ''" still
	// checks the workspace but keeps SQLite's planner, which has no
	// statistics on a database that grew since it was opened, from reading
	// every user of the workspace through the workspace index instead: that
	// made one member in or out cost the size of the practice.
	rows, err := t.query(`SELECT id, status FROM users WHERE workspace_id || '' = $1 AND `+t.idsCond("id", "$2", ids)+t.db.d.forShare(),
		t.actor.WorkspaceID, idsArg(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, s string
		if err := rows.Scan(&id, &s); err != nil {
			return nil, err
		}
		out[id] = cohort.Status(s)
	}
	return out, rows.Err()
}

func scanStrings(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// inOrder returns the members of got in the order of want.
func inOrder(want, got []string) []string {
	if len(got) == 0 {
		return nil
	}
	in := make(map[string]bool, len(got))
	for _, id := range got {
		in[id] = true
	}
	return slicesFilter(want, func(id string) bool { return in[id] })
}

func slicesFilter(s []string, keep func(string) bool) []string {
	var out []string
	for _, v := range s {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out
}

func valueOr(p *[]string) []string {
	if p == nil {
		return nil
	}
	return *p
}

// idsCond matches col against the IDs passed as param (see idsArg): one ID
// is an equality, which every engine and every cached plan answers with a
// primary-key probe; PostgreSQL's generic plan for a JSON list could
// otherwise read a big group's memberships to find one. Several IDs travel
// as one JSON array.
func (t *tx) idsCond(col, param string, ids []string) string {
	if len(ids) == 1 {
		return col + " = " + param
	}
	return col + " IN (" + t.db.d.idList(param) + ")"
}

// idsArg is the parameter that goes with idsCond.
func idsArg(ids []string) string {
	if len(ids) == 1 {
		return ids[0]
	}
	return jsonIDs(ids)
}
