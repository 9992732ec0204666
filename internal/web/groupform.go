package web

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"

	"github.com/cohorthq/cohort"
)

// groupFormView is the Add group and Edit group page.
type groupFormView struct {
	Page
	Editing bool
	Action  string
	GroupID string
	Version int64
	Name    string
	// Description is the optional description, as typed.
	Description string
	// Errors maps a field ("name", "description", "members") to messages.
	Errors map[string][]string
	// Message is the summary shown above the form when it was not saved.
	Message string
	// ArchivedMatch is an archived group holding the typed name: not an
	// error, a pointer to what the manager may want to restore instead.
	ArchivedMatch *cohort.Group
	// ArchivedOK carries the name key the manager saw the note for, so
	// the next Save goes ahead.
	ArchivedOK string
	// HiddenArchived counts the group's archived members (not listed).
	HiddenArchived int
	Picker         pickerView
	// PickerRole and PickerLocation are the picker's filters; Roles and
	// Locations their choices.
	PickerRole     string
	PickerLocation string
	Roles          []cohort.Role
	Locations      []string
	// Selected is the Selected panel: who the group will have on Save.
	Selected selectedView
	// History is the group's audit entries when editing (nil for a new
	// group or when the actor may not read the audit log).
	History *historySection
}

// Limits on echoing input back: enough to show what was typed when it is
// too long, bounded so a huge post does not come back whole.
const (
	echoName        = 4 * cohort.GroupNameMax
	echoDescription = 4 * cohort.GroupDescriptionMax
)

// groupInput is a posted group form.
type groupInput struct {
	name, description string
	version           int64
	choice            memberChoice
	idsOK             bool
	op                string // "save", "search", "page", "add_all", "unpick"
	pq                pickerQuery
	// unpick is the ID a Selected panel button took out of the choice.
	unpick     string
	archivedOK string
}

func readGroupInput(form url.Values) groupInput {
	in := groupInput{
		name:        form.Get("name"),
		description: form.Get("description"),
		version:     parseVersion(form.Get("version")),
		op:          form.Get("op"),
		pq:          readPickerQuery(form, "picker_role", "picker_location"),
		archivedOK:  cleanText(form.Get("archived_ok"), echoName),
	}
	in.pq.after, in.pq.before = cleanCursor(form.Get("picker_after")), cleanCursor(form.Get("picker_before"))
	in.choice, in.idsOK = parseMemberChoice(form)
	if in.pq.after != "" || in.pq.before != "" {
		in.op = "page"
	}
	if id := form.Get("unpick"); validID(id) {
		in.op, in.unpick = "unpick", id
	}
	if in.op != "search" && in.op != "page" && in.op != "add_all" && in.op != "unpick" {
		in.op = "save"
	}
	return in
}

// pickOp applies a picker button other than Save to the choice: "Add
// all" chooses everyone matching, a Selected panel button takes one
// person out of the pending change (un-adds or keeps them).
func (h *Handler) pickOp(r *http.Request, groupID string, in groupInput, c *memberChoice) error {
	switch in.op {
	case "add_all":
		return h.addAllMatching(r, groupID, in.pq, c)
	case "unpick":
		delete(c.add, in.unpick)
		delete(c.remove, in.unpick)
	}
	return nil
}

func (h *Handler) handleGroupNew(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireManager(r); err != nil {
		return err
	}
	v := h.newFormView(r, nil)
	if err := h.fillPicker(r, &v, pickerQuery{}, memberChoice{}); err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "group_form", v)
}

func (h *Handler) handleGroupEdit(w http.ResponseWriter, r *http.Request) error {
	// The group first: an unknown or another practice's ID is 404 for
	// everyone, so the answer never tells whether it exists.
	g, err := h.loadGroup(r)
	if err != nil {
		return err
	}
	if err := h.requireManager(r); err != nil {
		return err
	}
	if g.Archived() {
		return h.renderGroupView(w, r, http.StatusOK, g, "This group is archived, so it cannot be edited. Restore it to make changes.")
	}
	v := h.newFormView(r, g)
	if err := h.fillPicker(r, &v, pickerQuery{}, memberChoice{}); err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "group_form", v)
}

