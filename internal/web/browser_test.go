package web_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/events"
	"github.com/cohorthq/cohort/internal/server"
	"github.com/cohorthq/cohort/internal/sqlstore/sqltest"
	"github.com/cohorthq/cohort/internal/web"
)

// The scripts' behaviour in a real browser: picker search as you type
// keeps choices, Enter in Name saves, the Actions menu closes on Escape,
// and live updates refresh the list and warn an editor. The full
// workflow in a browser is cmd/cohort's test; this one covers what only
// the scripts do.
func TestBrowserScripts(t *testing.T) {
	requireChromium(t)
	db := sqltest.Open(t)
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

	chr := newChrome(t)
	run, navigate, wait := chr.run, chr.navigate, chr.wait

	navigate("open sign-in", chromedp.Navigate(srv.URL+"/signin"))
	run("fill sign-in", chromedp.SendKeys("#email", owner.Email), chromedp.SendKeys("#password", testPassword))
	navigate("sign in", chromedp.Click(`//button[normalize-space(.)='Sign in']`))
	navigate("open Add group", chromedp.Navigate(srv.URL+"/settings/groups/new"))

	// Search as you type: the list narrows without a page load, and a
	// choice made before a search survives it.
	run("choose Ann", chromedp.Click(`//label[normalize-space(.)='Ann Abbott ann@riverside.test']`))
	run("type a search", chromedp.SendKeys("#picker-q", "cat"))
	wait("list narrows to Cat", `document.querySelectorAll('#picker-results input[name=member]').length === 1 &&
		!!document.querySelector('#picker-results label') && document.querySelector('#picker-results label .person-name').textContent === 'Cat Chen'`)
	run("choose Cat", chromedp.Click(`//label[normalize-space(.)='Cat Chen cat@riverside.test']`))
	run("search on Enter", chromedp.Evaluate[chromedp.Void](`document.getElementById('picker-q').value = ''`), chromedp.SendKeys("#picker-q", kb.Enter))
	wait("full list is back with both choices", `document.querySelectorAll('#picker-results input[name=member]').length === 4 &&
		[...document.querySelectorAll('#picker-results input[name=member]:checked')].map(i => i.nextElementSibling.querySelector('.person-name').textContent).sort().join() === 'Ann Abbott,Cat Chen'`)
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
	for _, c := range chr.consoleMessages() {
		t.Errorf("console: %s", c)
	}
}
