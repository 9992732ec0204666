// Package web serves Cohort's pages: sign-in and Settings (Groups, and the
// Settings pages others add). Pages are rendered on the server from
// html/template and work without JavaScript; small static scripts make
// them quicker (picker search as you type, live updates). The package
// speaks only to the domain's services, never to SQL.
package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/httpx"
)

// Options configure the pages.
type Options struct {
	// SecureCookies marks cookies Secure with the "__Host-" prefix; set it
	// when the site is served over HTTPS (the server's Config.TLS).
	SecureCookies bool
	// SessionTTL is how long a sign-in lasts at most (default 12 hours).
	SessionTTL time.Duration
	// LiveEventsURL is the server-sent events stream that live.js listens
	// to ("/events" when the events package is mounted); empty turns live
	// updates off so pages never ask for a stream that is not there.
	LiveEventsURL string
}

// DefaultSessionTTL is the absolute lifetime of a browser session.
const DefaultSessionTTL = 12 * time.Hour

// Handler serves the pages.
type Handler struct {
	svc    cohort.Services
	logger *slog.Logger
	opts   Options
	tmpl   *templates
}

// New parses every template and indexes the static files; a broken
// template fails here, at start, not on a request.
func New(svc cohort.Services, logger *slog.Logger, opts Options) (*Handler, error) {
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	t, err := loadTemplates()
	if err != nil {
		return nil, err
	}
	return &Handler{svc: svc, logger: logger, opts: opts, tmpl: t}, nil
}

// Routes lists every page and form endpoint. Manage routes check the
// actor's permission themselves and answer 403; the store checks again.
func (h *Handler) Routes() []httpx.Route {
	f := h.serve
	return append([]httpx.Route{
		{Method: "GET", Pattern: "/static/{file}", Public: true, Stateless: true, Quick: true, Handler: f(h.handleStatic)},
		{Method: "GET", Pattern: "/{$}", Handler: f(h.handleHome)},
		{Method: "GET", Pattern: "/signin", Public: true, Handler: f(h.handleSignInForm)},
		{Method: "POST", Pattern: "/signin", Public: true, Handler: f(h.handleSignIn)},
		{Method: "POST", Pattern: "/signout", Public: true, Handler: f(h.handleSignOut)},
		{Method: "GET", Pattern: "/settings", Handler: f(h.handleSettings)},

		{Method: "GET", Pattern: "/settings/groups", Handler: f(h.handleGroupList)},
		{Method: "GET", Pattern: "/settings/groups/new", Handler: f(h.handleGroupNew)},
		{Method: "POST", Pattern: "/settings/groups/new", Handler: f(h.handleGroupCreate)},
		{Method: "GET", Pattern: "/settings/groups/picker", Handler: f(h.handlePicker)},
		{Method: "GET", Pattern: "/settings/groups/{id}", Handler: f(h.handleGroupView)},
		{Method: "GET", Pattern: "/settings/groups/{id}/edit", Handler: f(h.handleGroupEdit)},
		{Method: "POST", Pattern: "/settings/groups/{id}/edit", Handler: f(h.handleGroupUpdate)},
		{Method: "POST", Pattern: "/settings/groups/{id}/archive", Handler: f(h.handleGroupArchive)},
		{Method: "POST", Pattern: "/settings/groups/{id}/restore", Handler: f(h.handleGroupRestore)},

		// Staff (issue 4): Settings → Users, CSV import/export, Directory.
		{Method: "GET", Pattern: "/settings/users", Handler: f(h.handleUserList)},
		{Method: "GET", Pattern: "/settings/users/new", Handler: f(h.handleUserNew)},
		{Method: "POST", Pattern: "/settings/users/new", Handler: f(h.handleUserCreate)},
		{Method: "GET", Pattern: "/settings/users/import", Handler: f(h.handleImportForm)},
		{Method: "POST", Pattern: "/settings/users/import", MaxBodyBytes: maxCSVUpload, Handler: f(h.handleImport)},
		{Method: "GET", Pattern: "/settings/users/export/users.csv", Handler: f(h.handleExportUsers)},
		{Method: "GET", Pattern: "/settings/users/export/groups.csv", Handler: f(h.handleExportGroups)},
		{Method: "GET", Pattern: "/settings/users/{id}", Handler: f(h.handleUserView)},
		{Method: "GET", Pattern: "/settings/users/{id}/edit", Handler: f(h.handleUserEdit)},
		{Method: "POST", Pattern: "/settings/users/{id}/edit", Handler: f(h.handleUserUpdate)},
		{Method: "POST", Pattern: "/settings/users/{id}/archive", Handler: f(h.handleUserArchive)},
		{Method: "POST", Pattern: "/settings/users/{id}/restore", Handler: f(h.handleUserRestore)},
		{Method: "POST", Pattern: "/settings/users/{id}/groups", Handler: f(h.handleUserGroup)},
		{Method: "GET", Pattern: "/settings/users/{id}/owner", Handler: f(h.handleOwnerConfirm)},
		{Method: "POST", Pattern: "/settings/users/{id}/owner", Handler: f(h.handleOwnerTransfer)},
		{Method: "GET", Pattern: "/settings/users/{id}/password", Handler: f(h.handleUserPasswordForm)},
		{Method: "POST", Pattern: "/settings/users/{id}/password", Handler: f(h.handleUserPassword)},
		{Method: "GET", Pattern: "/directory", Handler: f(h.handleDirectory)},
		{Method: "GET", Pattern: "/account/password", Handler: f(h.handleOwnPasswordForm)},
		{Method: "POST", Pattern: "/account/password", Handler: f(h.handleOwnPassword)},

		// Integrations and the record (issues 5 and 7): API keys and
		// webhooks for the account owner, the audit log and a group's
		// history for managers.
		{Method: "GET", Pattern: "/settings/api-keys", Handler: f(h.handleAPIKeyList)},
		{Method: "GET", Pattern: "/settings/api-keys/new", Handler: f(h.handleAPIKeyNew)},
		{Method: "POST", Pattern: "/settings/api-keys/new", Handler: f(h.handleAPIKeyCreate)},
		{Method: "GET", Pattern: "/settings/api-keys/{id}/revoke", Handler: f(h.handleAPIKeyRevokeConfirm)},
		{Method: "POST", Pattern: "/settings/api-keys/{id}/revoke", Handler: f(h.handleAPIKeyRevoke)},
		{Method: "GET", Pattern: "/settings/webhooks", Handler: f(h.handleWebhookList)},
		{Method: "GET", Pattern: "/settings/webhooks/new", Handler: f(h.handleWebhookNew)},
		{Method: "POST", Pattern: "/settings/webhooks/new", Handler: f(h.handleWebhookCreate)},
		{Method: "GET", Pattern: "/settings/webhooks/{id}", Handler: f(h.handleWebhookView)},
		{Method: "POST", Pattern: "/settings/webhooks/{id}/resume", Handler: f(h.handleWebhookResume)},
		{Method: "POST", Pattern: "/settings/webhooks/{id}/resend", Handler: f(h.handleWebhookResend)},
		{Method: "GET", Pattern: "/settings/webhooks/{id}/delete", Handler: f(h.handleWebhookDeleteConfirm)},
		{Method: "POST", Pattern: "/settings/webhooks/{id}/delete", Handler: f(h.handleWebhookDelete)},
		{Method: "GET", Pattern: "/settings/audit", Handler: f(h.handleAuditLog)},
		{Method: "GET", Pattern: "/settings/audit/export.csv", Handler: f(h.handleAuditExport)},
		{Method: "GET", Pattern: "/settings/groups/{id}/history.csv", Handler: f(h.handleGroupHistoryCSV)},
	}, h.sessionRoutes()...)
}

