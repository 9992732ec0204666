package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/httpx"
)

// Problem codes the API adds to the domain's codes.
const (
	codeBadRequest          = httpx.CodeBadRequest
	codeTooLarge            = httpx.CodeTooLarge
	codeUnsupportedMedia    = "unsupported_media_type"
	codeIfMatchRequired     = "if_match_required"
	codeIdempotencyMismatch = "idempotency_mismatch"
	codeScimOnly            = "scim_only_key"
	codeMissingScope        = "missing_scope"
	codeMethodNotAllowed    = "method_not_allowed"
)

// authenticate finds who is calling and returns the request with that
// actor in its context.
//
// An Authorization header always decides, and a request carrying one is
// judged by it alone: the server skips the CSRF check for such requests,
// so falling back to a session cookie here would let a cross-site form
// with a junk header ride on the cookie. Without the header, a browser
// session actor (put in the context by the server, CSRF already checked)
// may use the API with its role's permissions.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request, scopes []cohort.Scope) (*http.Request, error) {
	ctx := r.Context()
	reqID := httpx.RequestID(ctx)
	authz := r.Header.Get("Authorization")
	if authz == "" {
		a, ok := cohort.ActorFromContext(ctx)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cohort"`)
			return nil, &cohort.Error{Code: cohort.EUNAUTHORIZED,
				Message: "Send an API key in the Authorization header (Authorization: Bearer cohort_…), or sign in to Cohort in this browser."}
		}
		// A session calling the API acts through the API.
		a.Via = cohort.ViaAPI
		if a.RequestID == "" {
			a.RequestID = reqID
		}
		return r.WithContext(cohort.NewContextWithActor(ctx, a)), nil
	}

	scheme, token, _ := strings.Cut(authz, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cohort", error="invalid_request"`)
		return nil, &cohort.Error{Code: cohort.EUNAUTHORIZED,
			Message: "The Authorization header must be \"Bearer\" followed by an API key, e.g. Authorization: Bearer cohort_…."}
	}
	key, err := h.svc.APIKeys.AuthenticateAPIKey(ctx, token)
	if err != nil {
		if cohort.ErrorCode(err) == cohort.EUNAUTHORIZED || cohort.ErrorCode(err) == cohort.ENOTFOUND {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cohort", error="invalid_token"`)
			msg := "The API key is unknown, revoked or expired: check the token, or ask the account owner for a new key under Settings → API keys."
			if !strings.HasPrefix(token, cohort.APIKeyPrefix) {
				msg = "The token is not a Cohort API key (they start with " + cohort.APIKeyPrefix + "): copy the whole token shown when the key was created."
			}
			return nil, &cohort.Error{Code: cohort.EUNAUTHORIZED, Message: msg}
		}
		return nil, err
	}
	a := key.Actor(cohort.ViaAPI, reqID)

	// Every keyed response carries the rate-limit headers, refusals too.
	d := h.limiter.Take(key.ID)
	d.SetHeaders(w.Header())
	if !d.Allowed {
		return nil, &cohort.Error{Code: cohort.ERATELIMIT, Message: "This API key has made more than " +
			strconv.Itoa(d.Limit) + " requests in a minute: wait " + strconv.Itoa(d.RetryAfterSeconds) +
			" seconds (see Retry-After) and slow down."}
	}

	if !keyHasAny(key, scopes) {
		if onlySCIM(key) {
			return nil, &cohort.Error{Code: codeScimOnly, Message: "This API key has only the scim scope, which works with /scim/v2 alone: " +
				"ask the account owner for a key with the groups:* or users:* scopes for /api/v1."}
		}
		names := make([]string, len(scopes))
		for i, s := range scopes {
			names[i] = string(s)
		}
		return nil, &cohort.Error{Code: codeMissingScope, Message: "This API key lacks the scope this request needs (" +
			strings.Join(names, " or ") + "): ask the account owner for a key with it."}
	}
	return r.WithContext(cohort.NewContextWithActor(ctx, a)), nil
}

func keyHasAny(k *cohort.APIKey, scopes []cohort.Scope) bool {
	for _, s := range scopes {
		if k.HasScope(s) {
			return true
		}
	}
	return false
}

func onlySCIM(k *cohort.APIKey) bool {
	for _, s := range k.Scopes {
		if s != cohort.ScopeSCIM {
			return false
		}
	}
	return len(k.Scopes) > 0
}
