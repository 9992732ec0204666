// Package api serves Cohort's JSON REST API under /api/v1: groups, their
// members, users and the audit log, for the practice's other systems. It
// authenticates API keys (or a signed-in browser session), enforces key
// scopes and a per-key rate limit, renders every error as
// application/problem+json, and serves its own OpenAPI 3.1 description.
// It speaks to storage only through the cohort service interfaces.
package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/httpx"
	"github.com/cohorthq/cohort/internal/ratelimit"
)

// Prefix is where the API is mounted.
const Prefix = "/api/v1"

// DefaultMaxBodyBytes is Options.MaxBodyBytes when left 0.
const DefaultMaxBodyBytes = 8 << 20

// Options tunes the API.
type Options struct {
	// Limiter is the per-key rate limit. Pass the limiter SCIM uses too,
	// so that a key has one allowance across both interfaces.
	Limiter *ratelimit.Limiter
	// RateLimit, when Limiter is nil, builds one of this many requests
	// per minute per key (ratelimit.PerMinute). 0 or less means no limit,
	// as --rate-limit 0 does.
	RateLimit int
	// MaxBodyBytes caps a request body; larger bodies get 413. 0 means
	// DefaultMaxBodyBytes (room for a replacement list of
	// cohort.MaxMemberChange IDs).
	MaxBodyBytes int64
	// Now is the clock of the limiter RateLimit builds; nil means time.Now. Tests
	// set it to move time without sleeping.
	Now func() time.Time
}

// Handler serves /api/v1.
type Handler struct {
	svc     cohort.Services
	logger  *slog.Logger
	opts    Options
	limiter *ratelimit.Limiter
	idem    *idempotencyLocks
}

// New returns the API handler. svc must carry Groups, Users, Audit,
// APIKeys and Idempotency.
func New(svc cohort.Services, logger *slog.Logger, opts Options) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &Handler{svc: svc, logger: logger, opts: opts, idem: newIdempotencyLocks()}
	h.limiter = opts.Limiter
	if h.limiter == nil {
		h.limiter = ratelimit.PerMinute(opts.RateLimit, opts.Now)
	}
	return h
}

// Scope sets that routes accept (any one of them is enough). The store
// checks the same rules again through the actor's Can… methods; checking
// here too gives API clients a message that names the missing scope, and
// keeps a scim-only key out of /api/v1.
var (
	scopesGroupsRead  = []cohort.Scope{cohort.ScopeGroupsRead, cohort.ScopeGroupsWrite}
	scopesGroupsWrite = []cohort.Scope{cohort.ScopeGroupsWrite}
	scopesUsersRead   = []cohort.Scope{cohort.ScopeUsersRead, cohort.ScopeUsersWrite}
	scopesUsersWrite  = []cohort.Scope{cohort.ScopeUsersWrite}
	scopesAudit       = []cohort.Scope{cohort.ScopeGroupsRead, cohort.ScopeGroupsWrite, cohort.ScopeUsersRead, cohort.ScopeUsersWrite}
)

// endpoint is one route with what it needs before its handler runs.
type endpoint struct {
	method  string
	pattern string
	// scopes an API key needs (any of them); nil for public routes.
	scopes []cohort.Scope
	public bool
	handle func(w http.ResponseWriter, r *http.Request) error
}

