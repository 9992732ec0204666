package scim

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/cohorthq/cohort"
	filter "github.com/scim2/filter-parser/v2"
)

// A Cohort user as a SCIM User: userName is kept as sent (an email, UPN
// or employee ID), name.givenName/familyName are the names, displayName
// is derived from them, emails holds the one work address (the one the
// staff member signs in with, when it is theirs alone), active is false
// for an archived user, and the Cohort extension carries the role. A
// user a SCIM DELETE deprovisioned is gone from SCIM (RFC 7644 §3.6).

func userResource(base string, u *cohort.User, groups []*cohort.Group, withGroups bool) map[string]any {
	res := map[string]any{
		"schemas":     []string{SchemaUser, SchemaCohortUser},
		"id":          u.ID,
		"userName":    u.UserName,
		"name":        nameOf(u),
		"displayName": u.Name(),
		"active":      !u.Archived(),
		SchemaCohortUser: map[string]any{
			"role":    string(u.Role),
			"isOwner": u.IsOwner,
		},
		"meta": map[string]any{
			"resourceType": "User",
			"created":      fmtTime(u.CreatedAt),
			"lastModified": fmtTime(u.UpdatedAt),
			"location":     base + "/Users/" + u.ID,
			"version":      etag(u.Version),
		},
	}
	if u.ExternalID != "" {
		res["externalId"] = u.ExternalID
	}
	if u.Email != "" {
		res["emails"] = []map[string]any{{"value": u.Email, "type": "work", "primary": true}}
	}
	if withGroups {
		gl := make([]map[string]any, 0, len(groups))
		for _, g := range groups {
			gl = append(gl, map[string]any{"value": g.ID, "display": g.Name, "$ref": base + "/Groups/" + g.ID, "type": "direct"})
		}
		res["groups"] = gl
	}
	return res
}

// nameOf is the name complex attribute: a part the user does not have is
// left out (RFC 7643 §2.5: unassigned attributes are not returned).
func nameOf(u *cohort.User) map[string]any {
	n := map[string]any{"formatted": u.Name()}
	if u.GivenName != "" {
		n["givenName"] = u.GivenName
	}
	if u.FamilyName != "" {
		n["familyName"] = u.FamilyName
	}
	return n
}

func userRecord(u *cohort.User) *record {
	var emails []*record
	if u.Email != "" {
		emails = []*record{{
			strs:  map[string]string{"value": u.Email, "type": "work"},
			bools: map[string]bool{"primary": true},
		}}
	}
	return &record{
		strs: map[string]string{
			"id":                u.ID,
			"externalId":        u.ExternalID,
			"userName":          u.UserName,
			"displayName":       u.Name(),
			"name.givenName":    u.GivenName,
			"name.familyName":   u.FamilyName,
			"name.formatted":    u.Name(),
			"meta.resourceType": "User",
			"role":              string(u.Role),
		},
		bools:  map[string]bool{"active": !u.Archived()},
		times:  timesOf(u.CreatedAt, u.UpdatedAt),
		emails: emails,
	}
}

// userPushdown translates the top-level AND terms of n that the store can
// answer into a UserFilter. exact reports whether that filter means
// exactly n.
func userPushdown(n node) (f cohort.UserFilter, exact bool) {
	exact = true
	// SCIM never sees the staff a SCIM DELETE deprovisioned.
	f.Provisioned = true
	if n == nil {
		return f, true
	}
	for _, c := range conjuncts(n) {
		switch c := c.(type) {
		case cmpNode:
			if !pushUserCmp(&f, c) {
				exact = false
			}
		case emailsNode:
			// An email may be shared (SCIM emails are not unique), and
			// the store keys only sign-in emails: every candidate is
			// checked.
			exact = false
		default:
			exact = false
		}
	}
	return f, exact
}

// pushUserCmp pushes one comparison; it reports whether it was pushed
// exactly.
func pushUserCmp(f *cohort.UserFilter, c cmpNode) bool {
	switch {
	case c.spec.key == "active" && c.op != filter.PR:
		if f.Status != "" {
			return false
		}
		f.Status = cohort.StatusActive
		if c.b != (c.op == filter.EQ) {
			f.Status = cohort.StatusArchived
		}
		return true
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
	case c.spec.key == "userName" && f.UserName == "":
		// The filter's value is normalised as userNames are stored, and
		// both are compared folded.
		f.UserName = c.str
		return true
	case c.spec.key == "externalId" && f.ExternalID == "":
		f.ExternalID = c.str
		return true
	case c.spec.key == "id" && f.IDs == nil:
		f.IDs = []string{c.str}
		return true
	case c.spec.key == "role" && f.Role == "" && cohort.Role(c.str).Valid():
		f.Role = cohort.Role(c.str)
		return true
	}
	return false
}

