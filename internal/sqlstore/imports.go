package sqlstore

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/cohorthq/cohort"
)

// Imports (CSV from the CLI or the Settings page): each call is one
// transaction. Rows are checked in Go first; then every change is written
// with its audit entry and outbox event exactly as the single-record
// methods write them, and any row the database refuses (an unknown member
// email, archiving the owner) rolls the whole import back. Unchanged rows
// write nothing, so importing the same file twice changes nothing.

var _ cohort.ImportService = (*DB)(nil)

func tooManyRows(n int) error {
	return cohort.Errorf(cohort.EINVALID, "The file has %d rows; import at most %d at a time by splitting it into several files.", n, cohort.MaxImportRows)
}

// ImportUsers creates or updates staff by email.
func (db *DB) ImportUsers(ctx context.Context, users []cohort.UserImport) (cohort.ImportResult, error) {
	var res cohort.ImportResult
	a, err := actorFrom(ctx)
	if err != nil {
		return res, err
	}
	if !a.CanManageUsers() {
		return res, cohort.ErrForbidden("import staff")
	}
	if len(users) > cohort.MaxImportRows {
		return res, tooManyRows(len(users))
	}
	var ie cohort.ImportError
	rowOf := make(map[string]int, len(users))
	emails := make([]string, 0, len(users))
	for i := range users {
		u := &users[i]
		if err := u.Validate(); err != nil {
			ie.AddFields(u.Row, err)
			continue
		}
		if first, dup := rowOf[u.Email]; dup {
			ie.Add(u.Row, "email", fmt.Sprintf("%s is already on row %d: list each staff member once.", u.Email, first))
			continue
		}
		rowOf[u.Email] = u.Row
		emails = append(emails, u.Email)
	}
	if err := ie.Err(); err != nil {
		return res, err
	}
	err = db.inTx(ctx, a, func(t *tx) error {
		res = cohort.ImportResult{}
		ie := cohort.ImportError{}
		if err := t.lockGroupsOfStatusChanges(users); err != nil {
			return err
		}
		existing, err := t.usersByEmail(emails)
		if err != nil {
			return err
		}
		for _, in := range users {
			u := existing[in.Email]
			if u == nil {
				var attrs cohort.StaffAttributes
				in.StaffAttributesUpdate.Apply(&attrs, nil)
				if _, err := t.insertUser(cohort.UserCreate{Email: in.Email, GivenName: in.GivenName, FamilyName: in.FamilyName,
					Role: in.Role, Archived: in.Status == cohort.StatusArchived, StaffAttributes: attrs}, "", false); err != nil {
					return err
				}
				res.Created++
				continue
			}
			changed, err := t.importUser(u, in, &ie)
			if err != nil {
				return err
			}
			if changed {
				res.Updated++
			} else {
				res.Unchanged++
			}
		}
		return ie.Err()
	})
	if err != nil {
		return cohort.ImportResult{}, err
	}
	db.afterImport(ctx, res.Created+res.Updated)
	return res, nil
}

// lockGroupsOfStatusChanges locks, in ID order, the groups of every user
// whose status the import changes, before any user row is locked: the
// order ArchiveUser and member changes take, so PostgreSQL cannot
// deadlock an import against them.
func (t *tx) lockGroupsOfStatusChanges(users []cohort.UserImport) error {
	byStatus := map[cohort.Status][]string{}
	for _, u := range users {
		byStatus[u.Status] = append(byStatus[u.Status], cohort.NormalizeEmail(u.Email))
	}
	var p args
	ws := p.add(t.actor.WorkspaceID)
	var changing []string
	for s, emails := range byStatus {
		changing = append(changing, "(email IN ("+t.db.d.idList(p.add(jsonIDs(emails)))+") AND status <> "+p.add(string(s))+")")
	}
	if len(changing) == 0 {
		return nil
	}
	rows, err := t.query(`SELECT id FROM groups WHERE workspace_id = `+ws+` AND id IN (SELECT m.group_id FROM memberships m
		JOIN users u ON u.id = m.user_id WHERE u.workspace_id = `+ws+` AND (`+strings.Join(changing, " OR ")+`)) ORDER BY id`+t.db.d.forUpdate(), p...)
	if err != nil {
		return err
	}
	_, err = scanStrings(rows)
	return err
}

