package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/cohorthq/cohort"
)

// The staff directory: every signed-in staff member browses active staff,
// filters by one or more groups ("show me the Telehealth providers") and
// copies the listed people's email addresses.

const (
	directoryPerPage = 50
	// maxCopyAddresses bounds the address list a page carries; a larger
	// list is narrowed with the filter first.
	maxCopyAddresses = 5000
	// maxGroupFilter bounds how many groups one filter names.
	maxGroupFilter = 200
)

type directoryGroup struct {
	ID      string
	Name    string
	Members int
	Checked bool
}

type directoryView struct {
	Page
	Query  string
	Groups []directoryGroup
	// GroupQuery and GroupSearch: too many groups to list, so Groups are
	// the chosen ones and those matching GroupQuery.
	GroupQuery  string
	GroupSearch bool
	// Chosen are the groups the list is filtered by.
	Chosen  []directoryGroup
	People  []userRow
	Matches int
	// Emails are every listed person's address (all pages), for copying;
	// empty when there are more than maxCopyAddresses.
	Emails    string
	EmailsN   int
	TooMany   bool
	CopyLimit int
	PrevURL   string
	NextURL   string
	ClearURL  string
}

func directoryURL(q string, groups []string, after, before string) string {
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	for _, g := range groups {
		v.Add("group", g)
	}
	if after != "" {
		v.Set("after", after)
	}
	if before != "" {
		v.Set("before", before)
	}
	if len(v) == 0 {
		return "/directory"
	}
	return "/directory?" + v.Encode()
}

func (h *Handler) handleDirectory(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	v := directoryView{Page: h.page(r, "Directory"), Query: cleanText(q.Get("q"), maxQuery), CopyLimit: maxCopyAddresses}
	v.Section = "directory"
	chosen := map[string]bool{}
	var chosenIDs []string
	for _, id := range q["group"] {
		if validID(id) && !chosen[id] && len(chosenIDs) < maxGroupFilter {
			chosen[id] = true
			chosenIDs = append(chosenIDs, id)
		}
	}
	v.GroupQuery = cleanText(q.Get("group_q"), maxQuery)
	groups, searchable, err := h.groupChoices(r, v.GroupQuery, chosenIDs)
	v.GroupSearch = searchable
	if err != nil {
		return err
	}
	// Only the workspace's own active groups filter: a foreign or stale ID
	// in the address is dropped rather than matching nobody.
	var ids []string
	for _, g := range groups {
		dg := directoryGroup{ID: g.ID, Name: g.Name, Members: g.MemberCount, Checked: chosen[g.ID]}
		v.Groups = append(v.Groups, dg)
		if dg.Checked {
			v.Chosen = append(v.Chosen, dg)
			ids = append(ids, g.ID)
		}
	}
	f := cohort.UserFilter{Status: cohort.StatusActive, Query: v.Query, GroupIDs: ids, Limit: directoryPerPage,
		After: cleanCursor(q.Get("after")), Before: cleanCursor(q.Get("before"))}
	page, err := h.svc.Users.FindUsers(ctx, f)
	if err != nil && cohort.ErrorCode(err) == cohort.EINVALID {
		http.Redirect(w, r, directoryURL(v.Query, ids, "", ""), http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	if v.People, err = h.withGroups(r, page.Users); err != nil {
		return err
	}
	v.Matches = page.Total
	if page.Prev != "" {
		v.PrevURL = directoryURL(v.Query, ids, "", page.Prev)
	}
	if page.Next != "" {
		v.NextURL = directoryURL(v.Query, ids, page.Next, "")
	}
	if v.Query != "" || len(ids) > 0 {
		v.ClearURL = "/directory"
	}
	switch {
	case page.Total > maxCopyAddresses:
		v.TooMany = true
	case page.Total > 0:
		everyone := page.Users
		if page.Total > len(page.Users) {
			f.Limit, f.After, f.Before = maxCopyAddresses, "", ""
			all, err := h.svc.Users.FindUsers(ctx, f)
			if err != nil {
				return err
			}
			everyone = all.Users
		}
		emails := make([]string, len(everyone))
		for i, u := range everyone {
			emails[i] = u.Email
		}
		v.Emails, v.EmailsN = strings.Join(emails, ", "), len(emails)
	}
	return h.render(w, r, http.StatusOK, "directory", v)
}
