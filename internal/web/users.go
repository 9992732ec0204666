package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/cohorthq/cohort"
)

// Settings → Users: the staff list, a staff member's page with their
// groups, Archive / Restore and the account-owner transfer. Managers
// only; everyone else finds colleagues in the Directory.

const usersPerPage = 50

// requireUserManager refuses (403) unless the actor manages staff.
func (h *Handler) requireUserManager(r *http.Request) error {
	if ctxActor(r.Context()).CanManageUsers() {
		return nil
	}
	return forbidden("Only the account owner, practitioner admins and practice managers can manage staff. You can find your colleagues in the Directory.")
}

// userRow is one staff member in a list, with their active groups.
type userRow struct {
	*cohort.User
	Groups []cohort.GroupRef
	// MoreGroups counts groups not listed to keep the row short.
	MoreGroups int
}

// listedGroups is how many group names a row shows before "and N more".
const listedGroups = 5

// withGroups pairs users with their active groups: one query for the
// whole page, never one per person.
func (h *Handler) withGroups(r *http.Request, users []*cohort.User) ([]userRow, error) {
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	groups, err := h.svc.Directory.GroupsOfUsers(r.Context(), ids, cohort.StatusActive)
	if err != nil {
		return nil, err
	}
	rows := make([]userRow, len(users))
	for i, u := range users {
		gs := groups[u.ID]
		rows[i] = userRow{User: u, Groups: gs}
		if len(gs) > listedGroups {
			rows[i].Groups, rows[i].MoreGroups = gs[:listedGroups], len(gs)-listedGroups
		}
	}
	return rows, nil
}

// Group choices (the Users filter, the Directory's checkboxes, a user's
// "Add to a group") list every active group while there are at most
// maxListedGroups; beyond that a page lists only the groups whose names
// match a search (group_q), plus those already chosen, so a practice with
// 5,000 groups does not load and send them all on every page.
const (
	maxListedGroups = 300
	foundGroups     = 50
)

// groupChoices returns the active groups to offer and whether they are a
// search's matches (searchable) rather than all of them.
func (h *Handler) groupChoices(r *http.Request, q string, keep []string) (groups []*cohort.Group, searchable bool, err error) {
	ctx := r.Context()
	active, _, err := h.svc.Groups.CountGroups(ctx)
	if err != nil {
		return nil, false, err
	}
	if active <= maxListedGroups {
		page, err := h.svc.Groups.FindGroups(ctx, cohort.GroupFilter{Status: cohort.StatusActive, SkipTotal: true})
		if err != nil {
			return nil, false, err
		}
		return page.Groups, false, nil
	}
	seen := map[string]bool{}
	if len(keep) > 0 {
		page, err := h.svc.Groups.FindGroups(ctx, cohort.GroupFilter{Status: cohort.StatusActive, IDs: keep})
		if err != nil {
			return nil, true, err
		}
		for _, g := range page.Groups {
			seen[g.ID] = true
			groups = append(groups, g)
		}
	}
	if q != "" {
		page, err := h.svc.Groups.FindGroups(ctx, cohort.GroupFilter{Status: cohort.StatusActive, Query: q, Limit: foundGroups})
		if err != nil {
			return nil, true, err
		}
		for _, g := range page.Groups {
			if !seen[g.ID] {
				groups = append(groups, g)
			}
		}
	}
	return groups, true, nil
}

// userListView is Settings → Users.
type userListView struct {
	Page
	Query   string
	Role    string
	GroupID string
	Status  string
	Roles   []cohort.Role
	Groups  []*cohort.Group
	// Practice is the workspace's slug: staff type it on the sign-in
	// page, or follow its sign-in link.
	Practice string
	// GroupQuery and GroupSearch: the practice has too many groups to
	// list, so Groups are those matching GroupQuery.
	GroupQuery  string
	GroupSearch bool
	Users       []userRow
	Matches     int
	PrevURL     string
	NextURL     string
	// Filtered says a search or filter is applied (for the empty message).
	Filtered bool
}

// userFilter is the list's filter as read from the address.
type userFilter struct {
	q, role, group, status, groupQ string
}

