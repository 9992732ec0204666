package events

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
	"github.com/cohorthq/cohort/internal/sqlstore/sqltest"
)

func TestRelayDeliversSignedEvent(t *testing.T) {
	t.Parallel()
	db := sqltest.Open(t)
	svc := db.Services()
	ctx, ws := workspace(t, svc, "riverside")
	rc := newReceiver(t, nil)
	hook := createWebhook(t, ctx, svc, rc.URL+"/hooks/cohort", cohort.ActionGroupCreated)
	startRelay(t, db, nil, fastRelay())

	g := createGroup(t, ctx, svc, "Physiotherapists")
	waitFor(t, "the delivery", func() bool { return len(rc.delivered()) == 1 })

	r := rc.requests()[0]
	if err := Verify(hook.Secret, r.Header.Get(HeaderSignature), r.Body, time.Now(), DefaultTolerance); err != nil {
		t.Fatalf("signature does not verify with the webhook's secret: %v (header %q)", err, r.Header.Get(HeaderSignature))
	}
	if err := Verify("not the secret", r.Header.Get(HeaderSignature), r.Body, time.Now(), DefaultTolerance); err == nil {
		t.Fatal("signature verifies with another secret")
	}
	for h, want := range map[string]string{
		"Content-Type":  "application/json",
		"User-Agent":    UserAgent,
		HeaderEventType: cohort.ActionGroupCreated,
		HeaderEventID:   r.Event.ID,
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
	if r.Event.ID == "" || r.Event.Type != cohort.ActionGroupCreated || r.Event.WorkspaceID != ws.ID {
		t.Errorf("body = %s, want id, type group.created and workspace %s", r.Body, ws.ID)
	}
	if _, err := time.Parse(time.RFC3339, r.Event.CreatedAt); err != nil {
		t.Errorf("created_at %q is not RFC 3339: %v", r.Event.CreatedAt, err)
	}
	var data struct {
		Group struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"group"`
	}
	if err := json.Unmarshal(r.Event.Data, &data); err != nil || data.Group.ID != g.ID || data.Group.Name != "Physiotherapists" {
		t.Errorf("data = %s, want the created group %s", r.Event.Data, g.ID)
	}

	waitFor(t, "the delivery to be recorded", func() bool {
		ds := deliveriesOf(t, ctx, svc, hook.ID)
		return len(ds) == 1 && ds[0].Status == "delivered"
	})
	d := deliveriesOf(t, ctx, svc, hook.ID)[0]
	if d.Attempts != 1 || d.LastCode != 204 || d.EventID != r.Event.ID {
		t.Errorf("delivery = %+v, want 1 attempt, code 204, event %s", d, r.Event.ID)
	}
}

// TestRelayRetriesWithBackoff: a receiver that fails three times then
// succeeds gets the event once more after the failures, each retry having
// waited longer than the one before.
func TestRelayRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	db := sqltest.Open(t)
	svc := db.Services()
	ctx, _ := workspace(t, svc, "retry")
	rc := newReceiver(t, func(n int, _ *received) int {
		if n < 3 {
			return 503
		}
		return 200
	})
	hook := createWebhook(t, ctx, svc, rc.URL, cohort.ActionGroupCreated)
	var logs logBuffer
	stop := startRelay(t, db, logs.logger(), fastRelay())

	createGroup(t, ctx, svc, "After-hours clinicians")
	waitFor(t, "the delivery to succeed", func() bool {
		ds := deliveriesOf(t, ctx, svc, hook.ID)
		return len(ds) == 1 && ds[0].Status == "delivered"
	})
	stop() // no relay runs now: nothing more can arrive

	reqs := rc.requests()
	if len(reqs) != 4 {
		t.Fatalf("receiver got %d requests, want 3 failures then 1 success:\n%s", len(reqs), describe(reqs))
	}
	for i, r := range reqs {
		if r.Event.ID != reqs[0].Event.ID {
			t.Fatalf("request %d carries event %s, want the same event %s each time", i, r.Event.ID, reqs[0].Event.ID)
		}
		if err := Verify(hook.Secret, r.Header.Get(HeaderSignature), r.Body, time.Now(), DefaultTolerance); err != nil {
			t.Fatalf("request %d: signature does not verify: %v", i, err)
		}
	}
	if got := rc.delivered(); len(got) != 1 {
		t.Fatalf("event accepted %d times, want exactly once", len(got))
	}
	d := deliveriesOf(t, ctx, svc, hook.ID)[0]
	if d.Attempts != 4 || d.LastCode != 200 {
		t.Errorf("delivery = %+v, want 4 attempts and last code 200", d)
	}

	// The delays the relay chose, as it logged them for operators.
	fails := logs.records(t, "webhook delivery failed")
	if len(fails) != 3 {
		t.Fatalf("relay logged %d failed attempts, want 3", len(fails))
	}
	var delays []time.Duration
	for _, f := range fails {
		if f["status"] != float64(503) {
			t.Errorf("failed attempt logged status %v, want 503", f["status"])
		}
		delays = append(delays, time.Duration(f["retry_in"].(float64)))
	}
	for i := 1; i < len(delays); i++ {
		if delays[i] <= delays[i-1] {
			t.Fatalf("retry delays %v do not increase", delays)
		}
	}
}

// TestRelayGivesUpAndPauses: a delivery still failing after the retry
// window is marked failed and its webhook paused with a reason.
func TestRelayGivesUpAndPauses(t *testing.T) {
	t.Parallel()
	db := sqltest.Open(t)
	svc := db.Services()
	ctx, _ := workspace(t, svc, "giveup")
	rc := newReceiver(t, func(int, *received) int { return 500 })
	hook := createWebhook(t, ctx, svc, rc.URL, cohort.ActionGroupCreated)
	opts := fastRelay()
	opts.MinBackoff, opts.MaxBackoff, opts.RetryFor = 20*time.Millisecond, 40*time.Millisecond, 500*time.Millisecond
	opts.PauseAfterFailures = 2
	stop := startRelay(t, db, nil, opts)

	createGroup(t, ctx, svc, "Contractors")
	waitFor(t, "the delivery to fail", func() bool {
		ds := deliveriesOf(t, ctx, svc, hook.ID)
		return len(ds) == 1 && ds[0].Status == "failed"
	})
	stop()
	h, err := svc.Webhooks.FindWebhookByID(ctx, hook.ID)
	if err != nil {
		t.Fatal(err)
	}
	if h.PausedAt == nil || h.PausedReason == "" {
		t.Fatalf("webhook after giving up: paused_at %v, reason %q; want paused with a reason", h.PausedAt, h.PausedReason)
	}
	if n := len(rc.requests()); n < 2 {
		t.Fatalf("receiver got %d attempts before giving up, want retries", n)
	}
	d := deliveriesOf(t, ctx, svc, hook.ID)[0]
	if d.LastCode != 500 || d.Attempts != len(rc.requests()) {
		t.Errorf("delivery = %+v, want last code 500 and %d attempts", d, len(rc.requests()))
	}
}

// TestRelayGivesUpWithoutPausingAHealthyEndpoint: a delivery already
// older than the retry window (a resend from the log, or events that
// waited behind a long outage) that fails once is marked failed, but one
// failure does not pause the webhook, and the next event goes through.
func TestRelayGivesUpWithoutPausingAHealthyEndpoint(t *testing.T) {
	t.Parallel()
	db := sqltest.Open(t)
	svc := db.Services()
	ctx, _ := workspace(t, svc, "oldone")
	rc := newReceiver(t, func(n int, _ *received) int {
		if n == 0 {
			return 502
		}
		return 204
	})
	hook := createWebhook(t, ctx, svc, rc.URL, cohort.ActionGroupCreated)
	opts := fastRelay()
	opts.RetryFor = 50 * time.Millisecond

	// Fan the event out, then let it age past the window before sending.
	createGroup(t, ctx, svc, "Contractors")
	if _, err := svc.Deliveries.FanOutEvents(ctx, 100); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * opts.RetryFor)
	startRelay(t, db, nil, opts)
	waitFor(t, "the old delivery to be given up", func() bool {
		ds := deliveriesOf(t, ctx, svc, hook.ID)
		return len(ds) == 1 && ds[0].Status == "failed"
	})
	h, err := svc.Webhooks.FindWebhookByID(ctx, hook.ID)
	if err != nil {
		t.Fatal(err)
	}
	if h.PausedAt != nil {
		t.Fatalf("one failure paused the webhook: %q", h.PausedReason)
	}
	createGroup(t, ctx, svc, "Admin team")
	waitFor(t, "the next event", func() bool { return len(rc.delivered()) == 1 })
}

// TestRelayDeliversAfterRestart: a change committed while no relay runs,
// and a delivery cut off mid-flight by a stop, are both delivered by the
// next relay on the same database file.
func TestRelayDeliversAfterRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cohort.db")
	db, err := sqlstore.Open(t.Context(), path, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := db.Services()
	ctx, _ := workspace(t, svc, "restart")

	var hang atomic.Bool
	hang.Store(true)
	started := make(chan struct{}, 10)
	rc := newReceiver(t, nil, func(h http.Handler) http.Handler { return hangWhile(h, &hang, started) })
	hook := createWebhook(t, ctx, svc, rc.URL, cohort.ActionGroupCreated)

	// 1. Committed, then the process "dies" before any relay ran.
	first := createGroup(t, ctx, svc, "Telehealth providers")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// 2. A relay starts on the reopened file and is stopped while the
	// receiver is still answering: the delivery is neither lost nor
	// recorded as a failure.
	db, err = sqlstore.Open(t.Context(), path, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc = db.Services()
	opts := fastRelay()
	opts.Timeout, opts.Lease, opts.DrainTimeout = time.Second, 2*time.Second, time.Millisecond
	stop := startRelay(t, db, nil, opts)
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("the relay never sent the event committed before the restart")
	}
	stop()
	hang.Store(false)

	// 3. The next relay delivers it once its lease has ended.
	startRelay(t, db, nil, opts)
	waitFor(t, "delivery after the restart", func() bool { return len(rc.delivered()) == 1 })
	var data struct {
		Group struct{ ID string } `json:"group"`
	}
	if err := json.Unmarshal(rc.requests()[len(rc.requests())-1].Event.Data, &data); err != nil || data.Group.ID != first.ID {
		t.Fatalf("delivered %s, want the group created before the restart", rc.requests()[0].Event.Data)
	}
	waitFor(t, "the delivery to be recorded", func() bool {
		ds := deliveriesOf(t, ctx, svc, hook.ID)
		return len(ds) == 1 && ds[0].Status == "delivered"
	})
	if d := deliveriesOf(t, ctx, svc, hook.ID)[0]; d.Attempts != 1 || d.LastError != "" {
		t.Errorf("delivery = %+v, want 1 recorded attempt: the one cut off by the stop is not a failure", d)
	}
}

// TestRelayKeepsCommitOrderPerGroup: every change to one group reaches the
// receiver in commit order, even when one delivery has to be retried.
func TestRelayKeepsCommitOrderPerGroup(t *testing.T) {
	t.Parallel()
	db := sqltest.Open(t)
	svc := db.Services()
	ctx, ws := workspace(t, svc, "order")
	var failedOnce atomic.Bool
	rc := newReceiver(t, func(n int, r *received) int {
		// The first members change fails once: later changes must wait.
		if r.Event.Type == cohort.ActionGroupMembersChanged && failedOnce.CompareAndSwap(false, true) {
			return 500
		}
		return 204
	})
	createWebhook(t, ctx, svc, rc.URL, "group.created", "group.updated", "group.members_changed", "group.archived", "group.restored")
	opts := fastRelay()
	opts.Concurrency = 4
	startRelay(t, db, nil, opts)

	var users []string
	for i := range 3 {
		users = append(users, createUser(t, ctx, svc, "staff"+string(rune('a'+i))+"@order.example").ID)
	}
	g := createGroup(t, ctx, svc, "Psychologists")
	other := createGroup(t, ctx, svc, "Admin team")
	steps := []func() error{
		func() error {
			_, _, err := svc.Groups.UpdateGroup(ctx, g.ID, cohort.GroupUpdate{Add: users[:2]})
			return err
		},
		func() error {
			n := "Psychology"
			_, _, err := svc.Groups.UpdateGroup(ctx, g.ID, cohort.GroupUpdate{Name: &n})
			return err
		},
		func() error {
			_, _, err := svc.Groups.UpdateGroup(ctx, other.ID, cohort.GroupUpdate{Add: users})
			return err
		},
		func() error {
			_, _, err := svc.Groups.UpdateGroup(ctx, g.ID, cohort.GroupUpdate{Remove: users[:1]})
			return err
		},
		func() error { _, err := svc.Groups.ArchiveGroup(ctx, g.ID, 0); return err },
		func() error { _, err := svc.Groups.RestoreGroup(ctx, g.ID, "", 0); return err },
		func() error {
			_, _, err := svc.Groups.UpdateGroup(ctx, g.ID, cohort.GroupUpdate{Add: users[2:]})
			return err
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	// Commit order, as the outbox recorded it.
	evs, err := svc.Events.FindEventsAfter(ctx, ws.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, ev := range evs {
		if ev.Type != cohort.ActionUserCreated {
			want = append(want, ev.ID)
		}
	}
	if len(want) != 2+len(steps) {
		t.Fatalf("outbox holds %d group events, want %d", len(want), 2+len(steps))
	}
	waitFor(t, "every event", func() bool { return len(rc.delivered()) >= len(want) })
	if got := rc.delivered(); !slices.Equal(got, want) {
		t.Fatalf("accepted events in order\n%v\nwant commit order\n%v\nrequests:\n%s", got, want, describe(rc.requests()))
	}
	reqs := rc.requests()
	for i, r := range reqs {
		if r.Status == 500 && (i+1 >= len(reqs) || reqs[i+1].Event.ID != r.Event.ID) {
			t.Fatalf("after the failed delivery of %s another event was sent before its retry:\n%s", r.Event.ID, describe(reqs))
		}
	}
}

// hangWhile makes the receiver hold requests open (until the sender gives
// up) while hang is set, signalling started for each.
func hangWhile(next http.Handler, hang *atomic.Bool, started chan<- struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hang.Load() {
			// Read the body first: only then does the server notice the
			// client going away and end r.Context().
			_, _ = io.Copy(io.Discard, r.Body)
			started <- struct{}{}
			<-r.Context().Done()
			return
		}
		next.ServeHTTP(w, r)
	})
}

// TestWebhookURLRefusedByDefault: without the development switch a
// webhook cannot be created for a private target, and one stored while
// the switch was on is refused again when the relay connects; the owner
// is told through the pause reason.
func TestWebhookURLRefusedByDefault(t *testing.T) {
	t.Parallel()
	db := sqltest.Open(t)
	svc := db.Services()
	ctx, _ := workspace(t, svc, "ssrf")
	rc := newReceiver(t, nil)

	for _, u := range []string{rc.URL, "https://127.0.0.1/hook", "https://10.0.0.1/hook", "https://169.254.169.254/hook", "https://[::1]/hook", "https://localhost/hook"} {
		_, err := CheckWebhookURLs(svc.Webhooks, false).CreateWebhook(ctx, cohort.WebhookCreate{URL: u, Events: []string{"*"}})
		if cohort.ErrorCode(err) != cohort.EINVALID || len(cohort.ErrorFields(err)["url"]) == 0 {
			t.Fatalf("CreateWebhook(%s) = %v, want a url field error", u, err)
		}
	}
	if hooks, err := svc.Webhooks.FindWebhooks(ctx); err != nil || len(hooks) != 0 {
		t.Fatalf("after refused creates: %d webhooks, err %v; want none stored", len(hooks), err)
	}

	// Stored under the development switch, sent by a relay without it.
	hook := createWebhook(t, ctx, svc, "https"+rc.URL[len("http"):], cohort.ActionGroupCreated)
	opts := fastRelay()
	opts.AllowPrivate = false
	stop := startRelay(t, db, nil, opts)
	createGroup(t, ctx, svc, "Admin team")
	waitFor(t, "the webhook to be paused", func() bool {
		h, err := svc.Webhooks.FindWebhookByID(ctx, hook.ID)
		return err == nil && h.PausedAt != nil
	})
	stop()
	if n := len(rc.requests()); n != 0 {
		t.Fatalf("the private receiver got %d requests, want none", n)
	}
	h, _ := svc.Webhooks.FindWebhookByID(ctx, hook.ID)
	if !strings.Contains(h.PausedReason, "loopback") {
		t.Errorf("pause reason %q does not say the address is refused", h.PausedReason)
	}
	d := deliveriesOf(t, ctx, svc, hook.ID)
	if len(d) != 1 || d[0].Status != "pending" || !strings.Contains(d[0].LastError, "refused") {
		t.Errorf("deliveries = %+v, want one still pending whose error says it was refused", d)
	}
}
