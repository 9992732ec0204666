package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
)

func testAPIKeys(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	k, token, err := f.s.APIKeys.CreateAPIKey(f.ctx, cohort.APIKeyCreate{Name: " Calendar  sync ",
		Scopes: []cohort.Scope{cohort.ScopeGroupsRead, cohort.ScopeUsersRead, cohort.ScopeGroupsRead}, ExpiresAt: &exp})
	must(t, err)
	if !strings.HasPrefix(token, cohort.APIKeyPrefix) || len(token) < len(cohort.APIKeyPrefix)+22 || k.Prefix != token[:12] ||
		k.Name != "Calendar sync" || len(k.Scopes) != 2 || k.ExpiresAt == nil || k.CreatedBy != "Olive Owner" {
		t.Fatalf("key = %+v token %q", k, token)
	}
	got, err := f.s.APIKeys.AuthenticateAPIKey(ctx, token)
	must(t, err)
	if got.ID != k.ID || got.WorkspaceID != f.ws.ID || !got.HasScope(cohort.ScopeUsersRead) || got.LastUsedAt == nil {
		t.Fatalf("authenticated = %+v", got)
	}
	for _, bad := range []string{"", "cohort_nope", token + "x", strings.TrimPrefix(token, cohort.APIKeyPrefix)} {
		_, err := f.s.APIKeys.AuthenticateAPIKey(ctx, bad)
		if e := wantCode(t, err, cohort.EUNAUTHORIZED); e.Message != "The API key is invalid, revoked or expired." {
			t.Fatalf("message = %q", e.Message)
		}
	}
	keys, err := f.s.APIKeys.FindAPIKeys(f.ctx)
	must(t, err)
	if len(keys) != 1 || keys[0].ID != k.ID || keys[0].LastUsedAt == nil {
		t.Fatalf("keys = %+v", keys)
	}
	must(t, f.s.APIKeys.RevokeAPIKey(f.ctx, k.ID))
	must(t, f.s.APIKeys.RevokeAPIKey(f.ctx, k.ID))
	_, err = f.s.APIKeys.AuthenticateAPIKey(ctx, token)
	wantCode(t, err, cohort.EUNAUTHORIZED)
	var actions []string
	for _, e := range f.audit(t, k.ID) {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, " ") != "api_key.created api_key.revoked" {
		t.Fatalf("audit = %v", actions)
	}
	// Bad input.
	past := time.Now().Add(-time.Minute)
	_, _, err = f.s.APIKeys.CreateAPIKey(f.ctx, cohort.APIKeyCreate{Name: "", Scopes: []cohort.Scope{"root"}, ExpiresAt: &past})
	e := wantCode(t, err, cohort.EINVALID)
	for _, field := range []string{"name", "scopes", "expires_at"} {
		if len(e.Fields[field]) == 0 {
			t.Errorf("no message for %s", field)
		}
	}
	_, _, err = f.s.APIKeys.CreateAPIKey(f.ctx, cohort.APIKeyCreate{Name: "none"})
	wantCode(t, err, cohort.EINVALID)
	wantCode(t, f.s.APIKeys.RevokeAPIKey(f.ctx, "missing"), cohort.ENOTFOUND)
}

func testIdempotency(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	_, err := f.s.Idempotency.FindIdempotency(f.ctx, "key-1", "abc")
	wantCode(t, err, cohort.ENOTFOUND)
	r := &cohort.Idempotency{Principal: "key-1", Key: "abc", RequestHash: "h1", StatusCode: 201, Body: []byte(`{"id":"g1"}`)}
	must(t, f.s.Idempotency.SaveIdempotency(f.ctx, r))
	got, err := f.s.Idempotency.FindIdempotency(f.ctx, "key-1", "abc")
	must(t, err)
	if got.StatusCode != 201 || string(got.Body) != `{"id":"g1"}` || got.RequestHash != "h1" || got.WorkspaceID != f.ws.ID {
		t.Fatalf("record = %+v", got)
	}
	err = f.s.Idempotency.SaveIdempotency(f.ctx, &cohort.Idempotency{Principal: "key-1", Key: "abc", RequestHash: "h2", StatusCode: 500})
	wantCode(t, err, cohort.ECONFLICT)
	if got, _ := f.s.Idempotency.FindIdempotency(f.ctx, "key-1", "abc"); got.RequestHash != "h1" {
		t.Fatal("a second save replaced the record")
	}
	// Keyed by principal and workspace.
	_, err = f.s.Idempotency.FindIdempotency(f.ctx, "key-2", "abc")
	wantCode(t, err, cohort.ENOTFOUND)
	f2 := newFixture(t, db)
	_, err = f2.s.Idempotency.FindIdempotency(f2.ctx, "key-1", "abc")
	wantCode(t, err, cohort.ENOTFOUND)
	must(t, f2.s.Idempotency.SaveIdempotency(f2.ctx, &cohort.Idempotency{Principal: "key-1", Key: "abc", StatusCode: 200}))
	wantCode(t, f.s.Idempotency.SaveIdempotency(f.ctx, &cohort.Idempotency{Principal: "p", Key: ""}), cohort.EINVALID)
}

