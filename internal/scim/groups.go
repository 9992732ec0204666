package scim

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/cohorthq/cohort"
	filter "github.com/scim2/filter-parser/v2"
)

// A Cohort group as a SCIM Group: displayName is the name, members are
// its users (active and archived: an archived user keeps memberships).
// Archived groups are invisible to SCIM: DELETE archives, and a later POST
// with the same displayName and externalId restores.

func groupResource(base string, g *cohort.Group, members []*cohort.User, withMembers bool) map[string]any {
	res := map[string]any{
		"schemas":     []string{SchemaGroup},
		"id":          g.ID,
		"displayName": g.Name,
		"meta": map[string]any{
			"resourceType": "Group",
			"created":      fmtTime(g.CreatedAt),
			"lastModified": fmtTime(g.UpdatedAt),
			"location":     base + "/Groups/" + g.ID,
			"version":      etag(g.Version),
		},
	}
	if g.ExternalID != "" {
		res["externalId"] = g.ExternalID
	}
	if withMembers {
		ml := make([]map[string]any, 0, len(members))
		for _, u := range members {
			ml = append(ml, map[string]any{"value": u.ID, "display": u.Name(), "$ref": base + "/Users/" + u.ID, "type": "User"})
		}
		res["members"] = ml
	}
	return res
}

func timesOf(created, updated time.Time) map[string]time.Time {
	return map[string]time.Time{"meta.created": created, "meta.lastModified": updated}
}

// groupRecord is g for the filter; ms answers membership questions.
func groupRecord(g *cohort.Group, ms *memberships) *record {
	return &record{
		strs: map[string]string{
			"id":                g.ID,
			"externalId":        g.ExternalID,
			"displayName":       g.Name,
			"meta.resourceType": "Group",
		},
		times:      timesOf(g.CreatedAt, g.UpdatedAt),
		hasMembers: g.MemberCount+g.ArchivedMemberCount > 0,
		isMember:   func(userID string) (bool, error) { return ms.isMember(userID, g.ID) },
	}
}

// memberships answers "does user u belong to group g" for one request.
// It loads each user a filter names once (their groups, a page per 1,000)
// instead of asking the store once per group examined, so a member
// filter costs queries per user named, not per group.
type memberships struct {
	ctx context.Context
	svc cohort.UserService
	// known is a user the store's filter already proved to be a member
	// of every candidate.
	known  string
	groups map[string]map[string]bool
}

func (h *Handler) memberships(ctx context.Context, known string) *memberships {
	return &memberships{ctx: ctx, svc: h.svc.Users, known: known, groups: map[string]map[string]bool{}}
}

func (m *memberships) isMember(userID, groupID string) (bool, error) {
	if userID == m.known {
		return true, nil
	}
	set, ok := m.groups[userID]
	if !ok {
		set = map[string]bool{}
		f := cohort.GroupFilter{Status: cohort.StatusActive, Limit: MaxCount}
		for {
			page, err := m.svc.FindUserGroups(m.ctx, userID, f)
			if code := cohort.ErrorCode(err); code == cohort.ENOTFOUND || code == cohort.EINVALID {
				break // no such user here: a member of nothing
			}
			if err != nil {
				return false, err
			}
			for _, g := range page.Groups {
				set[g.ID] = true
			}
			if page.Next == "" || len(page.Groups) == 0 {
				break
			}
			f.After = page.Next
		}
		m.groups[userID] = set
	}
	return set[groupID], nil
}

func groupPushdown(n node) (f cohort.GroupFilter, exact bool) {
	f.Status = cohort.StatusActive
	if n == nil {
		return f, true
	}
	exact = true
	for _, c := range conjuncts(n) {
		switch c := c.(type) {
		case cmpNode:
			if !pushGroupCmp(&f, c) {
				exact = false
			}
		case memberNode:
			if len(c.ids) == 1 && c.ids[0] != "" && f.MemberID == "" {
				f.MemberID = c.ids[0]
				continue
			}
			exact = false
		default:
			exact = false
		}
	}
	return f, exact
}

