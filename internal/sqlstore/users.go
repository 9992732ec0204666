package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cohorthq/cohort"
)

const userCols = `id, workspace_id, email, given_name, family_name, role, status, is_owner, external_id,
	version, created_at, updated_at, archived_at, user_name, email_cased, deprovisioned_at, ` + attrCols

// attrCols are the staff attributes, last in userCols.
const attrCols = `job_title, location, phone, employment_type`

// scanUser reads userCols. The email column is the folded sign-in key
// (” when the user does not sign in with an email); email_cased is the
// address as entered or sent.
func scanUser(r interface{ Scan(...any) error }) (*cohort.User, error) {
	u := &cohort.User{}
	var role, status, key string
	var deprovisioned *time.Time
	err := r.Scan(&u.ID, &u.WorkspaceID, &key, &u.GivenName, &u.FamilyName, &role, &status, &u.IsOwner,
		&u.ExternalID, &u.Version, timeScan{&u.CreatedAt}, timeScan{&u.UpdatedAt}, nullTimeScan{&u.ArchivedAt},
		&u.UserName, &u.Email, nullTimeScan{&deprovisioned}, &u.JobTitle, &u.Location, &u.Phone, &u.EmploymentType)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errUserNotFound
		}
		return nil, mapError(err)
	}
	u.Role, u.Status = cohort.Role(role), cohort.Status(status)
	if u.Email == "" {
		u.Email = key
	}
	if u.UserName == "" {
		u.UserName = u.Email
	}
	u.SignsIn, u.Deprovisioned = key != "", deprovisioned != nil
	return u, nil
}

var errUserNotFound = &cohort.Error{Code: cohort.ENOTFOUND, Message: "No staff member with that ID."}

// attrKeys are the search keys of a's attributes, in the order of the
// job_key, location_key, phone_key and employment_key columns.
func attrKeys(a cohort.StaffAttributes) []any {
	return []any{personKey(a.JobTitle), personKey(a.Location), personKey(a.Phone), personKey(a.EmploymentType)}
}

// attrArgs are a's attributes and then their keys, as insertUser and
// applyUserUpdate write them.
func attrArgs(a cohort.StaffAttributes) []any {
	return append([]any{a.JobTitle, a.Location, a.Phone, a.EmploymentType}, attrKeys(a)...)
}

// userChanged writes the audit row and the outbox event of a user change.
// Only a user.updated event carries the changes; the audit row always does.
func (t *tx) userChanged(action string, u *cohort.User, changes cohort.UserChanges) error {
	if err := t.audit(action, "user", u.ID, u.Name(), changes); err != nil {
		return err
	}
	data := cohort.UserEventData{User: cohort.NewUserResource(u)}
	if action == cohort.ActionUserUpdated {
		data.Changes = &changes
	}
	return t.emit(action, data)
}

// ownerTransferAudit is the audit entry of an ownership transfer.
type ownerTransferAudit struct {
	FromUserID string               `json:"from_user_id,omitempty"`
	IsOwner    *cohort.Change[bool] `json:"is_owner"`
}

// personKey is the lower-case key a name is sorted and searched by.
func personKey(s string) string { return cohort.SearchKey(s) }

