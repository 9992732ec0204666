package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/cohorthq/cohort"
)

// BulkStaff is one staff member for BulkLoad. They are created active and
// without a password.
type BulkStaff struct {
	Email      string
	GivenName  string
	FamilyName string
	Role       cohort.Role
}

// BulkGroup is one active group for BulkLoad; Members are indexes into the
// staff list given with it.
type BulkGroup struct {
	Name    string
	Members []int
}

// bulkRows is how many rows one multi-row INSERT carries: 500 rows of at
// most 8 parameters stay far below both engines' parameter limits.
const bulkRows = 500

// bulkGroupsPerTx bounds one transaction of BulkLoad's group phase, so a
// data set of half a million memberships commits in a few large steps
// instead of one huge one.
const bulkGroupsPerTx = 500

// BulkLoad creates staff and groups in the actor's workspace in a few large
// transactions, for benchmarks and generated data sets where creating
// hundreds of thousands of memberships one service call at a time would take
// too long. The rows are those CreateUser and CreateGroup would write
// (normalised names and keys, version 1, maintained member counters, the
// actor as creator); unlike those methods it writes no audit entries and no
// outbox events, so nothing is replayed to webhooks or live pages. It
// validates everything before writing and refuses taken names and emails.
// progress, when not nil, is called after each step with rows written so
// far and in all. It returns the new users' and groups' IDs in input order.
func (db *DB) BulkLoad(ctx context.Context, staff []BulkStaff, groups []BulkGroup, progress func(done, total int)) (userIDs, groupIDs []string, err error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, nil, err
	}
	if !a.CanManageUsers() || !a.CanManageGroups() {
		return nil, nil, cohort.ErrForbidden("load staff and groups")
	}
	users, err := validateBulkStaff(staff)
	if err != nil {
		return nil, nil, err
	}
	names, err := validateBulkGroups(groups, len(staff))
	if err != nil {
		return nil, nil, err
	}
	total := len(staff) + len(groups)
	for _, g := range groups {
		total += len(g.Members)
	}
	done := 0
	report := func(n int) {
		done += n
		if progress != nil {
			progress(done, total)
		}
	}

	userIDs = make([]string, len(users))
	for i := range userIDs {
		userIDs[i] = newID()
	}
	for lo := 0; lo < len(users); lo += bulkRows * 20 {
		hi := min(lo+bulkRows*20, len(users))
		err := db.inTx(ctx, a, func(t *tx) error {
			for blo := lo; blo < hi; blo += bulkRows {
				if err := t.insertBulkUsers(users[blo:min(blo+bulkRows, hi)], userIDs[blo:]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		report(hi - lo)
	}

	groupIDs = make([]string, len(groups))
	for i := range groupIDs {
		groupIDs[i] = newID()
	}
	for lo := 0; lo < len(groups); lo += bulkGroupsPerTx {
		hi := min(lo+bulkGroupsPerTx, len(groups))
		members := 0
		err := db.inTx(ctx, a, func(t *tx) error {
			members = 0
			for i := lo; i < hi; i++ {
				if err := t.nameTaken(names[i], ""); err != nil {
					return err
				}
			}
			for blo := lo; blo < hi; blo += bulkRows {
				bhi := min(blo+bulkRows, hi)
				if err := t.insertBulkGroups(names[blo:bhi], groups[blo:bhi], groupIDs[blo:]); err != nil {
					return err
				}
			}
			for i := lo; i < hi; i++ {
				ids := make([]string, 0, len(groups[i].Members))
				for _, m := range groups[i].Members {
					ids = append(ids, userIDs[m])
				}
				ids = cohort.UniqueIDs(ids)
				if len(ids) == 0 {
					continue
				}
				// The rows a member change writes. The IDs are the users
				// this load just created in the workspace, so they are
				// inserted as they are: joining users here would make
				// SQLite, without statistics on a fresh database, scan the
				// workspace's staff once per group.
				res, err := t.exec(`INSERT INTO memberships (user_id, group_id, workspace_id, created_at)
					SELECT ids.*, $1, $2, $3 FROM (`+t.db.d.idList("$4")+`) AS ids`,
					groupIDs[i], a.WorkspaceID, ts(t.now), jsonIDs(ids))
				if err != nil {
					return err
				}
				if n, err := res.RowsAffected(); err != nil {
					return err
				} else if int(n) != len(ids) {
					return fmt.Errorf("sqlstore: bulk load: group %q got %d of its %d members", names[i], n, len(ids))
				}
				members += len(ids)
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		report(hi - lo + members)
	}
	if err := db.refreshStats(ctx); err != nil {
		return nil, nil, err
	}
	return userIDs, groupIDs, nil
}

// validateBulkStaff validates every staff member as CreateUser would and
// refuses duplicate emails within the list.
func validateBulkStaff(staff []BulkStaff) ([]cohort.UserCreate, error) {
	out := make([]cohort.UserCreate, len(staff))
	seen := make(map[string]int, len(staff))
	for i, s := range staff {
		c := cohort.UserCreate{Email: s.Email, GivenName: s.GivenName, FamilyName: s.FamilyName, Role: s.Role}
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("staff member %d (%s): %w", i+1, s.Email, err)
		}
		if j, ok := seen[cohort.NormalizeEmail(c.Email)]; ok {
			return nil, cohort.Errorf(cohort.ECONFLICT, "Staff members %d and %d have the same email %s: give each a unique email.", j+1, i+1, c.Email)
		}
		seen[cohort.NormalizeEmail(c.Email)] = i
		out[i] = c
	}
	return out, nil
}

// validateBulkGroups normalises and checks every group name, refuses
// names repeated within the list and member indexes outside the staff
// list, and returns the normalised names.
func validateBulkGroups(groups []BulkGroup, nStaff int) ([]string, error) {
	names := make([]string, len(groups))
	seen := make(map[string]int, len(groups))
	for i, g := range groups {
		n, err := cohort.ValidateGroupName(g.Name)
		if err != nil {
			return nil, fmt.Errorf("group %d (%q): %w", i+1, g.Name, err)
		}
		k := cohort.NameKey(n)
		if j, ok := seen[k]; ok {
			return nil, cohort.Errorf(cohort.ECONFLICT, "Groups %d and %d are both named %q: give each a unique name.", j+1, i+1, n)
		}
		seen[k] = i
		if len(g.Members) > cohort.MaxMemberChange {
			return nil, cohort.Errorf(cohort.EINVALID, "Group %q has %d members: at most %d fit in one group change.", n, len(g.Members), cohort.MaxMemberChange)
		}
		for _, m := range g.Members {
			if m < 0 || m >= nStaff {
				return nil, cohort.Errorf(cohort.EINVALID, "Group %q names staff member %d, but there are %d.", n, m+1, nStaff)
			}
		}
		names[i] = n
	}
	return names, nil
}

// insertBulkUsers inserts validated users with the given IDs in one
// multi-row statement. Constant columns are literals, so each row carries
// only its own values.
func (t *tx) insertBulkUsers(users []cohort.UserCreate, ids []string) error {
	var p args
	ws, now := p.add(t.actor.WorkspaceID), p.add(ts(t.now))
	rows := make([]string, len(users))
	for i, c := range users {
		u := cohort.User{GivenName: c.GivenName, FamilyName: c.FamilyName}
		rows[i] = "(" + strings.Join([]string{p.add(ids[i]), ws, p.add(cohort.NormalizeEmail(c.Email)), p.add(c.GivenName), p.add(c.FamilyName),
			p.add(personKey(c.GivenName)), p.add(personKey(c.FamilyName)), p.add(personKey(u.Name())), p.add(string(c.Role)),
			"'active'", "FALSE", "''", "''", "1", now, now, p.add(c.Email), p.add(cohort.UserNameKey(c.Email)), p.add(c.Email)}, ", ") + ")"
	}
	_, err := t.exec(`INSERT INTO users (id, workspace_id, email, given_name, family_name, given_key, family_key,
		full_key, role, status, is_owner, external_id, password_hash, version, created_at, updated_at,
		user_name, user_key, email_cased)
		VALUES `+strings.Join(rows, ", "), p...)
	return err
}

// insertBulkGroups inserts active groups with their final member counters
// (every bulk-loaded member is an active user).
func (t *tx) insertBulkGroups(names []string, groups []BulkGroup, ids []string) error {
	var p args
	ws, now, by := p.add(t.actor.WorkspaceID), p.add(ts(t.now)), p.add(t.actor.Name)
	rows := make([]string, len(names))
	for i, n := range names {
		count := len(cohort.UniqueIDs(memberKeys(groups[i].Members)))
		rows[i] = "(" + strings.Join([]string{p.add(ids[i]), ws, p.add(n), p.add(cohort.NameKey(n)), "''", "''", "'active'",
			p.add(count), "0", "1", now, now, by, by}, ", ") + ")"
	}
	_, err := t.exec(`INSERT INTO groups (id, workspace_id, name, name_key, description, external_id, status,
		member_count, archived_member_count, version, created_at, updated_at, created_by, updated_by)
		VALUES `+strings.Join(rows, ", "), p...)
	return err
}

// memberKeys turns member indexes into strings so that duplicates are
// dropped by the same rule as IDs.
func memberKeys(members []int) []string {
	out := make([]string, len(members))
	for i, m := range members {
		out[i] = fmt.Sprint(m)
	}
	return out
}