// usersByEmail reads (and locks) the workspace's users with these emails.
func (t *tx) usersByEmail(emails []string) (map[string]*cohort.User, error) {
	out := make(map[string]*cohort.User, len(emails))
	if len(emails) == 0 {
		return out, nil
	}
	rows, err := t.query(`SELECT `+userCols+` FROM users WHERE workspace_id = $1 AND email IN (`+t.db.d.idList("$2")+`)`+t.db.d.forUpdate(),
		t.actor.WorkspaceID, jsonIDs(emails))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out[cohort.NormalizeEmail(u.Email)] = u
	}
	return out, rows.Err()
}

// importUser brings an existing user to the imported names, role and
// status. A status change moves the user's memberships between the
// groups' counters and ends their sessions, as ArchiveUser does.
func (t *tx) importUser(u *cohort.User, in cohort.UserImport, ie *cohort.ImportError) (bool, error) {
	if in.Status != u.Status && in.Status == cohort.StatusArchived && u.IsOwner {
		ie.Add(in.Row, "status", fmt.Sprintf("%s is the account owner and cannot be archived: transfer ownership first, or set the status to active.", u.Email))
		return false, nil
	}
	if in.Status != u.Status && in.Status == cohort.StatusArchived && t.actor.UserID == u.ID {
		ie.Add(in.Row, "status", cohort.ErrorMessage(cohort.ErrArchiveSelf())+" Or set your own status to active in the file.")
		return false, nil
	}
	version := u.Version
	err := t.applyUserUpdate(u, cohort.UserUpdate{GivenName: &in.GivenName, FamilyName: &in.FamilyName, Role: &in.Role, Status: &in.Status,
		StaffAttributesUpdate: in.StaffAttributesUpdate})
	return u.Version != version, err
}

// ImportGroups creates or updates groups by name and sets their members.
func (db *DB) ImportGroups(ctx context.Context, groups []cohort.GroupImport) (cohort.ImportResult, error) {
	var res cohort.ImportResult
	a, err := actorFrom(ctx)
	if err != nil {
		return res, err
	}
	if !a.CanManageGroups() {
		return res, cohort.ErrForbidden("import groups")
	}
	rows := 0
	for _, g := range groups {
		rows += max(1, len(g.Members))
	}
	if rows > cohort.MaxImportRows {
		return res, tooManyRows(rows)
	}
	var ie cohort.ImportError
	rowOf := map[string]int{}
	var emails []string
	emailSeen := map[string]bool{}
	for i := range groups {
		g := &groups[i]
		if err := g.Validate(); err != nil {
			ie.AddFields(g.Row, err)
		} else if first, dup := rowOf[cohort.NameKey(g.Name)]; dup {
			ie.Add(g.Row, "group_name", fmt.Sprintf("The group %q is already on row %d: list each group once.", g.Name, first))
		} else {
			rowOf[cohort.NameKey(g.Name)] = g.Row
		}
		memberRow := map[string]int{}
		for j := range g.Members {
			m := &g.Members[j]
			e, err := cohort.ValidateEmail(m.Email)
			if err != nil {
				ie.Add(m.Row, "member_email", cohort.ErrorMessage(err))
				continue
			}
			m.Email = e
			if first, dup := memberRow[e]; dup {
				ie.Add(m.Row, "member_email", fmt.Sprintf("%s is already listed for this group on row %d: list each member once.", e, first))
				continue
			}
			memberRow[e] = m.Row
			if !emailSeen[e] {
				emailSeen[e] = true
				emails = append(emails, e)
			}
		}
	}
	if err := ie.Err(); err != nil {
		return res, err
	}
	err = db.inTx(ctx, a, func(t *tx) error {
		res = cohort.ImportResult{}
		ie := cohort.ImportError{}
		ids, err := t.userIDsByEmail(emails)
		if err != nil {
			return err
		}
		for _, g := range groups {
			want := make([]string, 0, len(g.Members))
			for _, m := range g.Members {
				id, ok := ids[m.Email]
				if !ok {
					ie.Add(m.Row, "member_email", fmt.Sprintf("No staff member has the email %s in this practice: import or add them first, or correct the address.", m.Email))
					continue
				}
				want = append(want, id)
			}
			if len(ie.Rows) > 0 {
				// Keep checking the other rows, but write nothing more.
				continue
			}
			changed, created, err := t.importGroup(g, want, &ie)
			if err != nil {
				return err
			}
			switch {
			case created:
				res.Created++
			case changed:
				res.Updated++
			default:
				res.Unchanged++
			}
		}
		return ie.Err()
	})
	if err != nil {
		return cohort.ImportResult{}, err
	}
	// A group's row counts its members: what sizes change is memberships.
	db.afterImport(ctx, rows)
	return res, nil
}