func (f userFilter) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"q": f.q, "role": f.role, "group": f.group, "status": f.status, "group_q": f.groupQ} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

func usersURL(f userFilter, after, before string) string {
	v := f.values()
	if after != "" {
		v.Set("after", after)
	}
	if before != "" {
		v.Set("before", before)
	}
	if len(v) == 0 {
		return "/settings/users"
	}
	return "/settings/users?" + v.Encode()
}

// readUserFilter keeps only values the filter understands, so an odd
// address shows the whole list instead of an error.
func readUserFilter(q url.Values) userFilter {
	f := userFilter{q: cleanText(q.Get("q"), maxQuery), groupQ: cleanText(q.Get("group_q"), maxQuery)}
	if r := cohort.Role(q.Get("role")); r.Valid() {
		f.role = string(r)
	}
	if g := q.Get("group"); validID(g) {
		f.group = g
	}
	// Active staff are listed unless the filter asks for archived staff or
	// everyone ("all"), as Settings → Groups opens on its Active tab.
	switch s := q.Get("status"); s {
	case string(cohort.StatusArchived), "all":
		f.status = s
	}
	return f
}

// storeStatus is the status the store filters by: active by default, ""
// for everyone.
func (f userFilter) storeStatus() cohort.Status {
	switch f.status {
	case "all":
		return ""
	case string(cohort.StatusArchived):
		return cohort.StatusArchived
	}
	return cohort.StatusActive
}

func (h *Handler) handleUserList(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireUserManager(r); err != nil {
		return err
	}
	q := r.URL.Query()
	f := readUserFilter(q)
	v := userListView{
		Page:    h.settingsPage(r, "users", "Users"),
		Query:   f.q,
		Role:    f.role,
		GroupID: f.group,
		Status:  f.status,
		Roles:   cohort.Roles,
	}
	v.Flash = h.userListFlash(r)
	ws, err := h.svc.Workspaces.FindWorkspaceByID(r.Context(), v.Actor.WorkspaceID)
	if err != nil {
		return err
	}
	v.Practice = ws.Slug
	v.Filtered = f.q != "" || f.role != "" || f.group != "" || f.status != ""
	var keep []string
	if f.group != "" {
		keep = []string{f.group}
	}
	groups, searchable, err := h.groupChoices(r, f.groupQ, keep)
	if err != nil {
		return err
	}
	v.Groups, v.GroupSearch, v.GroupQuery = groups, searchable, f.groupQ
	uf := cohort.UserFilter{
		Status: f.storeStatus(),
		Role:   cohort.Role(f.role),
		Query:  f.q,
		Limit:  usersPerPage,
		After:  cleanCursor(q.Get("after")),
		Before: cleanCursor(q.Get("before")),
	}
	if f.group != "" {
		uf.GroupIDs = []string{f.group}
	}
	page, err := h.svc.Users.FindUsers(r.Context(), uf)
	if err != nil {
		if cohort.ErrorCode(err) == cohort.EINVALID {
			http.Redirect(w, r, usersURL(f, "", ""), http.StatusSeeOther)
			return nil
		}
		return err
	}
	if v.Users, err = h.withGroups(r, page.Users); err != nil {
		return err
	}
	v.Matches = page.Total
	if page.Prev != "" {
		v.PrevURL = usersURL(f, "", page.Prev)
	}
	if page.Next != "" {
		v.NextURL = usersURL(f, page.Next, "")
	}
	return h.render(w, r, http.StatusOK, "users", v)
}

// userListFlash confirms an import; the counts are numbers read back from
// the address, never text.
func (h *Handler) userListFlash(r *http.Request) string {
	q := r.URL.Query()
	kind := q.Get("imported")
	if kind != "users" && kind != "groups" {
		return ""
	}
	n := func(k string) int {
		i, err := strconv.Atoi(q.Get(k))
		if err != nil || i < 0 {
			return 0
		}
		return i
	}
	what := "Staff"
	if kind == "groups" {
		what = "Groups"
	}
	return fmt.Sprintf("%s imported: %d created, %d updated, %d unchanged.", what, n("created"), n("updated"), n("unchanged"))
}

