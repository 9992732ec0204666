package web

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"github.com/cohorthq/cohort"
)

// A form whose result shows a secret once (a new API key, a new webhook)
// carries a random form_id. Reloading the result page posts the same form
// again; that second post finds the first one's result in the
// idempotency store (kept a day) and goes to what was created, instead of
// creating a second key or webhook. The secret is never stored: only the
// ID of what the form created.

// newFormID returns a fresh form_id: 16 random bytes in hex.
func newFormID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// formIDOf returns the posted form_id, or "" when there is none or it is
// not one newFormID makes.
func formIDOf(r *http.Request) string {
	id := r.PostForm.Get("form_id")
	if len(id) != 32 {
		return ""
	}
	if _, err := hex.DecodeString(id); err != nil {
		return ""
	}
	return id
}

// formPrincipal scopes form IDs to the signed-in user.
func formPrincipal(r *http.Request) string { return "web:" + ctxActor(r.Context()).UserID }

// formCreated returns the ID of what an earlier post of this form of kind
// created, or "" when this is the form's first post.
func (h *Handler) formCreated(r *http.Request, kind string) string {
	id := formIDOf(r)
	if id == "" || h.svc.Idempotency == nil {
		return ""
	}
	rec, err := h.svc.Idempotency.FindIdempotency(r.Context(), formPrincipal(r), kind+":"+id)
	if err != nil {
		return ""
	}
	return string(rec.Body)
}

// rememberForm records that this post of the form of kind created
// createdID. Failing to record it only loses the reload guard.
func (h *Handler) rememberForm(r *http.Request, kind, createdID string) {
	id := formIDOf(r)
	if id == "" || h.svc.Idempotency == nil {
		return
	}
	err := h.svc.Idempotency.SaveIdempotency(r.Context(), &cohort.Idempotency{Principal: formPrincipal(r),
		Key: kind + ":" + id, StatusCode: http.StatusCreated, Body: []byte(createdID)})
	if err != nil {
		h.logger.Warn("web: recording a create form failed; a reload of its result may create again", "kind", kind, "err", err)
	}
}