func testWebhooks(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	w, err := f.s.Webhooks.CreateWebhook(f.ctx, cohort.WebhookCreate{URL: " https://example.com/hooks ", Events: []string{"group.created", "user.archived"}})
	must(t, err)
	if w.URL != "https://example.com/hooks" || !w.Active || !strings.HasPrefix(w.Secret, "whsec_") || len(w.Events) != 2 {
		t.Fatalf("webhook = %+v", w)
	}
	list, err := f.s.Webhooks.FindWebhooks(f.ctx)
	must(t, err)
	if len(list) != 1 || list[0].Secret != "" || list[0].ID != w.ID {
		t.Fatalf("list = %+v", list)
	}
	for _, c := range []cohort.WebhookCreate{
		{URL: "", Events: []string{"*"}},
		{URL: "ftp://example.com", Events: []string{"*"}},
		{URL: "https://user:pw@example.com", Events: []string{"*"}},
		{URL: "/relative", Events: []string{"*"}},
		{URL: "https://example.com", Events: []string{"group.deleted"}},
		{URL: "https://example.com"},
	} {
		_, err := f.s.Webhooks.CreateWebhook(f.ctx, c)
		wantCode(t, err, cohort.EINVALID)
	}
	must(t, f.s.Webhooks.DeleteWebhook(f.ctx, w.ID))
	_, err = f.s.Webhooks.FindWebhookByID(f.ctx, w.ID)
	wantCode(t, err, cohort.ENOTFOUND)
	wantCode(t, f.s.Webhooks.DeleteWebhook(f.ctx, w.ID), cohort.ENOTFOUND)
	if au := f.audit(t, w.ID); len(au) != 2 || au[1].Action != cohort.ActionWebhookDeleted {
		t.Fatalf("audit = %v", au)
	}
}

// fanOutAll turns every outbox event not yet fanned out into deliveries.
func fanOutAll(t *testing.T, q cohort.DeliveryQueue) {
	t.Helper()
	for {
		n, err := q.FanOutEvents(context.Background(), 100)
		must(t, err)
		if n == 0 {
			return
		}
	}
}

// testDeliveryLaterEvents adds a webhook while the relay is behind: the
// events committed before the webhook existed are not sent to it.
func testDeliveryLaterEvents(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	q := f.s.Deliveries
	ctx := context.Background()
	fanOutAll(t, q)
	before := f.group(t, "Before the webhook")
	time.Sleep(2 * time.Millisecond) // distinct microsecond stamps even on a coarse clock
	hook, err := f.s.Webhooks.CreateWebhook(f.ctx, cohort.WebhookCreate{URL: "https://a.example/h", Events: []string{"*"}})
	must(t, err)
	after := f.group(t, "After the webhook")
	fanOutAll(t, q)
	var sent []string
	at := time.Now().Add(time.Second)
	for range 10 {
		jobs, err := q.ClaimDeliveries(ctx, at, 10, time.Minute)
		must(t, err)
		if len(jobs) == 0 {
			break
		}
		for _, j := range jobs {
			if j.Webhook.ID != hook.ID {
				t.Fatalf("delivery to another webhook %s", j.Webhook.ID)
			}
			sent = append(sent, string(j.Event.Data))
			must(t, q.RecordDeliveryAttempt(ctx, j.Delivery.ID, cohort.DeliveryAttempt{At: at, StatusCode: 200, Delivered: true}))
		}
	}
	all := strings.Join(sent, "\n")
	if strings.Contains(all, before.ID) {
		t.Fatalf("the webhook was sent an event from before it existed: %s", all)
	}
	if !strings.Contains(all, after.ID) {
		t.Fatalf("the webhook missed the event after it was added: %s", all)
	}
}

