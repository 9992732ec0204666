package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/cohorthq/cohort"
)

// Page sizes.
const (
	groupsPerPage  = 25
	membersPerPage = 50
)

// groupListView is Settings → Groups.
type groupListView struct {
	Page
	Archived      bool
	Query         string
	ActiveCount   int
	ArchivedCount int
	Groups        []*cohort.Group
	// Matches is how many groups match the tab and search, all pages.
	Matches   int
	CanManage bool
	ActiveURL string
	// ArchivedURL links the Archived tab; both tabs keep the search.
	ArchivedURL string
	ClearURL    string
	PrevURL     string
	NextURL     string
}

// listURL builds a Groups list address.
func listURL(archived bool, q, after, before string) string {
	v := url.Values{}
	if archived {
		v.Set("status", "archived")
	}
	if q != "" {
		v.Set("q", q)
	}
	if after != "" {
		v.Set("after", after)
	}
	if before != "" {
		v.Set("before", before)
	}
	if len(v) == 0 {
		return "/settings/groups"
	}
	return "/settings/groups?" + v.Encode()
}

// Confirmations shown after a change; the group's name is read from the
// store, not from the address, so a link cannot put words on the page.
var doneMessages = map[string]string{
	"created":  "Group %q created.",
	"saved":    "Group %q saved.",
	"archived": "Group %q archived. You can find it under Archived.",
	"restored": "Group %q restored.",
}

func doneURL(done string, g *cohort.Group) string {
	return "/settings/groups?" + url.Values{"done": {done}, "group": {g.ID}}.Encode()
}

// doneChangedURL is doneURL for a save that added and removed members:
// the confirmation says how many.
func doneChangedURL(done string, g *cohort.Group, added, removed int) string {
	return "/settings/groups?" + url.Values{"done": {done}, "group": {g.ID},
		"added": {strconv.Itoa(added)}, "removed": {strconv.Itoa(removed)}}.Encode()
}

// memberSummary says what a save did to the members ("Added 3, removed
// 1."), from the counts in the address (numbers only, never text), or ""
// when the address has none.
func memberSummary(q url.Values) string {
	n := func(k string) (int, bool) {
		i, err := strconv.Atoi(q.Get(k))
		return i, err == nil && i >= 0
	}
	added, okA := n("added")
	removed, okR := n("removed")
	switch {
	case !okA || !okR:
		return ""
	case added == 0 && removed == 0:
		return " No one was added or removed."
	case removed == 0:
		return fmt.Sprintf(" Added %d.", added)
	case added == 0:
		return fmt.Sprintf(" Removed %d.", removed)
	}
	return fmt.Sprintf(" Added %d, removed %d.", added, removed)
}

func (h *Handler) flash(r *http.Request) string {
	q := r.URL.Query()
	format, ok := doneMessages[q.Get("done")]
	id := q.Get("group")
	if !ok || !validID(id) {
		return ""
	}
	g, err := h.svc.Groups.FindGroupByID(r.Context(), id)
	if err != nil {
		return ""
	}
	msg := fmt.Sprintf(format, g.Name)
	if q.Get("done") == "saved" || q.Get("done") == "created" {
		msg += memberSummary(q)
	}
	return msg
}

func (h *Handler) handleGroupList(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	v := groupListView{
		Page:      h.settingsPage(r, "groups", "Groups"),
		Archived:  q.Get("status") == "archived",
		Query:     cleanText(q.Get("q"), maxQuery),
		CanManage: ctxActor(ctx).CanManageGroups(),
	}
	v.Flash = h.flash(r)
	active, archived, err := h.svc.Groups.CountGroups(ctx)
	if err != nil {
		return err
	}
	v.ActiveCount, v.ArchivedCount = active, archived
	status := cohort.StatusActive
	if v.Archived {
		status = cohort.StatusArchived
		v.Title = "Archived groups"
	}
	page, err := h.svc.Groups.FindGroups(ctx, cohort.GroupFilter{
		Status: status,
		Query:  v.Query,
		Limit:  groupsPerPage,
		After:  cleanCursor(q.Get("after")),
		Before: cleanCursor(q.Get("before")),
		// The page shows a total only for a search ("N groups match");
		// the tabs' counts above already say how many there are.
		SkipTotal: v.Query == "",
	})
	if err != nil {
		if cohort.ErrorCode(err) == cohort.EINVALID {
			// A cursor from another listing or an old link: start over.
			http.Redirect(w, r, listURL(v.Archived, v.Query, "", ""), http.StatusSeeOther)
			return nil
		}
		return err
	}
	v.Groups, v.Matches = page.Groups, page.Total
	v.ActiveURL = listURL(false, v.Query, "", "")
	v.ArchivedURL = listURL(true, v.Query, "", "")
	v.ClearURL = listURL(v.Archived, "", "", "")
	if page.Prev != "" {
		v.PrevURL = listURL(v.Archived, v.Query, "", page.Prev)
	}
	if page.Next != "" {
		v.NextURL = listURL(v.Archived, v.Query, page.Next, "")
	}
	return h.render(w, r, http.StatusOK, "groups", v)
}

// groupView is the read-only page of one group: every staff member may
// see it; managers get Edit/Archive or Restore.
type groupView struct {
	Page
	Group     *cohort.Group
	Members   []*cohort.User
	CanManage bool
	// Message explains why this page is shown instead of another (an
	// archived group's edit page).
	Message string
	PrevURL string
	NextURL string
	// History is the group's audit entries; nil when the actor may not
	// read the audit log.
	History *historySection
}

