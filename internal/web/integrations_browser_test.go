package web_test

import (
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

// The API key, webhook, audit and history pages in a real browser under
// the server's Content Security Policy: forms work from the keyboard,
// labels tick their checkboxes, messages land on their fields, and the
// browser reports no refused inline script or style.
func TestBrowserIntegrationPages(t *testing.T) {
	requireChromium(t)
	db := sqltest.Open(t)
	svc := db.Services()
	svc.Webhooks = events.CheckWebhookURLs(svc.Webhooks, false)
	ws, owner, err := svc.Workspaces.CreateWorkspace(t.Context(), cohort.WorkspaceCreate{
		Name: "Riverside Physio", Slug: "riverside",
		Owner: cohort.UserCreate{Email: "owner@riverside.test", GivenName: "Olive", FamilyName: "Owner", Password: testPassword},
	})
	if err != nil {
		t.Fatal(err)
	}
	sys := cohort.NewContextWithActor(t.Context(), cohort.SystemActor(ws.ID, "test"))
	ann, err := svc.Users.CreateUser(sys, cohort.UserCreate{Email: "ann@riverside.test", GivenName: "Ann", FamilyName: "Abbott"})
	if err != nil {
		t.Fatal(err)
	}
	ownerCtx := cohort.NewContextWithActor(t.Context(), cohort.Actor{WorkspaceID: ws.ID, UserID: owner.ID, Name: owner.Name(), IsOwner: true, Via: cohort.ViaWeb})
	g, err := svc.Groups.CreateGroup(ownerCtx, cohort.GroupCreate{Name: "Physiotherapists", MemberIDs: []string{ann.ID}})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	pages, err := web.New(svc, logger, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{}, svc, logger, pages.Routes()))
	t.Cleanup(srv.Close)

	chr := newChrome(t)
	run, navigate, wait := chr.run, chr.navigate, chr.wait

	navigate("open sign-in", chromedp.Navigate(srv.URL+"/signin"))
	run("fill sign-in", chromedp.SendKeys("#email", owner.Email), chromedp.SendKeys("#password", testPassword))
	navigate("sign in", chromedp.Click(`//button[normalize-space(.)='Sign in']`))

	// Create an API key: the label ticks the scope, Enter submits, the
	// token is shown in a read-only field.
	navigate("open API keys", chromedp.Navigate(srv.URL+"/settings/api-keys"))
	navigate("Create API key", chromedp.Click(`//a[normalize-space(.)='Create API key']`))
	run("name", chromedp.SendKeys("#name", "Booking sync"))
	run("tick groups:read by its label", chromedp.Click(`//label[normalize-space(.)='groups:read']`))
	wait("ticked", `document.querySelector('input[value="groups:read"]').checked`)
	navigate("submit with Enter", chromedp.SendKeys("#name", kb.Enter))
	wait("token shown once", `document.querySelector('h1').textContent === 'API key created' &&
		document.getElementById('token').readOnly && document.getElementById('token').value.startsWith('cohort_')`)

	// A webhook to this machine: the message is on the URL field, which
	// says it is invalid, and the summary links to it.
	navigate("open Add webhook", chromedp.Navigate(srv.URL+"/settings/webhooks/new"))
	run("type a loopback URL", chromedp.SendKeys("#url", "https://127.0.0.1/hook"))
	run("tick an event", chromedp.Click(`//label[normalize-space(.)='group.created']`))
	navigate("Add webhook", chromedp.Click(`//button[normalize-space(.)='Add webhook']`))
	wait("message on the field", `document.getElementById('url').getAttribute('aria-invalid') === 'true' &&
		document.getElementById('url').getAttribute('aria-describedby').split(' ').includes('url-error') &&
		document.getElementById('url-error').textContent.includes('public internet') &&
		!!document.querySelector('#form-message a[href="#url"]') &&
		document.querySelector('input[value="group.created"]').checked`)

	// The audit log and the group's History.
	navigate("open Audit log", chromedp.Navigate(srv.URL+"/settings/audit"))
	wait("entries listed", `[...document.querySelectorAll('table.audit tbody tr')].some(tr => tr.textContent.includes('Created the API key “Booking sync”'))`)
	navigate("open the group", chromedp.Navigate(srv.URL+"/settings/groups/"+g.ID+"/edit"))
	wait("History shown", `[...document.querySelectorAll('section.history li')].some(li => li.textContent.startsWith('Olive Owner created the group “Physiotherapists” with Ann Abbott — '))`)

	for _, c := range chr.consoleMessages() {
		if strings.Contains(c, "Content Security Policy") || strings.Contains(c, "Content-Security-Policy") {
			t.Errorf("CSP refused something: %s", c)
		} else {
			t.Errorf("console: %s", c)
		}
	}
}