func testDeliveryQueue(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	other := newFixture(t, db)
	q := f.s.Deliveries
	ctx := context.Background()
	// Catch up on the fixtures' own events first.
	fanOutAll(t, q)
	all, err := f.s.Webhooks.CreateWebhook(f.ctx, cohort.WebhookCreate{URL: "https://a.example/h", Events: []string{"*"}})
	must(t, err)
	groupsOnly, err := f.s.Webhooks.CreateWebhook(f.ctx, cohort.WebhookCreate{URL: "https://b.example/h", Events: []string{cohort.ActionGroupCreated}})
	must(t, err)
	otherHook, err := other.s.Webhooks.CreateWebhook(other.ctx, cohort.WebhookCreate{URL: "https://c.example/h", Events: []string{"*"}})
	must(t, err)
	g1 := f.group(t, "One")
	u := f.user(t, "Del", "Ivery", cohort.RolePractitioner)
	g2 := f.group(t, "Two", u)
	other.group(t, "Elsewhere")
	n, err := q.FanOutEvents(ctx, 2)
	must(t, err)
	if n != 2 {
		t.Fatalf("fan-out consumed %d, want 2 (limit)", n)
	}
	n, err = q.FanOutEvents(ctx, 100)
	must(t, err)
	if n != 2 {
		t.Fatalf("fan-out consumed %d more, want 2", n)
	}
	n, err = q.FanOutEvents(ctx, 100)
	must(t, err)
	if n != 0 {
		t.Fatalf("fan-out not caught up: %d", n)
	}
	now := time.Now()
	// Per webhook only the oldest pending delivery is claimable.
	jobs, err := q.ClaimDeliveries(ctx, now, 10, time.Hour)
	must(t, err)
	byHook := map[string]*cohort.DeliveryJob{}
	for _, j := range jobs {
		if byHook[j.Webhook.ID] != nil {
			t.Fatalf("two deliveries of one webhook claimed at once")
		}
		byHook[j.Webhook.ID] = j
	}
	if len(jobs) != 3 || byHook[all.ID].Event.Type != cohort.ActionGroupCreated || byHook[all.ID].Event.Data == nil ||
		byHook[groupsOnly.ID] == nil || byHook[otherHook.ID].Event.WorkspaceID != other.ws.ID {
		t.Fatalf("claimed %d jobs: %+v", len(jobs), jobs)
	}
	if byHook[all.ID].Webhook.Secret == "" || !strings.Contains(string(byHook[all.ID].Event.Data), g1.ID) {
		t.Fatal("job lacks the secret or the event")
	}
	// Leased: nobody else gets them.
	again, err := q.ClaimDeliveries(ctx, now, 10, time.Minute)
	must(t, err)
	if len(again) != 0 {
		t.Fatalf("leased deliveries claimed again: %d", len(again))
	}
	// A failure with a retry keeps order: the next event waits.
	j := byHook[all.ID]
	retry := now.Add(time.Minute)
	must(t, q.RecordDeliveryAttempt(ctx, j.Delivery.ID, cohort.DeliveryAttempt{At: now, StatusCode: 503, Error: "unavailable", NextAttempt: &retry}))
	soon, err := q.ClaimDeliveries(ctx, now.Add(time.Second), 10, time.Minute)
	must(t, err)
	if len(soon) != 0 {
		t.Fatalf("claimed %d before the retry time", len(soon))
	}
	later, err := q.ClaimDeliveries(ctx, retry, 10, time.Minute)
	must(t, err)
	if len(later) != 1 || later[0].Delivery.ID != j.Delivery.ID || later[0].Delivery.Attempts != 1 {
		t.Fatalf("retry claim = %+v", later)
	}
	hooks, err := f.s.Webhooks.FindWebhooks(f.ctx)
	must(t, err)
	for _, h := range hooks {
		if h.ID == all.ID && h.FailureCount != 1 {
			t.Fatalf("failure count %d", h.FailureCount)
		}
	}
	// Success: the next event of that webhook becomes due, in seq order.
	must(t, q.RecordDeliveryAttempt(ctx, j.Delivery.ID, cohort.DeliveryAttempt{At: retry, StatusCode: 200, Delivered: true}))
	var seqs []int64
	seqs = append(seqs, j.Event.Seq)
	for {
		js, err := q.ClaimDeliveries(ctx, retry.Add(time.Second), 10, time.Minute)
		must(t, err)
		var mine *cohort.DeliveryJob
		for _, x := range js {
			if x.Webhook.ID == all.ID {
				mine = x
			}
			if x.Webhook.ID != all.ID {
				must(t, q.RecordDeliveryAttempt(ctx, x.Delivery.ID, cohort.DeliveryAttempt{At: retry, StatusCode: 200, Delivered: true}))
			}
		}
		if mine == nil {
			break
		}
		seqs = append(seqs, mine.Event.Seq)
		must(t, q.RecordDeliveryAttempt(ctx, mine.Delivery.ID, cohort.DeliveryAttempt{At: retry, StatusCode: 200, Delivered: true}))
	}
	if len(seqs) != 3 {
		t.Fatalf("webhook 'all' got events %v, want 3 (group, user, group)", seqs)
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("deliveries out of order: %v", seqs)
		}
	}
	ds, err := f.s.Webhooks.FindDeliveries(f.ctx, all.ID, 10)
	must(t, err)
	if len(ds) != 3 || ds[0].Status != "delivered" || ds[len(ds)-1].Attempts != 2 || ds[len(ds)-1].DeliveredAt == nil {
		t.Fatalf("deliveries = %+v", ds)
	}
	gd, err := f.s.Webhooks.FindDeliveries(f.ctx, groupsOnly.ID, 10)
	must(t, err)
	if len(gd) != 2 {
		t.Fatalf("group.created-only webhook has %d deliveries, want 2", len(gd))
	}
	if ds[0].EventType != cohort.ActionGroupCreated {
		t.Fatalf("newest delivery = %+v, want the creation of %s", ds[0], g2.Name)
	}
}

