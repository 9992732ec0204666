package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/cohorthq/cohort"
)

// Choosing people in a real browser, with picker.js: two people of one
// name are told apart and the right one is chosen; 30 picks made through
// 30 searches are all in the Selected panel before Save; on Edit the
// panel shows the pending "+ added / − removed" and Save says what
// changed.
func TestBrowserChoosingPeople(t *testing.T) {
	requireChromium(t)
	e := newEnv(t)
	sys := e.system()
	mk := func(given, family, email string, role cohort.Role, a cohort.StaffAttributes) *cohort.User {
		u, err := e.svc.Users.CreateUser(sys, cohort.UserCreate{Email: email, GivenName: given, FamilyName: family, Role: role, StaffAttributes: a})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	mk("Grace", "Turner", "grace.t@riverside.test", cohort.RolePractitioner, cohort.StaffAttributes{JobTitle: "Paediatric physiotherapist", Location: "Bondi Junction"})
	mk("Grace", "Turner", "g.turner@riverside.test", cohort.RoleReceptionist, cohort.StaffAttributes{Location: "Coogee"})
	const picks = 30
	for i := range picks {
		mk(fmt.Sprintf("Pick%02d", i), "Person", fmt.Sprintf("pick%02d@riverside.test", i), cohort.RolePractitioner, cohort.StaffAttributes{})
	}

	chr := newChrome(t)
	run, navigate, wait := chr.run, chr.navigate, chr.wait
	navigate("open sign-in", chromedp.Navigate(e.srv.URL+"/signin"))
	run("fill sign-in", chromedp.SendKeys("#email", e.owner.Email), chromedp.SendKeys("#password", testPassword))
	navigate("sign in", chromedp.Click(`//button[normalize-space(.)='Sign in']`))
	navigate("open Add group", chromedp.Navigate(e.srv.URL+"/settings/groups/new"))
	wait("an empty Selected panel", `document.getElementById('selected-count').textContent.trim() === '0 users selected.'`)

	// search types q into the picker's search and waits for n rows.
	search := func(q string, n int) {
		t.Helper()
		run("search "+q, chromedp.Evaluate[chromedp.Void](`document.getElementById('picker-q').value = `+jsString(q)),
			chromedp.SendKeys("#picker-q", kb.Enter))
		wait(fmt.Sprintf("%d rows for %s", n, q), fmt.Sprintf(`!document.getElementById('picker-results').hasAttribute('aria-busy') &&
			document.querySelectorAll('#picker-results input[name=member]').length === %d &&
			[...document.querySelectorAll('#picker-results .person-name')].every(s => s.textContent.toLowerCase().startsWith(%s))`, n, jsString(strings.ToLower(q))))
	}

	// Two Grace Turners: the rows say who is who, and the one chosen by
	// her email is the one in the panel.
	search("grace turner", 2)
	wait("rows tell them apart", `(() => {
		const rows = [...document.querySelectorAll('#picker-results li.picker-row')].map(li =>
			li.querySelector('label').textContent.replace(/\s+/g, ' ').trim() + ' | ' + li.querySelector('.person-details').textContent);
		return rows.includes('Grace Turner grace.t@riverside.test | Practitioner · Paediatric physiotherapist · Bondi Junction') &&
			rows.includes('Grace Turner g.turner@riverside.test | Receptionist · Coogee');
	})()`)
	run("choose the physiotherapist", chromedp.Click(`//label[normalize-space(.)='Grace Turner grace.t@riverside.test']`))
	wait("the panel names her by email", `document.getElementById('selected-count').textContent.trim() === '1 user selected.' &&
		[...document.querySelectorAll('#selected-added li .person-email')].map(s => s.textContent).join() === 'grace.t@riverside.test'`)
	// Take her out from the panel, and choose her again.
	run("remove her in the panel", chromedp.Click(`//section[@id='selected']//button[normalize-space(.)='Remove Grace Turner (grace.t@riverside.test)']`))
	wait("unticked and out of the panel", `document.querySelectorAll('#selected-added li').length === 0 &&
		!document.querySelector('#picker-results input[name=member]:checked')`)
	run("choose her again", chromedp.Click(`//label[normalize-space(.)='Grace Turner grace.t@riverside.test']`))

	// 30 picks through 30 searches: every one stays in the panel.
	for i := range picks {
		name := fmt.Sprintf("Pick%02d Person", i)
		search(name, 1)
		run("choose "+name, chromedp.Click(fmt.Sprintf(`//label[normalize-space(.)='%s pick%02d@riverside.test']`, name, i)))
		wait(fmt.Sprintf("%d selected", i+2), fmt.Sprintf(`document.getElementById('selected-count').textContent.trim() === '%d users selected.'`, i+2))
	}
	search("", 0+2+picks+len(cohort.Roles)+1+6) // everyone: 2 Graces, the picks, one per role, the owner, 6 staff
	wait("the panel lists all 31 before Save", fmt.Sprintf(`document.querySelectorAll('#selected-added li.selected-entry').length === %d &&
		document.querySelectorAll('#picker-results input[name=member]:checked').length === %d`, picks+1, picks+1))
	run("name the group", chromedp.SendKeys("#name", "Practitioners who treat children"))
	navigate("Save", chromedp.Click(`//button[normalize-space(.)='Save']`))
	wait("the confirmation says who was added", `document.querySelector('div.flash').textContent.trim() ===
		'Group "Practitioners who treat children" created. Added 31.'`)

	// Edit: take one out, put another in; the panel shows the change
	// before Save, and Save says it.
	run("open Actions", chromedp.Click(`//tr[.//a[normalize-space(.)='Practitioners who treat children']]//summary`))
	navigate("click Edit", chromedp.Click(`//tr[.//a[normalize-space(.)='Practitioners who treat children']]//a[normalize-space(.)='Edit']`))
	wait("31 in the group", `document.getElementById('selected-count').textContent.trim() === '31 users after Save: 31 now, + 0 added, − 0 removed.'`)
	run("untick Pick00", chromedp.Click(`//label[normalize-space(.)='Pick00 Person pick00@riverside.test']`))
	search("ann", 1)
	run("tick Ann", chromedp.Click(`//label[normalize-space(.)='Ann Abbott ann@riverside.test']`))
	wait("pending change shown", `document.getElementById('selected-count').textContent.trim() === '31 users after Save: 31 now, + 1 added, − 1 removed.' &&
		document.querySelector('#selected-added li .person-name').textContent === 'Ann Abbott' &&
		document.querySelector('#selected-removed li').textContent.replace(/\s+/g, ' ').trim().startsWith('− Pick00 Person pick00@riverside.test')`)
	navigate("Save", chromedp.Click(`//button[normalize-space(.)='Save']`))
	wait("the confirmation says what changed", `document.querySelector('div.flash').textContent.trim() ===
		'Group "Practitioners who treat children" saved. Added 1, removed 1.'`)
	for _, c := range chr.consoleMessages() {
		t.Errorf("console: %s", c)
	}
}

// jsString quotes s for a script.
func jsString(s string) string { return fmt.Sprintf("%q", s) }
