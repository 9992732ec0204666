package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"flag"
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

// axe-core's browser build, vendored from the npm package axe-core (see
// testdata/axe.LICENSE), so the accessibility scan needs no network.
//
//go:embed testdata/axe.min.js
var axeSource string

const chromiumPath = "/usr/bin/chromium"

// -screenshot writes a PNG of the demo's Groups page, for the README:
//
//	go test ./cmd/cohort -run TestBrowserGroupsWorkflow -screenshot "$PWD/docs/groups.png"
var screenshotPath = flag.String("screenshot", "", "write a PNG of the demo Groups page to this file")

// browser is one tab of the shared headless Chromium, driven like a person:
// by visible link, button and label text.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu      sync.Mutex
	console []string // errors and exceptions the pages wrote
}

// chromium is the one headless Chromium the package's browser tests
// share, started by the first of them and stopped by TestMain. Starting a
// browser per test cost seconds each, and a tab per test is what lets the
// tests run in parallel.
var chromium struct {
	once sync.Once
	ctx  context.Context // the browser's first tab: new tabs are its children
	stop func()
	err  error
}

func startChromium() {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// Several tests' windows are open at once and only one has focus:
		// none may be throttled as a background page (the live-update
		// test's page is never the one being clicked).
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.WindowSize(1280, 900), // every new window too
		// No UserDataDir: the allocator makes a fresh profile directory
		// and removes it when the browser stops.
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	chromium.ctx = ctx
	chromium.stop = func() { cancelCtx(); cancelAlloc() }
	if err := chromedp.Do(ctx); err != nil {
		chromium.err = fmt.Errorf("start Chromium: %w", err)
	}
}

// stopChromium stops the shared browser, if a test started it.
func stopChromium() {
	if chromium.stop != nil {
		chromium.stop()
	}
}

// newBrowser opens a tab in the shared Chromium, in a browser context of
// its own: a fresh profile, with its own cookies and storage, as a
// separate browser would have. Without Chromium the test is skipped,
// unless COHORT_REQUIRE_BROWSER=1 (CI), where a missing browser must fail
// rather than pass unseen.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("COHORT_REQUIRE_BROWSER") == "1" {
			t.Fatalf("browser tests are required (COHORT_REQUIRE_BROWSER=1) but %s is missing: apt-get install chromium", chromiumPath)
		}
		t.Skipf("browser tests need Chromium at %s (apt-get install chromium); skipping", chromiumPath)
	}
	chromium.once.Do(startChromium)
	if chromium.err != nil {
		t.Fatal(chromium.err)
	}
	ctx, cancel := chromedp.NewContext(chromium.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a Chromium tab: %v", err)
	}
	b := &browser{t: t, ctx: ctx}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// Console errors and uncaught exceptions are the page's own;
			// the browser's network log ("Failed to load resource") also
			// reports statuses such as the 409 of a refused form, which is
			// the server answering correctly.
			if m.IsException() || m.Type == chromedp.ConsoleError && m.Source != "network" {
				b.mu.Lock()
				b.console = append(b.console, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// step bounds one browser step so that a missing element fails the test
// with a message instead of hanging the run. It is a guard, not a timing
// assertion: every step takes milliseconds when it works.
const step = 30 * time.Second

func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v\npage: %s", what, err, b.location())
	}
}

// navigating runs actions that load a new page (a click on a link or a
// submit button) and waits until it has loaded.
func (b *browser) navigating(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		b.t.Fatalf("%s: %v\npage: %s", what, err, b.location())
	}
	if resp.Status >= 500 {
		b.t.Fatalf("%s: the server answered %d %s for %s", what, resp.Status, resp.StatusText, resp.URL)
	}
}

func (b *browser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

func (b *browser) eval(js string, out any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %.60q: %v", js, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			b.t.Fatalf("evaluate %.60q: decode %s: %v", js, raw, err)
		}
	}
}

// text returns the visible text of the page.
func (b *browser) text() string {
	b.t.Helper()
	var s string
	b.eval(`document.body.innerText`, &s)
	return s
}

// xq quotes s as an XPath string literal.
func xq(s string) string {
	switch {
	case !strings.Contains(s, "'"):
		return "'" + s + "'"
	case !strings.Contains(s, `"`):
		return `"` + s + `"`
	}
	parts := strings.Split(s, "'")
	return "concat('" + strings.Join(parts, `', "'", '`) + "')"
}

// Selectors by what a person sees.

// link is a link or button whose visible text (or accessible label) is s.
func control(s string) string {
	return fmt.Sprintf(`//*[self::a or self::button or self::summary or @role='button' or @role='tab'][normalize-space(.)=%s or @aria-label=%s]`, xq(s), xq(s))
}