func (h *Handler) loadGroup(r *http.Request) (*cohort.Group, error) {
	id := r.PathValue("id")
	if !validID(id) {
		return nil, notFound("There is no such group. It may have been removed, or the link is wrong.")
	}
	g, err := h.svc.Groups.FindGroupByID(r.Context(), id)
	if err != nil {
		if cohort.ErrorCode(err) == cohort.ENOTFOUND {
			return nil, notFound("There is no such group. It may have been removed, or the link is wrong.")
		}
		return nil, err
	}
	return g, nil
}

func (h *Handler) handleGroupView(w http.ResponseWriter, r *http.Request) error {
	g, err := h.loadGroup(r)
	if err != nil {
		return err
	}
	return h.renderGroupView(w, r, http.StatusOK, g, "")
}

func (h *Handler) renderGroupView(w http.ResponseWriter, r *http.Request, status int, g *cohort.Group, msg string) error {
	q := r.URL.Query()
	page, err := h.svc.Groups.FindMembers(r.Context(), g.ID, cohort.UserFilter{
		Status: cohort.StatusActive,
		Limit:  membersPerPage,
		After:  cleanCursor(q.Get("after")),
		Before: cleanCursor(q.Get("before")),
	})
	if err != nil && cohort.ErrorCode(err) == cohort.EINVALID {
		page, err = h.svc.Groups.FindMembers(r.Context(), g.ID, cohort.UserFilter{Status: cohort.StatusActive, Limit: membersPerPage})
	}
	if err != nil {
		return err
	}
	v := groupView{
		Page:      h.settingsPage(r, "groups", g.Name),
		Group:     g,
		Members:   page.Users,
		CanManage: ctxActor(r.Context()).CanManageGroups(),
		Message:   msg,
		History:   h.groupHistory(r, g),
	}
	base := "/settings/groups/" + url.PathEscape(g.ID)
	if page.Prev != "" {
		v.PrevURL = base + "?" + url.Values{"before": {page.Prev}}.Encode()
	}
	if page.Next != "" {
		v.NextURL = base + "?" + url.Values{"after": {page.Next}}.Encode()
	}
	return h.render(w, r, status, "group", v)
}

// requireManager refuses (403) unless the actor manages groups.
func (h *Handler) requireManager(r *http.Request) error {
	if ctxActor(r.Context()).CanManageGroups() {
		return nil
	}
	return forbidden("Only the account owner, practitioner admins and practice managers can change groups. You can still view them.")
}

func (h *Handler) handleGroupArchive(w http.ResponseWriter, r *http.Request) error {
	g, err := h.loadGroup(r)
	if err != nil {
		return err
	}
	if err := h.requireManager(r); err != nil {
		return err
	}
	g, err = h.svc.Groups.ArchiveGroup(r.Context(), g.ID, 0)
	if err != nil {
		return err
	}
	http.Redirect(w, r, doneURL("archived", g), http.StatusSeeOther)
	return nil
}

// restoreView offers to restore a group under another name when an
// active group holds its name.
type restoreView struct {
	Page
	Group   *cohort.Group
	Message string
	NewName string
	Errors  map[string][]string
}

func (h *Handler) handleGroupRestore(w http.ResponseWriter, r *http.Request) error {
	g, err := h.loadGroup(r)
	if err != nil {
		return err
	}
	if err := h.requireManager(r); err != nil {
		return err
	}
	if err := h.parseForm(r); err != nil {
		return err
	}
	newName := ""
	if _, asked := r.PostForm["name"]; asked {
		newName, err = cohort.ValidateGroupName(r.PostForm.Get("name"))
		if err != nil {
			return h.renderRestore(w, r, http.StatusUnprocessableEntity, g, cleanText(r.PostForm.Get("name"), 2*cohort.GroupNameMax), cohort.ErrorMessage(err))
		}
	}
	restored, err := h.svc.Groups.RestoreGroup(r.Context(), g.ID, newName, 0)
	switch cohort.ErrorCode(err) {
	case "":
		http.Redirect(w, r, doneURL("restored", restored), http.StatusSeeOther)
		return nil
	case cohort.ECONFLICT:
		name := newName
		if name == "" {
			name = g.Name
		}
		msg := fmt.Sprintf("An active group is already named %q. Restore this group under another name, or rename the other group first.", h.activeNameHolder(r, name))
		return h.renderRestore(w, r, http.StatusConflict, g, newName, msg)
	case cohort.EINVALID:
		return h.renderRestore(w, r, http.StatusUnprocessableEntity, g, newName, cohort.ErrorMessage(err))
	default:
		return err
	}
}

func (h *Handler) renderRestore(w http.ResponseWriter, r *http.Request, status int, g *cohort.Group, newName, msg string) error {
	v := restoreView{
		Page:    h.settingsPage(r, "groups", "Restore under another name"),
		Group:   g,
		Message: msg,
		NewName: newName,
	}
	if newName != "" || status == http.StatusUnprocessableEntity {
		v.Errors = map[string][]string{"name": {msg}}
	}
	return h.render(w, r, status, "group_restore", v)
}

// activeNameHolder returns the name as the active group holding it spells
// it, or name itself when none is found.
func (h *Handler) activeNameHolder(r *http.Request, name string) string {
	page, err := h.svc.Groups.FindGroups(r.Context(), cohort.GroupFilter{Status: cohort.StatusActive, Name: name, Limit: 1})
	if err == nil && len(page.Groups) > 0 {
		return page.Groups[0].Name
	}
	return name
}
