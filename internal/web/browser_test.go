package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/events"
	"github.com/cohorthq/cohort/internal/server"
	"github.com/cohorthq/cohort/internal/sqlstore"
	"github.com/cohorthq/cohort/internal/web"
)

const chromium = "/usr/bin/chromium"

// The scripts' behaviour in a real browser: picker search as you type
// keeps choices, Enter in Name saves, the Actions menu closes on Escape,
// and live updates refresh the list and warn an editor. The full
// workflow in a browser is cmd/cohort's test; this one covers what only
// the scripts do.
func TestBrowserScripts(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("COHORT_REQUIRE_BROWSER") == "1" {
			t.Fatalf("browser tests are required but %s is missing", chromium)
		}
		t.Skipf("needs Chromium at %s; skipping", chromium)
	}
	db := sqlstore.OpenTest(t)
	e := &env{t: t, svc: db.Services(), byRole: map[cohort.Role]*cohort.User{}}
	ws, owner, err := e.svc.Workspaces.CreateWorkspace(t.Context(), cohort.WorkspaceCreate{
		Name: "Riverside Physio", Slug: "riverside",
		Owner: cohort.UserCreate{Email: "owner@riverside.test", GivenName: "Olive", FamilyName: "Owner", Password: testPassword},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.ws, e.owner = ws, owner
	for _, n := range [][2]string{{"Ann", "Abbott"}, {"Ben", "Brown"}, {"Cat", "Chen"}} {
		u, err := e.svc.Users.CreateUser(e.system(), cohort.UserCreate{Email: strings.ToLower(n[0]) + "@riverside.test", GivenName: n[0], FamilyName: n[1]})
		if err != nil {
			t.Fatal(err)
		}
		e.staff = append(e.staff, u)
	}
	logger := slog.New(slog.DiscardHandler)
	live := events.NewLive(e.svc, db.Subscribe, logger, events.LiveOptions{})
	t.Cleanup(live.Close)
	pages, err := web.New(e.svc, logger, web.Options{LiveEventsURL: "/events"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{}, e.svc, logger, pages.Routes(), live.Routes()))
	t.Cleanup(srv.Close)

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()))
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	var mu sync.Mutex
	var console []string
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError && m.Source != "network" {
				mu.Lock()
				console = append(console, fmt.Sprint(m))
				mu.Unlock()
			}
		}
	}()
	// run bounds each step so a missing element fails instead of hanging;
	// it is a guard, not a timing assertion.
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(c, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	navigate := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if _, err := chromedp.RunResponse(c, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	wait := func(what, js string) {
		t.Helper()
		run(what, chromedp.Poll[chromedp.Void](js))
	}

	navigate("open sign-in", chromedp.Navigate(srv.URL+"/signin"))
	run("fill sign-in", chromedp.SendKeys("#email", owner.Email), chromedp.SendKeys("#password", testPassword))
	navigate("sign in", chromedp.Click(`//button[normalize-space(.)='Sign in']`))
	navigate("open Add group", chromedp.Navigate(srv.URL+"/settings/groups/new"))

	// Search as you type: the list narrows without a page load, and a
	// choice made before a search survives it.
	run("choose Ann", chromedp.Click(`//label[normalize-space(.)='Ann Abbott']`))
	run("type a search", chromedp.SendKeys("#picker-q", "cat"))
	wait("list narrows to Cat", `document.querySelectorAll('#picker-results input[name=member]').length === 1 &&
		!!document.querySelector('#picker-results label') && document.querySelector('#picker-results label').textContent === 'Cat Chen'`)
	run("choose Cat", chromedp.Click(`//label[normalize-space(.)='Cat Chen']`))
	run("search on Enter", chromedp.Evaluate[chromedp.Void](`document.getElementById('picker-q').value = ''`), chromedp.SendKeys("#picker-q", kb.Enter))
	wait("full list is back with both choices", `document.querySelectorAll('#picker-results input[name=member]').length === 4 &&
		[...document.querySelectorAll('#picker-results input[name=member]:checked')].map(i => i.nextElementSibling.textContent).sort().join() === 'Ann Abbott,Cat Chen'`)
	// Enter in Name saves (the first button of the form is Search).
	run("type the name", chromedp.SendKeys("#name", "Telehealth providers"))
	navigate("press Enter in Name", chromedp.SendKeys("#name", kb.Enter))
	wait("created with two users", `[...document.querySelectorAll('table.groups tbody tr')].some(tr =>
		tr.querySelector('a.group-name').textContent === 'Telehealth providers' && tr.querySelector('td.num').textContent.trim() === '2')`)

	// The Actions menu opens from the keyboard and closes on Escape.
	run("open Actions", chromedp.Focus(`details.menu summary`), chromedp.SendKeys(`details.menu summary`, kb.Enter))
	wait("menu open", `!!document.querySelector('details.menu[open]')`)
	run("press Escape", chromedp.SendKeys(`details.menu summary`, kb.Escape))
	wait("menu closed, focus on its button", `!document.querySelector('details.menu[open]') && document.activeElement.tagName === 'SUMMARY'`)
	run("move focus away", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))

	// Live: a group made elsewhere appears on the open list.
	g, err := e.svc.Groups.CreateGroup(e.system(), cohort.GroupCreate{Name: "Contractors", MemberIDs: []string{e.staff[1].ID}})
	if err != nil {
		t.Fatal(err)
	}
	wait("live list shows the new group", `[...document.querySelectorAll('a.group-name')].some(a => a.textContent === 'Contractors')`)

	// Live: an editor is warned, not overwritten, when the group changes.
	navigate("open Edit", chromedp.Navigate(srv.URL+"/settings/groups/"+g.ID+"/edit"))
	run("type in the form", chromedp.SendKeys("#name", " (typed)"))
	name := "Contractors and locums"
	if _, _, err := e.svc.Groups.UpdateGroup(e.system(), g.ID, cohort.GroupUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	wait("banner shown", `!document.getElementById('live-banner').hidden &&
		document.getElementById('live-banner').textContent === 'This group was changed by someone else. Reload to see the latest version.'`)
	var typed string
	run("read the name field", func(c context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		v, err := chromedp.Evaluate[string](`document.getElementById('name').value`)(c, tg)
		typed = v
		return chromedp.Void{}, err
	})
	if !strings.Contains(typed, "(typed)") || !strings.Contains(typed, "Contractors") {
		t.Errorf("the editor's typing was replaced: %q", typed)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, c := range console {
		t.Errorf("console: %s", c)
	}
}
