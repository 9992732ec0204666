package api

import (
	"net/http"

	"github.com/cohorthq/cohort"
)

type userCreateRequest struct {
	Email      *string `json:"email"`
	GivenName  *string `json:"given_name"`
	FamilyName *string `json:"family_name"`
	Role       *string `json:"role"`
	attributesRequest
}

type userUpdateRequest struct {
	Email      *string `json:"email"`
	GivenName  *string `json:"given_name"`
	FamilyName *string `json:"family_name"`
	Role       *string `json:"role"`
	attributesRequest
}

// attributesRequest are the staff attributes a request may set; "" (or
// null, in an update) clears one.
type attributesRequest struct {
	JobTitle       *string `json:"job_title"`
	Location       *string `json:"location"`
	Phone          *string `json:"phone"`
	EmploymentType *string `json:"employment_type"`
}

// attributeFields are the attributes' JSON names, in attributesRequest's
// order.
var attributeFields = []string{"job_title", "location", "phone", "employment_type"}

// update is the request's attributes as a domain update: a field sent
// as null clears the attribute, one left out keeps it.
func (a attributesRequest) update(b *body) cohort.StaffAttributesUpdate {
	u := cohort.StaffAttributesUpdate{JobTitle: a.JobTitle, Location: a.Location, Phone: a.Phone, EmploymentType: a.EmploymentType}
	for i, p := range []**string{&u.JobTitle, &u.Location, &u.Phone, &u.EmploymentType} {
		if b.isNull(attributeFields[i]) {
			*p = new(string)
		}
	}
	return u
}

// handleUserList: GET /api/v1/users?group=&status=&role=&q=&limit=&cursor=
func (h *Handler) handleUserList(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	f := cohort.UserFilter{Status: q.status(), Query: q.str("q"), Limit: q.limit(), SkipTotal: true}
	for _, g := range q.q["group"] {
		if g != "" {
			f.GroupIDs = append(f.GroupIDs, g)
		}
	}
	f.Location = q.str("location")
	if role := q.str("role"); role != "" {
		f.Role = cohort.Role(role)
		if !f.Role.Valid() {
			q.v.Add("role", "Use one of practitioner_admin, practitioner, practice_manager, receptionist, accountant for role.")
		}
	}
	f.After, f.Before = q.cursor()
	if err := q.err(); err != nil {
		return err
	}
	page, err := h.svc.Users.FindUsers(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userList(r, page))
	return nil
}

// userList is a page of staff, each as the caller may see them.
func userList(r *http.Request, page *cohort.UserPage) listJSON[any] {
	view := staffViewOf(r)
	out := listJSON[any]{Data: make([]any, 0, len(page.Users)), Links: listLinks(r, page.Next, page.Prev)}
	for _, u := range page.Users {
		out.Data = append(out.Data, staffJSON(view, u))
	}
	return out
}

// handleUserCreate: POST /api/v1/users {email, given_name, family_name, role?}
func (h *Handler) handleUserCreate(w http.ResponseWriter, r *http.Request) error {
	var req userCreateRequest
	b, err := h.decodeBody(w, r, &req, true)
	if err != nil {
		return err
	}
	c := cohort.UserCreate{Email: deref(req.Email), GivenName: deref(req.GivenName), FamilyName: deref(req.FamilyName),
		Role: cohort.Role(deref(req.Role)), StaffAttributes: cohort.StaffAttributes{JobTitle: deref(req.JobTitle),
			Location: deref(req.Location), Phone: deref(req.Phone), EmploymentType: deref(req.EmploymentType)}}
	// Validate here too so every field's message comes back at once
	// before the store is asked; the store validates again.
	if err := c.Validate(); err != nil {
		return err
	}
	return h.create(w, r, b, func() (*created, error) {
		u, err := h.svc.Users.CreateUser(r.Context(), c)
		if err != nil {
			return nil, err
		}
		return &created{id: u.ID, version: u.Version, body: cohort.NewUserResource(u)}, nil
	})
}

// handleUserGet: GET /api/v1/users/{id}, with If-None-Match → 304.
func (h *Handler) handleUserGet(w http.ResponseWriter, r *http.Request) error {
	u, err := h.svc.Users.FindUserByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeUser(w, r, u)
	return nil
}

func writeUser(w http.ResponseWriter, r *http.Request, u *cohort.User) {
	w.Header().Set("ETag", etag(u.Version))
	if r.Method == http.MethodGet && notModified(r, u.Version) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeJSON(w, http.StatusOK, staffJSON(staffViewOf(r), u))
}

// handleUserUpdate: PATCH /api/v1/users/{id}. If-Match is optional for
// users: a user's fields are usually changed one at a time by one system
// of record (the identity provider or the practice manager), so requiring
// it would only add a round trip; when sent it is checked (stale → 409).
func (h *Handler) handleUserUpdate(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r, false)
	if err != nil {
		return err
	}
	var req userUpdateRequest
	b, err := h.decodeBody(w, r, &req, true)
	if err != nil {
		return err
	}
	var v cohort.Validation
	for _, f := range []string{"email", "given_name", "family_name", "role"} {
		if b.isNull(f) {
			v.Add(f, "A user's "+f+" cannot be cleared: send a new value, or leave "+f+" out to keep it.")
		}
	}
	if len(b.fields) == 0 {
		v.Add("email", "Send at least one of email, given_name, family_name, role, job_title, location, phone or employment_type to change.")
	}
	if err := v.Err(); err != nil {
		return err
	}
	u := cohort.UserUpdate{Email: req.Email, GivenName: req.GivenName, FamilyName: req.FamilyName, IfVersion: version,
		StaffAttributesUpdate: req.attributesRequest.update(b)}
	if req.Role != nil {
		role := cohort.Role(*req.Role)
		u.Role = &role
	}
	if err := u.Validate(); err != nil {
		return err
	}
	user, err := h.svc.Users.UpdateUser(r.Context(), r.PathValue("id"), u)
	if err != nil {
		return err
	}
	writeUser(w, r, user)
	return nil
}

// handleUserArchive: POST /api/v1/users/{id}/archive (idempotent;
// If-Match optional, checked by the store in the archiving transaction).
func (h *Handler) handleUserArchive(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r, false)
	if err != nil {
		return err
	}
	u, err := h.svc.Users.ArchiveUser(r.Context(), r.PathValue("id"), version)
	if err != nil {
		return err
	}
	writeUser(w, r, u)
	return nil
}

// handleUserRestore: POST /api/v1/users/{id}/restore (idempotent;
// If-Match optional).
func (h *Handler) handleUserRestore(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r, false)
	if err != nil {
		return err
	}
	u, err := h.svc.Users.RestoreUser(r.Context(), r.PathValue("id"), version)
	if err != nil {
		return err
	}
	writeUser(w, r, u)
	return nil
}

// handleUserGroups: GET /api/v1/users/{id}/groups?status=&q=&limit=&cursor=
func (h *Handler) handleUserGroups(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	f := cohort.GroupFilter{Status: q.status(), Query: q.str("q"), Limit: q.limit()}
	f.After, f.Before = q.cursor()
	if err := q.err(); err != nil {
		return err
	}
	page, err := h.svc.Users.FindUserGroups(r.Context(), r.PathValue("id"), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, groupList(r, page))
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