// emailTaken refuses an email another user of the workspace already
// signs in with.
func (t *tx) emailTaken(email, exceptID string) error {
	var id string
	err := t.queryRow(`SELECT id FROM users WHERE workspace_id = $1 AND email = $2 AND id <> $3`,
		t.actor.WorkspaceID, cohort.NormalizeEmail(email), exceptID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("A staff member with email %s already exists.", email)
	return &cohort.Error{Code: cohort.ECONFLICT, Message: msg, Fields: map[string][]string{"email": {msg}},
		Detail: map[string]string{"user_id": id}}
}

// userNameTaken refuses a userName another user SCIM still sees has,
// case-insensitively.
func (t *tx) userNameTaken(name, exceptID string) error {
	var id string
	err := t.queryRow(`SELECT id FROM users WHERE workspace_id = $1 AND user_key = $2 AND id <> $3 AND deprovisioned_at IS NULL`,
		t.actor.WorkspaceID, cohort.UserNameKey(name), exceptID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("A staff member with user name %s already exists.", name)
	return &cohort.Error{Code: cohort.ECONFLICT, Message: msg, Fields: map[string][]string{"user_name": {msg}},
		Detail: map[string]string{"user_id": id}}
}

// signInKey is the email key a user signs in with: "" without an email,
// or when share allows an email another user already signs in with.
func (t *tx) signInKey(email, exceptID string, share bool) (string, error) {
	if email == "" {
		return "", nil
	}
	if err := t.emailTaken(email, exceptID); err != nil {
		if share && cohort.ErrorCode(err) == cohort.ECONFLICT {
			return "", nil
		}
		return "", err
	}
	return cohort.NormalizeEmail(email), nil
}

// insertUser creates a validated user in the actor's workspace.
func (t *tx) insertUser(c cohort.UserCreate, hash string, owner bool) (*cohort.User, error) {
	if c.UserName == "" {
		c.UserName = c.Email
	}
	key, err := t.signInKey(c.Email, "", c.ShareEmail)
	if err != nil {
		return nil, err
	}
	if err := t.userNameTaken(c.UserName, ""); err != nil {
		return nil, err
	}
	u := &cohort.User{ID: newID(), WorkspaceID: t.actor.WorkspaceID, Email: c.Email, UserName: c.UserName,
		SignsIn: key != "", GivenName: c.GivenName,
		FamilyName: c.FamilyName, Role: c.Role, Status: cohort.StatusActive, IsOwner: owner,
		ExternalID: c.ExternalID, StaffAttributes: c.StaffAttributes, Version: 1, CreatedAt: t.now, UpdatedAt: t.now}
	if c.Archived && !owner {
		u.Status = cohort.StatusArchived
		u.ArchivedAt = &t.now
	}
	_, err = t.exec(`INSERT INTO users (id, workspace_id, email, given_name, family_name, given_key, family_key,
		full_key, role, status, is_owner, external_id, password_hash, version, created_at, updated_at, archived_at,
		user_name, user_key, email_cased, `+attrCols+`, job_key, location_key, phone_key, employment_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
		$21, $22, $23, $24, $25, $26, $27, $28)`,
		append([]any{u.ID, u.WorkspaceID, key, u.GivenName, u.FamilyName, personKey(u.GivenName), personKey(u.FamilyName),
			personKey(u.Name()), string(u.Role), string(u.Status), u.IsOwner, u.ExternalID, hash, u.Version,
			ts(t.now), ts(t.now), tsPtr(u.ArchivedAt), u.UserName, cohort.UserNameKey(u.UserName), u.Email},
			attrArgs(u.StaffAttributes)...)...)
	if err != nil {
		return nil, err
	}
	changes := cohort.UserChanges{Email: cohort.Initial(u.Email), GivenName: cohort.Initial(u.GivenName),
		FamilyName: cohort.Initial(u.FamilyName), Role: cohort.Initial(u.Role), Status: cohort.Initial(u.Status)}
	if owner {
		changes.IsOwner = cohort.Initial(true)
	}
	// Attributes set on creation, as a change from nothing.
	u.StaffAttributes.Initial(&changes)
	return u, t.userChanged(cohort.ActionUserCreated, u, changes)
}

// lockUser reads a user of the actor's workspace and locks its row.
func (t *tx) lockUser(id string) (*cohort.User, error) {
	if !storable(id) {
		return nil, errUserNotFound
	}
	return scanUser(t.queryRow(`SELECT `+userCols+` FROM users WHERE id = $1 AND workspace_id = $2`+t.db.d.forUpdate(),
		id, t.actor.WorkspaceID))
}

// CreateUser adds a staff member.
func (db *DB) CreateUser(ctx context.Context, c cohort.UserCreate) (*cohort.User, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.CanManageUsers() {
		return nil, cohort.ErrForbidden("add staff")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	hash := ""
	if c.Password != "" {
		// Hashing takes tens of milliseconds: do it before the write lock.
		hash = hashPassword(c.Password)
	}
	var u *cohort.User
	err = db.inTx(ctx, a, func(t *tx) error {
		u, err = t.insertUser(c, hash, false)
		return err
	})
	return u, err
}

// FindUserByID returns one staff member of the actor's workspace.
func (db *DB) FindUserByID(ctx context.Context, id string) (*cohort.User, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.CanViewUsers() {
		return nil, cohort.ErrForbidden("view staff")
	}
	if !storable(id) {
		return nil, errUserNotFound
	}
	u, err := scanUser(db.read.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = $1 AND workspace_id = $2`,
		id, a.WorkspaceID))
	if err != nil {
		return nil, err
	}
	// Staff who see active staff only are not told an archived one exists.
	view := a.StaffView()
	if u.Archived() && !view.SeesArchived() {
		return nil, errUserNotFound
	}
	view.Redact(u)
	return u, nil
}

// FindUsers lists staff of the actor's workspace.
func (db *DB) FindUsers(ctx context.Context, f cohort.UserFilter) (*cohort.UserPage, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.CanViewUsers() {
		return nil, cohort.ErrForbidden("view staff")
	}
	return db.findVisibleUsers(ctx, a, f)
}

// findVisibleUsers lists the staff of a's workspace that match f and that
// a may see (cohort.Actor.StaffView): a filter reaching for archived staff
// they may not see is refused, and each user carries only the fields
// they may see.
func (db *DB) findVisibleUsers(ctx context.Context, a cohort.Actor, f cohort.UserFilter) (*cohort.UserPage, error) {
	if err := a.CheckStaffStatus(f.Status); err != nil {
		return nil, err
	}
	page, err := db.findUsers(ctx, a.WorkspaceID, f)
	if err != nil {
		return nil, err
	}
	view := a.StaffView()
	for _, u := range page.Users {
		view.Redact(u)
	}
	return page, nil
}

// bigGroup is the membership size from which a group filter walks the
// staff in list order and probes each one's membership (cost grows with
// the page), instead of collecting the members and sorting them (cost
// grows with the group).
const bigGroup = 1000

// userOrder is the order of every staff list: family name, given name, ID.
var userOrder = keyset{cols: []string{"family_key", "given_key", "id"}}

// userPageSelect reads a user and its sort key, as userPage scans them.
const userPageSelect = `SELECT ` + userCols + `, family_key, given_key FROM users`

// findUsers pages through users ordered by (family_key, given_key, id): a
// list (listUsers) when f has no search query, a search (searchUsers)
// when it has one. Both apply the same filter conditions (userConds).
func (db *DB) findUsers(ctx context.Context, workspaceID string, f cohort.UserFilter) (*cohort.UserPage, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, cohort.FieldError("status", "Choose a status: active or archived.")
	}
	if f.Role != "" && !f.Role.Valid() {
		return nil, cohort.FieldError("role", "Choose a role: practitioner_admin, practitioner, practice_manager, receptionist or accountant.")
	}
	c, err := db.userConds(ctx, workspaceID, f)
	if err != nil {
		return nil, err
	}
	if q := personKey(f.Query); q != "" {
		return db.searchUsers(ctx, c, q, f)
	}
	return db.listUsers(ctx, c, f)
}

// userFilters records which filters of a cohort.UserFilter are set, the
// search query aside: whether a maintained counter gives the exact total
// of a list is decided from this record alone (counter).
type userFilters struct {
	status       cohort.Status // "" when both statuses are listed
	groups       int           // how many group IDs: members of any of them
	excludeGroup bool
	// Filters no counter is kept for.
	role, email, externalID, ids, updatedAfter, updatedBefore, location bool
	userName, provisioned                                               bool
}

func userFiltersOf(f cohort.UserFilter) userFilters {
	return userFilters{status: f.Status, groups: len(f.GroupIDs), excludeGroup: f.ExcludeGroupID != "",
		role: f.Role != "", email: f.Email != "", externalID: f.ExternalID != "", ids: f.IDs != nil,
		updatedAfter: f.UpdatedAfter != nil, updatedBefore: f.UpdatedBefore != nil, location: f.Location != "",
		userName: f.UserName != "", provisioned: f.Provisioned || f.Deprovisioned}
}

// userCounter names the maintained counter that is exact for a filter.
type userCounter int

const (
	noCounter      userCounter = iota // count the matching rows
	staffCounter                      // user_counts: at most a status
	groupCounter                      // the group's member counters: one group, at most a status
	outsideCounter                    // user_counts less the group's: active staff outside one group (the picker)
)

// counter says which maintained counter, if any, is exact for the filter.
// Several groups are counted, not summed: a member of two would count
// twice.
func (s userFilters) counter() userCounter {
	switch {
	case s.role || s.email || s.externalID || s.ids || s.updatedAfter || s.updatedBefore || s.location || s.userName || s.provisioned:
		return noCounter
	case s.groups == 0 && !s.excludeGroup:
		return staffCounter
	case s.groups == 1 && !s.excludeGroup:
		return groupCounter
	case s.groups == 0 && s.excludeGroup && s.status == cohort.StatusActive:
		return outsideCounter
	}
	return noCounter
}

// userConds is a filter's conditions on users (the search query aside)
// with their parameters, as both the list and the search apply them.
type userConds struct {
	workspaceID string
	set         userFilters
	where       []string
	p           args
	// The group filter's member counters (active, archived), summed over
	// its groups.
	groupActive, groupArchived int
}

// userConds builds f's conditions. With a group filter it reads the
// groups' member counters first: they choose how the members are found.
func (db *DB) userConds(ctx context.Context, workspaceID string, f cohort.UserFilter) (*userConds, error) {
	c := &userConds{workspaceID: workspaceID, set: userFiltersOf(f)}
	ws, status := "workspace_id", "status"
	small := false
	if len(f.GroupIDs) > 0 {
		var err error
		if c.groupActive, c.groupArchived, err = db.groupSizes(ctx, workspaceID, f.GroupIDs); err != nil {
			return nil, err
		}
		if small = c.groupActive+c.groupArchived < bigGroup; small {
			// A small group: read its members, then sort them. Left to
			// itself, SQLite's planner walks the whole staff in list
			// order through the (workspace, status, name) index and tests
			// each one (8 ms at 50,000 staff, against 0.05 ms); "|| ''"
			// keeps it off the indexes that lead with workspace_id.
			ws, status = "workspace_id || ''", "status || ''"
		}
	}
	p := &c.p
	c.where = []string{ws + " = " + p.add(workspaceID)}
	add := func(cond string) { c.where = append(c.where, cond) }
	if f.Status != "" {
		add(status + " = " + p.add(string(f.Status)))
	}
	if f.Role != "" {
		add("role = " + p.add(string(f.Role)))
	}
	if f.Email != "" {
		add("email = " + p.add(cohort.NormalizeEmail(f.Email)))
	}
	if f.UserName != "" {
		add("user_key = " + p.add(cohort.UserNameKey(f.UserName)))
	}
	if f.Provisioned {
		add("deprovisioned_at IS NULL")
	}
	if f.Deprovisioned {
		add("deprovisioned_at IS NOT NULL")
	}
	if f.ExternalID != "" {
		add("external_id = " + p.add(f.ExternalID))
	}
	if f.Location != "" {
		add("location_key = " + p.add(personKey(f.Location)))
	}
	if f.IDs != nil {
		add("id IN (" + db.d.idList(p.add(jsonIDs(f.IDs))) + ")")
	}
	if len(f.GroupIDs) > 0 {
		var in string
		if len(f.GroupIDs) == 1 {
			in = "= " + p.add(f.GroupIDs[0])
		} else {
			in = "IN (" + db.d.idList(p.add(jsonIDs(f.GroupIDs))) + ")"
		}
		if small {
			add("id IN (SELECT user_id FROM memberships WHERE group_id " + in + ")")
		} else {
			add("EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id AND m.group_id " + in + ")")
		}
	}
	if f.ExcludeGroupID != "" {
		add("NOT EXISTS (SELECT 1 FROM memberships m WHERE m.group_id = " + p.add(f.ExcludeGroupID) + " AND m.user_id = users.id)")
	}
	if f.UpdatedAfter != nil {
		add("updated_at > " + p.add(ts(*f.UpdatedAfter)))
	}
	if f.UpdatedBefore != nil {
		add("updated_at < " + p.add(ts(*f.UpdatedBefore)))
	}
	return c, nil
}

// listUsers pages through the users matching c, with the total from a
// maintained counter where one is exact for the filter.
func (db *DB) listUsers(ctx context.Context, c *userConds, f cohort.UserFilter) (*cohort.UserPage, error) {
	total, err := db.listTotal(ctx, c, f)
	if err != nil {
		return nil, err
	}
	page, err := db.userPage(ctx, userOrder, userPageSelect, c.where, c.p, total, f)
	if err != nil {
		return nil, err
	}
	return page.UserPage, nil
}

// listTotal is a list's total from the counter c.set.counter() names;
// -1 (userPage counts the matches) when none is exact, 0 when the caller
// skips the total.
func (db *DB) listTotal(ctx context.Context, c *userConds, f cohort.UserFilter) (int, error) {
	if f.SkipTotal {
		return 0, nil
	}
	switch c.set.counter() {
	case staffCounter:
		active, archived, err := db.statusCounts(ctx, "user_counts", c.workspaceID)
		if err != nil {
			return 0, err
		}
		return byStatus(c.set.status, active, archived), nil
	case groupCounter:
		return byStatus(c.set.status, c.groupActive, c.groupArchived), nil
	case outsideCounter:
		active, _, err := db.statusCounts(ctx, "user_counts", c.workspaceID)
		if err != nil {
			return 0, err
		}
		members, _, err := db.groupSizes(ctx, c.workspaceID, []string{f.ExcludeGroupID})
		if err != nil {
			return 0, err
		}
		return active - members, nil
	}
	return -1, nil
}

// searchUsers pages through the users matching c whose family name,
// "given family", email, job title, location, phone or employment type
// starts with q (a personKey), or whose role's label has a word that
// does (cohort.RolesMatching).
//
// A search is one index range scan per searched key over indexes that
// lead with (workspace_id, status) and carry the sort key. The three are
// made disjoint, so their counts add up and the page is the first rows
// of their merge, read in full in the same statement. So a search costs
// what it matches, not the size of the practice.
func (db *DB) searchUsers(ctx context.Context, c *userConds, q string, f cohort.UserFilter) (*cohort.UserPage, error) {
	// The search arms are disjoint, so their counts add up and their rows
	// need no de-duplication: a user is found by the first of family
	// name, "given family" and email that starts with q. (A given name
	// needs no arm of its own: full_key is given_key || ' ' || family_key,
	// so q starts the given name only if it starts full_key.) The email
	// index carries given_key and family_key but not full_key, so the
	// email arm rebuilds it.
	p := append(args(nil), c.p...)
	lo, hi := p.add(q), p.add(prefixEnd(q))
	starts := func(expr string) string { return expr + " >= " + lo + " AND " + expr + " < " + hi }
	family := starts("family_key")
	conds := append([]string(nil), c.where...)
	if f.Status == "" {
		// Both statuses, named so the arms use the indexes that lead
		// with (workspace_id, status).
		conds = append(conds, "status IN ('active', 'archived')")
	}
	arms := [][]string{
		{family},
		{starts("full_key"), "NOT (" + family + ")"},
		{starts("email"), "NOT (" + family + ")", "NOT (" + starts("(given_key || ' ' || family_key)") + ")"},
	}
	// Then the staff attributes and the role, each arm leaving out the
	// users an earlier arm found, so the arms stay disjoint. Each reads
	// its own index (migration 00008).
	prior := []string{family, starts("full_key"), starts("email")}
	more := []string{starts("job_key"), starts("location_key"), starts("phone_key"), starts("employment_key")}
	if roles := cohort.RolesMatching(f.Query); len(roles) > 0 {
		in := make([]string, len(roles))
		for i, r := range roles {
			in[i] = p.add(string(r))
		}
		more = append(more, "role IN ("+strings.Join(in, ", ")+")")
	}
	for _, cond := range more {
		arm := []string{cond}
		for _, c := range prior {
			arm = append(arm, "NOT ("+c+")")
		}
		arms = append(arms, arm)
		prior = append(prior, cond)
	}
	var total int
	if !f.SkipTotal {
		var counts []string
		for _, arm := range arms {
			counts = append(counts, "(SELECT COUNT(*) FROM users WHERE "+strings.Join(append(arm, conds...), " AND ")+")")
		}
		if err := db.read.QueryRowContext(ctx, `SELECT `+strings.Join(counts, " + "), p...).Scan(&total); err != nil {
			return nil, mapError(err)
		}
	}
	// Each arm yields its own first rows in page order (its index range
	// is read, its matches sorted, only the first kept), and the page is
	// the first rows of their merge. With an offset, each arm yields
	// enough rows to skip.
	armLimit := f.Limit
	if f.Limit > 0 && f.Offset > 0 {
		armLimit = f.Limit + f.Offset
	} else if f.Offset > 0 {
		armLimit = 0
	}
	var sels []string
	for i, arm := range arms {
		sel, err := userOrder.query(`SELECT family_key, given_key, id FROM users`, append(arm, conds...), &p, armLimit, 0, f.After, f.Before)
		if err != nil {
			return nil, err
		}
		sels = append(sels, fmt.Sprintf("SELECT * FROM (%s) AS arm%d", sel, i))
	}
	sel, err := userOrder.query(`SELECT id FROM (`+strings.Join(sels, " UNION ALL ")+`) AS matches`, []string{"1 = 1"}, &p, f.Limit, f.Offset, f.After, f.Before)
	if err != nil {
		return nil, err
	}
	// The page's rows in full, in one statement: the matches' ids are
	// its subquery.
	page, err := db.userPage(ctx, userOrder, userPageSelect, []string{"id IN (" + sel + ")"}, p, total, cohort.UserFilter{})
	if err != nil {
		return nil, err
	}
	users, keys := page.Users, page.keys
	if f.After == "" && f.Before != "" {
		// A backwards page: pageOf wants the query's descending order.
		reverse(users)
		reverse(keys)
	}
	out := &cohort.UserPage{Total: total}
	out.Users, out.Next, out.Prev = pageOf(f.Limit, users, keys, f.After, f.Before)
	return out, nil
}

// byStatus picks the count a status filter asks for ("" is both).
func byStatus(s cohort.Status, active, archived int) int {
	switch s {
	case cohort.StatusActive:
		return active
	case cohort.StatusArchived:
		return archived
	}
	return active + archived
}

// groupSizes sums the member counters of the workspace's groups among ids.
func (db *DB) groupSizes(ctx context.Context, workspaceID string, ids []string) (active, archived int, err error) {
	err = db.read.QueryRowContext(ctx, `SELECT COALESCE(SUM(member_count), 0), COALESCE(SUM(archived_member_count), 0)
		FROM groups WHERE workspace_id = $1 AND id IN (`+db.d.idList("$2")+`)`, workspaceID, jsonIDs(ids)).Scan(&active, &archived)
	return active, archived, mapError(err)
}

// keyedUsers is a page of users with each row's sort key, before the page
// cursors are made.
type keyedUsers struct {
	*cohort.UserPage
	keys [][]string
}

// userPage runs a keyset page query over users; total < 0 counts with the
// same filter.
func (db *DB) userPage(ctx context.Context, ks keyset, sel string, where []string, p args, total int, f cohort.UserFilter) (*keyedUsers, error) {
	if total < 0 {
		if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE `+strings.Join(where, " AND "), p...).Scan(&total); err != nil {
			return nil, mapError(err)
		}
	}
	q, err := ks.query(sel, where, &p, f.Limit, f.Offset, f.After, f.Before)
	if err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, q, p...)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var users []*cohort.User
	var keys [][]string
	for rows.Next() {
		var fk, gk string
		u, err := scanUser(scanFunc(func(dst ...any) error { return rows.Scan(append(dst, &fk, &gk)...) }))
		if err != nil {
			return nil, err
		}
		users = append(users, u)
		keys = append(keys, []string{fk, gk, u.ID})
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	page := &keyedUsers{UserPage: &cohort.UserPage{Total: total}, keys: keys}
	page.Users, page.Next, page.Prev = pageOf(f.Limit, users, keys, f.After, f.Before)
	return page, nil
}

// scanFunc adapts a function to the Scan method that scanUser wants.
type scanFunc func(...any) error

func (f scanFunc) Scan(dst ...any) error { return f(dst...) }

// UpdateUser changes a staff member's details and, when upd.Status is set,
// archives or restores them in the same transaction, exactly as
// ArchiveUser and RestoreUser do (see applyUserUpdate).
func (db *DB) UpdateUser(ctx context.Context, id string, upd cohort.UserUpdate) (*cohort.User, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.CanManageUsers() {
		return nil, cohort.ErrForbidden("change staff")
	}
	if err := upd.Validate(); err != nil {
		return nil, err
	}
	var out *cohort.User
	err = db.inTx(ctx, a, func(t *tx) error {
		var u *cohort.User
		var err error
		if upd.Status != nil {
			// A status change moves group counters: lock as
			// ArchiveUser does.
			u, err = t.lockUserAndGroups(id)
		} else {
			u, err = t.lockUser(id)
		}
		if err != nil {
			return err
		}
		if err := checkUserVersion(u, upd.IfVersion); err != nil {
			return err
		}
		if err := t.applyUserUpdate(u, upd); err != nil {
			return err
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

var errUserStale = &cohort.Error{Code: cohort.ESTALE,
	Message: "This staff member was changed by someone else since you opened it. The current version is shown; make your change again."}

// checkUserVersion refuses a write made against another version of u
// than its current one; ifVersion 0 writes unconditionally. Callers hold
// u's row lock, so the answer stays true until they commit.
func checkUserVersion(u *cohort.User, ifVersion int64) error {
	if ifVersion != 0 && ifVersion != u.Version {
		return errUserStale
	}
	return nil
}

// ArchiveUser archives a staff member: their sessions end, their
// memberships are kept but move to the groups' archived counters. The
// account owner cannot be archived. Archiving an archived user changes
// nothing.
func (db *DB) ArchiveUser(ctx context.Context, id string, ifVersion int64) (*cohort.User, error) {
	return db.setUserStatus(ctx, id, cohort.StatusArchived, ifVersion)
}

// RestoreUser makes an archived staff member active again, with their
// memberships counted again.
func (db *DB) RestoreUser(ctx context.Context, id string, ifVersion int64) (*cohort.User, error) {
	return db.setUserStatus(ctx, id, cohort.StatusActive, ifVersion)
}

func (db *DB) setUserStatus(ctx context.Context, id string, to cohort.Status, ifVersion int64) (*cohort.User, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.CanManageUsers() {
		if to == cohort.StatusArchived {
			return nil, cohort.ErrForbidden("archive staff")
		}
		return nil, cohort.ErrForbidden("restore staff")
	}
	if !storable(id) {
		return nil, errUserNotFound
	}
	var out *cohort.User
	err = db.inTx(ctx, a, func(t *tx) error {
		u, err := t.lockUserAndGroups(id)
		if err != nil {
			return err
		}
		if err := checkUserVersion(u, ifVersion); err != nil {
			return err
		}
		if err := t.applyUserUpdate(u, cohort.UserUpdate{Status: &to}); err != nil {
			return err
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lockUserAndGroups locks the groups a user belongs to, in ID order, then
// the user, and returns the user: what a status change must hold before
// it moves the groups' member counters.
func (t *tx) lockUserAndGroups(id string) (*cohort.User, error) {
	if !storable(id) {
		return nil, errUserNotFound
	}
	// Lock the user's groups first, in ID order, then the user: a member
	// change locks its group before the users it counts, so this order
	// cannot deadlock with it.
	rows, err := t.query(`SELECT id FROM groups WHERE workspace_id = $1 AND id IN
		(SELECT group_id FROM memberships WHERE user_id = $2) ORDER BY id`+t.db.d.forUpdate(), t.actor.WorkspaceID, id)
	if err != nil {
		return nil, err
	}
	locked, err := scanStrings(rows)
	if err != nil {
		return nil, err
	}
	u, err := t.lockUser(id)
	if err != nil {
		return nil, err
	}
	// A membership committed between the two reads would make the counter
	// update lock a group out of order and risk a deadlock; start over
	// instead. With the user locked, no new membership of theirs can
	// appear any more.
	rows, err = t.query(`SELECT group_id FROM memberships WHERE user_id = $1`, id)
	if err != nil {
		return nil, err
	}
	now, err := scanStrings(rows)
	if err != nil {
		return nil, err
	}
	for _, g := range now {
		if !contains(locked, g) {
			return nil, errLockRace
		}
	}
	return u, nil
}

// applyUserUpdate writes a validated update to the user u, read and locked
// in this transaction (with lockUserAndGroups when upd.Status is set), and
// updates u to match. It is the one body of UpdateUser, ArchiveUser and
// RestoreUser, so a change of fields and of status together has exactly
// the effects of the separate calls, but all or nothing:
//
//   - Archiving the account owner is refused before anything is written,
//     field changes included. A status equal to the current one is no
//     change.
//   - Archiving ends the user's sessions; archiving or restoring moves
//     their memberships between the groups' member_count and
//     archived_member_count.
//   - Audit rows and events are those of the separate calls, in the order
//     of the import (importUser): user.updated with the field changes,
//     then user.archived or user.restored with the status change. Both
//     show the user as committed.
//   - Version: one call is one change, so the version goes up by one
//     however many fields and the status change, as a multi-field
//     UpdateUser and an import row already do; nothing changed, no bump.
func (t *tx) applyUserUpdate(u *cohort.User, upd cohort.UserUpdate) error {
	from, to := u.Status, u.Status
	if upd.Status != nil {
		to = *upd.Status
	}
	if to == cohort.StatusArchived && from != to && u.IsOwner {
		return cohort.ErrArchiveOwner(u)
	}
	if to == cohort.StatusArchived && from != to && t.actor.UserID != "" && t.actor.UserID == u.ID {
		return cohort.ErrArchiveSelf()
	}
	var changes cohort.UserChanges
	key := ""
	if u.SignsIn {
		key = cohort.NormalizeEmail(u.Email)
	}
	deprovisioned := u.Deprovisioned
	if to == cohort.StatusActive && from != to {
		// Restored in Cohort: SCIM sees them again.
		deprovisioned = false
	}
	if upd.Deprovisioned != nil {
		deprovisioned = *upd.Deprovisioned
	}
	if upd.Email != nil && *upd.Email != u.Email {
		if upd.UserName == nil && cohort.UserNameKey(u.UserName) == cohort.NormalizeEmail(u.Email) {
			// The user name was the email: it follows it.
			upd.UserName = upd.Email
		}
		changes.Email = cohort.Changed(u.Email, *upd.Email)
		u.Email = *upd.Email
		key = ""
		if !deprovisioned {
			var err error
			if key, err = t.signInKey(u.Email, u.ID, upd.ShareEmail); err != nil {
				return err
			}
		}
	}
	if upd.UserName != nil && *upd.UserName != u.UserName {
		if *upd.UserName == "" {
			return cohort.FieldError("user_name", "Enter a user name.")
		}
		if !deprovisioned {
			if err := t.userNameTaken(*upd.UserName, u.ID); err != nil {
				return err
			}
		}
		changes.UserName = cohort.Changed(u.UserName, *upd.UserName)
		u.UserName = *upd.UserName
	}
	if deprovisioned != u.Deprovisioned {
		if deprovisioned {
			// Deprovisioned staff give up their sign-in email and their
			// userName, so the provider may hand them to someone else.
			key = ""
		} else {
			if err := t.userNameTaken(u.UserName, u.ID); err != nil {
				return err
			}
			if key == "" {
				var err error
				if key, err = t.signInKey(u.Email, u.ID, true); err != nil {
					return err
				}
			}
		}
		changes.Deprovisioned = cohort.Changed(u.Deprovisioned, deprovisioned)
		u.Deprovisioned = deprovisioned
	}
	if upd.GivenName != nil && *upd.GivenName != u.GivenName {
		changes.GivenName = cohort.Changed(u.GivenName, *upd.GivenName)
		u.GivenName = *upd.GivenName
	}
	if upd.FamilyName != nil && *upd.FamilyName != u.FamilyName {
		changes.FamilyName = cohort.Changed(u.FamilyName, *upd.FamilyName)
		u.FamilyName = *upd.FamilyName
	}
	if upd.Role != nil && *upd.Role != u.Role {
		changes.Role = cohort.Changed(u.Role, *upd.Role)
		u.Role = *upd.Role
	}
	if upd.ExternalID != nil && *upd.ExternalID != u.ExternalID {
		changes.ExternalID = cohort.Changed(u.ExternalID, *upd.ExternalID)
		u.ExternalID = *upd.ExternalID
	}
	upd.StaffAttributesUpdate.Apply(&u.StaffAttributes, &changes)
	if changes.Empty() && from == to {
		return nil
	}
	if err := cohort.CheckNames(u.GivenName, u.FamilyName); err != nil {
		return err
	}
	if u.Email == "" && u.UserName == "" {
		return cohort.FieldError("email", "Enter an email address.")
	}
	u.SignsIn = key != ""
	var deprovisionedAt *time.Time
	if u.Deprovisioned {
		deprovisionedAt = &t.now
	}
	u.Version++
	u.UpdatedAt = t.now
	if from != to {
		u.Status = to
		if to == cohort.StatusArchived {
			u.ArchivedAt = &t.now
		} else {
			u.ArchivedAt = nil
		}
	}
	if _, err := t.exec(`UPDATE users SET email = $1, given_name = $2, family_name = $3, given_key = $4,
		family_key = $5, full_key = $6, role = $7, external_id = $8, status = $9, archived_at = $10,
		version = $11, updated_at = $12, user_name = $14, user_key = $15, email_cased = $16,
		deprovisioned_at = CASE WHEN $17 THEN COALESCE(deprovisioned_at, $18) ELSE NULL END,
		job_title = $19, location = $20, phone = $21, employment_type = $22,
		job_key = $23, location_key = $24, phone_key = $25, employment_key = $26 WHERE id = $13`,
		append([]any{key, u.GivenName, u.FamilyName, personKey(u.GivenName), personKey(u.FamilyName), personKey(u.Name()),
			string(u.Role), u.ExternalID, string(u.Status), tsPtr(u.ArchivedAt), u.Version, ts(t.now), u.ID,
			u.UserName, cohort.UserNameKey(u.UserName), u.Email, u.Deprovisioned, tsPtr(deprovisionedAt)},
			attrArgs(u.StaffAttributes)...)...); err != nil {
		return err
	}
	if !changes.Empty() {
		if err := t.userChanged(cohort.ActionUserUpdated, u, changes); err != nil {
			return err
		}
	}
	if from == to {
		return nil
	}
	// The user's memberships stay; they move between the counters of
	// every group they belong to.
	d, action := 1, cohort.ActionUserArchived
	if to == cohort.StatusActive {
		d, action = -1, cohort.ActionUserRestored
	}
	if _, err := t.exec(`UPDATE groups SET member_count = member_count - $1, archived_member_count = archived_member_count + $1
		WHERE id IN (SELECT group_id FROM memberships WHERE user_id = $2)`, d, u.ID); err != nil {
		return err
	}
	if to == cohort.StatusArchived {
		if _, err := t.exec(`DELETE FROM sessions WHERE user_id = $1`, u.ID); err != nil {
			return err
		}
		if err := t.noteSessionsEnded(); err != nil {
			return err
		}
	}
	return t.userChanged(action, u, cohort.UserChanges{Status: cohort.Changed(from, to)})
}

// TransferOwnership makes another active staff member the account owner.
// The old owner keeps their role.
func (db *DB) TransferOwnership(ctx context.Context, toUserID string) error {
	a, err := actorFrom(ctx)
	if err != nil {
		return err
	}
	if !a.CanTransferOwnership() {
		return cohort.ErrForbidden("transfer ownership of the practice")
	}
	return db.inTx(ctx, a, func(t *tx) error {
		to, err := t.lockUser(toUserID)
		if err != nil {
			return err
		}
		if to.IsOwner {
			return nil
		}
		if to.Archived() {
			return cohort.Errorf(cohort.EINVALID, "%s is archived: restore them before making them the account owner.", to.Name())
		}
		from, err := scanUser(t.queryRow(`SELECT `+userCols+` FROM users WHERE workspace_id = $1 AND is_owner = $2`+t.db.d.forUpdate(),
			t.actor.WorkspaceID, true))
		if err != nil && cohort.ErrorCode(err) != cohort.ENOTFOUND {
			return err
		}
		changes := ownerTransferAudit{IsOwner: cohort.Changed(false, true)}
		if from != nil {
			changes.FromUserID = from.ID
			from.IsOwner, from.UpdatedAt = false, t.now
			from.Version++
			if _, err := t.exec(`UPDATE users SET is_owner = $1, version = $2, updated_at = $3 WHERE id = $4`,
				false, from.Version, ts(t.now), from.ID); err != nil {
				return err
			}
		}
		to.IsOwner, to.UpdatedAt = true, t.now
		to.Version++
		if _, err := t.exec(`UPDATE users SET is_owner = $1, version = $2, updated_at = $3 WHERE id = $4`,
			true, to.Version, ts(t.now), to.ID); err != nil {
			return err
		}
		if err := t.audit(cohort.ActionOwnerTransferred, "user", to.ID, to.Name(), changes); err != nil {
			return err
		}
		if from != nil {
			if err := t.emit(cohort.ActionUserUpdated, cohort.UserEventData{User: cohort.NewUserResource(from),
				Changes: &cohort.UserChanges{IsOwner: cohort.Changed(true, false)}}); err != nil {
				return err
			}
		}
		return t.emit(cohort.ActionUserUpdated, cohort.UserEventData{User: cohort.NewUserResource(to),
			Changes: &cohort.UserChanges{IsOwner: cohort.Changed(false, true)}})
	})
}

// FindUserGroups lists the groups a staff member belongs to.
func (db *DB) FindUserGroups(ctx context.Context, userID string, f cohort.GroupFilter) (*cohort.GroupPage, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.CanViewGroups() {
		return nil, cohort.ErrForbidden("view groups")
	}
	if !storable(userID) {
		return nil, errUserNotFound
	}
	var status string
	err = db.read.QueryRowContext(ctx, `SELECT status FROM users WHERE id = $1 AND workspace_id = $2`, userID, a.WorkspaceID).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errUserNotFound
	}
	if err != nil {
		return nil, mapError(err)
	}
	// An archived staff member is not there for those who see active
	// staff only, as in FindUserByID.
	if cohort.Status(status) == cohort.StatusArchived && !a.StaffView().SeesArchived() {
		return nil, errUserNotFound
	}
	f.MemberID = userID
	return db.findGroups(ctx, a.WorkspaceID, f)
}

// SetPassword sets a staff member's password: the person themselves, a
// manager (not for the account owner, whose password only they or the
// system set), or the system.
func (db *DB) SetPassword(ctx context.Context, userID, password string) error {
	a, err := actorFrom(ctx)
	if err != nil {
		return err
	}
	self := a.UserID != "" && a.UserID == userID
	if !self && !a.CanManageUsers() {
		return cohort.ErrForbidden("change this password")
	}
	if err := cohort.ValidatePassword(password, cohort.IsCommonPassword); err != nil {
		return err
	}
	hash := hashPassword(password)
	return db.inTx(ctx, a, func(t *tx) error {
		u, err := t.lockUser(userID)
		if err != nil {
			return err
		}
		if u.IsOwner && !self && !a.System {
			return cohort.ErrForbidden("change the account owner's password")
		}
		if _, err := t.exec(`UPDATE users SET password_hash = $1 WHERE id = $2`, hash, u.ID); err != nil {
			return err
		}
		return t.audit(cohort.ActionUserUpdated, "user", u.ID, u.Name(), map[string]any{"password": "changed"})
	})
}
