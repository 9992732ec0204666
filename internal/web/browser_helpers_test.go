package web_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// requireChromium skips a browser test when Chromium is missing, or fails
// it under COHORT_REQUIRE_BROWSER=1 (CI), where nothing may be skipped.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("COHORT_REQUIRE_BROWSER") == "1" {
			t.Fatalf("browser tests are required but %s is missing", chromiumPath)
		}
		t.Skipf("needs Chromium at %s; skipping", chromiumPath)
	}
}

// chromium is the one headless Chromium the package's browser tests
// share, started by the first of them and stopped by TestMain: a tab per
// test instead of a browser per test, so they can run in parallel.
var chromium struct {
	once sync.Once
	ctx  context.Context // the browser's first tab: new tabs are its children
	stop func()
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if chromium.stop != nil {
		chromium.stop()
	}
	os.Exit(code)
}

func startChromium() {
	// No UserDataDir: the allocator makes a fresh profile directory and
	// removes it when the browser stops. Several tests' windows are open
	// at once and only one has focus, so none may be throttled as a
	// background page.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true), chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true))
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	chromium.ctx = ctx
	chromium.stop = func() { cancelCtx(); cancelAlloc() }
	if err := chromedp.Do(ctx); err != nil {
		chromium.err = fmt.Errorf("start Chromium: %w", err)
	}
}

// chrome is one tab of the shared Chromium, in a browser context of its
// own (a fresh profile: its own cookies and storage), whose console
// errors and exceptions are collected for the test to check.
type chrome struct {
	t       *testing.T
	ctx     context.Context
	mu      sync.Mutex
	console []string
}

func newChrome(t *testing.T) *chrome {
	t.Helper()
	chromium.once.Do(startChromium)
	if chromium.err != nil {
		t.Fatal(chromium.err)
	}
	ctx, cancel := chromedp.NewContext(chromium.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a Chromium tab: %v", err)
	}
	b := &chrome{t: t, ctx: ctx}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError && m.Source != "network" {
				b.mu.Lock()
				b.console = append(b.console, fmt.Sprint(m))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// run bounds each step so a missing element fails instead of hanging;
// it is a guard, not a timing assertion.
func (b *chrome) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	c, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(c, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// navigate is run for actions that load a page, waiting for its response.
func (b *chrome) navigate(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	c, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.RunResponse(c, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// wait polls until js is true in the page.
func (b *chrome) wait(what, js string) {
	b.t.Helper()
	b.run(what, chromedp.Poll[chromedp.Void](js))
}

// consoleMessages returns the console errors and exceptions seen so far.
func (b *chrome) consoleMessages() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}