// Page is what the shared layout needs; every page's view model embeds it.
type Page struct {
	Title     string
	SignedIn  bool
	Actor     cohort.Actor
	CSRFToken string
	// Section names the top navigation entry that is current ("settings").
	Section string
	// SettingsNav is the Settings sub-navigation; empty outside Settings.
	SettingsNav []NavLink
	// Flash is a confirmation shown once at the top of the page.
	Flash   string
	LiveURL string
}

// page starts a view model for a request.
func (h *Handler) page(r *http.Request, title string) Page {
	a, ok := cohort.ActorFromContext(r.Context())
	p := Page{Title: title, SignedIn: ok, Actor: a, CSRFToken: httpx.CSRFToken(r.Context())}
	if ok && h.opts.LiveEventsURL != "" {
		p.LiveURL = h.opts.LiveEventsURL
		// The stream starts where this page was rendered, so a change
		// committed between rendering and the stream connecting still
		// reaches the page. Without the position the page still works,
		// only that narrow window is not covered.
		if seq, err := h.svc.Events.LastWorkspaceEventSeq(r.Context(), a.WorkspaceID); err == nil {
			p.LiveURL += "?last_event_id=" + strconv.FormatInt(seq, 10)
		}
	}
	return p
}

// settingsPage starts a view model for a Settings page; key names its
// entry in the sub-navigation.
func (h *Handler) settingsPage(r *http.Request, key, title string) Page {
	p := h.page(r, title)
	p.Section = "settings"
	p.SettingsNav = settingsNavFor(p.Actor, key)
	return p
}