// controlStarting is like control for text that starts with s, e.g. the
// tab "Archived (3)".
func controlStarting(s string) string {
	return fmt.Sprintf(`//*[self::a or self::button or self::summary][starts-with(normalize-space(.), %s)]`, xq(s))
}

// field is the input, select or textarea whose label's text is s.
func field(s string) string {
	return fmt.Sprintf(`//*[self::input or self::textarea or self::select][@id=//label[normalize-space(.)=%s]/@for]`, xq(s))
}

// checkboxLabel is the label of a checkbox naming person.
func checkboxLabel(person string) string {
	return fmt.Sprintf(`//label[@for=//input[@type='checkbox']/@id][contains(normalize-space(.), %s)]`, xq(person))
}

// groupRow is the table row whose Name is name.
func groupRow(name string) string {
	return fmt.Sprintf(`//table//tbody/tr[.//a[normalize-space(.)=%s]]`, xq(name))
}

func (b *browser) signIn(base, email, password string) {
	b.t.Helper()
	b.navigating("open Cohort", chromedp.Navigate(base+"/"))
	b.do("fill in the sign-in form",
		chromedp.SendKeys(field("Email"), email),
		chromedp.SendKeys(field("Password"), password),
	)
	b.navigating("click Sign in", chromedp.Click(control("Sign in")))
	if strings.Contains(b.location(), "/signin") {
		b.t.Fatalf("sign-in as %s failed:\n%s", email, b.text())
	}
}

// openGroups follows Settings → Groups from any page.
func (b *browser) openGroups() {
	b.t.Helper()
	b.navigating("click Settings", chromedp.Click(control("Settings")))
	b.navigating("click Groups", chromedp.Click(`//nav//a[normalize-space(.)='Groups']`))
}

// groupUsers reads the Users column of the groups table: name → count.
func (b *browser) groupUsers() map[string]string {
	b.t.Helper()
	var rows map[string]string
	b.eval(`(() => {
		const table = document.querySelector('table');
		if (!table) return {};
		const heads = [...table.querySelectorAll('thead th')].map(th => th.innerText.trim());
		const ni = heads.indexOf('Name'), ui = heads.indexOf('Users');
		const out = {};
		for (const tr of table.querySelectorAll('tbody tr')) {
			const cells = tr.querySelectorAll('td');
			if (ni < 0 || ui < 0 || cells.length < heads.length) continue;
			const a = cells[ni].querySelector('a');
			out[(a || cells[ni]).innerText.trim()] = cells[ui].innerText.trim();
		}
		return out;
	})()`, &rows)
	return rows
}

// rowAction opens a row's Actions menu and clicks one of its items.
func (b *browser) rowAction(group, action string) {
	b.t.Helper()
	row := groupRow(group)
	b.do("open Actions of "+group, chromedp.Click(row+`//summary[starts-with(normalize-space(.), 'Actions')]`))
	b.navigating("click Actions → "+action+" of "+group, chromedp.Click(row+`//*[self::a or self::button][normalize-space(.)=`+xq(action)+`]`))
}

// axeViolations runs axe-core on the current page and returns its serious
// and critical violations.
func (b *browser) axeViolations() []string {
	b.t.Helper()
	b.eval(axeSource+";true", nil)
	var found []struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Nodes  []struct {
			Target []any `json:"target"`
		} `json:"nodes"`
	}
	b.eval(`axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)`, &found)
	var out []string
	for _, v := range found {
		if v.Impact != "serious" && v.Impact != "critical" {
			continue
		}
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprint(n.Target...))
		}
		out = append(out, fmt.Sprintf("%s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(where, ", ")))
	}
	return out
}

func (b *browser) screenshot(path string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) checkAccessible(page string) {
	b.t.Helper()
	if v := b.axeViolations(); len(v) > 0 {
		b.t.Errorf("axe-core finds serious or critical violations on the %s page:\n  %s", page, strings.Join(v, "\n  "))
	}
}

func (b *browser) checkConsole() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.console) > 0 {
		b.t.Errorf("the browser console shows errors:\n  %s", strings.Join(b.console, "\n  "))
	}
}

func (b *browser) signOut() {
	b.t.Helper()
	b.do("forget the session", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
		return err
	}))
}

