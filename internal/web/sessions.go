package web

import (
	"net/http"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/httpx"
)

// Sign out everywhere: a person ends every browser session of their own
// (a lost phone, a shared computer), and the account owner ends every
// session of any staff member (a laptop stolen, someone leaving before
// they are archived). Sessions live in the database, so this reaches
// every instance at once.

type sessionsView struct {
	Page
	// User is the staff member whose sessions the owner ends; nil when
	// people end their own.
	User   *cohort.User
	Action string
}

func (h *Handler) sessionRoutes() []httpx.Route {
	f := h.serve
	return []httpx.Route{
		{Method: "GET", Pattern: "/account/sessions", Handler: f(h.handleOwnSessionsForm)},
		{Method: "POST", Pattern: "/account/sessions", Handler: f(h.handleOwnSessionsEnd)},
		{Method: "GET", Pattern: "/settings/users/{id}/sessions", Handler: f(h.handleUserSessionsForm)},
		{Method: "POST", Pattern: "/settings/users/{id}/sessions", Handler: f(h.handleUserSessionsEnd)},
	}
}

func (h *Handler) handleOwnSessionsForm(w http.ResponseWriter, r *http.Request) error {
	return h.render(w, r, http.StatusOK, "sessions", sessionsView{Page: h.page(r, "Sign out everywhere"), Action: "/account/sessions"})
}

// handleOwnSessionsEnd ends every session of the person, this one too,
// and sends them to the sign-in page.
func (h *Handler) handleOwnSessionsEnd(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.Auth.DeleteUserSessions(r.Context(), ctxActor(r.Context()).UserID, ""); err != nil {
		return err
	}
	httpx.ClearSessionCookie(w, h.opts.SecureCookies)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}

// requireOwnerForSessions refuses (403) unless the actor is the account
// owner. The user is looked up first, so another practice's ID is 404.
func (h *Handler) requireOwnerForSessions(r *http.Request) error {
	if ctxActor(r.Context()).IsOwner {
		return nil
	}
	return forbidden("Only the account owner can sign other staff out everywhere. To sign yourself out everywhere, use Sign out everywhere under your account.")
}

func (h *Handler) userSessionsPage(r *http.Request, u *cohort.User) sessionsView {
	return sessionsView{Page: h.settingsPage(r, "users", "Sign out everywhere"), User: u, Action: userURL(u) + "/sessions"}
}

func (h *Handler) handleUserSessionsForm(w http.ResponseWriter, r *http.Request) error {
	u, err := h.loadUser(r)
	if err != nil {
		return err
	}
	if err := h.requireOwnerForSessions(r); err != nil {
		return err
	}
	v := h.userSessionsPage(r, u)
	if r.URL.Query().Get("done") == "1" {
		v.Flash = u.Name() + " is signed out of every browser. They can sign in again with their password."
	}
	return h.render(w, r, http.StatusOK, "sessions", v)
}

// handleUserSessionsEnd ends every session of a staff member. When the
// owner picks themselves, the session in use is kept.
func (h *Handler) handleUserSessionsEnd(w http.ResponseWriter, r *http.Request) error {
	u, err := h.loadUser(r)
	if err != nil {
		return err
	}
	if err := h.requireOwnerForSessions(r); err != nil {
		return err
	}
	if err := h.endSessions(r, u); err != nil {
		return err
	}
	http.Redirect(w, r, userURL(u)+"/sessions?done=1", http.StatusSeeOther)
	return nil
}

// endSessions ends every session of u, except the one in use when u is
// the person asking: they stay signed in here.
func (h *Handler) endSessions(r *http.Request, u *cohort.User) error {
	keep := ""
	if a := ctxActor(r.Context()); a.UserID == u.ID {
		keep = a.SessionID
	}
	return h.svc.Auth.DeleteUserSessions(r.Context(), u.ID, keep)
}
