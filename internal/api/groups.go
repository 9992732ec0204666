package api

import (
	"net/http"

	"github.com/cohorthq/cohort"
)

type groupCreateRequest struct {
	Name        *string   `json:"name"`
	Description *string   `json:"description"`
	MemberIDs   *[]string `json:"member_ids"`
}

type groupUpdateRequest struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

type groupRestoreRequest struct {
	Name *string `json:"name"`
}

// handleGroupList: GET /api/v1/groups?status=&q=&limit=&cursor=
func (h *Handler) handleGroupList(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	// The list answers with links, never a total: no need to count.
	f := cohort.GroupFilter{Status: q.status(), Query: q.str("q"), Limit: q.limit(), SkipTotal: true}
	f.After, f.Before = q.cursor()
	if err := q.err(); err != nil {
		return err
	}
	page, err := h.svc.Groups.FindGroups(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, groupList(r, page))
	return nil
}

func groupList(r *http.Request, page *cohort.GroupPage) listJSON[cohort.GroupResource] {
	out := listJSON[cohort.GroupResource]{Data: make([]cohort.GroupResource, 0, len(page.Groups)), Links: listLinks(r, page.Next, page.Prev)}
	for _, g := range page.Groups {
		out.Data = append(out.Data, cohort.NewGroupResource(g))
	}
	return out
}

// handleGroupCreate: POST /api/v1/groups {name, description?, member_ids?}
func (h *Handler) handleGroupCreate(w http.ResponseWriter, r *http.Request) error {
	var req groupCreateRequest
	b, err := h.decodeBody(w, r, &req, true)
	if err != nil {
		return err
	}
	var v cohort.Validation
	c := cohort.GroupCreate{}
	if req.Name == nil {
		v.Add("name", "Enter a name for the group.")
	} else {
		c.Name = *req.Name
	}
	if req.Description != nil {
		c.Description = *req.Description
	}
	if req.MemberIDs != nil {
		c.MemberIDs = *req.MemberIDs
	} else if b.present("member_ids") {
		v.Add("member_ids", "Send member_ids as a list of user IDs, or leave it out.")
	}
	if err := v.Err(); err != nil {
		return err
	}
	return h.create(w, r, b, func() (*created, error) {
		g, err := h.svc.Groups.CreateGroup(r.Context(), c)
		if err != nil {
			return nil, err
		}
		return &created{id: g.ID, version: g.Version, body: cohort.NewGroupResource(g)}, nil
	})
}

// handleGroupGet: GET /api/v1/groups/{id}, with If-None-Match → 304.
func (h *Handler) handleGroupGet(w http.ResponseWriter, r *http.Request) error {
	g, err := h.svc.Groups.FindGroupByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeGroup(w, r, http.StatusOK, g)
	return nil
}

// writeGroup answers with a group and its ETag, or 304 when the client's
// If-None-Match already names this version (GET only).
func writeGroup(w http.ResponseWriter, r *http.Request, status int, g *cohort.Group) {
	w.Header().Set("ETag", etag(g.Version))
	if r.Method == http.MethodGet && notModified(r, g.Version) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeJSON(w, status, cohort.NewGroupResource(g))
}

// handleGroupUpdate: PATCH /api/v1/groups/{id} {name?, description?};
// If-Match is required because the write sets state.
func (h *Handler) handleGroupUpdate(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r, true)
	if err != nil {
		return err
	}
	var req groupUpdateRequest
	b, err := h.decodeBody(w, r, &req, true)
	if err != nil {
		return err
	}
	var v cohort.Validation
	u := cohort.GroupUpdate{IfVersion: version, Name: req.Name, Description: req.Description}
	if b.isNull("name") {
		v.Add("name", "A group needs a name: send a new name, or leave name out to keep it.")
	}
	if b.isNull("description") {
		// null clears the description, as in a JSON merge patch.
		empty := ""
		u.Description = &empty
	}
	if !b.present("name") && !b.present("description") {
		v.Add("name", "Send name or description (or both) to change.")
	}
	if err := v.Err(); err != nil {
		return err
	}
	g, _, err := h.svc.Groups.UpdateGroup(r.Context(), r.PathValue("id"), u)
	if err != nil {
		return err
	}
	writeGroup(w, r, http.StatusOK, g)
	return nil
}

// handleGroupArchive: POST /api/v1/groups/{id}/archive (idempotent;
// If-Match optional, checked by the store in the archiving transaction).
func (h *Handler) handleGroupArchive(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r, false)
	if err != nil {
		return err
	}
	g, err := h.svc.Groups.ArchiveGroup(r.Context(), r.PathValue("id"), version)
	if err != nil {
		return err
	}
	writeGroup(w, r, http.StatusOK, g)
	return nil
}

// handleGroupRestore: POST /api/v1/groups/{id}/restore {name?}
// (idempotent; name restores under another name; If-Match optional).
func (h *Handler) handleGroupRestore(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r, false)
	if err != nil {
		return err
	}
	var req groupRestoreRequest
	b, err := h.decodeBody(w, r, &req, false)
	if err != nil {
		return err
	}
	name := ""
	if req.Name != nil {
		name = *req.Name
		if _, err := cohort.ValidateGroupName(name); err != nil {
			return err
		}
	} else if b.isNull("name") {
		return cohort.FieldError("name", "Send a new name as a string, or leave name out to restore under the current name.")
	}
	g, err := h.svc.Groups.RestoreGroup(r.Context(), r.PathValue("id"), name, version)
	if err != nil {
		return err
	}
	writeGroup(w, r, http.StatusOK, g)
	return nil
}