// userView is a staff member's page.
type userView struct {
	Page
	User   *cohort.User
	Groups []*cohort.Group
	// Addable are the active groups the user is not in (those matching
	// GroupQuery when the practice has too many to list).
	Addable     []*cohort.Group
	GroupQuery  string
	GroupSearch bool
	// CanTransfer: the actor is the owner and may hand ownership over.
	CanTransfer bool
	Message     string
}

func (h *Handler) loadUser(r *http.Request) (*cohort.User, error) {
	id := r.PathValue("id")
	msg := "There is no such staff member. They may be in another practice, or the link is wrong."
	if !validID(id) {
		return nil, notFound(msg)
	}
	u, err := h.svc.Users.FindUserByID(r.Context(), id)
	if err != nil {
		if cohort.ErrorCode(err) == cohort.ENOTFOUND {
			return nil, notFound(msg)
		}
		return nil, err
	}
	return u, nil
}

func userURL(u *cohort.User) string { return "/settings/users/" + url.PathEscape(u.ID) }

// Confirmations on a user's page after a change; names come from the
// store, never from the address.
var userDone = map[string]string{
	"created":  "%s added. Tell them their email and the initial password you set; they can change it after signing in.",
	"saved":    "%s saved.",
	"archived": "%s archived. They are signed out and cannot sign in; their group memberships are kept but not counted.",
	"restored": "%s restored. They can sign in again and count in their groups.",
	"owner":    "%s is now the account owner.",
	"password": "The password of %s is set. Tell them the new password.",
}

func (h *Handler) userFlash(r *http.Request, u *cohort.User) string {
	q := r.URL.Query()
	done := q.Get("done")
	if format, ok := userDone[done]; ok {
		return fmt.Sprintf(format, u.Name())
	}
	if done != "added" && done != "removed" || !validID(q.Get("group")) {
		return ""
	}
	g, err := h.svc.Groups.FindGroupByID(r.Context(), q.Get("group"))
	if err != nil {
		return ""
	}
	if done == "added" {
		return fmt.Sprintf("%s added to %s.", u.Name(), g.Name)
	}
	return fmt.Sprintf("%s removed from %s.", u.Name(), g.Name)
}

func (h *Handler) handleUserView(w http.ResponseWriter, r *http.Request) error {
	u, err := h.loadUser(r)
	if err != nil {
		return err
	}
	if err := h.requireUserManager(r); err != nil {
		return err
	}
	return h.renderUser(w, r, http.StatusOK, u, "")
}

func (h *Handler) renderUser(w http.ResponseWriter, r *http.Request, status int, u *cohort.User, msg string) error {
	ctx := r.Context()
	mine, err := h.svc.Users.FindUserGroups(ctx, u.ID, cohort.GroupFilter{})
	if err != nil {
		return err
	}
	gq := cleanText(r.URL.Query().Get("group_q"), maxQuery)
	all, searchable, err := h.groupChoices(r, gq, nil)
	if err != nil {
		return err
	}
	in := map[string]bool{}
	for _, g := range mine.Groups {
		in[g.ID] = true
	}
	v := userView{
		Page:        h.settingsPage(r, "users", u.Name()),
		User:        u,
		Groups:      mine.Groups,
		CanTransfer: ctxActor(ctx).CanTransferOwnership() && !u.IsOwner && !u.Archived(),
		Message:     msg,
		GroupQuery:  gq,
		GroupSearch: searchable,
	}
	for _, g := range all {
		if !in[g.ID] {
			v.Addable = append(v.Addable, g)
		}
	}
	if msg == "" {
		v.Flash = h.userFlash(r, u)
	}
	return h.render(w, r, status, "user", v)
}

func (h *Handler) handleUserArchive(w http.ResponseWriter, r *http.Request) error {
	return h.setUserStatus(w, r, true)
}

func (h *Handler) handleUserRestore(w http.ResponseWriter, r *http.Request) error {
	return h.setUserStatus(w, r, false)
}

