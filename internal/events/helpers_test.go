package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
)

// waitFor polls cond until it holds, failing the test after a generous
// deadline. It bounds a wait; it does not measure speed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// owners maps each workspace a test created to its owner's user ID, so
// the live tests' stand-in middleware can sign in as a real person.
var owners sync.Map

// workspace creates a workspace and returns a context acting in it as the
// system (every permission, this workspace only).
func workspace(t *testing.T, svc cohort.Services, slug string) (context.Context, *cohort.Workspace) {
	t.Helper()
	ws, owner, err := svc.Workspaces.CreateWorkspace(t.Context(), cohort.WorkspaceCreate{
		Name: "Practice " + slug, Slug: slug,
		Owner: cohort.UserCreate{Email: "owner@" + slug + ".example", GivenName: "Olive", FamilyName: "Owner"},
	})
	if err != nil {
		t.Fatalf("CreateWorkspace(%s): %v", slug, err)
	}
	owners.Store(ws.ID, owner.ID)
	return cohort.NewContextWithActor(t.Context(), cohort.SystemActor(ws.ID, "Test")), ws
}

func createGroup(t *testing.T, ctx context.Context, svc cohort.Services, name string, members ...string) *cohort.Group {
	t.Helper()
	g, err := svc.Groups.CreateGroup(ctx, cohort.GroupCreate{Name: name, MemberIDs: members})
	if err != nil {
		t.Fatalf("CreateGroup(%q): %v", name, err)
	}
	return g
}

func createUser(t *testing.T, ctx context.Context, svc cohort.Services, email string) *cohort.User {
	t.Helper()
	u, err := svc.Users.CreateUser(ctx, cohort.UserCreate{Email: email, GivenName: "Sam", FamilyName: "Staff"})
	if err != nil {
		t.Fatalf("CreateUser(%q): %v", email, err)
	}
	return u
}

// received is one request a test receiver got.
type received struct {
	Header http.Header
	Body   []byte
	Status int
	Event  struct {
		ID          string          `json:"id"`
		Type        string          `json:"type"`
		CreatedAt   string          `json:"created_at"`
		WorkspaceID string          `json:"workspace_id"`
		Data        json.RawMessage `json:"data"`
	}
}

// receiver is a real local HTTP endpoint that records every delivery and
// answers with what respond returns (204 when nil). wrap, if given, wraps
// the recording handler.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []*received
	respond func(n int, r *received) int
}

func newReceiver(t *testing.T, respond func(n int, r *received) int, wrap ...func(http.Handler) http.Handler) *receiver {
	rc := &receiver{respond: respond}
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := &received{Header: r.Header.Clone(), Body: body}
		if err := json.Unmarshal(body, &rec.Event); err != nil {
			t.Errorf("receiver: body is not the event JSON: %v\n%s", err, body)
		}
		// Requests are numbered and recorded in the order they arrive.
		rc.mu.Lock()
		rec.Status = http.StatusNoContent
		if rc.respond != nil {
			rec.Status = rc.respond(len(rc.got), rec)
		}
		rc.got = append(rc.got, rec)
		rc.mu.Unlock()
		w.WriteHeader(rec.Status)
	})
	for _, w := range wrap {
		h = w(h)
	}
	rc.Server = httptest.NewServer(h)
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []*received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*received(nil), rc.got...)
}

// delivered returns the event IDs the receiver accepted (2xx), in order.
func (rc *receiver) delivered() []string {
	var ids []string
	for _, r := range rc.requests() {
		if r.Status/100 == 2 {
			ids = append(ids, r.Event.ID)
		}
	}
	return ids
}

func createWebhook(t *testing.T, ctx context.Context, svc cohort.Services, url string, events ...string) *cohort.Webhook {
	t.Helper()
	if len(events) == 0 {
		events = []string{"*"}
	}
	h, err := CheckWebhookURLs(svc.Webhooks, true).CreateWebhook(ctx, cohort.WebhookCreate{URL: url, Events: events})
	if err != nil {
		t.Fatalf("CreateWebhook(%s): %v", url, err)
	}
	if h.Secret == "" {
		t.Fatal("CreateWebhook returned no secret")
	}
	return h
}

// fastRelay is the relay options for tests: short delays, private
// targets allowed for httptest receivers.
func fastRelay() RelayOptions {
	return RelayOptions{
		PollInterval: 20 * time.Millisecond,
		MinBackoff:   80 * time.Millisecond,
		MaxBackoff:   2 * time.Second,
		Timeout:      5 * time.Second,
		AllowPrivate: true,
	}
}

// startRelay runs a relay until the test ends or the returned stop is
// called; stop waits for Run to return.
func startRelay(t *testing.T, db *sqlstore.DB, logger *slog.Logger, opts RelayOptions) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := NewRelay(db.Services(), db.Subscribe, logger, opts)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Relay.Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// deliveriesOf returns a webhook's deliveries from the store.
func deliveriesOf(t *testing.T, ctx context.Context, svc cohort.Services, hookID string) []*cohort.Delivery {
	t.Helper()
	ds, err := svc.Webhooks.FindDeliveries(ctx, hookID, 100)
	if err != nil {
		t.Fatalf("FindDeliveries: %v", err)
	}
	return ds
}

// logBuffer collects a relay's JSON log lines for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns every log record with the given message.
func (b *logBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, line)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func describe(rs []*received) string {
	var s []string
	for _, r := range rs {
		s = append(s, fmt.Sprintf("%s %s → %d", r.Event.Type, r.Event.ID, r.Status))
	}
	return strings.Join(s, "\n")
}