func testDeliveryPause(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	q := f.s.Deliveries
	ctx := context.Background()
	w, err := f.s.Webhooks.CreateWebhook(f.ctx, cohort.WebhookCreate{URL: "https://a.example/h", Events: []string{"*"}})
	must(t, err)
	f.group(t, "P1")
	f.group(t, "P2")
	fanOutAll(t, q)
	now := time.Now()
	jobs, err := q.ClaimDeliveries(ctx, now, 10, time.Minute)
	must(t, err)
	if len(jobs) != 1 {
		t.Fatalf("claimed %d", len(jobs))
	}
	// Giving up marks it failed and pauses the webhook: nothing is claimed.
	must(t, q.RecordDeliveryAttempt(ctx, jobs[0].Delivery.ID, cohort.DeliveryAttempt{At: now, StatusCode: 410, Error: "gone",
		PauseWebhook: true, PauseReason: "The endpoint answered 410 Gone."}))
	h, err := f.s.Webhooks.FindWebhookByID(f.ctx, w.ID)
	must(t, err)
	if h.Active || h.PausedAt == nil || h.PausedReason != "The endpoint answered 410 Gone." {
		t.Fatalf("webhook = %+v", h)
	}
	f.group(t, "P3")
	_, err = q.FanOutEvents(ctx, 100)
	must(t, err)
	none, err := q.ClaimDeliveries(ctx, now.Add(time.Hour), 10, time.Minute)
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("paused webhook got %d deliveries", len(none))
	}
	must(t, f.s.Webhooks.ResumeWebhook(f.ctx, w.ID))
	res, err := q.ClaimDeliveries(ctx, time.Now().Add(time.Second), 10, time.Minute)
	must(t, err)
	if len(res) != 1 || res[0].Event.Seq <= jobs[0].Event.Seq {
		t.Fatalf("after resume claimed %+v", res)
	}
	must(t, q.RecordDeliveryAttempt(ctx, res[0].Delivery.ID, cohort.DeliveryAttempt{At: time.Now(), StatusCode: 200, Delivered: true}))
	// Resend the failed one: it is due again (before the later ones).
	must(t, f.s.Webhooks.ResendDelivery(f.ctx, jobs[0].Delivery.ID))
	rs, err := q.ClaimDeliveries(ctx, time.Now().Add(time.Second), 10, time.Minute)
	must(t, err)
	if len(rs) != 1 || rs[0].Delivery.ID != jobs[0].Delivery.ID {
		t.Fatalf("resend claim = %+v", rs)
	}
	wantCode(t, f.s.Webhooks.ResendDelivery(f.ctx, "missing"), cohort.ENOTFOUND)
}
