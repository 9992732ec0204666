package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// liveDeadline is the promise of "within one second": how long after a change
// is committed another manager's open Groups page may still show the old
// state. It is part of the feature's contract, not a performance figure.
const liveDeadline = time.Second

// liveServers starts the demo for two managers and returns the address
// each signs in at. On SQLite both use one in-process `cohort serve`; with
// COHORT_TEST_ENGINE=postgres they use two separate `cohort serve`
// processes on one throw-away database, so a change made through the
// first reaches the second's pages only through LISTEN/NOTIFY.
func liveServers(t *testing.T) (first, second string) {
	t.Helper()
	if os.Getenv("COHORT_TEST_ENGINE") != "postgres" {
		srv := startServer(t, map[string]string{"COHORT_DEMO_PASSWORD": testDemoPassword}, "--demo", "--db", testDSN(t))
		return srv.URL, srv.URL
	}
	dsn := testDSN(t) // skips, saying so, without COHORT_TEST_POSTGRES
	bin := buildCohort(t)
	env := []string{"COHORT_DEMO_PASSWORD=" + testDemoPassword, "COHORT_LOG_LEVEL=warn"}
	a := startProcess(t, bin, env, "--demo", "--db", dsn)
	b := startProcess(t, bin, env, "--db", dsn)
	t.Logf("two instances on one PostgreSQL database: %s and %s", a.URL, b.URL)
	return a.URL, b.URL
}

// formAnswers reports the moment each form the page posts is answered
// (its redirect or its page arrives): the change is committed by then.
// Listening from Go timestamps the answer itself, not the later load of
// the page it redirects to.
func (b *browser) formAnswers() <-chan time.Time {
	b.t.Helper()
	answers := make(chan time.Time, 8)
	posts := map[network.RequestID]bool{} // only touched by the listener's goroutine
	answered := func(id network.RequestID) {
		if !posts[id] {
			return
		}
		delete(posts, id)
		select {
		case answers <- time.Now():
		default: // nobody is waiting for this one
		}
	}
	ctx, cancel := context.WithCancel(b.ctx)
	b.t.Cleanup(cancel)
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			// A redirect is reported as the next request under the same ID.
			if ev.RedirectResponse != nil {
				answered(ev.RequestID)
			}
			if ev.Type == network.ResourceTypeDocument && ev.Request.Method == "POST" {
				posts[ev.RequestID] = true
			}
		case *network.EventResponseReceived:
			answered(ev.RequestID)
		}
	})
	if err != nil {
		b.t.Fatalf("listen to the browser's requests: %v", err)
	}
	return answers
}

// liveStreams lets the test wait until the page on screen has its live
// stream open, i.e. the server has registered it for changes.
type liveStreams struct {
	b        *browser
	mu       sync.Mutex
	document cdp.LoaderID          // the loader of the page on screen
	open     map[cdp.LoaderID]bool // pages whose stream the server answered
}

func (b *browser) watchLiveStreams() *liveStreams {
	b.t.Helper()
	s := &liveStreams{b: b, open: map[cdp.LoaderID]bool{}}
	ctx, cancel := context.WithCancel(b.ctx)
	b.t.Cleanup(cancel)
	err := chromedp.Listen(ctx, func(ev any) {
		r, ok := ev.(*network.EventResponseReceived)
		if !ok {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		switch {
		case r.Type == network.ResourceTypeDocument:
			s.document = r.LoaderID
		case r.Type == network.ResourceTypeEventSource && r.Response.Status == 200:
			s.open[r.LoaderID] = true
		}
	})
	if err != nil {
		b.t.Fatalf("listen to the browser's requests: %v", err)
	}
	return s
}

// wait returns once the current page's stream is open. The server
// registers a stream before it answers, so from then on every commit
// reaches this page. The bound only keeps a page without a stream from
// hanging the run.
func (s *liveStreams) wait() {
	s.b.t.Helper()
	for end := time.Now().Add(step); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		s.mu.Lock()
		ok := s.document != "" && s.open[s.document]
		s.mu.Unlock()
		if ok {
			return
		}
	}
	s.b.t.Fatalf("the page at %s never opened its live stream", s.b.location())
}

// groupsState is what a Groups page shows: the Users of each listed
// group and the labels of the Active and Archived tabs.
type groupsState struct {
	Users map[string]string `json:"users"`
	Tabs  []string          `json:"tabs"`
}

// liveSnapshot is one state of the page and the moment (Unix ms, the same
// clock as the test's) it was on screen.
type liveSnapshot struct {
	At    int64       `json:"at"`
	State groupsState `json:"state"`
}

// recordGroupsPage marks the window (a reload would lose the mark) and
// records the Groups page's state each time its content changes. Recording
// in the page timestamps the change itself; polling from the test would
// add each poll's round trip to the measured delay.
const recordGroupsPage = `(() => {
	const state = () => {
		const users = {};
		for (const tr of document.querySelectorAll('table.groups tbody tr[data-group-id]')) {
			users[tr.querySelector('a.group-name').innerText.trim()] = tr.querySelector('td.num').innerText.trim();
		}
		const tabs = [...document.querySelectorAll('nav.tabs a')].map(a => a.innerText.trim());
		return {users, tabs};
	};
	window.cohortLiveTest = {mark: %q, log: [{at: Date.now(), state: state()}]};
	new MutationObserver(() => window.cohortLiveTest.log.push({at: Date.now(), state: state()}))
		.observe(document.getElementById('main'), {childList: true, subtree: true, characterData: true});
	return true;
})()`

