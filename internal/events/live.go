package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/httpx"
)

// LiveOptions tunes the live stream. Zero values take the defaults.
type LiveOptions struct {
	// Heartbeat is how often an idle stream gets a comment line, so
	// proxies and browsers keep it open (default 20 s).
	Heartbeat time.Duration
	// PollInterval is the safety net when no commit wakes the watcher
	// (default 1 s).
	PollInterval time.Duration
	// ClientBuffer is how many messages a slow client may fall behind
	// before it is disconnected; its browser reconnects with
	// Last-Event-ID and catches up from the database (default 256).
	ClientBuffer int
	// Retry is the reconnection delay suggested to browsers (default 2 s).
	Retry time.Duration
	// SessionCheck is how often every open stream's session is checked
	// again, so a stream ends within this long of its session ending
	// (default 5 s). Streams are also checked at once when SessionsEnded
	// signals.
	SessionCheck time.Duration
	// SessionIdle is the server's idle limit: a stream whose session has
	// not been used for this long ends, as the session has (0: not
	// checked). An open stream is not a use of its session.
	SessionIdle time.Duration
	// SessionsEnded, when not nil, returns a channel that receives when
	// sessions end anywhere (the store's SubscribeSessionsEnded): sign
	// out, sign out everywhere, a password change, an archived user.
	SessionsEnded func(context.Context) <-chan struct{}
}

func (o LiveOptions) withDefaults() LiveOptions {
	if o.Heartbeat <= 0 {
		o.Heartbeat = 20 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.ClientBuffer <= 0 {
		o.ClientBuffer = 256
	}
	if o.Retry <= 0 {
		o.Retry = 2 * time.Second
	}
	if o.SessionCheck <= 0 {
		o.SessionCheck = 5 * time.Second
	}
	return o
}

// catchUpBatch is how many events one read of the outbox returns.
const catchUpBatch = 500

// Live streams committed changes to open pages as server-sent events
// (GET /events). One watcher per process reads the outbox after each
// commit (woken by the store, across instances on PostgreSQL) and fans
// each event out to the connected clients of its workspace, so the
// database sees one reader however many pages are open.
type Live struct {
	svc  cohort.Services
	wake func(context.Context) <-chan struct{}
	log  *slog.Logger
	opts LiveOptions

	// ctx carries no actor: the watcher reads every workspace's events
	// as trusted code. It ends with Close.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	started bool
	closed  bool
	seq     int64 // the last event handed to clients
	clients map[string]map[*liveClient]struct{}
}

// liveClient is one open stream. The watcher sends to ch without
// blocking; gone is closed when the client must stop (it fell behind, its
// session ended, or the server is shutting down). session is the ID of
// the browser session it belongs to.
type liveClient struct {
	ch      chan liveMessage
	gone    chan struct{}
	session string
}

// liveMessage is one formatted "change" message. wsSeq is the event's
// WorkspaceSeq: the id the client sees.
type liveMessage struct {
	wsSeq int64
	text  []byte
}

// NewLive returns the live-updates handler over svc. wake, when not nil,
// returns a channel that receives after commits that wrote events (the
// store's Subscribe). Call Close on shutdown: open streams end then.
func NewLive(svc cohort.Services, wake func(context.Context) <-chan struct{}, logger *slog.Logger, opts LiveOptions) *Live {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Live{
		svc: svc, wake: wake, log: logger, opts: opts.withDefaults(),
		ctx: ctx, cancel: cancel,
		clients: map[string]map[*liveClient]struct{}{},
	}
}

// Routes lists the live endpoint for the server.
func (l *Live) Routes() []httpx.Route {
	return []httpx.Route{{Method: http.MethodGet, Pattern: "/events", Stream: true, Handler: l}}
}

// Close ends every open stream and stops the watcher, so a graceful
// shutdown does not wait for streams that never end on their own. It is
// safe to call more than once (e.g. from http.Server.RegisterOnShutdown).
func (l *Live) Close() {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		l.cancel()
		for _, set := range l.clients {
			for c := range set {
				close(c.gone)
			}
		}
		clear(l.clients)
	}
	l.mu.Unlock()
	l.wg.Wait()
}

