package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/httpx"
)

// signInView is the sign-in page. A sign-in always names its practice
// (SECURITY.md, "Sign-in across practices"): on an installation with one
// practice it is filled in and not shown; otherwise the person types it,
// or it comes from their practice's sign-in link (?practice=slug) or from
// the last practice this browser signed in to.
type signInView struct {
	Page
	Practice string
	// SolePractice is the installation's only practice, when it has one:
	// the Practice field is then hidden.
	SolePractice string
	Email        string
	Next         string
	Message      string
}

// practiceCookie remembers, in this browser, the practice last signed in
// to, so the Practice field is filled in next time. It holds only the
// practice's slug, which its sign-in link shows anyway.
const practiceCookie = "cohort_practice"

func practiceCookieName(secure bool) string {
	if secure {
		return "__Host-" + practiceCookie
	}
	return practiceCookie
}

// signInPage returns the sign-in view with the practice filled in.
func (h *Handler) signInPage(r *http.Request, practice string) (signInView, error) {
	v := signInView{Page: h.page(r, "Sign in"), Practice: cleanText(cohort.NormalizeSlug(practice), maxPracticeInput)}
	sole, err := h.svc.Workspaces.SoleWorkspace(r.Context())
	if err != nil {
		return v, err
	}
	if sole != nil {
		v.Practice, v.SolePractice = sole.Slug, sole.Name
	}
	return v, nil
}

// Limits on sign-in fields: generous for real input, small enough that
// nobody hashes a megabyte.
const (
	maxPracticeInput = 100
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

func (h *Handler) handleSignInForm(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"))
	if _, ok := cohort.ActorFromContext(r.Context()); ok {
		http.Redirect(w, r, h.afterSignIn(next), http.StatusSeeOther)
		return nil
	}
	practice := r.URL.Query().Get("practice")
	if practice == "" {
		if c, err := r.Cookie(practiceCookieName(h.opts.SecureCookies)); err == nil {
			practice = c.Value
		}
	}
	v, err := h.signInPage(r, practice)
	if err != nil {
		return err
	}
	v.Next = next
	return h.render(w, r, http.StatusOK, "signin", v)
}

// signInFailed is the one message for an unknown practice, an unknown
// email and a wrong password, so the form does not reveal who has an
// account where.
const signInFailed = "The practice, email or password is not right. Check them and try again."

func (h *Handler) handleSignIn(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(r); err != nil {
		return err
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	password := r.PostForm.Get("password")
	practice := strings.TrimSpace(r.PostForm.Get("practice"))
	v, err := h.signInPage(r, practice)
	if err != nil {
		return err
	}
	v.Email, v.Next = cleanText(email, maxEmailInput), safeNext(r.PostForm.Get("next"))
	if v.SolePractice != "" && practice == "" {
		// One practice: a client that posts only email and password
		// signs in to it.
		practice = v.Practice
	}
	if practice == "" || email == "" || password == "" {
		v.Message = "Enter your practice, email and password."
		if v.SolePractice != "" {
			v.Message = "Enter your email and password."
		}
		return h.render(w, r, http.StatusUnprocessableEntity, "signin", v)
	}
	if len(practice) > maxPracticeInput || len(email) > maxEmailInput || len(password) > maxPasswordInput {
		v.Message = signInFailed
		return h.render(w, r, http.StatusUnauthorized, "signin", v)
	}
	// Text no practice or address can hold (control characters, broken
	// UTF-8) is refused like a wrong password, after the same work, and
	// never reaches the database, which would reject it with an error.
	odd := hasBadControl(practice) || hasBadControl(email) || hasBadControl(password)
	if odd {
		practice, email, password = cleanText(practice, maxPracticeInput), cleanText(email, maxEmailInput), cleanText(password, maxPasswordInput)
	}
	user, err := h.svc.Auth.Authenticate(r.Context(), cohort.Credentials{Practice: practice, Email: email, Password: password})
	if odd {
		user, err = nil, nil
	}
	if err != nil || user == nil {
		if err != nil && cohort.ErrorCode(err) != cohort.EUNAUTHORIZED {
			if cohort.ErrorCode(err) == cohort.ERATELIMIT {
				v.Message = cohort.ErrorMessage(err)
				return h.render(w, r, http.StatusTooManyRequests, "signin", v)
			}
			return err
		}
		v.Message = signInFailed
		return h.render(w, r, http.StatusUnauthorized, "signin", v)
	}
	// A fresh session at every sign-in: a session ID planted before
	// sign-in is never promoted to a signed-in one.
	if old := httpx.SessionFrom(r.Context()); old != nil {
		_ = h.svc.Auth.DeleteSession(r.Context(), old.Token)
	}
	token, _, err := h.svc.Auth.CreateSession(r.Context(), user.ID, h.opts.SessionTTL)
	if err != nil {
		return err
	}
	httpx.SetSessionCookie(w, h.opts.SecureCookies, token, h.opts.SessionTTL)
	http.SetCookie(w, &http.Cookie{
		Name: practiceCookieName(h.opts.SecureCookies), Value: cohort.NormalizeSlug(practice), Path: "/",
		MaxAge: 400 * 24 * 60 * 60, HttpOnly: true, Secure: h.opts.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, h.afterSignIn(v.Next), http.StatusSeeOther)
	return nil
}

// handleSignOut ends the session on the server, not only in the browser.
func (h *Handler) handleSignOut(w http.ResponseWriter, r *http.Request) error {
	if s := httpx.SessionFrom(r.Context()); s != nil {
		if err := h.svc.Auth.DeleteSession(r.Context(), s.Token); err != nil && cohort.ErrorCode(err) != cohort.EUNAUTHORIZED {
			return err
		}
	}
	httpx.ClearSessionCookie(w, h.opts.SecureCookies)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}