func pushGroupCmp(f *cohort.GroupFilter, c cmpNode) bool {
	switch {
	case c.spec.key == "meta.lastModified" && (c.op == filter.GT || c.op == filter.GE):
		if f.UpdatedAfter == nil {
			f.UpdatedAfter = widen(c.t, false)
		}
		return false
	case c.spec.key == "meta.lastModified" && (c.op == filter.LT || c.op == filter.LE):
		if f.UpdatedBefore == nil {
			f.UpdatedBefore = widen(c.t, true)
		}
		return false
	case c.op != filter.EQ || c.str == "":
		return false
	case c.spec.key == "displayName" && f.Name == "":
		f.Name = c.str
		return true
	case c.spec.key == "externalId" && f.ExternalID == "":
		f.ExternalID = c.str
		return true
	case c.spec.key == "id" && f.IDs == nil:
		f.IDs = []string{c.str}
		return true
	}
	return false
}

// findGroups answers a filtered, paged list of active groups.
func (h *Handler) findGroups(ctx context.Context, n node, lp listParams) ([]*cohort.Group, int, error) {
	f, exact := groupPushdown(n)
	ms := h.memberships(ctx, f.MemberID)
	if exact {
		pf := f
		pf.Offset = lp.startIndex - 1
		pf.Limit = max(lp.count, 1)
		page, err := h.svc.Groups.FindGroups(ctx, pf)
		if err != nil {
			return nil, 0, err
		}
		ok := true
		for _, g := range page.Groups {
			if n != nil {
				m, err := n.eval(groupRecord(g, ms))
				if err != nil {
					return nil, 0, err
				}
				ok = ok && m
			}
		}
		if ok {
			groups := page.Groups
			if lp.count == 0 {
				groups = nil
			}
			return groups, page.Total, nil
		}
	}
	w := window[*cohort.Group]{lp: lp}
	f.Limit = scanPage
	scanned := 0
	for {
		page, err := h.svc.Groups.FindGroups(ctx, f)
		if err != nil {
			return nil, 0, err
		}
		if scanned == 0 && page.Total > h.maxScan {
			return nil, 0, errTooMany(h.maxScan)
		}
		for _, g := range page.Groups {
			scanned++
			m, err := n.eval(groupRecord(g, ms))
			if err != nil {
				return nil, 0, err
			}
			if m {
				w.add(g)
			}
		}
		if page.Next == "" || len(page.Groups) == 0 {
			break
		}
		if scanned >= h.maxScan {
			return nil, 0, errTooMany(h.maxScan)
		}
		f.After = page.Next
	}
	return w.items, w.total, nil
}

// groupMembers loads every member of a group, page by page. Only called
// when the response includes members.
func (h *Handler) groupMembers(ctx context.Context, groupID string) ([]*cohort.User, error) {
	var out []*cohort.User
	f := cohort.UserFilter{Limit: MaxCount}
	for {
		page, err := h.svc.Groups.FindMembers(ctx, groupID, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Users...)
		if page.Next == "" || len(page.Users) == 0 {
			return out, nil
		}
		f.After = page.Next
	}
}

func (h *Handler) handleGroupList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	lp, err := parseListParams(q)
	if err != nil {
		return err
	}
	proj, err := parseProjection(q, SchemaGroup)
	if err != nil {
		return err
	}
	var n node
	if fs, ok := q["filter"]; ok {
		if n, err = parseFilter(strings.Join(fs, " "), groupFilterSchema); err != nil {
			return err
		}
	}
	groups, total, err := h.findGroups(r.Context(), n, lp)
	if err != nil {
		return err
	}
	base := h.baseURL(r)
	withMembers := proj.wants("members")
	out := make([]map[string]any, 0, len(groups))
	for _, g := range groups {
		var members []*cohort.User
		if withMembers {
			if members, err = h.groupMembers(r.Context(), g.ID); err != nil {
				return err
			}
		}
		out = append(out, proj.apply(groupResource(base, g, members, withMembers)))
	}
	writeJSON(w, http.StatusOK, listResponse(total, lp, out))
	return nil
}

// findGroup returns an active group; archived groups answer 404 because
// SCIM DELETE archived them.
func (h *Handler) findGroup(ctx context.Context, id string) (*cohort.Group, error) {
	if !storable(id) {
		return nil, errNotFound("There is no group with that id in this workspace.")
	}
	g, err := h.svc.Groups.FindGroupByID(ctx, id)
	if code := cohort.ErrorCode(err); code == cohort.ENOTFOUND || code == cohort.EINVALID || err == nil && g.Archived() {
		return nil, errNotFound("There is no group " + id + " in this workspace.")
	}
	return g, err
}