// TestBrowserGroupsWorkflow drives the core workflow's steps 1–6 in Chromium
// against the real `cohort serve --demo`, clicking only what a person
// sees.
func TestBrowserGroupsWorkflow(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	srv := startServer(t, map[string]string{"COHORT_DEMO_PASSWORD": testDemoPassword}, "--demo", "--db", testDSN(t))
	if !strings.Contains(srv.stdout.String(), "owner@demo.test with the password "+testDemoPassword) {
		t.Errorf("serve --demo did not print the owner's sign-in:\n%s", srv.stdout)
	}

	b.signIn(srv.URL, "owner@demo.test", testDemoPassword)
	b.openGroups()
	if got := b.groupUsers(); got["Physiotherapists"] != "6" {
		t.Fatalf("demo Groups table = %v; want Physiotherapists with 6 users (one archived member hidden)", got)
	}
	b.checkAccessible("Groups")
	if *screenshotPath != "" {
		b.screenshot(*screenshotPath)
	}

	// Add group: a name and three people.
	b.navigating("click Add group", chromedp.Click(control("Add group")))
	b.checkAccessible("Add group")
	b.do("enter the name", chromedp.SendKeys(field("Name"), "Hand therapy"))
	b.do("tick three users",
		chromedp.Click(checkboxLabel("Grace Kim")),
		chromedp.Click(checkboxLabel("Noah Tran")),
		chromedp.Click(checkboxLabel("Jack Williams")),
	)
	b.navigating("click Save", chromedp.Click(control("Save")))
	b.openGroups()
	if got := b.groupUsers()["Hand therapy"]; got != "3" {
		t.Fatalf("after Add group, Hand therapy shows Users = %q, want 3; table %v", got, b.groupUsers())
	}

	// Edit: rename, untick one, tick two.
	b.rowAction("Hand therapy", "Edit")
	b.checkAccessible("Edit group")
	b.do("rename", chromedp.Clear(field("Name")), chromedp.SendKeys(field("Name"), "Hand & wrist therapy"))
	b.do("untick one, tick two",
		chromedp.Click(checkboxLabel("Noah Tran")),
		chromedp.Click(checkboxLabel("Zoë O'Connor")),
		chromedp.Click(checkboxLabel("José Núñez")),
	)
	b.navigating("click Save", chromedp.Click(control("Save")))
	b.openGroups()
	got := b.groupUsers()
	if got["Hand & wrist therapy"] != "4" {
		t.Fatalf("after Edit, Hand & wrist therapy shows Users = %q, want 4; table %v", got["Hand & wrist therapy"], got)
	}
	if _, ok := got["Hand therapy"]; ok {
		t.Errorf("the old name is still listed: %v", got)
	}

	// Archive: gone from Active, listed under Archived.
	b.rowAction("Hand & wrist therapy", "Archive")
	b.openGroups()
	if _, ok := b.groupUsers()["Hand & wrist therapy"]; ok {
		t.Fatalf("an archived group is still in the Active list: %v", b.groupUsers())
	}
	b.navigating("click the Archived tab", chromedp.Click(controlStarting("Archived")))
	if _, ok := b.groupUsers()["Hand & wrist therapy"]; !ok {
		t.Fatalf("the Archived tab does not list the archived group: %v", b.groupUsers())
	}

	// Restore: back in Active with its four users.
	b.rowAction("Hand & wrist therapy", "Restore")
	b.openGroups()
	if got := b.groupUsers()["Hand & wrist therapy"]; got != "4" {
		t.Fatalf("after Restore, Users = %q, want 4; table %v", got, b.groupUsers())
	}

	// A duplicate name in other letter case is refused with a message
	// naming the group that holds it, and nothing is created.
	b.navigating("click Add group", chromedp.Click(control("Add group")))
	b.do("enter a taken name", chromedp.SendKeys(field("Name"), "PHYSIOTHERAPISTS"))
	b.navigating("click Save", chromedp.Click(control("Save")))
	page := b.text()
	if !strings.Contains(page, "Physiotherapists") {
		t.Errorf("a duplicate name was not refused with a message naming the group; the page says:\n%s", page)
	}
	var invalid bool
	b.eval(`!!document.querySelector('[aria-invalid="true"]')`, &invalid)
	if !invalid {
		t.Errorf("the Name field is not marked invalid after a duplicate name")
	}
	b.openGroups()
	n := 0
	for name := range b.groupUsers() {
		if strings.EqualFold(name, "physiotherapists") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d groups named physiotherapists in any case, want 1", n)
	}
	b.checkConsole()

	// A receptionist sees the groups but none of the manage actions.
	b.signOut()
	b.signIn(srv.URL, "reception@demo.test", testDemoPassword)
	b.openGroups()
	if got := b.groupUsers(); got["Hand & wrist therapy"] != "4" || got["Physiotherapists"] != "6" {
		t.Errorf("the receptionist sees %v; want the groups with their counts", got)
	}
	var visible []string
	b.eval(`[...document.querySelectorAll('a, button, summary')]
		.filter(e => e.offsetParent !== null || e.getClientRects().length > 0)
		.map(e => e.innerText.trim())
		.filter(t => /^(Add group|Edit|Archive|Restore)$|^Actions/.test(t))`, &visible)
	if len(visible) > 0 {
		t.Errorf("a receptionist is offered manage actions: %q", visible)
	}
	b.checkConsole()
}
