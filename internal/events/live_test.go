package events

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
	"github.com/cohorthq/cohort/internal/sqlstore/sqltest"
)

// liveServer serves Live's routes behind a stand-in for the server's
// session middleware over real sessions: X-Test-Session names a session
// token; X-Test-Workspace signs in as the owner of a workspace the test
// created (one session per workspace, made on first use). A request
// whose session is not live has no actor.
func liveServer(t *testing.T, db *sqlstore.DB, opts LiveOptions) (*httptest.Server, *Live) {
	t.Helper()
	svc := db.Services()
	live := NewLive(svc, db.Subscribe, nil, opts)
	mux := http.NewServeMux()
	for _, r := range live.Routes() {
		mux.Handle(r.Method+" "+r.Pattern, r.Handler)
	}
	var mu sync.Mutex
	ownerSessions := map[string]string{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.Header.Get("X-Test-Session")
		if ws := r.Header.Get("X-Test-Workspace"); ws != "" {
			mu.Lock()
			token = ownerSessions[ws]
			if owner, ok := owners.Load(ws); ok && token == "" {
				var err error
				if token, _, err = svc.Auth.CreateSession(r.Context(), owner.(string), time.Hour); err != nil {
					t.Errorf("CreateSession: %v", err)
				}
				ownerSessions[ws] = token
			}
			mu.Unlock()
		}
		if su, err := svc.Auth.FindSession(r.Context(), token, 0); err == nil {
			r = r.WithContext(cohort.NewContextWithActor(r.Context(), su.Actor(cohort.ViaWeb, "")))
		}
		mux.ServeHTTP(w, r)
	}))
	srv.Config.RegisterOnShutdown(live.Close)
	srv.Start()
	t.Cleanup(func() {
		live.Close()
		srv.Close()
	})
	return srv, live
}

// sseBlock is one block of the stream: a message, an id-only block, or a
// comment.
type sseBlock struct {
	ID, Event, Data, Comment string
	Raw                      string
}

type sseClient struct {
	resp   *http.Response
	blocks chan sseBlock
	cancel context.CancelFunc
}

// connect opens GET /events as the owner of workspace, resuming after
// lastEventID when it is not empty.
func connect(t *testing.T, srv *httptest.Server, workspace, lastEventID string) *sseClient {
	t.Helper()
	return connectAs(t, srv, "X-Test-Workspace", workspace, lastEventID)
}

// connectSession opens GET /events with a session token.
func connectSession(t *testing.T, srv *httptest.Server, token string) *sseClient {
	t.Helper()
	return connectAs(t, srv, "X-Test-Session", token, "")
}

func connectAs(t *testing.T, srv *httptest.Server, header, value, lastEventID string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/events", nil)
	req.Header.Set(header, value)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET /events: %v", err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		t.Fatalf("GET /events: %d %s, want 200 text/event-stream", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c := &sseClient{resp: resp, blocks: make(chan sseBlock, 100), cancel: cancel}
	go func() {
		defer close(c.blocks)
		sc := bufio.NewScanner(resp.Body)
		var b sseBlock
		for sc.Scan() {
			line := sc.Text()
			if line == "" {
				if b.Raw != "" {
					c.blocks <- b
				}
				b = sseBlock{}
				continue
			}
			b.Raw += line + "\n"
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "":
				b.Comment = value
			case "id":
				b.ID = value
			case "event":
				b.Event = value
			case "data":
				b.Data = value
			}
		}
	}()
	t.Cleanup(c.close)
	return c
}

func (c *sseClient) close() {
	c.cancel()
	c.resp.Body.Close()
}

// next returns the next block that satisfies keep.
func (c *sseClient) next(t *testing.T, keep func(sseBlock) bool) sseBlock {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case b, ok := <-c.blocks:
			if !ok {
				t.Fatal("the stream ended")
			}
			if keep(b) {
				return b
			}
		case <-timeout:
			t.Fatal("timed out waiting for a live message")
		}
	}
}

func isChange(b sseBlock) bool { return b.Event == "change" }