// userIDsByEmail maps the workspace's users with these emails to their IDs.
func (t *tx) userIDsByEmail(emails []string) (map[string]string, error) {
	out := make(map[string]string, len(emails))
	if len(emails) == 0 {
		return out, nil
	}
	rows, err := t.query(`SELECT email, id FROM users WHERE workspace_id = $1 AND email IN (`+t.db.d.idList("$2")+`)`,
		t.actor.WorkspaceID, jsonIDs(emails))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var e, id string
		if err := rows.Scan(&e, &id); err != nil {
			return nil, err
		}
		out[e] = id
	}
	return out, rows.Err()
}

// groupForImport finds the group an imported name means: the active group
// holding it, else the most recently archived one; nil when there is none.
func (t *tx) groupForImport(name string) (*cohort.Group, error) {
	g, err := scanGroup(t.queryRow(`SELECT `+groupCols+` FROM groups WHERE workspace_id = $1 AND name_key = $2
		ORDER BY CASE WHEN status = 'active' THEN 0 ELSE 1 END, archived_at DESC, id DESC LIMIT 1`+t.db.d.forUpdate(),
		t.actor.WorkspaceID, cohort.NameKey(name)))
	if cohort.ErrorCode(err) == cohort.ENOTFOUND {
		return nil, nil
	}
	return g, err
}