// newFormView starts the form for a new group (g nil) or for editing g,
// filled with g's current data.
func (h *Handler) newFormView(r *http.Request, g *cohort.Group) groupFormView {
	if g == nil {
		return groupFormView{Page: h.settingsPage(r, "groups", "Add group"), Action: "/settings/groups/new"}
	}
	return groupFormView{
		Page:           h.settingsPage(r, "groups", "Edit group"),
		Editing:        true,
		Action:         "/settings/groups/" + url.PathEscape(g.ID) + "/edit",
		GroupID:        g.ID,
		Version:        g.Version,
		Name:           g.Name,
		Description:    g.Description,
		HiddenArchived: g.ArchivedMemberCount,
		History:        h.groupHistory(r, g),
		Selected:       selectedView{Editing: true, Base: g.MemberCount},
	}
}

// fillPicker loads the picker, its filters and the Selected panel into v.
func (h *Handler) fillPicker(r *http.Request, v *groupFormView, pq pickerQuery, c memberChoice) error {
	p, err := h.loadPicker(r.Context(), v.GroupID, pq, c)
	if err != nil {
		return err
	}
	v.Picker = p
	v.PickerRole, v.PickerLocation, v.Roles = pq.role, pq.location, cohort.Roles
	if v.Locations, err = h.svc.Directory.StaffLocations(r.Context()); err != nil {
		return err
	}
	return h.fillSelected(r, &v.Selected, c)
}

// echo puts the typed input back into the form.
func (v *groupFormView) echo(in groupInput) {
	v.Name = cleanText(in.name, echoName)
	v.Description = cleanMultiline(in.description, echoDescription)
}

func (v *groupFormView) fieldError(field, msg string) {
	if v.Errors == nil {
		v.Errors = map[string][]string{}
	}
	v.Errors[field] = append(v.Errors[field], msg)
}

// validate checks the typed fields in the domain and marks v's fields.
func (v *groupFormView) validate(in groupInput) (name, description string, ok bool) {
	name, nerr := cohort.ValidateGroupName(in.name)
	if nerr != nil {
		v.fieldError("name", cohort.ErrorMessage(nerr))
	}
	description, derr := cohort.ValidateGroupDescription(in.description)
	if derr != nil {
		v.fieldError("description", cohort.ErrorMessage(derr))
	}
	if !in.idsOK {
		v.fieldError("members", "Some of the chosen staff could not be read. Reload the page and choose again.")
	}
	if len(v.Errors) > 0 {
		v.Message = "The group was not saved. Correct the marked fields and select Save again."
		return name, description, false
	}
	return name, description, true
}

// storeErrors turns a refused save into field messages on the form.
func (h *Handler) storeErrors(r *http.Request, v *groupFormView, name string, err error) {
	switch cohort.ErrorCode(err) {
	case cohort.ECONFLICT:
		v.fieldError("name", fmt.Sprintf("A group named %q already exists. Choose another name.", h.activeNameHolder(r, name)))
	default:
		// Member errors come as member_ids, add or remove: all "members".
		markFields(err, []string{"name", "description"}, "members", v.fieldError)
	}
	v.Message = "The group was not saved. Correct the marked fields and select Save again."
}

// archivedNote looks for an archived group holding name (other than
// self) that the manager has not yet been told about.
func (h *Handler) archivedNote(r *http.Request, v *groupFormView, name, self string, in groupInput) (bool, error) {
	key := cohort.NameKey(name)
	if in.archivedOK == key {
		return false, nil
	}
	found, err := h.svc.Groups.FindArchivedByName(r.Context(), name)
	if err != nil {
		return false, err
	}
	for _, g := range found {
		if g.ID != self {
			v.ArchivedMatch = g
			v.ArchivedOK = key
			return true, nil
		}
	}
	return false, nil
}

func (h *Handler) handleGroupCreate(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireManager(r); err != nil {
		return err
	}
	if err := h.parseForm(r); err != nil {
		return err
	}
	in := readGroupInput(r.PostForm)
	v := h.newFormView(r, nil)
	v.echo(in)
	choice, _ := h.normalize(r.Context(), "", in.choice)
	if in.op != "save" {
		if err := h.pickOp(r, "", in, &choice); err != nil {
			return err
		}
		if err := h.fillPicker(r, &v, in.pq, choice); err != nil {
			return err
		}
		return h.render(w, r, http.StatusOK, "group_form", v)
	}
	name, description, ok := v.validate(in)
	status := http.StatusUnprocessableEntity
	if ok {
		note, err := h.archivedNote(r, &v, name, "", in)
		if err != nil {
			return err
		}
		if !note {
			g, err := h.svc.Groups.CreateGroup(r.Context(), cohort.GroupCreate{Name: name, Description: description, MemberIDs: slices.Sorted(maps.Keys(choice.add))})
			if err == nil {
				http.Redirect(w, r, doneChangedURL("created", g, g.MemberCount, 0), http.StatusSeeOther)
				return nil
			}
			if code := cohort.ErrorCode(err); code != cohort.EINVALID && code != cohort.ECONFLICT {
				return err
			}
			h.storeErrors(r, &v, name, err)
			status = errorStatus(err)
		} else {
			status = http.StatusOK
		}
	}
	if err := h.fillPicker(r, &v, in.pq, choice); err != nil {
		return err
	}
	return h.render(w, r, status, "group_form", v)
}