func (h *Handler) setUserStatus(w http.ResponseWriter, r *http.Request, archive bool) error {
	u, err := h.loadUser(r)
	if err != nil {
		return err
	}
	if err := h.requireUserManager(r); err != nil {
		return err
	}
	// The store refuses archiving the account owner or yourself, inside
	// the transaction; the page shows its message.
	done := "restored"
	if archive {
		done = "archived"
		_, err = h.svc.Users.ArchiveUser(r.Context(), u.ID, 0)
	} else {
		_, err = h.svc.Users.RestoreUser(r.Context(), u.ID, 0)
	}
	switch cohort.ErrorCode(err) {
	case "":
		http.Redirect(w, r, userURL(u)+"?done="+done, http.StatusSeeOther)
		return nil
	case cohort.ECONFLICT, cohort.EINVALID:
		return h.renderUser(w, r, errorStatus(err), u, cohort.ErrorMessage(err))
	default:
		return err
	}
}

// handleUserGroup adds the user to a group or removes them: a member
// delta, which needs no version and commutes with other changes.
func (h *Handler) handleUserGroup(w http.ResponseWriter, r *http.Request) error {
	u, err := h.loadUser(r)
	if err != nil {
		return err
	}
	if err := h.requireUserManager(r); err != nil {
		return err
	}
	if err := h.requireManager(r); err != nil {
		return err
	}
	if err := h.parseForm(r); err != nil {
		return err
	}
	gid := r.PostForm.Get("group")
	op := r.PostForm.Get("op")
	if !validID(gid) || op != "add" && op != "remove" {
		return h.renderUser(w, r, http.StatusUnprocessableEntity, u, "Choose a group first, then select Add to group.")
	}
	upd, done := cohort.GroupUpdate{Add: []string{u.ID}}, "added"
	if op == "remove" {
		upd, done = cohort.GroupUpdate{Remove: []string{u.ID}}, "removed"
	}
	_, _, err = h.svc.Groups.UpdateGroup(r.Context(), gid, upd)
	switch cohort.ErrorCode(err) {
	case "":
		http.Redirect(w, r, userURL(u)+"?"+url.Values{"done": {done}, "group": {gid}}.Encode(), http.StatusSeeOther)
		return nil
	case cohort.ENOTFOUND:
		return h.renderUser(w, r, errorStatus(err), u, "That group does not exist any more. Choose another.")
	case cohort.EARCHIVED:
		return h.renderUser(w, r, errorStatus(err), u, "That group is archived, so its members cannot change. Restore it in Settings → Groups first.")
	case cohort.EINVALID, cohort.ECONFLICT:
		return h.renderUser(w, r, errorStatus(err), u, cohort.ErrorMessage(err))
	default:
		return err
	}
}

// ownerView asks the owner to confirm handing ownership over.
type ownerView struct {
	Page
	User *cohort.User
}

// requireTransferrer refuses (403) unless the actor is the account owner, who
// alone hands ownership on.
func (h *Handler) requireTransferrer(r *http.Request) error {
	if ctxActor(r.Context()).CanTransferOwnership() {
		return nil
	}
	return forbidden("Only the account owner can make someone else the account owner.")
}

func (h *Handler) handleOwnerConfirm(w http.ResponseWriter, r *http.Request) error {
	u, err := h.loadUser(r)
	if err != nil {
		return err
	}
	if err := h.requireTransferrer(r); err != nil {
		return err
	}
	if u.IsOwner || u.Archived() {
		http.Redirect(w, r, userURL(u), http.StatusSeeOther)
		return nil
	}
	return h.render(w, r, http.StatusOK, "user_owner", ownerView{Page: h.settingsPage(r, "users", "Make account owner"), User: u})
}

func (h *Handler) handleOwnerTransfer(w http.ResponseWriter, r *http.Request) error {
	u, err := h.loadUser(r)
	if err != nil {
		return err
	}
	if err := h.requireTransferrer(r); err != nil {
		return err
	}
	err = h.svc.Users.TransferOwnership(r.Context(), u.ID)
	switch cohort.ErrorCode(err) {
	case "":
		http.Redirect(w, r, userURL(u)+"?done=owner", http.StatusSeeOther)
		return nil
	case cohort.EINVALID, cohort.ECONFLICT:
		return h.renderUser(w, r, errorStatus(err), u, cohort.ErrorMessage(err))
	default:
		return err
	}
}