// awaitLive waits until the recorded Groups page shows what done accepts
// and fails unless it did so within liveDeadline of since. It keeps
// watching a while past the deadline so a failure says how late the page
// was, or that it never changed.
func (b *browser) awaitLive(what string, since time.Time, done func(groupsState) bool) groupsState {
	b.t.Helper()
	var log []liveSnapshot
	for end := time.Now().Add(10 * liveDeadline); ; time.Sleep(20 * time.Millisecond) {
		b.eval(`window.cohortLiveTest ? window.cohortLiveTest.log : []`, &log)
		if len(log) == 0 {
			b.t.Fatalf("waiting to see that %s, the other manager's Groups page lost its recording: it was reloaded (now at %s)", what, b.location())
		}
		for _, s := range log {
			if !done(s.State) {
				continue
			}
			if late := time.UnixMilli(s.At).Sub(since); late > liveDeadline {
				b.t.Errorf("the other manager's Groups page showed that %s %v after it was saved; pages must update within %v", what, late.Round(time.Millisecond), liveDeadline)
			} else {
				b.t.Logf("the other manager's Groups page showed that %s %v after it was saved", what, late.Round(time.Millisecond))
			}
			return s.State
		}
		if time.Now().After(end) {
			last := log[len(log)-1].State
			b.t.Fatalf("the other manager's Groups page never showed that %s (watched %v; %d states recorded, the last %+v); page: %s",
				what, 10*liveDeadline, len(log), last, b.location())
		}
	}
}

// TestBrowserLiveGroups: two managers, each in
// their own browser (separate browser contexts, so separate sessions), have
// Settings → Groups open. One archives a group and adds a member to
// another; the other's page, never reloaded, shows each change within one
// second. On PostgreSQL the two managers use two `cohort serve` instances.
func TestBrowserLiveGroups(t *testing.T) {
	t.Parallel()
	a := newBrowser(t)
	b := newBrowser(t)
	urlA, urlB := liveServers(t)

	a.signIn(urlA, "owner@demo.test", testDemoPassword)
	b.signIn(urlB, "manager@demo.test", testDemoPassword)
	streams := b.watchLiveStreams()
	a.openGroups()
	b.openGroups()
	streams.wait()

	before := b.groupUsers()
	if before["Contractors"] != "3" || before["After-hours clinicians"] != "4" {
		t.Fatalf("the demo Groups page shows %v; want Contractors with 3 users and After-hours clinicians with 4", before)
	}
	mark := rand.Text()
	b.eval(fmt.Sprintf(recordGroupsPage, mark), nil)
	var start []liveSnapshot
	b.eval(`window.cohortLiveTest.log`, &start)
	if tabs := start[0].State.Tabs; len(tabs) != 2 || tabs[0] != "Active (7)" || tabs[1] != "Archived (1)" {
		t.Fatalf("the demo Groups tabs read %q; want Active (7) and Archived (1)", tabs)
	}
	answers := a.formAnswers()
	saved := func(what string) time.Time {
		t.Helper()
		select {
		case at := <-answers:
			return at
		default:
			t.Fatalf("%s: the browser saw no answer to the form it posted", what)
			return time.Time{}
		}
	}

	// Manager A archives Contractors: B's Active list loses it and the
	// tabs count one fewer active and one more archived group.
	a.rowAction("Contractors", "Archive")
	archivedAt := saved("archive Contractors")
	b.awaitLive("Contractors was archived", archivedAt, func(s groupsState) bool {
		_, listed := s.Users["Contractors"]
		return !listed && len(s.Tabs) == 2 && s.Tabs[0] == "Active (6)" && s.Tabs[1] == "Archived (2)"
	})

	// Manager A adds Grace Kim to After-hours clinicians: B's Users
	// column for it goes from 4 to 5.
	a.rowAction("After-hours clinicians", "Edit")
	a.do("tick Grace Kim", chromedp.Click(checkboxLabel("Grace Kim")))
	a.navigating("click Save", chromedp.Click(control("Save")))
	addedAt := saved("add Grace Kim to After-hours clinicians")
	b.awaitLive("Grace Kim joined After-hours clinicians", addedAt, func(s groupsState) bool {
		return s.Users["After-hours clinicians"] == "5"
	})

	// Both changes are on B's page together, every other group as it was,
	// and the page is the one B opened: the mark set on its window is
	// still there, so it was updated in place, not reloaded.
	after := b.groupUsers()
	want := map[string]string{}
	for name, users := range before {
		want[name] = users
	}
	delete(want, "Contractors")
	want["After-hours clinicians"] = "5"
	if fmt.Sprint(after) != fmt.Sprint(want) {
		t.Errorf("the other manager's Groups page finally shows %v; want %v", after, want)
	}
	var kept string
	b.eval(`window.cohortLiveTest ? window.cohortLiveTest.mark : ''`, &kept)
	if kept != mark {
		t.Error("the other manager's Groups page was reloaded; live updates must change it in place")
	}
	if loc := b.location(); !strings.HasSuffix(loc, "/settings/groups") {
		t.Errorf("the other manager's page moved to %s", loc)
	}
	a.checkConsole()
	b.checkConsole()
}