var errLiveClosed = cohort.Errorf(cohort.EUNAVAILABLE, "The server is shutting down: reconnect in a moment.")

// subscribe registers a client of a workspace and returns the seq from
// which the watcher will send it events (exclusive).
func (l *Live) subscribe(workspaceID, session string) (*liveClient, int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, 0, errLiveClosed
	}
	if !l.started {
		// Subscribe before reading the position, so a commit in between
		// still wakes the watcher. Start where the outbox is now: earlier
		// events are history, read per client only when it asks with
		// Last-Event-ID.
		wctx, stop := context.WithCancel(l.ctx)
		var wake, ended <-chan struct{}
		if l.wake != nil {
			wake = l.wake(wctx)
		}
		if l.opts.SessionsEnded != nil {
			ended = l.opts.SessionsEnded(wctx)
		}
		seq, err := l.svc.Events.LastEventSeq(l.ctx)
		if err != nil {
			stop()
			return nil, 0, err
		}
		l.seq, l.started = seq, true
		l.wg.Add(1)
		go l.watch(wake, ended, stop)
	}
	c := &liveClient{ch: make(chan liveMessage, l.opts.ClientBuffer), gone: make(chan struct{}), session: session}
	set := l.clients[workspaceID]
	if set == nil {
		set = map[*liveClient]struct{}{}
		l.clients[workspaceID] = set
	}
	set[c] = struct{}{}
	return c, l.seq, nil
}

func (l *Live) unsubscribe(workspaceID string, c *liveClient) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if set := l.clients[workspaceID]; set != nil {
		if _, ok := set[c]; ok {
			delete(set, c)
			if len(set) == 0 {
				delete(l.clients, workspaceID)
			}
		}
	}
}

// watch reads new events after every wake-up (or poll), and checks the
// open streams' sessions on its timer and whenever sessions end, until
// Close.
func (l *Live) watch(wake, ended <-chan struct{}, unsubscribe context.CancelFunc) {
	defer l.wg.Done()
	defer unsubscribe()
	poll := time.NewTicker(l.opts.PollInterval)
	defer poll.Stop()
	check := time.NewTicker(l.opts.SessionCheck)
	defer check.Stop()
	var failing, checkFailing bool
	for {
		select {
		case <-l.ctx.Done():
			return
		case _, ok := <-wake:
			if !ok {
				wake = nil
			}
		case <-poll.C:
		case _, ok := <-ended:
			if !ok {
				ended = nil
				continue
			}
			checkFailing = l.logCheck(l.checkSessions(), checkFailing)
			continue
		case <-check.C:
			checkFailing = l.logCheck(l.checkSessions(), checkFailing)
			continue
		}
		err := l.catchUp()
		switch {
		case err != nil && l.ctx.Err() == nil && !failing:
			// Logged once per outage; the poll keeps trying.
			l.log.Error("live updates cannot read events", "error", err)
			failing = true
		case err == nil && failing:
			l.log.Info("live updates read events again")
			failing = false
		}
	}
}

// logCheck logs a failed session check once per outage and returns
// whether checks are failing. While the database does not answer, streams
// stay open: they get no events then either, and the next check after
// the outage ends those whose session is gone.
func (l *Live) logCheck(err error, failing bool) bool {
	switch {
	case err != nil && l.ctx.Err() == nil && !failing:
		l.log.Error("live updates cannot check sessions", "error", err)
		return true
	case err == nil && failing:
		l.log.Info("live updates check sessions again")
		return false
	}
	return failing && err != nil
}