// handlerFunc is a page handler. It writes a successful answer itself (a
// page, a form shown again with its fields marked, a redirect) and
// returns any other outcome as an error, which serve renders.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// serve adapts a page handler where its route is declared: the one place
// a handler's error becomes an answer.
func (h *Handler) serve(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			h.renderError(w, r, err)
		}
	})
}

// render executes a page into a buffer first, so a template error is
// returned (and becomes a clean 500) instead of half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) error {
	var buf bytes.Buffer
	if err := h.tmpl.execute(&buf, name, data); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// errorPages is the pages' one table from a domain error code to the
// answer's status and title; the error's message is the page's text.
// EUNAUTHORIZED is a redirect to sign-in instead, and any code not listed
// is an internal error.
var errorPages = map[string]struct {
	status int
	title  string
}{
	cohort.ENOTFOUND:    {http.StatusNotFound, "Not found"},
	cohort.EFORBIDDEN:   {http.StatusForbidden, "Not allowed"},
	cohort.EUNAVAILABLE: {http.StatusServiceUnavailable, "Cohort is unavailable"},
	cohort.ERATELIMIT:   {http.StatusTooManyRequests, "Too many requests"},
	cohort.EINVALID:     {http.StatusUnprocessableEntity, "Not changed"},
	cohort.ECONFLICT:    {http.StatusConflict, "Not changed"},
	cohort.ESTALE:       {http.StatusConflict, "Not changed"},
	cohort.EARCHIVED:    {http.StatusConflict, "Not changed"},
}

// errorStatus is the status for err from errorPages, for a page that
// shows a refused change's message itself (a form with its fields marked).
func errorStatus(err error) int {
	if p, ok := errorPages[cohort.ErrorCode(err)]; ok {
		return p.status
	}
	return http.StatusInternalServerError
}

// pageError is an answer no domain code names (a form too large to read,
// an export too long), with its own status and title.
type pageError struct {
	status int
	title  string
	msg    string
}

func (e *pageError) Error() string { return fmt.Sprintf("web: %d %s: %s", e.status, e.title, e.msg) }

// forbidden is a 403 page saying who may do what was asked.
func forbidden(msg string) error { return &cohort.Error{Code: cohort.EFORBIDDEN, Message: msg} }

// notFound is a 404 page with msg.
func notFound(msg string) error { return &cohort.Error{Code: cohort.ENOTFOUND, Message: msg} }

// renderError answers a handler's error: the one place an error becomes a
// page, through errorPages.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, err error) {
	var pe *pageError
	if errors.As(err, &pe) {
		h.errorPage(w, r, pe.status, pe.title, pe.msg)
		return
	}
	code := cohort.ErrorCode(err)
	if code == cohort.EUNAUTHORIZED {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	if p, ok := errorPages[code]; ok {
		h.errorPage(w, r, p.status, p.title, cohort.ErrorMessage(err))
		return
	}
	h.internalError(w, r, err)
}

// errorView is the view model of the error page.
type errorView struct {
	Page
	Message string
}

func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	p := h.page(r, title)
	if p.SignedIn {
		p.Section = "settings"
		p.SettingsNav = settingsNavFor(p.Actor, "")
	}
	var buf bytes.Buffer
	if err := h.tmpl.execute(&buf, "error", errorView{Page: p, Message: msg}); err != nil {
		h.logger.ErrorContext(r.Context(), "rendering error page", "err", err, "request_id", httpx.RequestID(r.Context()))
		http.Error(w, msg, status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// internalError logs err once, with the request ID, and shows the person
// only that something failed and the ID to pass on.
func (h *Handler) internalError(w http.ResponseWriter, r *http.Request, err error) {
	h.logger.ErrorContext(r.Context(), "internal error", "err", err, "request_id", httpx.RequestID(r.Context()), "path", r.URL.Path)
	h.errorPage(w, r, http.StatusInternalServerError, "Internal error",
		"Something went wrong on our side and nothing was changed. Try again; if it keeps happening, tell your administrator the request ID "+httpx.RequestID(r.Context())+".")
}

func (h *Handler) handleHome(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/settings/groups", http.StatusSeeOther)
	return nil
}

// handleSettings opens the first Settings page the actor may see.
func (h *Handler) handleSettings(w http.ResponseWriter, r *http.Request) error {
	a, _ := cohort.ActorFromContext(r.Context())
	nav := settingsNavFor(a, "")
	if len(nav) == 0 {
		return forbidden("There are no settings you can open. Ask a practice manager or the account owner.")
	}
	http.Redirect(w, r, nav[0].Path, http.StatusSeeOther)
	return nil
}

// ctxActor returns the request's actor; the server's gate guarantees one
// on every non-public route.
func ctxActor(ctx context.Context) cohort.Actor {
	a, _ := cohort.ActorFromContext(ctx)
	return a
}
