package web

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cohorthq/cohort"
)

// The user picker of the Add and Edit group forms. It is a plain list of
// labelled checkboxes inside the group form, so it works without
// JavaScript; picker.js swaps its results as the manager types, through
// handlePicker. Selections survive searches and pages by this rule:
//
//   - every checkbox rendered is also posted as "shown", and checked ones
//     as "member";
//   - choices made on earlier renders that are not shown now travel as
//     hidden "keep_add" / "keep_remove" fields;
//   - the server computes add = chosen − current members and
//     remove = unchosen ∩ current members, and saves them with the name in
//     one update.

// Picker page sizes: members of the group are listed first (up to
// pickerMembers), then other active staff a page at a time.
const (
	pickerMembers = 100
	pickerOthers  = 50
)

// memberChoice is the pending change of membership a form carries.
type memberChoice struct {
	add    map[string]bool
	remove map[string]bool
}

// parseMemberChoice reads shown/member/keep_* from a posted form. ok is
// false when an ID is malformed (a tampered or broken form).
func parseMemberChoice(form url.Values) (c memberChoice, ok bool) {
	c = memberChoice{add: map[string]bool{}, remove: map[string]bool{}}
	ok = true
	check := func(ids []string) []string {
		out := ids[:0:0]
		for _, id := range ids {
			if !validID(id) {
				ok = false
				continue
			}
			out = append(out, id)
		}
		return out
	}
	for _, id := range check(form["keep_add"]) {
		c.add[id] = true
	}
	for _, id := range check(form["keep_remove"]) {
		c.remove[id] = true
	}
	checked := map[string]bool{}
	for _, id := range check(form["member"]) {
		checked[id] = true
	}
	// What is on the screen wins over what was carried.
	for _, id := range check(form["shown"]) {
		delete(c.add, id)
		delete(c.remove, id)
		if checked[id] {
			c.add[id] = true
		} else {
			c.remove[id] = true
		}
	}
	// A checked box that was not declared shown (an odd client) still
	// counts as chosen.
	for id := range checked {
		if !c.remove[id] {
			c.add[id] = true
		}
	}
	return c, ok
}

// normalize keeps only real changes: adds of non-members and removes of
// members of groupID ("" for a new group, which has no members).
func (h *Handler) normalize(ctx context.Context, groupID string, c memberChoice) (memberChoice, error) {
	out := memberChoice{add: map[string]bool{}, remove: map[string]bool{}}
	if groupID == "" {
		for id := range c.add {
			out.add[id] = true
		}
		return out, nil
	}
	ids := make([]string, 0, len(c.add)+len(c.remove))
	for id := range c.add {
		ids = append(ids, id)
	}
	for id := range c.remove {
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return out, nil
	}
	page, err := h.svc.Groups.FindMembers(ctx, groupID, cohort.UserFilter{IDs: ids})
	if err != nil {
		return out, err
	}
	member := map[string]bool{}
	for _, u := range page.Users {
		member[u.ID] = true
	}
	for id := range c.add {
		if !member[id] {
			out.add[id] = true
		}
	}
	for id := range c.remove {
		if member[id] {
			out.remove[id] = true
		}
	}
	return out, nil
}

// pickerQuery is what the picker lists: a search, a role and a location
// (each "" for any), and a page.
type pickerQuery struct {
	q, role, location string
	after, before     string
}

// readPickerQuery reads the picker's search and filters; names are the
// fields the form and the fragment use for each ("q", then the role and
// the location field).
func readPickerQuery(v url.Values, role, location string) pickerQuery {
	pq := pickerQuery{q: cleanText(v.Get("q"), maxQuery), location: cleanText(v.Get(location), cohort.LocationMax)}
	if r := cohort.Role(v.Get(role)); r.Valid() {
		pq.role = string(r)
	}
	return pq
}

// filter is the store's filter for the picker's active staff.
func (pq pickerQuery) filter() cohort.UserFilter {
	return cohort.UserFilter{Status: cohort.StatusActive, Query: pq.q, Role: cohort.Role(pq.role), Location: pq.location}
}

// pickerView is the picker's results: what the "picker" partial renders.
type pickerView struct {
	GroupID string
	Query   string
	// Filters names the role and location filters applied ("" for none),
	// for the status line.
	Filters string
	// Members are the group's active members matching Query (edit only).
	Members      []pickerRow
	MembersTotal int
	// Others are the other active staff matching Query, one page.
	Others      []pickerRow
	OthersTotal int
	Next        string
	Prev        string
	// Carried holds the choices not shown in this render.
	KeepAdd    []string
	KeepRemove []string
}

// Narrowed says a search or a filter narrows the list.
func (p pickerView) Narrowed() bool { return p.Query != "" || p.Filters != "" }

// AddAll is how many staff "Add all" would add: every active staff
// member matching the search who is not in the group, when there are at
// most maxAddAll of them; 0 hides the button.
func (p pickerView) AddAll() int {
	if p.OthersTotal > maxAddAll {
		return 0
	}
	return p.OthersTotal
}

