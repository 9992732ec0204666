package web

import (
	"net/http"
	"net/url"

	"github.com/cohorthq/cohort"
)

// Add user and Edit user. A new staff member gets an initial password
// that the manager sets and tells them (Cohort sends no email, so an
// invitation link would have to be passed on by hand anyway); they can
// change it once signed in. docs/staff.md explains the choice.

type userFormView struct {
	Page
	Editing    bool
	Action     string
	UserID     string
	Version    int64
	GivenName  string
	FamilyName string
	Email      string
	Role       string
	Roles      []cohort.Role
	IsOwner    bool
	// Attributes are the optional staff attributes, as typed.
	Attributes cohort.StaffAttributes
	// EmploymentTypes are suggested for the employment type field.
	EmploymentTypes []string
	Errors          map[string][]string
	Message         string
}

func (v *userFormView) fieldError(field, msg string) {
	if v.Errors == nil {
		v.Errors = map[string][]string{}
	}
	v.Errors[field] = append(v.Errors[field], msg)
}

const notSaved = "The staff member was not saved. Correct the marked fields and select Save again."

// Echo limits: enough to show what was typed, bounded for huge posts.
const (
	echoPersonName = 4 * cohort.NameMax
	echoEmail      = 2 * cohort.EmailMax
)

func (h *Handler) newUserForm(r *http.Request, u *cohort.User) userFormView {
	if u == nil {
		return userFormView{Page: h.settingsPage(r, "users", "Add user"), Action: "/settings/users/new",
			Role: string(cohort.RolePractitioner), Roles: cohort.Roles, EmploymentTypes: cohort.EmploymentTypes}
	}
	return userFormView{Page: h.settingsPage(r, "users", "Edit user"), Editing: true,
		Action: userURL(u) + "/edit", UserID: u.ID, Version: u.Version, GivenName: u.GivenName,
		FamilyName: u.FamilyName, Email: u.Email, Role: string(u.Role), Roles: cohort.Roles, IsOwner: u.IsOwner,
		Attributes: u.StaffAttributes, EmploymentTypes: cohort.EmploymentTypes}
}

// attrFields are the form fields of the staff attributes, as the domain
// names them in its messages.
var attrFields = []string{"job_title", "location", "phone", "employment_type"}

// readAttributes reads the staff attributes from a posted form, as typed
// (the domain normalises and checks them).
func readAttributes(form url.Values) cohort.StaffAttributes {
	return cohort.StaffAttributes{JobTitle: form.Get("job_title"), Location: form.Get("location"),
		Phone: form.Get("phone"), EmploymentType: form.Get("employment_type")}
}

// echo puts the typed fields back.
func (v *userFormView) echo(form url.Values) {
	v.GivenName = cleanText(form.Get("given_name"), echoPersonName)
	v.FamilyName = cleanText(form.Get("family_name"), echoPersonName)
	v.Email = cleanText(form.Get("email"), echoEmail)
	v.Role = cleanText(form.Get("role"), 40)
	a := readAttributes(form)
	v.Attributes = cohort.StaffAttributes{JobTitle: cleanText(a.JobTitle, 4*cohort.JobTitleMax),
		Location: cleanText(a.Location, 4*cohort.LocationMax), Phone: cleanText(a.Phone, 4*cohort.PhoneMax),
		EmploymentType: cleanText(a.EmploymentType, 4*cohort.EmploymentTypeMax)}
}

// storeFields marks the form's fields with a refused save's messages.
func (v *userFormView) storeFields(err error) {
	markFields(err, append([]string{"email", "given_name", "family_name", "role", "password"}, attrFields...), "email", v.fieldError)
	v.Message = notSaved
}

func (h *Handler) handleUserNew(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireUserManager(r); err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "user_form", h.newUserForm(r, nil))
}

