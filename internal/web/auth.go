package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/httpx"
)

// signInView is the sign-in page.
type signInView struct {
	Page
	Email   string
	Next    string
	Message string
	// Practices is set when the email and password match staff in more
	// than one practice: the person chooses one.
	Practices []practiceChoice
}

type practiceChoice struct {
	ID      string
	Name    string
	Checked bool
}

// Limits on sign-in fields: generous for real input, small enough that
// nobody hashes a megabyte.
const (
	maxEmailInput    = cohort.EmailMax
	maxPasswordInput = cohort.PasswordMax * 4 // bytes of up to 256 runes
)

// safeNext returns p when it is a path on this site, else "". Only local
// paths are honoured so a sign-in link cannot send people elsewhere.
func safeNext(p string) string {
	if p == "" || len(p) > 2000 || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return ""
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return ""
		}
	}
	return p
}

func (h *Handler) afterSignIn(next string) string {
	if n := safeNext(next); n != "" && !strings.HasPrefix(n, "/signin") {
		return n
	}
	return "/settings/groups"
}

func (h *Handler) handleSignInForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, ok := cohort.ActorFromContext(r.Context()); ok {
		http.Redirect(w, r, h.afterSignIn(next), http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "signin", signInView{Page: h.page(r, "Sign in"), Next: next})
}

// signInFailed is the one message for an unknown email and a wrong
// password, so the form does not reveal who has an account.
const signInFailed = "The email or password is not right. Check them and try again."

func (h *Handler) handleSignIn(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	password := r.PostForm.Get("password")
	v := signInView{Page: h.page(r, "Sign in"), Email: cleanText(email, maxEmailInput), Next: safeNext(r.PostForm.Get("next"))}
	if email == "" || password == "" {
		v.Message = "Enter your email and password."
		h.render(w, r, http.StatusUnprocessableEntity, "signin", v)
		return
	}
	if len(email) > maxEmailInput || len(password) > maxPasswordInput {
		v.Message = signInFailed
		h.render(w, r, http.StatusUnauthorized, "signin", v)
		return
	}
	// Text no address can hold (control characters, broken UTF-8) is
	// refused like a wrong password, after the same work, and never
	// reaches the database, which would reject it with an error.
	odd := hasBadControl(email) || hasBadControl(password)
	if odd {
		email, password = cleanText(email, maxEmailInput), cleanText(password, maxPasswordInput)
	}
	users, err := h.svc.Auth.Authenticate(r.Context(), email, password)
	if odd {
		users, err = nil, nil
	}
	if err != nil || len(users) == 0 {
		if err != nil && cohort.ErrorCode(err) != cohort.EUNAUTHORIZED {
			if cohort.ErrorCode(err) == cohort.ERATELIMIT {
				v.Message = cohort.ErrorMessage(err)
				h.render(w, r, http.StatusTooManyRequests, "signin", v)
				return
			}
			h.internalError(w, r, err)
			return
		}
		v.Message = signInFailed
		h.render(w, r, http.StatusUnauthorized, "signin", v)
		return
	}
	user := users[0]
	if len(users) > 1 {
		chosen := r.PostForm.Get("workspace")
		user = nil
		for _, u := range users {
			if u.WorkspaceID == chosen {
				user = u
			}
		}
		if user == nil {
			for _, u := range users {
				ws, err := h.svc.Workspaces.FindWorkspaceByID(r.Context(), u.WorkspaceID)
				if err != nil {
					h.internalError(w, r, err)
					return
				}
				v.Practices = append(v.Practices, practiceChoice{ID: ws.ID, Name: ws.Name})
			}
			v.Message = "Choose the practice to sign in to, and enter your password again."
			h.render(w, r, http.StatusOK, "signin", v)
			return
		}
	}
	// A fresh session at every sign-in: a session ID planted before
	// sign-in is never promoted to a signed-in one.
	if old := httpx.SessionFrom(r.Context()); old != nil {
		_ = h.svc.Auth.DeleteSession(r.Context(), old.Token)
	}
	token, _, err := h.svc.Auth.CreateSession(r.Context(), user.ID, h.opts.SessionTTL)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	httpx.SetSessionCookie(w, h.opts.SecureCookies, token, h.opts.SessionTTL)
	http.Redirect(w, r, h.afterSignIn(v.Next), http.StatusSeeOther)
}

// handleSignOut ends the session on the server, not only in the browser.
func (h *Handler) handleSignOut(w http.ResponseWriter, r *http.Request) {
	if s := httpx.SessionFrom(r.Context()); s != nil {
		if err := h.svc.Auth.DeleteSession(r.Context(), s.Token); err != nil && cohort.ErrorCode(err) != cohort.EUNAUTHORIZED {
			h.internalError(w, r, err)
			return
		}
	}
	httpx.ClearSessionCookie(w, h.opts.SecureCookies)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}