// nextChange returns the next change message, checking its exact shape.
func (c *sseClient) nextChange(t *testing.T) (int64, Change) {
	t.Helper()
	b := c.next(t, isChange)
	var ch Change
	if err := json.Unmarshal([]byte(b.Data), &ch); err != nil {
		t.Fatalf("change data %q is not JSON: %v", b.Data, err)
	}
	seq, err := strconv.ParseInt(b.ID, 10, 64)
	if err != nil {
		t.Fatalf("change id %q is not a number", b.ID)
	}
	want := fmt.Sprintf("id: %d\nevent: change\ndata: {\"type\":%q,\"group_id\":%q,\"user_id\":%q,\"version\":%d}\n",
		seq, ch.Type, ch.GroupID, ch.UserID, ch.Version)
	if b.Raw != want {
		t.Fatalf("message\n%q\nwant the exact form\n%q", b.Raw, want)
	}
	return seq, ch
}

func TestLiveRequiresSignIn(t *testing.T) {
	t.Parallel()
	db := sqltest.Open(t)
	srv, _ := liveServer(t, db, LiveOptions{})
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /events without sign-in: %d, want 401", resp.StatusCode)
	}
}

func TestLiveRejectsBadLastEventID(t *testing.T) {
	t.Parallel()
	db := sqltest.Open(t)
	_, ws := workspace(t, db.Services(), "bad-id")
	srv, _ := liveServer(t, db, LiveOptions{})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/events", nil)
	req.Header.Set("X-Test-Workspace", ws.ID)
	req.Header.Set("Last-Event-ID", "abc")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("Last-Event-ID abc: %d, want 400", resp.StatusCode)
	}
}

