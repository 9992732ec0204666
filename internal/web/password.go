package web

import (
	"net/http"

	"github.com/cohorthq/cohort"
)

// Passwords: a manager sets a staff member's password on their page (for
// staff added by import or without one, or who forgot theirs), and every
// signed-in person changes their own under Change password.

type passwordView struct {
	Page
	// User is the person whose password a manager sets; nil when people
	// change their own.
	User    *cohort.User
	Action  string
	Errors  map[string][]string
	Message string
}

func (v *passwordView) fieldError(field, msg string) {
	if v.Errors == nil {
		v.Errors = map[string][]string{}
	}
	v.Errors[field] = append(v.Errors[field], msg)
	v.Message = "The password was not changed. Correct the marked fields and try again."
}

// checkNewPassword marks the new-password fields of v.
func (v *passwordView) checkNewPassword(p, again string) {
	switch {
	case len(p) > maxPasswordInput:
		v.fieldError("password", "Use a password of at most 256 characters.")
	case cohort.ValidatePassword(p, cohort.IsCommonPassword) != nil:
		v.fieldError("password", cohort.ErrorMessage(cohort.ValidatePassword(p, cohort.IsCommonPassword)))
	case p != again:
		v.fieldError("password_again", "The two passwords differ: type the same password twice.")
	}
}

func (h *Handler) userPasswordPage(r *http.Request, u *cohort.User) passwordView {
	return passwordView{Page: h.settingsPage(r, "users", "Set password"), User: u, Action: userURL(u) + "/password"}
}

// loadPasswordTarget returns the staff member whose password the request
// sets: a manager sets anyone's but the account owner's, which only the
// owner sets, under Change password (403).
func (h *Handler) loadPasswordTarget(r *http.Request) (*cohort.User, error) {
	u, err := h.loadUser(r)
	if err != nil {
		return nil, err
	}
	if err := h.requireUserManager(r); err != nil {
		return nil, err
	}
	if u.IsOwner && ctxActor(r.Context()).UserID != u.ID {
		return nil, forbidden("Only the account owner sets their own password, under Change password.")
	}
	return u, nil
}

func (h *Handler) handleUserPasswordForm(w http.ResponseWriter, r *http.Request) error {
	u, err := h.loadPasswordTarget(r)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "password", h.userPasswordPage(r, u))
}

func (h *Handler) handleUserPassword(w http.ResponseWriter, r *http.Request) error {
	u, err := h.loadPasswordTarget(r)
	if err != nil {
		return err
	}
	if err := h.parseForm(r); err != nil {
		return err
	}
	v := h.userPasswordPage(r, u)
	p := r.PostForm.Get("password")
	v.checkNewPassword(p, r.PostForm.Get("password_again"))
	if len(v.Errors) > 0 {
		return h.render(w, r, http.StatusUnprocessableEntity, "password", v)
	}
	if err := h.svc.Users.SetPassword(r.Context(), u.ID, p); err != nil {
		return err
	}
	// The person signs in with the new password: sessions made with the
	// old one end (except this one, when managers set their own).
	if err := h.endSessions(r, u); err != nil {
		return err
	}
	http.Redirect(w, r, userURL(u)+"?done=password", http.StatusSeeOther)
	return nil
}

func (h *Handler) ownPasswordPage(r *http.Request) passwordView {
	return passwordView{Page: h.page(r, "Change password"), Action: "/account/password"}
}

func (h *Handler) handleOwnPasswordForm(w http.ResponseWriter, r *http.Request) error {
	return h.render(w, r, http.StatusOK, "password", h.ownPasswordPage(r))
}

func (h *Handler) handleOwnPassword(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	a := ctxActor(ctx)
	v := h.ownPasswordPage(r)
	current := r.PostForm.Get("current_password")
	me, err := h.svc.Users.FindUserByID(ctx, a.UserID)
	if err != nil {
		return err
	}
	// The current password proves it is the person, not someone at an
	// unlocked screen.
	ok := false
	if current != "" && len(current) <= maxPasswordInput {
		ws, err := h.svc.Workspaces.FindWorkspaceByID(ctx, me.WorkspaceID)
		if err != nil {
			return err
		}
		u, err := h.svc.Auth.Authenticate(ctx, cohort.Credentials{Practice: ws.Slug, Email: me.Email, Password: current})
		if err != nil && cohort.ErrorCode(err) != cohort.EUNAUTHORIZED {
			if cohort.ErrorCode(err) == cohort.ERATELIMIT {
				v.fieldError("current_password", cohort.ErrorMessage(err))
				return h.render(w, r, http.StatusTooManyRequests, "password", v)
			}
			return err
		}
		ok = u != nil && u.ID == me.ID
	}
	if !ok {
		v.fieldError("current_password", "Your current password is not right.")
	}
	v.checkNewPassword(r.PostForm.Get("password"), r.PostForm.Get("password_again"))
	if len(v.Errors) > 0 {
		return h.render(w, r, http.StatusUnprocessableEntity, "password", v)
	}
	if err := h.svc.Users.SetPassword(ctx, me.ID, r.PostForm.Get("password")); err != nil {
		return err
	}
	// Other browsers signed in with the old password are signed out.
	if err := h.svc.Auth.DeleteUserSessions(ctx, me.ID, a.SessionID); err != nil {
		return err
	}
	v = h.ownPasswordPage(r)
	v.Flash = "Your password is changed. Other browsers you were signed in on are signed out."
	return h.render(w, r, http.StatusOK, "password", v)
}