// memberIDs lists every member of a group, active and archived users.
func (t *tx) memberIDs(groupID string) (map[string]bool, error) {
	rows, err := t.query(`SELECT user_id FROM memberships WHERE group_id = $1`, groupID)
	if err != nil {
		return nil, err
	}
	ids, err := scanStrings(rows)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// importGroup brings one group to its imported state.
func (t *tx) importGroup(in cohort.GroupImport, want []string, ie *cohort.ImportError) (changed, created bool, err error) {
	g, err := t.groupForImport(in.Name)
	if err != nil {
		return false, false, err
	}
	if g == nil {
		return true, true, t.createImportedGroup(in, want)
	}
	current, err := t.memberIDs(g.ID)
	if err != nil {
		return false, false, err
	}
	wanted := make(map[string]bool, len(want))
	var add, remove []string
	for _, id := range want {
		wanted[id] = true
		if !current[id] {
			add = append(add, id)
		}
	}
	for id := range current {
		if !wanted[id] {
			remove = append(remove, id)
		}
	}
	sort.Strings(remove)
	var changes cohort.GroupChanges
	if in.Name != g.Name {
		changes.Name = cohort.Changed(g.Name, in.Name)
	}
	if in.Description != g.Description {
		changes.Description = cohort.Changed(g.Description, in.Description)
	}
	membersChange := len(add) > 0 || len(remove) > 0
	statusChange := in.Status != g.Status
	if changes.Empty() && !membersChange && !statusChange {
		return false, false, nil
	}
	if g.Archived() && in.Status == cohort.StatusArchived {
		ie.Add(in.Row, "status", fmt.Sprintf("The group %q is archived and read-only, so its name, description and members cannot change: set the status to active to restore it, or leave those as they are.", g.Name))
		return false, false, nil
	}
	a := t.actor
	// The row is one change: one new version, which every event of it
	// carries, so a receiver that drops older versions drops none of them.
	g.Version++
	g.UpdatedAt, g.UpdatedBy = t.now, a.Name
	// Restore first, then edit, then archive: each step is the event a
	// subscriber would see if a manager did it by hand.
	if g.Archived() {
		g.Status, g.ArchivedAt = cohort.StatusActive, nil
		restored := cohort.GroupChanges{Status: cohort.Changed(cohort.StatusArchived, cohort.StatusActive)}
		if err := t.groupChanged(cohort.ActionGroupRestored, g, restored, cohort.GroupEventData{Changes: &restored}); err != nil {
			return false, false, err
		}
	}
	g.Name, g.Description = in.Name, in.Description
	var mc cohort.MemberChange
	if membersChange {
		var d counts
		if mc, d, err = t.changeMembers(g.ID, add, remove, nil); err != nil {
			return false, false, err
		}
		g.MemberCount += d.active
		g.ArchivedMemberCount += d.archived
	}
	if in.Status == cohort.StatusArchived && !g.Archived() {
		g.Status, g.ArchivedAt = cohort.StatusArchived, &t.now
	}
	if _, err := t.exec(`UPDATE groups SET name = $1, name_key = $2, description = $3, status = $4, archived_at = $5,
		member_count = $6, archived_member_count = $7, version = $8, updated_at = $9, updated_by = $10 WHERE id = $11`,
		g.Name, cohort.NameKey(g.Name), g.Description, string(g.Status), tsPtr(g.ArchivedAt), g.MemberCount,
		g.ArchivedMemberCount, g.Version, ts(t.now), a.Name, g.ID); err != nil {
		return false, false, err
	}
	if !changes.Empty() {
		if err := t.groupChanged(cohort.ActionGroupUpdated, g, changes, cohort.GroupEventData{Changes: &changes}); err != nil {
			return false, false, err
		}
	}
	if len(mc.Added) > 0 || len(mc.Removed) > 0 {
		if err := t.membersChanged(g, mc); err != nil {
			return false, false, err
		}
	}
	if g.Archived() && statusChange {
		if err := t.groupArchived(g); err != nil {
			return false, false, err
		}
	}
	return true, false, nil
}

// createImportedGroup adds a group that no group's name matched.
func (t *tx) createImportedGroup(in cohort.GroupImport, members []string) error {
	a := t.actor
	g := &cohort.Group{ID: newID(), WorkspaceID: a.WorkspaceID, Name: in.Name, Description: in.Description,
		Status: cohort.StatusActive, Version: 1, CreatedAt: t.now, UpdatedAt: t.now, CreatedBy: a.Name, UpdatedBy: a.Name}
	if in.Status == cohort.StatusArchived {
		g.Status, g.ArchivedAt = cohort.StatusArchived, &t.now
	}
	if _, err := t.exec(`INSERT INTO groups (id, workspace_id, name, name_key, description, external_id, status,
		member_count, archived_member_count, version, created_at, updated_at, archived_at, created_by, updated_by)
		VALUES ($1, $2, $3, $4, $5, '', $6, 0, 0, 1, $7, $7, $8, $9, $9)`,
		g.ID, g.WorkspaceID, g.Name, cohort.NameKey(g.Name), g.Description, string(g.Status), ts(t.now),
		tsPtr(g.ArchivedAt), a.Name); err != nil {
		return err
	}
	mc, d, err := t.changeMembers(g.ID, members, nil, nil)
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
	changes := cohort.GroupChanges{Name: cohort.Initial(g.Name), Status: cohort.Initial(g.Status)}
	if g.Description != "" {
		changes.Description = cohort.Initial(g.Description)
	}
	if err := t.groupCreated(g, changes, mc); err != nil {
		return err
	}
	if g.Archived() {
		return t.groupArchived(g)
	}
	return nil
}

// afterImport refreshes the planner's statistics after an import of
// many rows, so the next pages are planned for the new sizes. The import
// itself is committed either way; a failure here is only logged.
func (db *DB) afterImport(ctx context.Context, rows int) {
	if rows < bigChange {
		return
	}
	if err := db.refreshStats(ctx); err != nil {
		db.log.Warn("sqlstore: refreshing statistics after an import failed", "err", err)
	}
}
