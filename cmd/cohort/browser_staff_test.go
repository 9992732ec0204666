package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// openUsers follows Settings → Users from any page.
func (b *browser) openUsers() {
	b.t.Helper()
	b.navigating("click Settings", chromedp.Click(control("Settings")))
	b.navigating("click Users", chromedp.Click(`//nav[@aria-label='Settings']//a[normalize-space(.)='Users']`))
}

// openUser searches Settings → Users for a person with the given status
// ("Active", "Archived") and opens their page.
func (b *browser) openUser(name, status string) {
	b.t.Helper()
	b.openUsers()
	b.choose("Status", status)
	b.do("search for "+name, chromedp.SendKeys(field("Search staff"), name))
	b.navigating("click Search", chromedp.Click(control("Search")))
	b.navigating("open "+name, chromedp.Click(fmt.Sprintf(`//table//a[normalize-space(.)=%s]`, xq(name))))
}

// choose selects the option whose text is option in the select labelled
// label, as a person picks from a drop-down.
func (b *browser) choose(label, option string) {
	b.t.Helper()
	var ok bool
	b.eval(fmt.Sprintf(`(() => {
		const l = [...document.querySelectorAll('label')].find(l => l.innerText.trim() === %q);
		const s = l && document.getElementById(l.htmlFor);
		const o = s && [...s.options].find(o => o.text.trim() === %q);
		if (!o) return false;
		s.value = o.value;
		s.dispatchEvent(new Event('change', {bubbles: true}));
		return true;
	})()`, label, option), &ok)
	if !ok {
		b.t.Fatalf("no option %q in %q", option, label)
	}
}

// status loads url and returns the HTTP status of the page.
func (b *browser) status(url string) int64 {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(url))
	if err != nil {
		b.t.Fatalf("open %s: %v", url, err)
	}
	return resp.Status
}

// visibleControls lists the visible links and buttons whose text matches
// the regular expression re.
func (b *browser) visibleControls(re string) []string {
	b.t.Helper()
	var out []string
	b.eval(fmt.Sprintf(`[...document.querySelectorAll('a, button, summary')]
		.filter(e => e.offsetParent !== null || e.getClientRects().length > 0)
		.map(e => e.innerText.trim())
		.filter(t => new RegExp(%q).test(t))`, re), &out)
	return out
}