// checkSessions ends every open stream whose session no longer signs its
// user in (signed out, ended everywhere, password changed, user archived,
// expired or idle), with one query for all of them.
func (l *Live) checkSessions() error {
	l.mu.Lock()
	ids := map[string]struct{}{}
	for _, set := range l.clients {
		for c := range set {
			ids[c.session] = struct{}{}
		}
	}
	l.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	live, err := l.svc.Auth.LiveSessions(l.ctx, slices.Collect(maps.Keys(ids)), l.opts.SessionIdle)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for ws, set := range l.clients {
		for c := range set {
			// Only sessions that were checked: a stream that connected
			// meanwhile was checked by the server as it connected.
			if _, checked := ids[c.session]; checked && !live[c.session] {
				close(c.gone)
				delete(set, c)
			}
		}
		if len(set) == 0 {
			delete(l.clients, ws)
		}
	}
	return nil
}

// catchUp hands every event after l.seq to the clients of its workspace.
func (l *Live) catchUp() error {
	for {
		l.mu.Lock()
		after := l.seq
		l.mu.Unlock()
		evs, err := l.svc.Events.FindEventsAfter(l.ctx, "", after, catchUpBatch)
		if err != nil {
			return err
		}
		l.mu.Lock()
		for _, ev := range evs {
			if ev.Seq <= l.seq {
				continue
			}
			msg := liveMessage{wsSeq: ev.WorkspaceSeq, text: formatChange(ev)}
			for c := range l.clients[ev.WorkspaceID] {
				select {
				case c.ch <- msg:
				default:
					// Too far behind: disconnect it rather than block
					// everyone; its browser resumes from Last-Event-ID.
					close(c.gone)
					delete(l.clients[ev.WorkspaceID], c)
				}
			}
			l.seq = ev.Seq
		}
		l.mu.Unlock()
		if len(evs) < catchUpBatch {
			return nil
		}
	}
}

// Change is the data of one live message: what changed, so a page can
// tell whether it shows it and whether its copy is stale.
type Change struct {
	Type    string `json:"type"`
	GroupID string `json:"group_id"`
	UserID  string `json:"user_id"`
	Version int64  `json:"version"`
}

// ChangeOf extracts the live message data from an event: the group or
// user it is about and the group's version, decoded from the event's
// typed data. Data that does not decode leaves them empty; the type is
// still sent.
func ChangeOf(ev *cohort.Event) Change {
	c := Change{Type: ev.Type}
	switch {
	case strings.HasPrefix(ev.Type, "group."):
		var d cohort.GroupEventData
		if json.Unmarshal(ev.Data, &d) == nil {
			c.GroupID, c.Version = d.Group.ID, d.Group.Version
		}
	case strings.HasPrefix(ev.Type, "user."):
		var d cohort.UserEventData
		if json.Unmarshal(ev.Data, &d) == nil {
			c.UserID = d.User.ID // a user's payload has no version
		}
	}
	return c
}

// formatChange renders the SSE message of an event. Its id is the
// workspace's own sequence number, never the global one, so a practice
// sees no trace of other practices' activity.
func formatChange(ev *cohort.Event) []byte {
	data, _ := json.Marshal(ChangeOf(ev)) // strings and an integer always marshal
	return fmt.Appendf(nil, "id: %d\nevent: change\ndata: %s\n\n", ev.WorkspaceSeq, data)
}