func (h *Handler) handleUserCreate(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireUserManager(r); err != nil {
		return err
	}
	if err := h.parseForm(r); err != nil {
		return err
	}
	form := r.PostForm
	v := h.newUserForm(r, nil)
	v.echo(form)
	c := cohort.UserCreate{
		Email:      form.Get("email"),
		GivenName:  form.Get("given_name"),
		FamilyName: form.Get("family_name"),
		Role:       cohort.Role(form.Get("role")),
		Password:   form.Get("password"),
		// The attributes are optional: blank fields leave them unset.
		StaffAttributes: readAttributes(form),
	}
	if err := c.Validate(); err != nil {
		v.storeFields(err)
	}
	if c.Password == "" {
		v.fieldError("password", "Set an initial password of at least 12 characters; tell it to the person so they can sign in.")
	} else if len(c.Password) > maxPasswordInput {
		v.fieldError("password", "Use a password of at most 256 characters.")
	} else if err := cohort.ValidatePassword(c.Password, cohort.IsCommonPassword); err != nil {
		v.fieldError("password", cohort.ErrorMessage(err))
	}
	if len(v.Errors) > 0 {
		v.Message = notSaved
		return h.render(w, r, http.StatusUnprocessableEntity, "user_form", v)
	}
	u, err := h.svc.Users.CreateUser(r.Context(), c)
	switch cohort.ErrorCode(err) {
	case "":
		http.Redirect(w, r, userURL(u)+"?done=created", http.StatusSeeOther)
		return nil
	case cohort.EINVALID, cohort.ECONFLICT:
		v.storeFields(err)
		return h.render(w, r, errorStatus(err), "user_form", v)
	default:
		return err
	}
}

func (h *Handler) handleUserEdit(w http.ResponseWriter, r *http.Request) error {
	u, err := h.loadUser(r)
	if err != nil {
		return err
	}
	if err := h.requireUserManager(r); err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "user_form", h.newUserForm(r, u))
}

// staleUserMessage is shown with the current version of a staff member
// when a save was made against an older one.
const staleUserMessage = "This staff member was changed by someone else while you were editing, so your changes were not saved. Here is the current version: make your changes again and select Save."

// handleUserUpdate saves the edit form. Whether the staff member is still
// the version the form was made from is decided once, by UpdateUser inside
// its transaction.
func (h *Handler) handleUserUpdate(w http.ResponseWriter, r *http.Request) error {
	u, err := h.loadUser(r)
	if err != nil {
		return err
	}
	if err := h.requireUserManager(r); err != nil {
		return err
	}
	if err := h.parseForm(r); err != nil {
		return err
	}
	form := r.PostForm
	version := parseVersion(form.Get("version"))
	if version == 0 {
		// A form without its version cannot say what it was made from:
		// show the staff member as they are now.
		return h.renderUserStale(w, r, u)
	}
	v := h.newUserForm(r, u)
	v.echo(form)
	email, given, family := form.Get("email"), form.Get("given_name"), form.Get("family_name")
	role := cohort.Role(form.Get("role"))
	upd := cohort.UserUpdate{Email: &email, GivenName: &given, FamilyName: &family, Role: &role, IfVersion: version,
		StaffAttributesUpdate: readAttributes(form).Update()}
	if err := upd.Validate(); err != nil {
		v.storeFields(err)
		return h.render(w, r, http.StatusUnprocessableEntity, "user_form", v)
	}
	_, err = h.svc.Users.UpdateUser(r.Context(), u.ID, upd)
	switch cohort.ErrorCode(err) {
	case "":
		http.Redirect(w, r, userURL(u)+"?done=saved", http.StatusSeeOther)
		return nil
	case cohort.ESTALE:
		current, err := h.svc.Users.FindUserByID(r.Context(), u.ID)
		if err != nil {
			return err
		}
		return h.renderUserStale(w, r, current)
	case cohort.EINVALID, cohort.ECONFLICT:
		v.storeFields(err)
		return h.render(w, r, errorStatus(err), "user_form", v)
	default:
		return err
	}
}

// renderUserStale shows u's form as u is now, with the stale-edit message.
func (h *Handler) renderUserStale(w http.ResponseWriter, r *http.Request, u *cohort.User) error {
	v := h.newUserForm(r, u)
	v.Message = staleUserMessage
	return h.render(w, r, http.StatusConflict, "user_form", v)
}