// TestBrowserStaff drives the staff workflow in Chromium against the
// real `cohort serve --demo`: add a user, put them in a group from their
// page, archive and restore them while the group's Users count follows; a
// receptionist uses the Directory but is refused management; the owner
// hands ownership over and keeps their role.
func TestBrowserStaff(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	srv := startServer(t, map[string]string{"COHORT_DEMO_PASSWORD": testDemoPassword}, "--demo", "--db", testDSN(t))
	b.signIn(srv.URL, "owner@demo.test", testDemoPassword)

	b.openGroups()
	if got := b.groupUsers()["Telehealth providers"]; got != "8" {
		t.Fatalf("demo Telehealth providers Users = %q, want 8", got)
	}

	// The picker from the keyboard: Down leaves the search box for the
	// first person, Space ticks them, Down moves on, Escape goes back.
	b.navigating("click Add group", chromedp.Click(control("Add group")))
	b.do("Down from Search staff, Space, Down",
		chromedp.Focus(field("Search staff")), chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(" "), chromedp.KeyEvent(kb.ArrowDown))
	var focus struct {
		Index   int
		Checked []bool
	}
	b.eval(`(() => {
		const boxes = [...document.querySelectorAll('#picker-results input[type=checkbox]')];
		return {Index: boxes.indexOf(document.activeElement), Checked: boxes.slice(0, 2).map(b => b.checked)};
	})()`, &focus)
	if focus.Index != 1 || len(focus.Checked) != 2 || !focus.Checked[0] || focus.Checked[1] {
		t.Errorf("keyboard in the picker: focus on person %d, ticked %v; want focus on the second, the first ticked", focus.Index, focus.Checked)
	}
	b.do("Escape", chromedp.KeyEvent(kb.Escape))
	var active string
	b.eval(`document.activeElement.id`, &active)
	if active != "picker-q" {
		t.Errorf("Escape in the picker focuses %q, want the search box", active)
	}

	// Add user.
	b.openUsers()
	b.checkAccessible("Users")
	b.navigating("click Add user", chromedp.Click(control("Add user")))
	b.checkAccessible("Add user")
	b.do("fill in Add user",
		chromedp.SendKeys(field("Given name"), "Mereana"),
		chromedp.SendKeys(field("Family name"), "Te Whata"),
		chromedp.SendKeys(field("Email"), "mereana.tewhata@demo.test"),
		chromedp.SendKeys(field("Initial password"), "kowhai-tree-by-the-river"),
	)
	b.choose("Role", "Practitioner")
	b.navigating("click Save", chromedp.Click(control("Save")))
	if page := b.text(); !strings.Contains(page, "Mereana Te Whata added") {
		t.Fatalf("after Add user the page says:\n%s", page)
	}
	b.checkAccessible("user")

	// Into a group from their page.
	b.choose("Add to a group", "Telehealth providers")
	b.navigating("click Add to group", chromedp.Click(control("Add to group")))
	if page := b.text(); !strings.Contains(page, "added to Telehealth providers") {
		t.Fatalf("after Add to group the page says:\n%s", page)
	}
	b.openGroups()
	if got := b.groupUsers()["Telehealth providers"]; got != "9" {
		t.Fatalf("after adding Mereana, Telehealth providers Users = %q, want 9", got)
	}

	// Archive: the count drops and the edit page says one is hidden.
	b.openUser("Mereana Te Whata", "Active")
	b.navigating("click Archive", chromedp.Click(control("Archive")))
	b.openGroups()
	if got := b.groupUsers()["Telehealth providers"]; got != "8" {
		t.Fatalf("after archiving Mereana, Telehealth providers Users = %q, want 8", got)
	}
	b.rowAction("Telehealth providers", "Edit")
	if page := b.text(); !strings.Contains(page, "1 archived user is hidden.") {
		t.Errorf("the edit page does not say one archived user is hidden:\n%s", page)
	}

	// Restore: the count is back. Archived staff are under Status
	// Archived.
	b.openUser("Mereana Te Whata", "Archived")
	b.navigating("click Restore", chromedp.Click(control("Restore")))
	b.openGroups()
	if got := b.groupUsers()["Telehealth providers"]; got != "9" {
		t.Fatalf("after restoring Mereana, Telehealth providers Users = %q, want 9", got)
	}
	b.checkConsole()

	// A receptionist: the Directory filtered by group, no management.
	b.signOut()
	b.signIn(srv.URL, "reception@demo.test", testDemoPassword)
	b.navigating("click Directory", chromedp.Click(control("Directory")))
	b.checkAccessible("Directory")
	b.do("tick Telehealth providers", chromedp.Click(checkboxLabel("Telehealth providers")))
	b.navigating("click Show staff", chromedp.Click(control("Show staff")))
	var rows int
	b.eval(`document.querySelectorAll('table.directory tbody tr').length`, &rows)
	if rows != 9 {
		t.Errorf("the Directory lists %d Telehealth providers, want 9", rows)
	}
	var emails string
	b.eval(`document.getElementById('emails').value`, &emails)
	if !strings.Contains(emails, "mereana.tewhata@demo.test") || strings.Count(emails, "@") != 9 {
		t.Errorf("the addresses to copy: %q", emails)
	}
	if got := b.visibleControls(`^(Copy email addresses)$`); len(got) != 1 {
		t.Errorf("no Copy email addresses button: %q", got)
	}
	b.do("click Copy email addresses", chromedp.Click(control("Copy email addresses")))
	var copied string
	// The clipboard answers asynchronously: wait for the status message.
	b.eval(`new Promise(r => {
		const poll = () => { const s = document.getElementById('copy-status').innerText; s ? r(s) : setTimeout(poll, 50); };
		poll();
	})`, &copied)
	if copied != "Copied 9 addresses." && !strings.HasPrefix(copied, "Copying is not allowed here") {
		t.Errorf("after Copy email addresses the page says %q", copied)
	}
	if got := b.visibleControls(`^(Users|Add user|Edit|Archive|Restore|Make account owner|Import CSV|Export users CSV)$`); len(got) > 0 {
		t.Errorf("a receptionist is offered staff management: %q", got)
	}
	for _, path := range []string{"/settings/users", "/settings/users/new", "/settings/users/import"} {
		if s := b.status(srv.URL + path); s != 403 {
			t.Errorf("a receptionist opens %s: %d, want 403", path, s)
		}
	}
	b.checkConsole()

	// Ownership transfer; the old owner keeps their role.
	b.signOut()
	b.signIn(srv.URL, "owner@demo.test", testDemoPassword)
	b.openUser("Sarah Thompson", "Active")
	b.navigating("click Make account owner", chromedp.Click(control("Make account owner")))
	b.checkAccessible("Make account owner")
	b.navigating("confirm", chromedp.Click(`//form//button[normalize-space(.)='Make account owner']`))
	if page := b.text(); !strings.Contains(page, "Sarah Thompson is now the account owner.") {
		t.Fatalf("after the transfer the page says:\n%s", page)
	}
	b.openUsers()
	var roles map[string]string
	b.eval(`Object.fromEntries([...document.querySelectorAll('table.users tbody tr')].map(tr =>
		[tr.cells[0].innerText.trim(), tr.cells[2].innerText.trim()]))`, &roles)
	if roles["Helen Fraser"] != "Practice manager" || roles["Sarah Thompson Account owner"] != "Practice manager" {
		t.Errorf("after the transfer the Users list shows %v; want Helen still a practice manager and Sarah the account owner", roles)
	}
	b.openUser("Liam O'Brien", "Active")
	if got := b.visibleControls(`^Make account owner$`); len(got) != 0 {
		t.Error("the old owner is still offered Make account owner")
	}
	b.checkConsole()
}
