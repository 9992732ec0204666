package web

import (
	"maps"
	"net/http"
	"slices"

	"github.com/cohorthq/cohort"
)

// The Selected panel of Add group and Edit group: who the group will have
// when the manager selects Save, always on the page whatever the picker
// shows. On Add group it lists everyone chosen; on Edit group the pending
// change, "+ added" and "− removed", over the members the group has now.
// Each entry has a button (name "unpick") that takes it out of the
// change: without JavaScript it posts the form, which is shown again with
// the choice carried as the picker carries it (picker.go); picker.js does
// the same on the page.

// maxSelectedListed bounds the entries the panel names; the count and the
// form's hidden fields always cover the whole choice.
const maxSelectedListed = 500

type selectedView struct {
	// Editing: the panel shows a change to an existing group.
	Editing bool
	// Base is how many active members the group has now (0 when adding).
	Base int
	// Added and Removed are the pending change, in list order, at most
	// maxSelectedListed in all; AddedN and RemovedN count all of it.
	Added, Removed   []pickerRow
	AddedN, RemovedN int
}

// Count is how many active staff the group will have on Save.
func (s selectedView) Count() int { return s.Base + s.AddedN - s.RemovedN }

// Unlisted is how many chosen people the panel does not name.
func (s selectedView) Unlisted() int { return s.AddedN + s.RemovedN - len(s.Added) - len(s.Removed) }

// fillSelected names the people of the pending change c (normalised) in
// one query.
func (h *Handler) fillSelected(r *http.Request, s *selectedView, c memberChoice) error {
	s.AddedN, s.RemovedN = len(c.add), len(c.remove)
	s.Added, s.Removed = nil, nil
	ids := append(slices.Sorted(maps.Keys(c.add)), slices.Sorted(maps.Keys(c.remove))...)
	if len(ids) == 0 {
		return nil
	}
	page, err := h.svc.Users.FindUsers(r.Context(), cohort.UserFilter{IDs: ids, Limit: maxSelectedListed, SkipTotal: true})
	if err != nil {
		return err
	}
	for _, u := range page.Users {
		row := newPickerRow(u)
		if c.add[u.ID] {
			s.Added = append(s.Added, row)
		} else {
			row.IsMember = true
			s.Removed = append(s.Removed, row)
		}
	}
	return nil
}
