package web

import "github.com/cohorthq/cohort"

// NavLink is one entry of the Settings sub-navigation as the layout shows
// it.
type NavLink struct {
	Label   string
	Path    string
	Current bool
}

// settingsEntry is one Settings page.
type settingsEntry struct {
	Key   string // the key a handler passes to settingsPage
	Label string // the visible word, exactly as DESIGN names it
	Path  string
	// Show says whether the actor may open the page; hidden entries are
	// still refused by their handlers and by the store.
	Show func(cohort.Actor) bool
}

// settingsNav lists the Settings pages in the order the sub-navigation
// shows them. To add a Settings page: add an entry here, a template
// templates/pages/<name>.html that defines "content", a handler that
// renders it with h.settingsPage(r, key, title) as the view model's
// embedded Page, and its routes in Routes.
var settingsNav = []settingsEntry{
	{Key: "groups", Label: "Groups", Path: "/settings/groups", Show: cohort.Actor.CanViewGroups},
	{Key: "users", Label: "Users", Path: "/settings/users", Show: cohort.Actor.CanManageUsers},
	{Key: "audit", Label: "Audit log", Path: "/settings/audit", Show: cohort.Actor.CanViewAudit},
	{Key: "api-keys", Label: "API keys", Path: "/settings/api-keys", Show: cohort.Actor.CanManageIntegrations},
	{Key: "webhooks", Label: "Webhooks", Path: "/settings/webhooks", Show: cohort.Actor.CanManageIntegrations},
}

// settingsNavFor returns the entries a may see, marking current.
func settingsNavFor(a cohort.Actor, current string) []NavLink {
	var out []NavLink
	for _, e := range settingsNav {
		if e.Show != nil && !e.Show(a) {
			continue
		}
		out = append(out, NavLink{Label: e.Label, Path: e.Path, Current: e.Key == current})
	}
	return out
}