// writeGroup answers with one group; members are loaded only when the
// projection includes them.
func (h *Handler) writeGroup(w http.ResponseWriter, r *http.Request, status int, g *cohort.Group) error {
	proj, err := parseProjection(r.URL.Query(), SchemaGroup)
	if err != nil {
		return err
	}
	var members []*cohort.User
	withMembers := proj.wants("members")
	if withMembers {
		if members, err = h.groupMembers(r.Context(), g.ID); err != nil {
			return err
		}
	}
	w.Header().Set("ETag", etag(g.Version))
	if status == http.StatusCreated {
		w.Header().Set("Location", h.baseURL(r)+"/Groups/"+g.ID)
	}
	writeJSON(w, status, proj.apply(groupResource(h.baseURL(r), g, members, withMembers)))
	return nil
}

func (h *Handler) handleGroupGet(w http.ResponseWriter, r *http.Request) error {
	g, err := h.findGroup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if notModified(r, g.Version) {
		w.Header().Set("ETag", etag(g.Version))
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return h.writeGroup(w, r, http.StatusOK, g)
}

// groupInput is a Group as POST and PUT send it.
type groupInput struct {
	DisplayName *string      `json:"displayName"`
	ExternalID  *string      `json:"externalId"`
	Members     *[]memberRef `json:"members"`
}

// memberRef is one element of members; display, $ref and type are
// ignored.
type memberRef struct {
	Value any `json:"value"`
}

// memberIDsOf reads the user IDs of a members value.
func memberIDsOf(refs []memberRef) ([]string, error) {
	ids := make([]string, 0, len(refs))
	for _, m := range refs {
		id, ok := m.Value.(string)
		if !ok || strings.TrimSpace(id) == "" {
			return nil, errValue("Each member needs a \"value\": the SCIM id of a User.")
		}
		if !storable(id) {
			return nil, errValue("A member value contains a NUL character or invalid UTF-8: send the SCIM id of a User.")
		}
		ids = append(ids, strings.TrimSpace(id))
	}
	if len(ids) > cohort.MaxMemberChange {
		return nil, errValue("Too many members in one request: send at most 100000.")
	}
	return cohort.UniqueIDs(ids), nil
}

func (in *groupInput) name() (string, error) {
	if in.DisplayName == nil {
		return "", errValue("displayName is required.")
	}
	n, err := cohort.ValidateGroupName(*in.DisplayName)
	if err != nil {
		return "", errValue("displayName: " + cohort.ErrorMessage(err))
	}
	return n, nil
}

// checkUsersExist refuses member IDs that are not users of the workspace
// before anything is written.
func (h *Handler) checkUsersExist(ctx context.Context, ids []string) error {
	for start := 0; start < len(ids); start += MaxCount {
		chunk := ids[start:min(start+MaxCount, len(ids))]
		page, err := h.svc.Users.FindUsers(ctx, cohort.UserFilter{IDs: chunk, Limit: len(chunk)})
		if err != nil {
			return err
		}
		if len(page.Users) == len(chunk) {
			continue
		}
		found := map[string]bool{}
		for _, u := range page.Users {
			found[u.ID] = true
		}
		for _, id := range chunk {
			if !found[id] {
				return errValue("members: there is no user " + id + " in this workspace.")
			}
		}
	}
	return nil
}

func (h *Handler) handleGroupCreate(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var in groupInput
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	name, err := in.name()
	if err != nil {
		return err
	}
	var ids []string
	if in.Members != nil {
		if ids, err = memberIDsOf(*in.Members); err != nil {
			return err
		}
	}
	ext := ""
	if in.ExternalID != nil {
		if ext, err = validateExternalID(*in.ExternalID); err != nil {
			return err
		}
	}
	// A group archived by a SCIM DELETE comes back when the provider
	// creates it again with the same displayName and externalId.
	if ext != "" {
		archived, err := h.svc.Groups.FindArchivedByName(ctx, name)
		if err != nil {
			return err
		}
		for _, a := range archived {
			if a.ExternalID == ext {
				return h.restoreGroup(w, r, a, name, in.Members != nil, ids)
			}
		}
	}
	g, err := h.svc.Groups.CreateGroup(ctx, cohort.GroupCreate{Name: name, ExternalID: ext, MemberIDs: ids})
	if cohort.ErrorCode(err) == cohort.ECONFLICT {
		return &scimError{status: http.StatusConflict, scimType: typeUniqueness, detail: "A group named " + name + " already exists: look it up with filter=displayName eq \"" + name + "\"."}
	}
	if err != nil {
		return err
	}
	return h.writeGroup(w, r, http.StatusCreated, g)
}

// restoreGroup restores an archived group for a POST, under the name as
// sent, and sets its members when the POST lists them.
func (h *Handler) restoreGroup(w http.ResponseWriter, r *http.Request, a *cohort.Group, name string, setMembers bool, ids []string) error {
	ctx := r.Context()
	if setMembers {
		if err := h.checkUsersExist(ctx, ids); err != nil {
			return err
		}
	}
	newName := ""
	if name != a.Name {
		newName = name
	}
	g, err := h.svc.Groups.RestoreGroup(ctx, a.ID, newName, 0)
	if cohort.ErrorCode(err) == cohort.ECONFLICT {
		return &scimError{status: http.StatusConflict, scimType: typeUniqueness, detail: "A group named " + name + " already exists: look it up with filter=displayName eq \"" + name + "\"."}
	}
	if err != nil {
		return err
	}
	if setMembers {
		if g, _, err = h.svc.Groups.UpdateGroup(ctx, g.ID, cohort.GroupUpdate{ReplaceMembers: &ids}); err != nil {
			return err
		}
	}
	return h.writeGroup(w, r, http.StatusCreated, g)
}

// handleGroupReplace is PUT: displayName and externalId as sent; members
// replaced when the body has "members" (a PUT without members leaves
// membership as it is, so a rename cannot empty a group by accident).
func (h *Handler) handleGroupReplace(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var in groupInput
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	g, err := h.findGroup(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	want, ok := ifMatch(r)
	if !ok || want != 0 && want != g.Version {
		return errPrecondition()
	}
	name, err := in.name()
	if err != nil {
		return err
	}
	upd := cohort.GroupUpdate{IfVersion: want}
	if name != g.Name {
		upd.Name = &name
	}
	ext := ""
	if in.ExternalID != nil {
		if ext, err = validateExternalID(*in.ExternalID); err != nil {
			return err
		}
	}
	if ext != g.ExternalID {
		upd.ExternalID = &ext
	}
	if in.Members != nil {
		ids, err := memberIDsOf(*in.Members)
		if err != nil {
			return err
		}
		upd.ReplaceMembers = &ids
	}
	if g, err = h.updateGroup(ctx, g, upd); err != nil {
		return err
	}
	return h.writeGroup(w, r, http.StatusOK, g)
}

// updateGroup applies upd (one transaction in the store) unless it
// changes nothing.
func (h *Handler) updateGroup(ctx context.Context, g *cohort.Group, upd cohort.GroupUpdate) (*cohort.Group, error) {
	if upd.Name == nil && upd.Description == nil && upd.ExternalID == nil && !upd.ChangesMembers() {
		return g, nil
	}
	ng, _, err := h.svc.Groups.UpdateGroup(ctx, g.ID, upd)
	switch cohort.ErrorCode(err) {
	case "":
		return ng, nil
	case cohort.ECONFLICT:
		return nil, &scimError{status: http.StatusConflict, scimType: typeUniqueness, detail: cohort.ErrorMessage(err)}
	case cohort.EARCHIVED, cohort.ENOTFOUND:
		return nil, errNotFound("There is no group " + g.ID + " in this workspace.")
	}
	return nil, err
}

// handleGroupDelete archives the group; it then disappears from SCIM.
func (h *Handler) handleGroupDelete(w http.ResponseWriter, r *http.Request) error {
	g, err := h.findGroup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	// If-Match is checked by the store, in the transaction that
	// archives, so a write between this read and the archive is never
	// overwritten.
	version, err := ifMatchVersion(r)
	if err != nil {
		return err
	}
	if _, err := h.svc.Groups.ArchiveGroup(r.Context(), g.ID, version); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