func (h *Handler) endpoints() []endpoint {
	return []endpoint{
		{method: "GET", pattern: Prefix + "/openapi.json", public: true, handle: h.handleOpenAPI},
		{method: "GET", pattern: Prefix + "/docs", public: true, handle: h.handleDocs},

		{method: "GET", pattern: Prefix + "/groups", scopes: scopesGroupsRead, handle: h.handleGroupList},
		{method: "POST", pattern: Prefix + "/groups", scopes: scopesGroupsWrite, handle: h.handleGroupCreate},
		{method: "GET", pattern: Prefix + "/groups/{id}", scopes: scopesGroupsRead, handle: h.handleGroupGet},
		{method: "PATCH", pattern: Prefix + "/groups/{id}", scopes: scopesGroupsWrite, handle: h.handleGroupUpdate},
		{method: "POST", pattern: Prefix + "/groups/{id}/archive", scopes: scopesGroupsWrite, handle: h.handleGroupArchive},
		{method: "POST", pattern: Prefix + "/groups/{id}/restore", scopes: scopesGroupsWrite, handle: h.handleGroupRestore},
		// No hard delete: DELETE says how to archive instead.
		{method: "DELETE", pattern: Prefix + "/groups/{id}", public: true, handle: noDelete("groups")},
		{method: "GET", pattern: Prefix + "/groups/{id}/members", scopes: scopesGroupsRead, handle: h.handleMemberList},
		{method: "POST", pattern: Prefix + "/groups/{id}/members", scopes: scopesGroupsWrite, handle: h.handleMemberChange},
		{method: "PUT", pattern: Prefix + "/groups/{id}/members", scopes: scopesGroupsWrite, handle: h.handleMemberReplace},
		{method: "PUT", pattern: Prefix + "/groups/{id}/members/{user_id}", scopes: scopesGroupsWrite, handle: h.handleMemberAdd},
		{method: "DELETE", pattern: Prefix + "/groups/{id}/members/{user_id}", scopes: scopesGroupsWrite, handle: h.handleMemberRemove},

		{method: "GET", pattern: Prefix + "/users", scopes: scopesUsersRead, handle: h.handleUserList},
		{method: "POST", pattern: Prefix + "/users", scopes: scopesUsersWrite, handle: h.handleUserCreate},
		{method: "GET", pattern: Prefix + "/users/{id}", scopes: scopesUsersRead, handle: h.handleUserGet},
		{method: "PATCH", pattern: Prefix + "/users/{id}", scopes: scopesUsersWrite, handle: h.handleUserUpdate},
		{method: "DELETE", pattern: Prefix + "/users/{id}", public: true, handle: noDelete("users")},
		{method: "POST", pattern: Prefix + "/users/{id}/archive", scopes: scopesUsersWrite, handle: h.handleUserArchive},
		{method: "POST", pattern: Prefix + "/users/{id}/restore", scopes: scopesUsersWrite, handle: h.handleUserRestore},
		// A user's groups are group data: the store checks CanViewGroups.
		{method: "GET", pattern: Prefix + "/users/{id}/groups", scopes: scopesGroupsRead, handle: h.handleUserGroups},

		{method: "GET", pattern: Prefix + "/audit", scopes: scopesAudit, handle: h.handleAuditList},
	}
}

// Routes lists every endpoint for the server to mount. The OpenAPI file
// and the docs page need no sign-in. Every other route authenticates
// itself (bearer key, else the browser session the server put in the
// context) and answers 401 with problem+json and WWW-Authenticate: Bearer
// as API clients expect, so they too are marked Public: the server's
// sign-in gate must not answer for them. They are not Stateless: the
// server still loads the session and checks CSRF for cookie requests.
func (h *Handler) Routes() []httpx.Route {
	eps := h.endpoints()
	routes := make([]httpx.Route, 0, len(eps))
	for _, ep := range eps {
		routes = append(routes, httpx.Route{
			Method:  ep.method,
			Pattern: ep.pattern,
			Handler: h.wrap(ep),
			Public:  true,
			Machine: true,
			Refuse:  h.refuse,
			// Room for a replacement member list of MaxMemberChange IDs.
			MaxBodyBytes: h.opts.MaxBodyBytes,
		})
	}
	// Any other path under /api/ is the API's 404, as problem JSON.
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.writeError(w, r, &cohort.Error{Code: cohort.ENOTFOUND,
			Message: "There is no API endpoint at " + r.URL.Path + ": see " + Prefix + "/openapi.json for the endpoints."})
	})
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		routes = append(routes, httpx.Route{Method: m, Pattern: "/api/", Handler: notFound, Public: true, Stateless: true, Quick: true, Machine: true, Refuse: h.refuse})
	}
	return routes
}

// refuse renders the server's own refusals on API routes (body too large,
// CSRF, database down, a panic) as problems, through the same table as
// the API's own errors. The server has logged what needed logging.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, f httpx.Refusal) {
	h.writeProblem(w, r, &cohort.Error{Code: f.Code, Message: f.Message}, true)
}

// wrap turns an endpoint into an http.Handler: authenticate, rate-limit,
// check scopes, run, and render any error as a problem.
func (h *Handler) wrap(ep endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ep.public {
			r2, err := h.authenticate(w, r, ep.scopes)
			if err != nil {
				h.writeError(w, r, err)
				return
			}
			r = r2
		}
		if err := ep.handle(w, r); err != nil {
			h.writeError(w, r, err)
		}
	})
}

// noDelete answers DELETE on a group or user: nothing is deleted through
// the API; archiving keeps the record, its history and its ID. It needs
// no credentials and looks nothing up, so it reveals nothing.
func noDelete(kind string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Allow", "GET, PATCH")
		return &cohort.Error{Code: codeMethodNotAllowed, Message: "Cohort does not delete " + kind + ": archive instead with POST " +
			Prefix + "/" + kind + "/{id}/archive, which keeps the history and the ID and can be undone with …/restore."}
	}
}