// findUsers answers a filtered, paged list of users.
func (h *Handler) findUsers(ctx context.Context, n node, lp listParams) ([]*cohort.User, int, error) {
	f, exact := userPushdown(n)
	if exact {
		pf := f
		pf.Offset = lp.startIndex - 1
		pf.Limit = max(lp.count, 1)
		page, err := h.svc.Users.FindUsers(ctx, pf)
		if err != nil {
			return nil, 0, err
		}
		ok := true
		for _, u := range page.Users {
			if n != nil {
				if m, _ := n.eval(userRecord(u)); !m {
					// The store's filter means something else than
					// assumed: fall back to evaluating every candidate.
					ok = false
				}
			}
		}
		if ok {
			users := page.Users
			if lp.count == 0 {
				users = nil
			}
			return users, page.Total, nil
		}
	}
	w := window[*cohort.User]{lp: lp}
	f.Limit = scanPage
	scanned := 0
	for {
		page, err := h.svc.Users.FindUsers(ctx, f)
		if err != nil {
			return nil, 0, err
		}
		if scanned == 0 && page.Total > h.maxScan {
			return nil, 0, errTooMany(h.maxScan)
		}
		for _, u := range page.Users {
			scanned++
			m, err := n.eval(userRecord(u))
			if err != nil {
				return nil, 0, err
			}
			if m {
				w.add(u)
			}
		}
		if page.Next == "" || len(page.Users) == 0 {
			break
		}
		if scanned >= h.maxScan {
			return nil, 0, errTooMany(h.maxScan)
		}
		f.After = page.Next
	}
	return w.items, w.total, nil
}

// userGroups lists the active groups a user belongs to.
func (h *Handler) userGroups(ctx context.Context, userID string) ([]*cohort.Group, error) {
	var out []*cohort.Group
	f := cohort.GroupFilter{Status: cohort.StatusActive, Limit: MaxCount}
	for {
		page, err := h.svc.Users.FindUserGroups(ctx, userID, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Groups...)
		if page.Next == "" || len(page.Groups) == 0 {
			return out, nil
		}
		f.After = page.Next
	}
}

func (h *Handler) handleUserList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	lp, err := parseListParams(q)
	if err != nil {
		return err
	}
	proj, err := parseProjection(q, SchemaUser)
	if err != nil {
		return err
	}
	var n node
	if fs, ok := q["filter"]; ok {
		if n, err = parseFilter(strings.Join(fs, " "), userFilterSchema); err != nil {
			return err
		}
	}
	users, total, err := h.findUsers(r.Context(), n, lp)
	if err != nil {
		return err
	}
	base := h.baseURL(r)
	// A user's groups cost a query each: lists return them only when
	// "attributes" names groups.
	withGroups := proj.named("groups")
	out := make([]map[string]any, 0, len(users))
	for _, u := range users {
		var groups []*cohort.Group
		if withGroups {
			if groups, err = h.userGroups(r.Context(), u.ID); err != nil {
				return err
			}
		}
		out = append(out, proj.apply(userResource(base, u, groups, withGroups)))
	}
	writeJSON(w, http.StatusOK, listResponse(total, lp, out))
	return nil
}

// writeUser answers with one user, its groups included unless the
// projection leaves them out.
func (h *Handler) writeUser(w http.ResponseWriter, r *http.Request, status int, u *cohort.User) error {
	proj, err := parseProjection(r.URL.Query(), SchemaUser)
	if err != nil {
		return err
	}
	var groups []*cohort.Group
	withGroups := proj.wants("groups")
	if withGroups {
		if groups, err = h.userGroups(r.Context(), u.ID); err != nil {
			return err
		}
	}
	res := userResource(h.baseURL(r), u, groups, withGroups)
	w.Header().Set("ETag", etag(u.Version))
	if status == http.StatusCreated {
		w.Header().Set("Location", h.baseURL(r)+"/Users/"+u.ID)
	}
	writeJSON(w, status, proj.apply(res))
	return nil
}

func (h *Handler) findUser(ctx context.Context, id string) (*cohort.User, error) {
	if !storable(id) {
		return nil, errNotFound("There is no user with that id in this workspace.")
	}
	u, err := h.svc.Users.FindUserByID(ctx, id)
	if cohort.ErrorCode(err) == cohort.ENOTFOUND || cohort.ErrorCode(err) == cohort.EINVALID || err == nil && u.Deprovisioned {
		return nil, errNotFound("There is no user " + id + " in this workspace.")
	}
	return u, err
}

