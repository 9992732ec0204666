package api

import (
	"net/http"

	"github.com/cohorthq/cohort"
)

type memberChangeRequest struct {
	Add    []string `json:"add"`
	Remove []string `json:"remove"`
}

type memberReplaceRequest struct {
	UserIDs *[]string `json:"user_ids"`
}

// handleMemberList: GET /api/v1/groups/{id}/members?q=&status=&limit=&cursor=
func (h *Handler) handleMemberList(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	f := cohort.UserFilter{Status: q.status(), Query: q.str("q"), Limit: q.limit(), SkipTotal: true}
	f.After, f.Before = q.cursor()
	if err := q.err(); err != nil {
		return err
	}
	page, err := h.svc.Groups.FindMembers(r.Context(), r.PathValue("id"), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userList(r, page))
	return nil
}

// handleMemberChange: POST /api/v1/groups/{id}/members {"add":[…],"remove":[…]}.
// A delta commutes with other deltas, so it needs no If-Match; adding a
// member or removing a non-member is a no-op, so a retry is safe.
func (h *Handler) handleMemberChange(w http.ResponseWriter, r *http.Request) error {
	var req memberChangeRequest
	if _, err := h.decodeBody(w, r, &req, true); err != nil {
		return err
	}
	u := cohort.GroupUpdate{Add: req.Add, Remove: req.Remove}
	if err := u.Validate(); err != nil {
		return err
	}
	inAdd := map[string]bool{}
	for _, id := range u.Add {
		inAdd[id] = true
	}
	var v cohort.Validation
	for _, id := range u.Remove {
		if inAdd[id] {
			v.Add("remove", "User "+quoteTrim(id)+" is in both add and remove: send each user ID in one list only.")
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	id := r.PathValue("id")
	if !u.ChangesMembers() {
		// Nothing to change: answer with the group as it is, as a repeat
		// of any other no-op delta would.
		g, err := h.svc.Groups.FindGroupByID(r.Context(), id)
		if err != nil {
			return err
		}
		return writeMemberChange(w, g, cohort.MemberChange{})
	}
	g, mc, err := h.svc.Groups.UpdateGroup(r.Context(), id, u)
	if err != nil {
		return err
	}
	return writeMemberChange(w, g, mc)
}

// handleMemberReplace: PUT /api/v1/groups/{id}/members {"user_ids":[…]}
// sets the whole member list; If-Match is required.
func (h *Handler) handleMemberReplace(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r, true)
	if err != nil {
		return err
	}
	var req memberReplaceRequest
	if _, err := h.decodeBody(w, r, &req, true); err != nil {
		return err
	}
	if req.UserIDs == nil {
		return cohort.FieldError("user_ids", "Send user_ids: the complete list of member IDs ([] removes everyone).")
	}
	g, mc, err := h.svc.Groups.UpdateGroup(r.Context(), r.PathValue("id"),
		cohort.GroupUpdate{ReplaceMembers: req.UserIDs, IfVersion: version})
	if err != nil {
		return err
	}
	return writeMemberChange(w, g, mc)
}

func writeMemberChange(w http.ResponseWriter, g *cohort.Group, mc cohort.MemberChange) error {
	w.Header().Set("ETag", etag(g.Version))
	writeJSON(w, http.StatusOK, memberChangeJSON{Added: nonNil(mc.Added), Removed: nonNil(mc.Removed), Group: cohort.NewGroupResource(g)})
	return nil
}

// handleMemberAdd: PUT /api/v1/groups/{id}/members/{user_id} (idempotent;
// 200 with the group).
func (h *Handler) handleMemberAdd(w http.ResponseWriter, r *http.Request) error {
	return h.changeOneMember(w, r, true)
}

// handleMemberRemove: DELETE /api/v1/groups/{id}/members/{user_id}
// (idempotent; 200 with the group).
func (h *Handler) handleMemberRemove(w http.ResponseWriter, r *http.Request) error {
	return h.changeOneMember(w, r, false)
}

func (h *Handler) changeOneMember(w http.ResponseWriter, r *http.Request, add bool) error {
	ctx := r.Context()
	groupID, userID := r.PathValue("id"), r.PathValue("user_id")
	// The group first, so an unknown group is reported as such rather
	// than as an unknown user.
	if _, err := h.svc.Groups.FindGroupByID(ctx, groupID); err != nil {
		return err
	}
	// The user must exist in this workspace: a path naming an unknown
	// user is a 404, not a silent no-op.
	if _, err := h.svc.Users.FindUserByID(ctx, userID); err != nil {
		if cohort.ErrorCode(err) == cohort.ENOTFOUND {
			return cohort.Errorf(cohort.ENOTFOUND, "There is no user with ID %s in this workspace: check user_id in the path.", quoteTrim(userID))
		}
		return err
	}
	u := cohort.GroupUpdate{}
	if add {
		u.Add = []string{userID}
	} else {
		u.Remove = []string{userID}
	}
	g, _, err := h.svc.Groups.UpdateGroup(ctx, groupID, u)
	if err != nil {
		return err
	}
	writeGroup(w, r, http.StatusOK, g)
	return nil
}
