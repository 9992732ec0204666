package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/cohorthq/cohort"
)

// idempotencyLocks serialises requests of one principal that share an
// Idempotency-Key within this process, so a client retrying before its
// first attempt finished waits for it and gets its result replayed.
// Across instances the store's unique record decides (see create).
type idempotencyLocks struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	mu   sync.Mutex
	refs int
}

func newIdempotencyLocks() *idempotencyLocks {
	return &idempotencyLocks{locks: map[string]*keyLock{}}
}

func (l *idempotencyLocks) lock(k string) func() {
	l.mu.Lock()
	kl := l.locks[k]
	if kl == nil {
		kl = &keyLock{}
		l.locks[k] = kl
	}
	kl.refs++
	l.mu.Unlock()
	kl.mu.Lock()
	return func() {
		kl.mu.Unlock()
		l.mu.Lock()
		if kl.refs--; kl.refs == 0 {
			delete(l.locks, k)
		}
		l.mu.Unlock()
	}
}

const maxIdempotencyKey = 255

// created is the successful result of a create: a resource with an ID
// and a version, answered 201 with Location and ETag.
type created struct {
	id      string
	version int64
	body    any
}

// create runs a create under the request's Idempotency-Key, if any. The
// first successful result is stored (24 hours, by the store) and replayed
// for a retry with the same key and the same body; the same key with a
// different body is refused with 422 idempotency_mismatch. Failures are
// not stored: a failed create changed nothing, so a retry runs again.
func (h *Handler) create(w http.ResponseWriter, r *http.Request, b *body, run func() (*created, error)) error {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		c, err := run()
		if err != nil {
			return err
		}
		h.writeCreated(w, r, c.id, c.version, mustJSON(c.body))
		return nil
	}
	if len(key) > maxIdempotencyKey || !printableASCII(key) {
		return errBadRequest("The Idempotency-Key header must be 1–255 printable ASCII characters: a UUID is a good choice.")
	}
	a, _ := cohort.ActorFromContext(r.Context())
	principal := a.APIKeyID
	if principal == "" {
		principal = "user:" + a.UserID
	}
	hash := requestHash(r, b.raw)
	unlock := h.idem.lock(a.WorkspaceID + "\x00" + principal + "\x00" + key)
	defer unlock()

	if done, err := h.replay(w, r, principal, key, hash); done || err != nil {
		return err
	}
	c, err := run()
	if err != nil {
		return err
	}
	out := mustJSON(c.body)
	rec := &cohort.Idempotency{WorkspaceID: a.WorkspaceID, Principal: principal, Key: key,
		RequestHash: hash, StatusCode: http.StatusCreated, Body: out}
	if err := h.svc.Idempotency.SaveIdempotency(r.Context(), rec); err != nil {
		// Another instance stored a result for this key in the meantime
		// (ECONFLICT), or the store failed: the create itself committed,
		// so the client still gets its result; the log says what happened.
		h.logger.WarnContext(r.Context(), "idempotency record not saved", "err", err, "request_id", a.RequestID)
	}
	h.writeCreated(w, r, c.id, c.version, out)
	return nil
}

// replay answers from a stored record for key, if there is one.
func (h *Handler) replay(w http.ResponseWriter, r *http.Request, principal, key, hash string) (bool, error) {
	rec, err := h.svc.Idempotency.FindIdempotency(r.Context(), principal, key)
	switch {
	case cohort.ErrorCode(err) == cohort.ENOTFOUND:
		return false, nil
	case err != nil:
		return false, err
	case rec.RequestHash != hash:
		return false, &cohort.Error{Code: codeIdempotencyMismatch,
			Message: "This Idempotency-Key was already used with a different request: use a new key for a new request, or resend the first request unchanged.",
			Fields:  map[string][]string{"Idempotency-Key": {"Already used with a different request body."}}}
	}
	var ref struct {
		ID      string `json:"id"`
		Version int64  `json:"version"`
	}
	_ = json.Unmarshal(rec.Body, &ref)
	w.Header().Set("Idempotent-Replayed", "true")
	if rec.StatusCode == http.StatusCreated && ref.ID != "" {
		h.writeCreated(w, r, ref.ID, ref.Version, rec.Body)
		return true, nil
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rec.StatusCode)
	_, _ = w.Write(rec.Body)
	return true, nil
}

func (h *Handler) writeCreated(w http.ResponseWriter, r *http.Request, id string, version int64, body []byte) {
	w.Header().Set("Location", r.URL.Path+"/"+id)
	w.Header().Set("ETag", etag(version))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(body)
}

// requestHash identifies a request for idempotency: method, path and the
// body with insignificant white space removed.
func requestHash(r *http.Request, raw []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		buf.Reset()
		buf.Write(raw)
	}
	sum := sha256.Sum256([]byte(r.Method + " " + r.URL.Path + "\n" + buf.String()))
	return hex.EncodeToString(sum[:])
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}