func (h *Handler) handleUserGet(w http.ResponseWriter, r *http.Request) error {
	u, err := h.findUser(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if notModified(r, u.Version) {
		w.Header().Set("ETag", etag(u.Version))
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return h.writeUser(w, r, http.StatusOK, u)
}

// userInput is a User as POST and PUT send it. Attributes Cohort does not
// keep (phoneNumbers, title, password, the enterprise extension, …) are
// accepted and ignored; readOnly ones (id, groups, meta) are ignored as
// RFC 7643 §2.2 says.
type userInput struct {
	ExternalID  *string      `json:"externalId"`
	UserName    *string      `json:"userName"`
	Name        *nameInput   `json:"name"`
	DisplayName *string      `json:"displayName"`
	Active      *flexBool    `json:"active"`
	Emails      []emailInput `json:"emails"`
	Cohort      *struct {
		Role *string `json:"role"`
	} `json:"urn:cohort:params:scim:schemas:extension:2.0:User"`
}

// emailInput is one of emails; Cohort keeps the primary one (else the
// first of type work, else the first).
type emailInput struct {
	Value   string    `json:"value"`
	Type    string    `json:"type"`
	Primary *flexBool `json:"primary"`
}

// pickEmail chooses the email Cohort keeps from emails: the primary one,
// else the first of type work, else the first; "" when there is none.
func pickEmail(emails []emailInput) string {
	for _, e := range emails {
		if e.Primary != nil && bool(*e.Primary) && strings.TrimSpace(e.Value) != "" {
			return e.Value
		}
	}
	for _, e := range emails {
		if strings.EqualFold(e.Type, "work") && strings.TrimSpace(e.Value) != "" {
			return e.Value
		}
	}
	for _, e := range emails {
		if strings.TrimSpace(e.Value) != "" {
			return e.Value
		}
	}
	return ""
}

type nameInput struct {
	GivenName  *string `json:"givenName"`
	FamilyName *string `json:"familyName"`
	Formatted  *string `json:"formatted"`
}

// flexBool is a boolean that also accepts "True"/"False" strings in any
// letter case, as Entra ID sends them.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	v, err := parseFlexBool(data)
	if err != nil {
		return &valueError{err: errValue("active must be true or false.")}
	}
	*b = flexBool(v)
	return nil
}

func parseFlexBool(data []byte) (bool, error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return false, err
	}
	switch v := v.(type) {
	case bool:
		return v, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, errValue("not a boolean")
}

// userDraft is the writable state of a user: what PUT and PATCH change.
// email is the email sent ("" for none), emailSet whether a request set
// it: a user without one signs in with their userName when it is an
// email address.
type userDraft struct {
	userName, email, given, family, externalID string
	emailSet                                   bool
	role                                       cohort.Role
	active                                     bool
}

func draftOf(u *cohort.User) userDraft {
	return userDraft{userName: u.UserName, email: u.Email, given: u.GivenName, family: u.FamilyName, externalID: u.ExternalID, role: u.Role, active: !u.Archived()}
}

// splitName splits "Jane van Dyke" into "Jane" and "van Dyke", for
// clients that send only displayName or name.formatted.
func splitName(s string) (string, string) {
	s = cohort.NormalizeName(s)
	given, family, _ := strings.Cut(s, " ")
	return given, family
}

// apply sets the draft from a full User (POST or PUT). existing says
// whether the draft already holds a user, whose names, role and active
// state stay when in leaves them out.
func (in *userInput) apply(d *userDraft, existing bool) error {
	if in.UserName == nil || strings.TrimSpace(*in.UserName) == "" {
		return errValue("userName is required: send the staff member's user name (an email address, UPN or employee ID).")
	}
	d.userName = *in.UserName
	// PUT replaces: emails left out leave the user with the userName as
	// their email when it is one, else none.
	d.email, d.emailSet = pickEmail(in.Emails), true
	given, family := "", ""
	haveName := false
	if in.Name != nil {
		if in.Name.Formatted != nil {
			given, family = splitName(*in.Name.Formatted)
			haveName = true
		}
		if in.Name.GivenName != nil {
			given, haveName = *in.Name.GivenName, true
		}
		if in.Name.FamilyName != nil {
			family, haveName = *in.Name.FamilyName, true
		}
	}
	if !haveName && in.DisplayName != nil {
		given, family = splitName(*in.DisplayName)
		haveName = true
	}
	switch {
	case haveName:
		d.given, d.family = given, family
	case !existing:
		return errValue("name is required: send name.givenName, name.familyName or both (or a displayName).")
	}
	// PUT replaces: an externalId left out is cleared.
	d.externalID = ""
	if in.ExternalID != nil {
		d.externalID = *in.ExternalID
	}
	if in.Cohort != nil && in.Cohort.Role != nil && *in.Cohort.Role != "" {
		d.role = cohort.Role(*in.Cohort.Role)
	}
	if in.Active != nil {
		d.active = bool(*in.Active)
	}
	return validateDraft(d)
}

// validateExternalID checks an externalId by the domain's rule and says
// which SCIM attribute is wrong.
func validateExternalID(s string) (string, error) {
	s, err := cohort.ValidateExternalID(s)
	if err != nil {
		return s, errValue("externalId: " + cohort.ErrorMessage(err))
	}
	return s, nil
}

// validateDraft checks a draft and says which SCIM attribute is wrong.
func validateDraft(d *userDraft) error {
	var err error
	if d.userName, err = cohort.ValidateUserName(d.userName); err != nil {
		return errValue("userName: " + cohort.ErrorMessage(err))
	}
	if d.emailSet && strings.TrimSpace(d.email) == "" && cohort.IsEmail(d.userName) {
		// Staff sign in by email: a userName that is one is it.
		d.email = d.userName
	}
	if d.email = cohort.CleanEmail(d.email); d.email != "" {
		if _, err := cohort.ValidateEmail(d.email); err != nil {
			return errValue("emails: " + cohort.ErrorMessage(err))
		}
	}
	d.given, d.family = cohort.NormalizeName(d.given), cohort.NormalizeName(d.family)
	if d.given == "" && d.family == "" {
		return errValue("name: send name.givenName, name.familyName or both (or a displayName).")
	}
	if d.given != "" {
		if d.given, err = cohort.ValidatePersonName("given_name", "given name", d.given); err != nil {
			return errValue("name.givenName: " + cohort.ErrorMessage(err))
		}
	}
	if d.family != "" {
		if d.family, err = cohort.ValidatePersonName("family_name", "family name", d.family); err != nil {
			return errValue("name.familyName: " + cohort.ErrorMessage(err))
		}
	}
	if d.externalID, err = validateExternalID(d.externalID); err != nil {
		return err
	}
	if d.role == "" {
		d.role = cohort.RolePractitioner
	}
	if !d.role.Valid() {
		return errValue(SchemaCohortUser + ":role must be one of practitioner_admin, practitioner, practice_manager, receptionist or accountant.")
	}
	return nil
}

func (h *Handler) handleUserCreate(w http.ResponseWriter, r *http.Request) error {
	var in userInput
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	d := userDraft{active: true}
	if err := in.apply(&d, false); err != nil {
		return err
	}
	taken := &scimError{status: http.StatusConflict, scimType: typeUniqueness, detail: "A user with userName " + d.userName + " already exists in this workspace: look it up with filter=userName eq \"" + d.userName + "\"."}
	// A user a SCIM DELETE deprovisioned comes back, with their ID,
	// history and memberships, when the provider creates them again.
	gone, err := h.svc.Users.FindUsers(r.Context(), cohort.UserFilter{UserName: d.userName, Deprovisioned: true, Limit: 1})
	if err != nil {
		return err
	}
	if len(gone.Users) == 1 {
		u, err := h.reprovisionUser(r.Context(), gone.Users[0], d)
		if cohort.ErrorCode(err) == cohort.ECONFLICT {
			return taken
		}
		if err != nil {
			return err
		}
		return h.writeUser(w, r, http.StatusCreated, u)
	}
	u, err := h.svc.Users.CreateUser(r.Context(), cohort.UserCreate{
		UserName:   d.userName,
		Email:      d.email,
		ShareEmail: true,
		GivenName:  d.given,
		FamilyName: d.family,
		Role:       d.role,
		ExternalID: d.externalID,
		Archived:   !d.active,
	})
	if cohort.ErrorCode(err) == cohort.ECONFLICT {
		return taken
	}
	if err != nil {
		return err
	}
	return h.writeUser(w, r, http.StatusCreated, u)
}

// reprovisionUser restores a deprovisioned user with the fields of a
// POST, in one transaction.
func (h *Handler) reprovisionUser(ctx context.Context, cur *cohort.User, d userDraft) (*cohort.User, error) {
	status := cohort.StatusActive
	if !d.active {
		status = cohort.StatusArchived
	}
	no := false
	upd := cohort.UserUpdate{UserName: &d.userName, Email: &d.email, ShareEmail: true, GivenName: &d.given,
		FamilyName: &d.family, Role: &d.role, ExternalID: &d.externalID, Status: &status, Deprovisioned: &no}
	return h.svc.Users.UpdateUser(ctx, cur.ID, upd)
}

func (h *Handler) handleUserReplace(w http.ResponseWriter, r *http.Request) error {
	var in userInput
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	cur, err := h.findUser(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := checkIfMatch(r, cur.Version); err != nil {
		return err
	}
	d := draftOf(cur)
	if err := in.apply(&d, true); err != nil {
		return err
	}
	u, err := h.commitUser(r.Context(), cur, d, r.Header.Get("If-Match") != "")
	if err != nil {
		return err
	}
	return h.writeUser(w, r, http.StatusOK, u)
}

// commitUser writes the difference between cur and d as one UpdateUser:
// field changes and (de)activation commit together in one transaction, so
// a failure part-way leaves the user as it was. The account owner and a
// taken userName are checked first to answer with the SCIM error that
// names them; the store refuses both again inside the transaction.
func (h *Handler) commitUser(ctx context.Context, cur *cohort.User, d userDraft, guarded bool) (*cohort.User, error) {
	upd := cohort.UserUpdate{ShareEmail: true}
	if d.userName != cur.UserName {
		upd.UserName = &d.userName
	}
	if d.email != cur.Email {
		upd.Email = &d.email
		// Named, so the store keeps it rather than have it follow the
		// email.
		upd.UserName = &d.userName
	}
	if d.given != cur.GivenName {
		upd.GivenName = &d.given
	}
	if d.family != cur.FamilyName {
		upd.FamilyName = &d.family
	}
	if d.externalID != cur.ExternalID {
		upd.ExternalID = &d.externalID
	}
	if d.role != cur.Role {
		upd.Role = &d.role
	}
	wasActive := !cur.Archived()
	archive := !d.active && wasActive
	if d.active != wasActive {
		to := cohort.StatusActive
		if archive {
			to = cohort.StatusArchived
		}
		upd.Status = &to
	}
	if err := upd.Validate(); err != nil {
		return nil, err
	}
	if archive && cur.IsOwner {
		return nil, errOwnerDeactivate()
	}
	if upd.UserName != nil {
		page, err := h.svc.Users.FindUsers(ctx, cohort.UserFilter{UserName: d.userName, Provisioned: true, Limit: 2})
		if err != nil {
			return nil, err
		}
		for _, o := range page.Users {
			if o.ID != cur.ID {
				return nil, errUserNameTaken(d.userName)
			}
		}
	}
	if upd == (cohort.UserUpdate{ShareEmail: true}) {
		return cur, nil
	}
	if guarded {
		// If-Match named cur's version: the store refuses the update if
		// the user changed since it was read.
		upd.IfVersion = cur.Version
	}
	u, err := h.svc.Users.UpdateUser(ctx, cur.ID, upd)
	if cohort.ErrorCode(err) == cohort.ECONFLICT {
		// Either the userName was taken meanwhile (the store names the
		// user_name field), or the user became the account owner meanwhile.
		if _, ok := cohort.ErrorFields(err)["user_name"]; ok || !archive {
			return nil, errUserNameTaken(d.userName)
		}
		return nil, errOwnerDeactivate()
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

func errOwnerDeactivate() error {
	return errMutability("The account owner cannot be deactivated: transfer ownership to another user in Cohort first.")
}

func errUserNameTaken(name string) error {
	return &scimError{status: http.StatusConflict, scimType: typeUniqueness, detail: "Another user already has userName " + name + "."}
}

// handleUserDelete deprovisions the user (RFC 7644 §3.6): SCIM answers 404
// for them from now on and lists leave them out, while Cohort archives
// them and keeps their history and memberships. A later POST with the
// same userName restores them.
func (h *Handler) handleUserDelete(w http.ResponseWriter, r *http.Request) error {
	cur, err := h.findUser(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	version, err := ifMatchVersion(r)
	if err != nil {
		return err
	}
	if cur.IsOwner {
		return errMutability("The account owner cannot be deleted: transfer ownership to another user in Cohort first.")
	}
	// The store checks If-Match in the transaction that archives.
	archived, yes := cohort.StatusArchived, true
	if _, err := h.svc.Users.UpdateUser(r.Context(), cur.ID, cohort.UserUpdate{Status: &archived, Deprovisioned: &yes, IfVersion: version}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
