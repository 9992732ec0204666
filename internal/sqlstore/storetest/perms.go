package storetest

import (
	"context"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
)

func testPermissionsByRole(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	target := f.user(t, "Tara", "Target", cohort.RolePractitioner)
	g := f.group(t, "Physiotherapists", target)
	for _, tc := range []struct {
		role          cohort.Role
		manage, audit bool
	}{
		{cohort.RolePractitionerAdmin, true, true},
		{cohort.RolePracticeManager, true, true},
		{cohort.RolePractitioner, false, false},
		{cohort.RoleReceptionist, false, false},
		{cohort.RoleAccountant, false, false},
	} {
		t.Run(string(tc.role), func(t *testing.T) {
			u := f.user(t, "Role", string(tc.role), tc.role)
			ctx := f.as(u)
			// Everyone views groups, members and active staff (archived
			// staff: StaffVisibility).
			_, err := f.s.Groups.FindGroups(ctx, cohort.GroupFilter{})
			must(t, err)
			_, err = f.s.Groups.FindGroupByID(ctx, g.ID)
			must(t, err)
			_, err = f.s.Groups.FindMembers(ctx, g.ID, cohort.UserFilter{Status: cohort.StatusActive})
			must(t, err)
			_, err = f.s.Users.FindUsers(ctx, cohort.UserFilter{Status: cohort.StatusActive})
			must(t, err)
			_, _, err = f.s.Groups.CountGroups(ctx)
			must(t, err)
			check := func(what string, err error, allowed bool) {
				t.Helper()
				if allowed && err != nil {
					t.Errorf("%s: %v", what, err)
				}
				if !allowed {
					if e := cohort.AsError(err); e == nil || e.Code != cohort.EFORBIDDEN || e.Message == "" {
						t.Errorf("%s: got %v, want forbidden", what, err)
					}
				}
			}
			ng, err := f.s.Groups.CreateGroup(ctx, cohort.GroupCreate{Name: "G " + string(tc.role)})
			check("CreateGroup", err, tc.manage)
			_, _, err = f.s.Groups.UpdateGroup(ctx, g.ID, cohort.GroupUpdate{Add: ids(u)})
			check("UpdateGroup", err, tc.manage)
			_, err = f.s.Groups.ArchiveGroup(ctx, g.ID, 0)
			check("ArchiveGroup", err, tc.manage)
			_, err = f.s.Groups.RestoreGroup(ctx, g.ID, "", 0)
			check("RestoreGroup", err, tc.manage)
			_, err = f.s.Users.CreateUser(ctx, cohort.UserCreate{Email: string(tc.role) + "@new.test", GivenName: "N", FamilyName: "U"})
			check("CreateUser", err, tc.manage)
			_, err = f.s.Users.UpdateUser(ctx, target.ID, cohort.UserUpdate{GivenName: ptr("Tara " + string(tc.role))})
			check("UpdateUser", err, tc.manage)
			_, err = f.s.Users.ArchiveUser(ctx, target.ID, 0)
			check("ArchiveUser", err, tc.manage)
			_, err = f.s.Users.RestoreUser(ctx, target.ID, 0)
			check("RestoreUser", err, tc.manage)
			_, err = f.s.Audit.FindAuditEntries(ctx, cohort.AuditFilter{})
			check("FindAuditEntries", err, tc.audit)
			// Integrations and ownership are the owner's alone.
			_, _, err = f.s.APIKeys.CreateAPIKey(ctx, cohort.APIKeyCreate{Name: "k", Scopes: []cohort.Scope{cohort.ScopeGroupsRead}})
			check("CreateAPIKey", err, false)
			_, err = f.s.APIKeys.FindAPIKeys(ctx)
			check("FindAPIKeys", err, false)
			_, err = f.s.Webhooks.CreateWebhook(ctx, cohort.WebhookCreate{URL: "https://example.com/h", Events: []string{"*"}})
			check("CreateWebhook", err, false)
			_, err = f.s.Webhooks.FindWebhooks(ctx)
			check("FindWebhooks", err, false)
			check("TransferOwnership", f.s.Users.TransferOwnership(ctx, u.ID), false)
			if ng != nil && tc.manage {
				if _, err := f.s.Groups.ArchiveGroup(ctx, ng.ID, 0); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	// The owner manages everything, whatever their role.
	o, err := f.s.Users.UpdateUser(f.ctx, f.owner.ID, cohort.UserUpdate{Role: ptr(cohort.RoleReceptionist)})
	must(t, err)
	ctx := f.as(o)
	_, err = f.s.Groups.CreateGroup(ctx, cohort.GroupCreate{Name: "Owner's group"})
	must(t, err)
	_, _, err = f.s.APIKeys.CreateAPIKey(ctx, cohort.APIKeyCreate{Name: "k", Scopes: []cohort.Scope{cohort.ScopeGroupsRead}})
	must(t, err)
}

func testPermissionsByScope(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	u := f.user(t, "Kay", "Scope", cohort.RolePractitioner)
	g := f.group(t, "Scoped", u)
	read := f.key(cohort.ScopeGroupsRead)
	_, err := f.s.Groups.FindGroupByID(read, g.ID)
	must(t, err)
	_, _, err = f.s.Groups.UpdateGroup(read, g.ID, cohort.GroupUpdate{Remove: ids(u)})
	wantCode(t, err, cohort.EFORBIDDEN)
	write := f.key(cohort.ScopeGroupsWrite)
	g2, _, err := f.s.Groups.UpdateGroup(write, g.ID, cohort.GroupUpdate{Remove: ids(u)})
	must(t, err)
	if g2.UpdatedBy != "Test key" {
		t.Fatalf("updated by %q", g2.UpdatedBy)
	}
	au := f.audit(t, g.ID)
	if last := au[len(au)-1]; last.ActorKeyID != "key-test" || last.Via != cohort.ViaAPI || last.ActorUserID != "" {
		t.Fatalf("audit actor = %+v", last)
	}
	_, err = f.s.Users.CreateUser(write, cohort.UserCreate{Email: "w@x.test", GivenName: "W", FamilyName: "X"})
	wantCode(t, err, cohort.EFORBIDDEN)
	users := f.key(cohort.ScopeUsersRead)
	_, err = f.s.Groups.FindGroups(users, cohort.GroupFilter{})
	wantCode(t, err, cohort.EFORBIDDEN)
	_, err = f.s.Users.FindUsers(users, cohort.UserFilter{})
	must(t, err)
	scim := f.key(cohort.ScopeSCIM)
	_, err = f.s.Users.CreateUser(scim, cohort.UserCreate{Email: "scim@x.test", GivenName: "S", FamilyName: "C"})
	must(t, err)
	_, _, err = f.s.APIKeys.CreateAPIKey(scim, cohort.APIKeyCreate{Name: "k", Scopes: []cohort.Scope{cohort.ScopeSCIM}})
	wantCode(t, err, cohort.EFORBIDDEN)
}

// testStaffVisibility: what each actor sees of the staff
// (cohort.Actor.StaffView) is enforced by the store: archived staff only
// for managers and keys with a users or scim scope, and only the fields
// the view includes.
func testStaffVisibility(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	act := f.user(t, "Ava", "Shown", cohort.RolePractitioner)
	arc := f.user(t, "Arlo", "Hidden", cohort.RoleAccountant)
	g := f.group(t, "Seen", act, arc)
	_, err := f.s.Users.ArchiveUser(f.ctx, arc.ID, 0)
	must(t, err)
	manager := f.user(t, "Mia", "Manager", cohort.RolePracticeManager)
	clerk := f.user(t, "Rex", "Reception", cohort.RoleReceptionist)
	// Replacing the members with a key that does not see archived staff
	// keeps the archived members it could not name.
	other := f.user(t, "Oli", "Other", cohort.RolePractitioner)
	gw := f.key(cohort.ScopeGroupsWrite)
	_, _, err = f.s.Groups.UpdateGroup(gw, g.ID, cohort.GroupUpdate{ReplaceMembers: &[]string{other.ID}})
	must(t, err)
	after, err := f.s.Groups.FindMembers(f.ctx, g.ID, cohort.UserFilter{})
	must(t, err)
	if !sameSet(ids(after.Users...), []string{other.ID, arc.ID}) {
		t.Fatalf("a groups-only key replaced the members: %v, want %s and the archived %s kept", ids(after.Users...), other.ID, arc.ID)
	}
	_, _, err = f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{ReplaceMembers: &[]string{act.ID, arc.ID}})
	must(t, err)
	for _, tc := range []struct {
		name string
		ctx  context.Context
		view cohort.StaffView
		// noGroups: the actor sees no groups at all.
		noGroups bool
	}{
		{"practice manager", f.as(manager), cohort.StaffFull, false},
		{"receptionist", f.as(clerk), cohort.StaffDirectory, false},
		{"groups:read key", f.key(cohort.ScopeGroupsRead), cohort.StaffMembers, false},
		{"groups:write key", f.key(cohort.ScopeGroupsWrite), cohort.StaffMembers, false},
		{"groups:read+users:read key", f.key(cohort.ScopeGroupsRead, cohort.ScopeUsersRead), cohort.StaffFull, false},
		{"users:read key", f.key(cohort.ScopeUsersRead), cohort.StaffFull, true},
		{"scim key", f.key(cohort.ScopeSCIM), cohort.StaffFull, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			full := tc.view == cohort.StaffFull
			allowed := func(what string, err error, ok bool, code string) {
				t.Helper()
				if ok {
					if err != nil {
						t.Errorf("%s: %v", what, err)
					}
					return
				}
				if cohort.ErrorCode(err) != code {
					t.Errorf("%s: got %v, want %s", what, err, code)
				}
			}
			_, err := f.s.Users.FindUsers(tc.ctx, cohort.UserFilter{})
			allowed("FindUsers every status", err, full, cohort.EFORBIDDEN)
			_, err = f.s.Users.FindUsers(tc.ctx, cohort.UserFilter{Status: cohort.StatusArchived})
			allowed("FindUsers archived", err, full, cohort.EFORBIDDEN)
			_, err = f.s.Users.FindUserByID(tc.ctx, arc.ID)
			allowed("FindUserByID archived", err, full, cohort.ENOTFOUND)
			if tc.noGroups {
				_, err = f.s.Users.FindUserGroups(tc.ctx, act.ID, cohort.GroupFilter{})
				allowed("FindUserGroups", err, false, cohort.EFORBIDDEN)
				return
			}
			_, err = f.s.Groups.FindMembers(tc.ctx, g.ID, cohort.UserFilter{})
			allowed("FindMembers every status", err, full, cohort.EFORBIDDEN)
			_, err = f.s.Users.FindUserGroups(tc.ctx, arc.ID, cohort.GroupFilter{})
			allowed("FindUserGroups archived", err, full, cohort.ENOTFOUND)
			page, err := f.s.Groups.FindMembers(tc.ctx, g.ID, cohort.UserFilter{Status: cohort.StatusActive})
			must(t, err)
			if len(page.Users) != 1 || page.Users[0].ID != act.ID {
				t.Fatalf("active members: %+v", page.Users)
			}
			u := page.Users[0]
			if got := u.Email != "" && u.Role != ""; got != tc.view.SeesContact() {
				t.Errorf("member %+v: email and role shown %v, want %v", u, got, tc.view.SeesContact())
			}
			if got := !u.CreatedAt.IsZero(); got != full {
				t.Errorf("member %+v: record times shown %v, want %v", u, got, full)
			}
			if u.GivenName != act.GivenName || u.FamilyName != act.FamilyName {
				t.Errorf("member %+v: the name is missing", u)
			}
		})
	}
}

func testNoActor(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	s := db.Services()
	_, err := s.Groups.FindGroups(ctx, cohort.GroupFilter{})
	wantCode(t, err, cohort.EUNAUTHORIZED)
	_, err = s.Groups.CreateGroup(ctx, cohort.GroupCreate{Name: "x"})
	wantCode(t, err, cohort.EUNAUTHORIZED)
	_, err = s.Users.FindUsers(ctx, cohort.UserFilter{})
	wantCode(t, err, cohort.EUNAUTHORIZED)
	_, err = s.Audit.FindAuditEntries(ctx, cohort.AuditFilter{})
	wantCode(t, err, cohort.EUNAUTHORIZED)
	_, _, err = s.APIKeys.CreateAPIKey(ctx, cohort.APIKeyCreate{Name: "k"})
	wantCode(t, err, cohort.EUNAUTHORIZED)
	_, err = s.Idempotency.FindIdempotency(ctx, "p", "k")
	wantCode(t, err, cohort.EUNAUTHORIZED)
}

// testIsolation: from workspace A, every method given an ID of workspace B
// answers ENOTFOUND (never forbidden), and B is unchanged.
func testIsolation(t *testing.T, db *sqlstore.DB) {
	a := newFixture(t, db)
	b := newFixture(t, db)
	bu := b.user(t, "Bee", "Other", cohort.RolePractitioner)
	bg := b.group(t, "B group", bu)
	barch := b.group(t, "B archived")
	_, err := b.s.Groups.ArchiveGroup(b.ctx, barch.ID, 0)
	must(t, err)
	bkey, _, err := b.s.APIKeys.CreateAPIKey(b.ctx, cohort.APIKeyCreate{Name: "b", Scopes: []cohort.Scope{cohort.ScopeGroupsRead}})
	must(t, err)
	bhook, err := b.s.Webhooks.CreateWebhook(b.ctx, cohort.WebhookCreate{URL: "https://b.example/h", Events: []string{"*"}})
	must(t, err)
	au := a.user(t, "Aye", "Mine", cohort.RolePractitioner)
	ctx := a.ctx
	s := a.s
	calls := map[string]func() error{
		"FindGroupByID": func() error { _, err := s.Groups.FindGroupByID(ctx, bg.ID); return err },
		"UpdateGroup": func() error {
			_, _, err := s.Groups.UpdateGroup(ctx, bg.ID, cohort.GroupUpdate{Name: ptr("Stolen")})
			return err
		},
		"ArchiveGroup": func() error { _, err := s.Groups.ArchiveGroup(ctx, bg.ID, 0); return err },
		"RestoreGroup": func() error { _, err := s.Groups.RestoreGroup(ctx, barch.ID, "", 0); return err },
		"FindMembers": func() error {
			_, err := s.Groups.FindMembers(ctx, bg.ID, cohort.UserFilter{})
			return err
		},
		"FindUserByID": func() error { _, err := s.Users.FindUserByID(ctx, bu.ID); return err },
		"UpdateUser": func() error {
			_, err := s.Users.UpdateUser(ctx, bu.ID, cohort.UserUpdate{GivenName: ptr("Stolen")})
			return err
		},
		"ArchiveUser":       func() error { _, err := s.Users.ArchiveUser(ctx, bu.ID, 0); return err },
		"RestoreUser":       func() error { _, err := s.Users.RestoreUser(ctx, bu.ID, 0); return err },
		"TransferOwnership": func() error { return s.Users.TransferOwnership(ctx, bu.ID) },
		"FindUserGroups": func() error {
			_, err := s.Users.FindUserGroups(ctx, bu.ID, cohort.GroupFilter{})
			return err
		},
		"SetPassword":        func() error { return s.Users.SetPassword(ctx, bu.ID, "a long enough passphrase") },
		"DeleteUserSessions": func() error { return s.Auth.DeleteUserSessions(ctx, bu.ID, "") },
		"RevokeAPIKey":       func() error { return s.APIKeys.RevokeAPIKey(ctx, bkey.ID) },
		"FindWebhookByID":    func() error { _, err := s.Webhooks.FindWebhookByID(ctx, bhook.ID); return err },
		"DeleteWebhook":      func() error { return s.Webhooks.DeleteWebhook(ctx, bhook.ID) },
		"ResumeWebhook":      func() error { return s.Webhooks.ResumeWebhook(ctx, bhook.ID) },
		"FindDeliveries":     func() error { _, err := s.Webhooks.FindDeliveries(ctx, bhook.ID, 10); return err },
		"ResendDelivery":     func() error { return s.Webhooks.ResendDelivery(ctx, "no-such-delivery") },
		"FindEventsAfter": func() error {
			_, err := s.Events.FindEventsAfter(ctx, b.ws.ID, 0, 10)
			return err
		},
	}
	for name, call := range calls {
		if err := call(); cohort.ErrorCode(err) != cohort.ENOTFOUND {
			t.Errorf("%s with a foreign ID: %v, want not found", name, err)
		}
	}
	// Adding a foreign user to one's own group is an unknown user.
	ag := a.group(t, "A group", au)
	_, _, err = s.Groups.UpdateGroup(ctx, ag.ID, cohort.GroupUpdate{Add: ids(bu)})
	wantCode(t, err, cohort.EINVALID)
	// Lists never show the other workspace.
	gp, err := s.Groups.FindGroups(ctx, cohort.GroupFilter{IDs: []string{bg.ID, ag.ID}})
	must(t, err)
	if gp.Total != 1 || gp.Groups[0].ID != ag.ID {
		t.Fatalf("FindGroups crossed workspaces: %d", gp.Total)
	}
	up, err := s.Users.FindUsers(ctx, cohort.UserFilter{GroupIDs: []string{bg.ID}})
	must(t, err)
	if up.Total != 0 {
		t.Fatal("FindUsers crossed workspaces")
	}
	ap, err := s.Audit.FindAuditEntries(ctx, cohort.AuditFilter{TargetID: bg.ID})
	must(t, err)
	if len(ap.Entries) != 0 {
		t.Fatal("audit crossed workspaces")
	}
	if got := b.getGroup(t, bg.ID); got.Name != "B group" || got.Version != 1 {
		t.Fatalf("B's group changed: %+v", got)
	}
	if n, err := b.s.Users.FindUserByID(b.ctx, bu.ID); err != nil || n.GivenName != "Bee" || n.Archived() {
		t.Fatalf("B's user changed: %+v %v", n, err)
	}
	if ks, _ := b.s.APIKeys.FindAPIKeys(b.ctx); ks[0].RevokedAt != nil {
		t.Fatal("B's key revoked from A")
	}
	if _, err := b.s.Webhooks.FindWebhookByID(b.ctx, bhook.ID); err != nil {
		t.Fatal("B's webhook deleted from A")
	}
}
