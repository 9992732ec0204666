package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
)

// publicHook is a receiver URL on a public address literal, so creating
// it needs no DNS.
const publicHook = "https://93.184.215.14/hooks/cohort"

// hookCount counts the practice's webhooks.
func (e *env) hookCount() int {
	e.t.Helper()
	hooks, err := e.svc.Webhooks.FindWebhooks(e.system())
	if err != nil {
		e.t.Fatal(err)
	}
	return len(hooks)
}

// Webhook URLs that would reach this machine or the private network are
// refused with the reason on the URL field, and nothing is stored.
func TestWebhookSSRFRefusedOnField(t *testing.T) {
	e := newFullEnv(t)
	b := e.browser()
	b.signIn(e.owner)
	form := b.get("/settings/webhooks/new")
	wantStatus(t, form, http.StatusOK)
	if form.doc.One(t, "label[for=url]").Text() != "URL" {
		t.Error("URL field not labelled")
	}
	for i, typ := range cohort.EventTypes {
		id := "event-" + string(rune('0'+i))
		if form.doc.One(t, "input#"+id).Attr("value") != typ || form.doc.One(t, "label[for="+id+"]").Text() != typ {
			t.Errorf("event %s checkbox not labelled", typ)
		}
	}
	for _, u := range []string{
		"https://127.0.0.1/hook",
		"https://10.0.0.1/hook",
		"https://169.254.169.254/latest/meta-data",
		"https://[::1]/hook",
		"https://localhost/hook",
		"http://93.184.215.14/hook",
		"ftp://93.184.215.14/hook",
		"https://user:pass@93.184.215.14/hook",
		"not a url",
	} {
		p := b.post("/settings/webhooks/new", url.Values{"url": {u}, "event": {cohort.ActionGroupCreated}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		in := p.doc.One(t, "input#url")
		if in.Attr("aria-invalid") != "true" || !strings.Contains(in.Attr("aria-describedby"), "url-error") || in.Attr("value") != u {
			t.Errorf("%s: field not marked or value lost", u)
		}
		if msg := p.doc.One(t, "#url-error").Text(); msg == "" {
			t.Errorf("%s: no message", u)
		} else if strings.Contains(u, "127.0.0.1") && !strings.Contains(msg, "public internet") {
			t.Errorf("%s: message %q does not say why", u, msg)
		}
		if len(p.doc.All("input#secret")) != 0 {
			t.Errorf("%s: a secret was shown", u)
		}
	}
	if n := e.hookCount(); n != 0 {
		t.Errorf("%d webhooks stored", n)
	}
}

// Odd input on the Add webhook form never makes a 500 or a webhook.
func TestWebhookFormOddInput(t *testing.T) {
	e := newFullEnv(t)
	b := e.browser()
	b.signIn(e.owner)
	b.get("/settings/webhooks/new")
	cases := []struct {
		name  string
		form  url.Values
		field string
	}{
		{"empty", url.Values{}, "url"},
		{"no events", url.Values{"url": {publicHook}}, "events"},
		{"unknown event", url.Values{"url": {publicHook}, "event": {"group.deleted"}}, "events"},
		{"star typed by hand", url.Values{"url": {publicHook}, "event": {"*"}}, "events"},
		{"NUL in URL", url.Values{"url": {publicHook + "\x00"}, "event": {"group.created"}}, "url"},
		{"newline in URL", url.Values{"url": {"https://93.184.215.14/\nhook"}, "event": {"group.created"}}, "url"},
		{"bad UTF-8", url.Values{"url": {"https://93.184.215.14/\xff"}, "event": {"group.created"}}, "url"},
		{"huge URL", url.Values{"url": {publicHook + "?" + strings.Repeat("a", 20000)}, "event": {"group.created"}}, "url"},
		{"fragment", url.Values{"url": {publicHook + "#x"}, "event": {"group.created"}}, "url"},
		{"bad port", url.Values{"url": {"https://93.184.215.14:99999/"}, "event": {"group.created"}}, "url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := b.post("/settings/webhooks/new", c.form)
			wantStatus(t, p, http.StatusUnprocessableEntity)
			if len(p.doc.All("#"+c.field+"-error")) != 1 {
				t.Errorf("no message on %s:\n%s", c.field, p.body)
			}
		})
	}
	if n := e.hookCount(); n != 0 {
		t.Errorf("%d webhooks stored", n)
	}
}

// Add a webhook (secret once), see its deliveries with their outcome,
// see it paused with the reason, Resend one, Resume it, Delete it.
func TestWebhookLifecycle(t *testing.T) {
	e := newFullEnv(t)
	b := e.browser()
	b.signIn(e.owner)
	b.get("/settings/webhooks/new")
	created := b.post("/settings/webhooks/new", url.Values{"url": {publicHook}, "event": {cohort.ActionGroupCreated, cohort.ActionGroupArchived}})
	wantStatus(t, created, http.StatusCreated)
	secret := created.doc.One(t, "input#secret").Attr("value")
	if !strings.HasPrefix(secret, "whsec_") || created.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("secret %q, Cache-Control %q", secret, created.header.Get("Cache-Control"))
	}
	if !strings.Contains(created.doc.One(t, "main .alert").Text(), "it will not be shown again") {
		t.Error("no copy-it-now note")
	}
	list := b.get("/settings/webhooks")
	wantStatus(t, list, http.StatusOK)
	if strings.Contains(list.body, secret) {
		t.Error("the list shows the secret")
	}
	row := list.doc.One(t, "table.webhooks tbody tr")
	hookID := row.Attr("data-webhook-id")
	if row.One(t, ".webhook-status").Text() != "Active" || !strings.Contains(row.Text(), "group.archived") {
		t.Errorf("row: %s", row.Text())
	}

	// A change makes a delivery; the relay's first step fans it out.
	e.createGroup("Telehealth providers")
	if _, err := e.svc.Deliveries.FanOutEvents(t.Context(), 100); err != nil {
		t.Fatal(err)
	}
	view := b.get("/settings/webhooks/" + hookID)
	wantStatus(t, view, http.StatusOK)
	if strings.Contains(view.body, secret) {
		t.Error("the webhook page shows the secret")
	}
	drow := view.doc.One(t, "table.deliveries tbody tr")
	deliveryID := drow.Attr("data-delivery-id")
	if deliveryID == "" || drow.One(t, ".delivery-status").Text() != "Waiting" || !strings.Contains(drow.Text(), "group.created") {
		t.Fatalf("delivery row: %s", drow.Text())
	}

	// The receiver fails; the relay gives up and pauses the endpoint.
	jobs, err := e.svc.Deliveries.ClaimDeliveries(t.Context(), time.Now().Add(time.Second), 10, time.Minute)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %d jobs, %v", len(jobs), err)
	}
	reason := "Paused after 24 hours of failed deliveries: the receiver answered HTTP 503."
	if err := e.svc.Deliveries.RecordDeliveryAttempt(t.Context(), jobs[0].Delivery.ID, cohort.DeliveryAttempt{
		At: time.Now(), StatusCode: 503, Error: "the receiver answered HTTP 503", PauseWebhook: true, PauseReason: reason,
	}); err != nil {
		t.Fatal(err)
	}
	list = b.get("/settings/webhooks")
	alert := list.doc.One(t, "main .alert.paused")
	if !strings.Contains(alert.Text(), reason) || alert.One(t, "button").Text() != "Resume "+publicHook {
		t.Errorf("paused alert: %s", alert.Text())
	}
	row = list.doc.One(t, "table.webhooks tbody tr")
	if st := row.One(t, ".webhook-status").Text(); !strings.HasPrefix(st, "Paused") || !strings.Contains(st, reason) {
		t.Errorf("status cell %q", st)
	}
	if row.One(t, "td.num").Text() != "1" {
		t.Errorf("failures %q", row.One(t, "td.num").Text())
	}
	view = b.get("/settings/webhooks/" + hookID)
	drow = view.doc.One(t, "table.deliveries tbody tr")
	if drow.One(t, ".delivery-status").Text() != "Failed" || !strings.Contains(drow.Text(), "HTTP 503") {
		t.Errorf("failed delivery row: %s", drow.Text())
	}
	if !strings.Contains(view.doc.One(t, "main .alert.paused").Text(), reason) {
		t.Error("the webhook page does not say why it is paused")
	}

	// Resend queues it again; a delivery not in this log is refused.
	resent := b.follow(b.post("/settings/webhooks/"+hookID+"/resend", url.Values{"delivery": {deliveryID}}))
	if got := resent.doc.One(t, "table.deliveries tbody tr .delivery-status").Text(); got != "Retrying" {
		t.Errorf("after Resend: %q", got)
	}
	for _, bad := range []string{"", "no-such-delivery", "\x00", strings.Repeat("d", 500)} {
		p := b.post("/settings/webhooks/"+hookID+"/resend", url.Values{"delivery": {bad}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
	}

	// Resume.
	resumed := b.follow(b.post("/settings/webhooks/"+hookID+"/resume", nil))
	if resumed.doc.One(t, ".webhook-status").Text() != "Active" || len(resumed.doc.All("main .alert.paused")) != 0 {
		t.Errorf("after Resume: %s", resumed.body)
	}

	// Delete asks first; afterwards the webhook is gone from the pages.
	confirm := b.get("/settings/webhooks/" + hookID + "/delete")
	wantStatus(t, confirm, http.StatusOK)
	if confirm.doc.One(t, "main form button").Text() != "Delete" {
		t.Error("no Delete button")
	}
	deleted := b.follow(b.post("/settings/webhooks/"+hookID+"/delete", nil))
	if len(deleted.doc.All("table.webhooks tbody tr[data-webhook-id]")) != 0 || deleted.doc.One(t, ".flash").Text() == "" {
		t.Errorf("after Delete: %s", deleted.body)
	}
	if p := b.get("/settings/webhooks/" + hookID); p.status != http.StatusNotFound {
		t.Errorf("deleted webhook page: %d", p.status)
	}
}

// Another practice's webhook is 404 on every webhook route.
func TestWebhookForeignIs404(t *testing.T) {
	e := newFullEnv(t)
	ws2, owner2, err := e.svc.Workspaces.CreateWorkspace(t.Context(), cohort.WorkspaceCreate{
		Name: "Hillside Psychology", Slug: "hillside",
		Owner: cohort.UserCreate{Email: "owner@hillside.test", GivenName: "Hal", FamilyName: "Hill", Password: testPassword},
	})
	if err != nil {
		t.Fatal(err)
	}
	theirs := cohort.NewContextWithActor(t.Context(), cohort.Actor{WorkspaceID: ws2.ID, UserID: owner2.ID, Name: owner2.Name(), IsOwner: true})
	hook, err := e.svc.Webhooks.CreateWebhook(theirs, cohort.WebhookCreate{URL: publicHook, Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := e.svc.APIKeys.CreateAPIKey(theirs, cohort.APIKeyCreate{Name: "Theirs", Scopes: []cohort.Scope{cohort.ScopeSCIM}})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn(e.owner)
	b.get("/settings/webhooks")
	for _, m := range []struct{ method, path string }{
		{"GET", "/settings/webhooks/" + hook.ID},
		{"GET", "/settings/webhooks/" + hook.ID + "/delete"},
		{"POST", "/settings/webhooks/" + hook.ID + "/delete"},
		{"POST", "/settings/webhooks/" + hook.ID + "/resume"},
		{"POST", "/settings/webhooks/" + hook.ID + "/resend"},
		{"GET", "/settings/api-keys/" + key.ID + "/revoke"},
		{"POST", "/settings/api-keys/" + key.ID + "/revoke"},
	} {
		var p *page
		if m.method == "GET" {
			p = b.get(m.path)
		} else {
			p = b.post(m.path, url.Values{"delivery": {"x"}})
		}
		if p.status != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", m.method, m.path, p.status)
		}
	}
	// Made-up IDs of any shape are 404 too.
	for _, id := range []string{"no-such-hook", "%00", "%FF", strings.Repeat("w", 300), "..%2F..%2Fetc"} {
		for _, path := range []string{"/settings/webhooks/" + id, "/settings/webhooks/" + id + "/delete"} {
			if p := b.get(path); p.status != http.StatusNotFound {
				t.Errorf("GET %s: %d", path, p.status)
			}
		}
		for _, path := range []string{"/settings/webhooks/" + id + "/resume", "/settings/webhooks/" + id + "/resend", "/settings/webhooks/" + id + "/delete"} {
			if p := b.post(path, url.Values{"delivery": {"x"}}); p.status != http.StatusNotFound {
				t.Errorf("POST %s: %d", path, p.status)
			}
		}
	}
	if _, err := e.svc.Webhooks.FindWebhookByID(theirs, hook.ID); err != nil {
		t.Errorf("their webhook was deleted: %v", err)
	}
}
