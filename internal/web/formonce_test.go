package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
)

// Reloading the page that showed a new key's token posts the same form
// again: the second post makes no second key and shows no token, it
// points to the key already created.
func TestAPIKeyFormPostedTwiceCreatesOnce(t *testing.T) {
	e := newFullEnv(t)
	b := e.browser()
	b.signIn(e.owner)
	form := b.get("/settings/api-keys/new")
	formID := form.doc.One(t, "input[name=form_id]").Attr("value")
	if len(formID) != 32 {
		t.Fatalf("form_id %q", formID)
	}
	if again := b.get("/settings/api-keys/new").doc.One(t, "input[name=form_id]").Attr("value"); again == formID {
		t.Fatal("two renders of the form share a form_id")
	}
	post := url.Values{"name": {"Booking sync"}, "scope": {"groups:read"}, "form_id": {formID}, "csrf_token": {b.csrf}}
	first := b.post("/settings/api-keys/new", post)
	wantStatus(t, first, http.StatusCreated)
	token := first.doc.One(t, "input#token").Attr("value")

	second := b.post("/settings/api-keys/new", post)
	wantStatus(t, second, http.StatusSeeOther)
	loc := second.header.Get("Location")
	if !strings.HasPrefix(loc, "/settings/api-keys?") || strings.Contains(second.body, token) {
		t.Fatalf("second post: Location %q", loc)
	}
	list := b.get(loc)
	wantStatus(t, list, http.StatusOK)
	if flash := list.doc.One(t, "main .flash").Text(); !strings.Contains(flash, `"Booking sync" was already created`) || strings.Contains(list.body, token) {
		t.Errorf("flash %q", flash)
	}
	keys, err := e.svc.APIKeys.FindAPIKeys(e.system())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 {
		t.Fatalf("%d keys after posting one form twice", len(keys))
	}
	// A fresh render is a fresh form: it creates a second key.
	post.Set("form_id", b.get("/settings/api-keys/new").doc.One(t, "input[name=form_id]").Attr("value"))
	post.Set("csrf_token", b.csrf)
	wantStatus(t, b.post("/settings/api-keys/new", post), http.StatusCreated)
	// A form_id that is not one Cohort made is ignored, not trusted.
	post.Set("form_id", "not-a-form-id")
	wantStatus(t, b.post("/settings/api-keys/new", post), http.StatusCreated)
	if keys, _ = e.svc.APIKeys.FindAPIKeys(e.system()); len(keys) != 3 {
		t.Fatalf("%d keys, want 3", len(keys))
	}
}

func TestWebhookFormPostedTwiceAddsOnce(t *testing.T) {
	e := newFullEnv(t)
	b := e.browser()
	b.signIn(e.owner)
	formID := b.get("/settings/webhooks/new").doc.One(t, "input[name=form_id]").Attr("value")
	post := url.Values{"url": {publicHook}, "event": {cohort.ActionGroupCreated}, "form_id": {formID}, "csrf_token": {b.csrf}}
	first := b.post("/settings/webhooks/new", post)
	wantStatus(t, first, http.StatusCreated)
	secret := first.doc.One(t, "input#secret").Attr("value")
	second := b.post("/settings/webhooks/new", post)
	wantStatus(t, second, http.StatusSeeOther)
	view := b.get(second.header.Get("Location"))
	wantStatus(t, view, http.StatusOK)
	if flash := view.doc.One(t, "main .flash").Text(); !strings.Contains(flash, "already added from that form") || strings.Contains(view.body, secret) {
		t.Errorf("flash %q", flash)
	}
	hooks, err := e.svc.Webhooks.FindWebhooks(e.system())
	if err != nil {
		t.Fatal(err)
	}
	if len(hooks) != 1 {
		t.Fatalf("%d webhooks after posting one form twice", len(hooks))
	}
}