// TestLiveStreamsOwnWorkspaceOnly: a change reaches the open streams of its
// workspace, and never another workspace's.
func TestLiveStreamsOwnWorkspaceOnly(t *testing.T) {
	t.Parallel()
	db := sqltest.Open(t)
	svc := db.Services()
	ctxA, wsA := workspace(t, svc, "alpha")
	ctxB, wsB := workspace(t, svc, "bravo")
	srv, _ := liveServer(t, db, LiveOptions{})
	a := connect(t, srv, wsA.ID, "")
	a2 := connect(t, srv, wsA.ID, "")
	b := connect(t, srv, wsB.ID, "")

	ga := createGroup(t, ctxA, svc, "Physiotherapists")
	gb := createGroup(t, ctxB, svc, "Psychologists")

	for _, c := range []*sseClient{a, a2} {
		_, ch := c.nextChange(t)
		if ch != (Change{Type: cohort.ActionGroupCreated, GroupID: ga.ID, Version: ga.Version}) {
			t.Fatalf("workspace A stream got %+v, want the creation of %s", ch, ga.ID)
		}
	}
	// A's change was committed first: had it leaked, B would see it first.
	if _, ch := b.nextChange(t); ch.GroupID != gb.ID {
		t.Fatalf("workspace B stream got %+v, want only its own group %s", ch, gb.ID)
	}

	name := "Physiotherapy"
	g, _, err := svc.Groups.UpdateGroup(ctxA, ga.ID, cohort.GroupUpdate{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	createGroup(t, ctxB, svc, "Contractors")
	if _, ch := a.nextChange(t); ch != (Change{Type: cohort.ActionGroupUpdated, GroupID: ga.ID, Version: g.Version}) {
		t.Fatalf("workspace A stream got %+v, want the rename of %s to version %d", ch, ga.ID, g.Version)
	}
	if _, ch := b.nextChange(t); ch.Type != cohort.ActionGroupCreated || ch.GroupID == ga.ID {
		t.Fatalf("workspace B stream got %+v, want its own new group", ch)
	}
}

// TestLiveResumes: a stream reopened with Last-Event-ID first gets every
// change of its workspace it missed, in order, then live ones, with none
// repeated.
func TestLiveResumes(t *testing.T) {
	t.Parallel()
	db := sqltest.Open(t)
	svc := db.Services()
	ctxA, wsA := workspace(t, svc, "resume")
	ctxB, _ := workspace(t, svc, "other")
	srv, _ := liveServer(t, db, LiveOptions{})

	// A stream that saw no change still knows its position.
	c := connect(t, srv, wsA.ID, "")
	start := c.next(t, func(b sseBlock) bool { return b.ID != "" })
	if start.Event != "" || start.Data != "" {
		t.Fatalf("first block %q, want an id-only block that positions the stream", start.Raw)
	}
	c.close()
	g := createGroup(t, ctxA, svc, "Practitioners who treat children")
	c = connect(t, srv, wsA.ID, start.ID)
	seq, ch := c.nextChange(t)
	if ch.GroupID != g.ID {
		t.Fatalf("resumed stream got %+v, want the change made while it was closed", ch)
	}
	c.close()

	// Several changes while closed, interleaved with another workspace's.
	var want []int64
	var wantTypes []string
	u := createUser(t, ctxA, svc, "new.starter@resume.example")
	createGroup(t, ctxB, svc, "Admin team")
	if _, _, err := svc.Groups.UpdateGroup(ctxA, g.ID, cohort.GroupUpdate{Add: []string{u.ID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Groups.ArchiveGroup(ctxA, g.ID, 0); err != nil {
		t.Fatal(err)
	}
	evs, err := svc.Events.FindWorkspaceEventsAfter(ctxA, wsA.ID, seq, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		want = append(want, ev.WorkspaceSeq)
		wantTypes = append(wantTypes, ev.Type)
	}
	if len(want) != 3 {
		t.Fatalf("outbox has %d events for the workspace after %d, want 3", len(want), seq)
	}

	c = connect(t, srv, wsA.ID, strconv.FormatInt(seq, 10))
	for i := range want {
		got, ch := c.nextChange(t)
		if got != want[i] || ch.Type != wantTypes[i] {
			t.Fatalf("replayed change %d: id %d %s, want id %d %s", i, got, ch.Type, want[i], wantTypes[i])
		}
		if ch.Type == cohort.ActionUserCreated && ch.UserID != u.ID {
			t.Fatalf("user.created change names user %q, want %q", ch.UserID, u.ID)
		}
	}
	// Then live, without repeating what was replayed.
	if _, err := svc.Groups.RestoreGroup(ctxA, g.ID, "", 0); err != nil {
		t.Fatal(err)
	}
	got, ch := c.nextChange(t)
	if got <= want[len(want)-1] || ch.Type != cohort.ActionGroupRestored {
		t.Fatalf("after the replay got id %d %s, want the restore after id %d", got, ch.Type, want[len(want)-1])
	}
}

func TestLiveHeartbeat(t *testing.T) {
	t.Parallel()
	db := sqltest.Open(t)
	_, ws := workspace(t, db.Services(), "beat")
	srv, _ := liveServer(t, db, LiveOptions{Heartbeat: 20 * time.Millisecond})
	c := connect(t, srv, ws.ID, "")
	c.next(t, func(b sseBlock) bool { return b.Comment != "" })
}

// TestLiveCloseEndsStreams: shutting down ends open streams, so a graceful
// server shutdown does not wait for them, and refuses new ones.
func TestLiveCloseEndsStreams(t *testing.T) {
	t.Parallel()
	db := sqltest.Open(t)
	_, ws := workspace(t, db.Services(), "closing")
	srv, live := liveServer(t, db, LiveOptions{})
	c := connect(t, srv, ws.ID, "")
	c.next(t, func(b sseBlock) bool { return b.ID != "" })

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Config.Shutdown(ctx); err != nil {
		t.Fatalf("server shutdown with an open stream: %v", err)
	}
	select {
	case _, ok := <-c.blocks:
		for ok {
			_, ok = <-c.blocks
		}
	case <-ctx.Done():
		t.Fatal("the stream stayed open after shutdown")
	}

	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/events", nil)
	req = req.WithContext(cohort.NewContextWithActor(req.Context(), cohort.Actor{WorkspaceID: ws.ID, UserID: "u", SessionID: "s"}))
	live.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("new stream after Close: %d, want 503", rec.Code)
	}
}

// TestLiveIDsAreTheWorkspaces: the positions a practice sees (a page's
// last_event_id, the stream's ids) count its own events only, so another
// practice's activity leaves no gap; resuming from them still works.
func TestLiveIDsAreTheWorkspaces(t *testing.T) {
	t.Parallel()
	db := sqltest.Open(t)
	svc := db.Services()
	ctxA, wsA := workspace(t, svc, "quiet")
	ctxB, _ := workspace(t, svc, "busy")
	srv, _ := liveServer(t, db, LiveOptions{})

	before, err := svc.Events.LastWorkspaceEventSeq(ctxA, wsA.ID)
	if err != nil {
		t.Fatal(err)
	}
	c := connect(t, srv, wsA.ID, "")
	start := c.next(t, func(b sseBlock) bool { return b.ID != "" })
	if start.ID != strconv.FormatInt(before, 10) {
		t.Fatalf("a new stream starts at id %s, want the workspace's position %d", start.ID, before)
	}

	for i := range 5 {
		createGroup(t, ctxB, svc, fmt.Sprintf("Busy %d", i))
	}
	if n, err := svc.Events.LastWorkspaceEventSeq(ctxA, wsA.ID); err != nil || n != before {
		t.Fatalf("practice A's position is %d (%v) after practice B's changes, want %d", n, err, before)
	}
	g := createGroup(t, ctxA, svc, "Quiet one")
	if id, ch := c.nextChange(t); id != before+1 || ch.GroupID != g.ID {
		t.Fatalf("practice A's next change has id %d (%+v), want %d: no gap for B's five", id, ch, before+1)
	}
	c.close()

	// Resume from the shown id across more of B's activity.
	createGroup(t, ctxB, svc, "Busy again")
	u := createUser(t, ctxA, svc, "sam@quiet.example")
	c = connect(t, srv, wsA.ID, strconv.FormatInt(before+1, 10))
	if id, ch := c.nextChange(t); id != before+2 || ch.UserID != u.ID {
		t.Fatalf("resumed stream got id %d (%+v), want %d, the user created while closed", id, ch, before+2)
	}

	// A position beyond the workspace's (an old global id) restarts at
	// the workspace's position rather than skipping its next changes.
	c.close()
	c = connect(t, srv, wsA.ID, "1000000")
	if b := c.next(t, func(b sseBlock) bool { return b.ID != "" }); b.ID != strconv.FormatInt(before+2, 10) || b.Event != "" {
		t.Fatalf("stream resumed beyond the workspace's position: first block %q, want id %d", b.Raw, before+2)
	}
	createGroup(t, ctxA, svc, "After the restart")
	if id, _ := c.nextChange(t); id != before+3 {
		t.Fatalf("change after the restart has id %d, want %d", id, before+3)
	}
}

// TestWorkspaceSeqDense: concurrent writers in two workspaces; each
// workspace's events are numbered 1, 2, 3, … in commit order.
func TestWorkspaceSeqDense(t *testing.T) {
	t.Parallel()
	db := sqltest.Open(t)
	svc := db.Services()
	ctxA, wsA := workspace(t, svc, "dense-a")
	ctxB, wsB := workspace(t, svc, "dense-b")
	const writers, each = 4, 10
	done := make(chan error, 2*writers)
	for w := range writers {
		for _, ctx := range []context.Context{ctxA, ctxB} {
			go func() {
				for i := range each {
					if _, err := svc.Groups.CreateGroup(ctx, cohort.GroupCreate{Name: fmt.Sprintf("W%d-%d", w, i)}); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
		}
	}
	for range 2 * writers {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	for _, ws := range []struct {
		ctx context.Context
		id  string
	}{{ctxA, wsA.ID}, {ctxB, wsB.ID}} {
		evs, err := svc.Events.FindEventsAfter(ws.ctx, ws.id, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		for i, ev := range evs {
			if ev.WorkspaceSeq != int64(i+1) {
				t.Fatalf("workspace %s: event %d of %d (seq %d) is numbered %d, want %d", ws.id, i+1, len(evs), ev.Seq, ev.WorkspaceSeq, i+1)
			}
		}
		last, err := svc.Events.LastWorkspaceEventSeq(ws.ctx, ws.id)
		if err != nil || last != int64(len(evs)) {
			t.Fatalf("workspace %s: last position %d (%v), want %d", ws.id, last, err, len(evs))
		}
		if _, err := svc.Events.FindWorkspaceEventsAfter(ws.ctx, "other", 0, 10); cohort.ErrorCode(err) != cohort.ENOTFOUND {
			t.Fatalf("reading another workspace's events: %v, want not found", err)
		}
	}
}

// staffSession creates an active staff member of the context's workspace
// and signs them in, returning the user and the session token.
func staffSession(t *testing.T, ctx context.Context, svc cohort.Services, email string) (*cohort.User, string) {
	t.Helper()
	u := createUser(t, ctx, svc, email)
	token, _, err := svc.Auth.CreateSession(t.Context(), u.ID, time.Hour)
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return u, token
}

// ended waits for the stream to end, failing after the generous bound.
func (c *sseClient) ended(t *testing.T, what string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case _, ok := <-c.blocks:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatalf("the stream stayed open after %s", what)
		}
	}
}

// TestLiveEndsWithSession: an open stream ends soon after its session
// does — sign-out, "sign out everywhere" (also what a password change
// does), the user archived — while streams of other sessions stay open.
// The store's session-ended signal wakes the check; its timer alone does
// the same (second run, no signal).
func TestLiveEndsWithSession(t *testing.T) {
	t.Parallel()
	for _, signal := range []bool{true, false} {
		t.Run(map[bool]string{true: "signal", false: "timer"}[signal], func(t *testing.T) {
			db := sqltest.Open(t)
			svc := db.Services()
			ctx, _ := workspace(t, svc, "revoke")
			opts := LiveOptions{SessionCheck: 200 * time.Millisecond}
			if signal {
				// A timer far beyond the test's wait: only the signal
				// can end the streams in time.
				opts = LiveOptions{SessionCheck: time.Hour, SessionsEnded: db.SubscribeSessionsEnded}
			}
			srv, _ := liveServer(t, db, opts)
			_, bystander := staffSession(t, ctx, svc, "stays@revoke.example")
			keep := connectSession(t, srv, bystander)

			// Sign out: the session's own stream ends.
			_, tok := staffSession(t, ctx, svc, "signout@revoke.example")
			c := connectSession(t, srv, tok)
			c.next(t, func(b sseBlock) bool { return b.ID != "" })
			if err := svc.Auth.DeleteSession(t.Context(), tok); err != nil {
				t.Fatal(err)
			}
			c.ended(t, "sign-out")

			// Sign out everywhere (and a password change): every stream
			// of the user ends, except the session kept.
			u, tok1 := staffSession(t, ctx, svc, "everywhere@revoke.example")
			tok2, s2, err := svc.Auth.CreateSession(t.Context(), u.ID, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			tok3, _, err := svc.Auth.CreateSession(t.Context(), u.ID, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			c1, c2, c3 := connectSession(t, srv, tok1), connectSession(t, srv, tok2), connectSession(t, srv, tok3)
			for _, c := range []*sseClient{c1, c2, c3} {
				c.next(t, func(b sseBlock) bool { return b.ID != "" })
			}
			if err := svc.Auth.DeleteUserSessions(ctx, u.ID, s2.ID); err != nil {
				t.Fatal(err)
			}
			c1.ended(t, "sign out everywhere")
			c3.ended(t, "sign out everywhere")

			// Archiving the user ends the stream of the session kept.
			if _, err := svc.Users.ArchiveUser(ctx, u.ID, 0); err != nil {
				t.Fatal(err)
			}
			c2.ended(t, "the user was archived")

			// The bystander's stream is still open and still gets changes.
			g := createGroup(t, ctx, svc, "Still live")
			keep.next(t, func(b sseBlock) bool { return isChange(b) && strings.Contains(b.Data, g.ID) })
			// An ended session cannot open a new stream either.
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/events", nil)
			req.Header.Set("X-Test-Session", tok1)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("a stream for an ended session: %d, want 401", resp.StatusCode)
			}
		})
	}
}

// TestLiveEndsWhenSessionIdles: a session not used for SessionIdle ends,
// and so does its stream: an open stream is not a use.
func TestLiveEndsWhenSessionIdles(t *testing.T) {
	t.Parallel()
	db := sqltest.Open(t)
	svc := db.Services()
	ctx, _ := workspace(t, svc, "idle")
	srv, _ := liveServer(t, db, LiveOptions{SessionCheck: 50 * time.Millisecond, SessionIdle: 500 * time.Millisecond})
	_, tok := staffSession(t, ctx, svc, "idle@idle.example")
	c := connectSession(t, srv, tok)
	c.next(t, func(b sseBlock) bool { return b.ID != "" })
	c.ended(t, "the session idled out")
}