// staleMessage is shown with the current version of a group when a save
// was made against an older one.
const staleMessage = "This group was changed by someone else while you were editing, so your changes were not saved. Here is the current version: make your changes again and select Save."

// Why an archived group's page is shown instead of the form that was
// posted: it was archived before the form was sent, or while it was
// being edited.
const (
	archivedNotSaved     = "This group is archived, so it cannot be edited and nothing was saved. Restore it to make changes."
	archivedWhileEditing = "Someone archived this group while you were editing, so nothing was saved. Restore it to make changes."
)

// handleGroupUpdate saves the edit form, or shows it again for a picker
// search or page. Whether the group is still the version the form was
// made from, and still active, is decided once, by UpdateGroup inside its
// transaction; this handler only reads the form and shows the answer.
func (h *Handler) handleGroupUpdate(w http.ResponseWriter, r *http.Request) error {
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
	in := readGroupInput(r.PostForm)
	if in.version == 0 {
		// A form without its version cannot say what it was made from:
		// show the group as it is now.
		return h.renderStale(w, r, g)
	}
	if in.op != "save" && g.Archived() {
		// A search or page of the picker saves nothing, but an archived
		// group has no form to show it on.
		return h.renderGroupView(w, r, http.StatusConflict, g, archivedNotSaved)
	}
	v := h.newFormView(r, g)
	v.Version = in.version
	v.echo(in)
	choice, err := h.normalize(r.Context(), g.ID, in.choice)
	if err != nil {
		return err
	}
	if in.op != "save" {
		if err := h.pickOp(r, g.ID, in, &choice); err != nil {
			return err
		}
		if err := h.fillPicker(r, &v, in.pq, choice); err != nil {
			return err
		}
		return h.render(w, r, http.StatusOK, "group_form", v)
	}
	name, description, ok := v.validate(in)
	status := http.StatusUnprocessableEntity
	if ok {
		note := false
		if cohort.NameKey(name) != cohort.NameKey(g.Name) {
			if note, err = h.archivedNote(r, &v, name, g.ID, in); err != nil {
				return err
			}
		}
		if !note {
			updated, changed, err := h.svc.Groups.UpdateGroup(r.Context(), g.ID, cohort.GroupUpdate{
				Name:        &name,
				Description: &description,
				Add:         slices.Sorted(maps.Keys(choice.add)),
				Remove:      slices.Sorted(maps.Keys(choice.remove)),
				IfVersion:   in.version,
			})
			switch cohort.ErrorCode(err) {
			case "":
				http.Redirect(w, r, doneChangedURL("saved", updated, len(changed.Added), len(changed.Removed)), http.StatusSeeOther)
				return nil
			case cohort.ESTALE, cohort.EARCHIVED:
				return h.renderStale(w, r, g)
			case cohort.EINVALID, cohort.ECONFLICT:
				h.storeErrors(r, &v, name, err)
				status = errorStatus(err)
			default:
				return err
			}
		} else {
			status = http.StatusOK
		}
	}
	if err := h.fillPicker(r, &v, in.pq, choice); err != nil {
		return err
	}
	return h.render(w, r, status, "group_form", v)
}

// renderStale answers a save the store refused as stale or archived (or
// a form without its version) with the group as it is now: the form with
// the stale-edit message, or the read-only page when it is archived. old
// is the group as this request first read it.
func (h *Handler) renderStale(w http.ResponseWriter, r *http.Request, old *cohort.Group) error {
	g, err := h.svc.Groups.FindGroupByID(r.Context(), old.ID)
	if err != nil {
		return err
	}
	if g.Archived() {
		msg := archivedWhileEditing
		if old.Archived() {
			msg = archivedNotSaved
		}
		return h.renderGroupView(w, r, http.StatusConflict, g, msg)
	}
	v := h.newFormView(r, g)
	v.Message = staleMessage
	if err := h.fillPicker(r, &v, pickerQuery{}, memberChoice{}); err != nil {
		return err
	}
	return h.render(w, r, http.StatusConflict, "group_form", v)
}