// TooManyToAddAll says the list is too long for "Add all".
func (p pickerView) TooManyToAddAll() bool { return p.OthersTotal > maxAddAll }

// AddAllMax is the most staff "Add all" adds at once, for the hint.
func (p pickerView) AddAllMax() int { return maxAddAll }

// MoreMembers is how many matching members are not listed.
func (p pickerView) MoreMembers() int { return p.MembersTotal - len(p.Members) }

// pickerRow is one person in the picker or the Selected panel: enough to
// tell two people of the same name apart (email, role, attributes).
type pickerRow struct {
	ID       string
	Name     string
	Email    string
	Role     string
	Checked  bool
	IsMember bool
	cohort.StaffAttributes
}

// Details are the row's role and attributes, in the order shown.
func (r pickerRow) Details() []string {
	out := []string{}
	for _, s := range []string{r.Role, r.JobTitle, r.Location, r.EmploymentType, r.Phone} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func newPickerRow(u *cohort.User) pickerRow {
	return pickerRow{ID: u.ID, Name: u.Name(), Email: u.Email, Role: u.Role.Label(), StaffAttributes: u.StaffAttributes}
}

// loadPicker lists staff for the picker and applies the pending choice c
// (already normalised) to the checkboxes.
func (h *Handler) loadPicker(ctx context.Context, groupID string, pq pickerQuery, c memberChoice) (pickerView, error) {
	v := pickerView{GroupID: groupID, Query: pq.q}
	if pq.role != "" {
		v.Filters = cohort.Role(pq.role).Label()
	}
	if pq.location != "" {
		v.Filters = strings.TrimPrefix(v.Filters+", at "+pq.location, ", ")
	}
	shown := map[string]bool{}
	if groupID != "" {
		mf := pq.filter()
		mf.Limit = pickerMembers
		page, err := h.svc.Groups.FindMembers(ctx, groupID, mf)
		if err != nil {
			return v, err
		}
		v.MembersTotal = page.Total
		for _, u := range page.Users {
			shown[u.ID] = true
			row := newPickerRow(u)
			row.IsMember, row.Checked = true, !c.remove[u.ID]
			v.Members = append(v.Members, row)
		}
	}
	f := pq.filter()
	f.ExcludeGroupID, f.Limit, f.After, f.Before = groupID, pickerOthers, pq.after, pq.before
	page, err := h.svc.Users.FindUsers(ctx, f)
	if err != nil && (pq.after != "" || pq.before != "") && cohort.ErrorCode(err) == cohort.EINVALID {
		// A stale or foreign cursor: show the first page instead.
		f.After, f.Before = "", ""
		page, err = h.svc.Users.FindUsers(ctx, f)
	}
	if err != nil {
		return v, err
	}
	v.OthersTotal, v.Next, v.Prev = page.Total, page.Next, page.Prev
	for _, u := range page.Users {
		shown[u.ID] = true
		row := newPickerRow(u)
		row.Checked = c.add[u.ID]
		v.Others = append(v.Others, row)
	}
	for _, id := range slices.Sorted(maps.Keys(c.add)) {
		if !shown[id] {
			v.KeepAdd = append(v.KeepAdd, id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(c.remove)) {
		if !shown[id] {
			v.KeepRemove = append(v.KeepRemove, id)
		}
	}
	return v, nil
}

// handlePicker answers picker.js with the picker's results as an HTML
// fragment. Checkboxes show the stored membership; the script re-applies
// the choices the manager made on the page.
func (h *Handler) handlePicker(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	groupID := q.Get("group")
	if groupID != "" {
		if !validID(groupID) {
			return notFound("There is no such group.")
		}
		if _, err := h.svc.Groups.FindGroupByID(r.Context(), groupID); err != nil {
			return err
		}
	}
	if err := h.requireManager(r); err != nil {
		return err
	}
	pq := readPickerQuery(q, "role", "location")
	pq.after, pq.before = cleanCursor(q.Get("after")), cleanCursor(q.Get("before"))
	v, err := h.loadPicker(r.Context(), groupID, pq, memberChoice{})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := h.tmpl.fragment(&buf, "picker", v); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
	return nil
}

// maxAddAll bounds "Add all": one click adds at most this many staff, so
// a form never carries tens of thousands of IDs; a longer list is
// narrowed by searching first.
const maxAddAll = 1000

// addAllMatching chooses every active staff member who matches q and is
// not yet in the group ("" for a new group): the picker's "Add all". The
// choice is only made, not saved: Save saves it with the rest of the
// form.
func (h *Handler) addAllMatching(r *http.Request, groupID string, pq pickerQuery, c *memberChoice) error {
	f := pq.filter()
	f.ExcludeGroupID, f.Limit = groupID, maxAddAll
	page, err := h.svc.Users.FindUsers(r.Context(), f)
	if err != nil {
		return err
	}
	if page.Total > maxAddAll {
		// The button is not offered then; a hand-made request adds no one.
		return nil
	}
	for _, u := range page.Users {
		delete(c.remove, u.ID)
		c.add[u.ID] = true
	}
	return nil
}