// ServeHTTP streams the actor's workspace's changes. A reconnecting
// browser sends Last-Event-ID and first gets what it missed, read from
// the outbox; the last_event_id query parameter does the same for a page
// that knows the position it was rendered at.
func (l *Live) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	actor, ok := cohort.ActorFromContext(r.Context())
	if !ok {
		http.Error(w, cohort.ErrNoActor.Message, http.StatusUnauthorized)
		return
	}
	if actor.SessionID == "" {
		// Every stream is tied to a browser session, so that it ends with
		// it; an API key opens no stream.
		http.Error(w, "Live updates need a signed-in browser session.", http.StatusUnauthorized)
		return
	}
	if !actor.CanViewGroups() {
		http.Error(w, "You do not have permission to see live updates.", http.StatusForbidden)
		return
	}
	resume := r.Header.Get("Last-Event-ID")
	if resume == "" {
		resume = r.URL.Query().Get("last_event_id")
	}
	var lastID int64 = -1
	if resume != "" {
		n, err := strconv.ParseInt(resume, 10, 64)
		if err != nil || n < 0 {
			http.Error(w, "Last-Event-ID must be the number of an event this stream sent.", http.StatusBadRequest)
			return
		}
		lastID = n
	}
	// The workspace's position now, read before subscribing: whatever
	// commits in between is replayed. A new stream starts here, and so
	// does one whose position lies beyond it (an id from before
	// workspaces numbered their own events, or made up), rather than
	// skipping changes until the workspace catches up with it.
	now, err := l.svc.Events.LastWorkspaceEventSeq(r.Context(), actor.WorkspaceID)
	if err != nil {
		l.unavailable(w, r, err)
		return
	}
	fresh := lastID < 0 || lastID > now
	if fresh {
		lastID = now
	}

	c, start, err := l.subscribe(actor.WorkspaceID, actor.SessionID)
	if err != nil {
		l.unavailable(w, r, err)
		return
	}
	defer l.unsubscribe(actor.WorkspaceID, c)

	// The route is marked Stream, so the server sets no write deadline:
	// the heartbeat finds dead connections instead.
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	// no-store, as every signed-in response: the stream names a
	// practice's groups and must not be kept by a proxy or the browser.
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	// The preamble sets the browser's reconnection delay and, for a new
	// stream, its position ("id" without data moves lastEventId and
	// dispatches nothing), so a reconnect resumes from here.
	if fresh {
		fmt.Fprintf(w, "retry: %d\nid: %d\n\n", l.opts.Retry.Milliseconds(), lastID)
	} else {
		fmt.Fprintf(w, "retry: %d\n\n", l.opts.Retry.Milliseconds())
	}
	// Events up to the watcher's position start come from the outbox;
	// later ones from the watcher.
	sent, err := l.replay(r.Context(), w, lastID, start)
	if err != nil {
		if r.Context().Err() == nil {
			l.log.Error("live updates cannot replay missed events", "error", err, "request_id", httpx.RequestID(r.Context()))
		}
		return
	}
	if rc.Flush() != nil {
		return
	}

	heartbeat := time.NewTicker(l.opts.Heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.gone:
			return
		case msg := <-c.ch:
			if msg.wsSeq <= sent {
				continue // the client has it, or it was replayed
			}
			if _, err := w.Write(msg.text); err != nil {
				return
			}
			sent = msg.wsSeq
		case <-heartbeat.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return
			}
		}
		if rc.Flush() != nil {
			return
		}
	}
}

// replay writes the workspace's events after workspace position `after`
// whose global Seq is at most `until` (later ones come from the watcher)
// and returns the workspace position it reached. It reads with the
// client's actor, so only its workspace.
func (l *Live) replay(ctx context.Context, w http.ResponseWriter, after, until int64) (int64, error) {
	actor, _ := cohort.ActorFromContext(ctx)
	for {
		evs, err := l.svc.Events.FindWorkspaceEventsAfter(ctx, actor.WorkspaceID, after, catchUpBatch)
		if err != nil {
			return after, err
		}
		for _, ev := range evs {
			if ev.Seq > until {
				return after, nil
			}
			if _, err := w.Write(formatChange(ev)); err != nil {
				return after, err
			}
			after = ev.WorkspaceSeq
		}
		if len(evs) < catchUpBatch {
			return after, nil
		}
	}
}

// unavailable answers a stream that cannot start: 503 with Retry-After,
// the reason logged unless the server is shutting down.
func (l *Live) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	msg := cohort.ErrorMessage(errLiveClosed)
	if !errors.Is(err, errLiveClosed) {
		l.log.Error("live updates cannot start", "error", err, "request_id", httpx.RequestID(r.Context()))
		msg = "Live updates are unavailable right now; the page works without them and will try again."
	}
	w.Header().Set("Retry-After", "2")
	http.Error(w, msg, http.StatusServiceUnavailable)
}
