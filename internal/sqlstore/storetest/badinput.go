package storetest

import (
	"errors"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
)

// testBadText sends text that PostgreSQL cannot hold (NUL, invalid UTF-8)
// through every kind of argument: no call may fail as an internal error,
// lookups by such an ID find nothing, and nothing changes.
func testBadText(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	u := f.user(t, "Val", "Id", cohort.RolePractitioner)
	g := f.group(t, "Clean", u)
	seq := f.lastSeq(t)
	for _, bad := range []string{"a\x00b", "\xff\xfe", "ok\x00"} {
		check := func(what string, err error, notFound bool) {
			t.Helper()
			code := cohort.ErrorCode(err)
			if code == cohort.EINTERNAL || code == cohort.EUNAVAILABLE {
				t.Errorf("%s(%q): %v", what, bad, err)
			}
			if notFound && code != cohort.ENOTFOUND {
				t.Errorf("%s(%q): %v, want not found", what, bad, err)
			}
		}
		_, err := f.s.Groups.FindGroupByID(f.ctx, bad)
		check("FindGroupByID", err, true)
		_, _, err = f.s.Groups.UpdateGroup(f.ctx, bad, cohort.GroupUpdate{Name: ptr("x")})
		check("UpdateGroup", err, true)
		_, err = f.s.Groups.ArchiveGroup(f.ctx, bad, 0)
		check("ArchiveGroup", err, true)
		_, err = f.s.Groups.FindMembers(f.ctx, bad, cohort.UserFilter{})
		check("FindMembers", err, true)
		_, err = f.s.Users.FindUserByID(f.ctx, bad)
		check("FindUserByID", err, true)
		_, err = f.s.Users.ArchiveUser(f.ctx, bad, 0)
		check("ArchiveUser", err, true)
		_, err = f.s.Users.FindUserGroups(f.ctx, bad, cohort.GroupFilter{})
		check("FindUserGroups", err, true)
		_, err = f.s.Webhooks.FindWebhookByID(f.ctx, bad)
		check("FindWebhookByID", err, true)
		check("RevokeAPIKey", f.s.APIKeys.RevokeAPIKey(f.ctx, bad), true)
		_, _, err = f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{Add: []string{bad}})
		if e := wantCode(t, err, cohort.EINVALID); len(e.Fields["member_ids"]) != 1 {
			t.Errorf("unknown member message: %v", e.Fields)
		}
		_, _, err = f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{ExternalID: ptr(bad)})
		if e := wantCode(t, err, cohort.EINVALID); len(e.Fields["external_id"]) != 1 {
			t.Errorf("UpdateGroup external ID %q: %v", bad, e.Fields)
		}
		_, err = f.s.Groups.CreateGroup(f.ctx, cohort.GroupCreate{Name: bad})
		wantCode(t, err, cohort.EINVALID)
		_, err = f.s.Users.CreateUser(f.ctx, cohort.UserCreate{Email: bad + "@x.test", GivenName: bad, FamilyName: "F"})
		wantCode(t, err, cohort.EINVALID)
		_, err = f.s.Groups.FindGroups(f.ctx, cohort.GroupFilter{Query: bad, Name: bad, ExternalID: bad, IDs: []string{bad}, MemberID: bad})
		check("FindGroups", err, false)
		_, err = f.s.Users.FindUsers(f.ctx, cohort.UserFilter{Query: bad, Email: bad, ExternalID: bad, IDs: []string{bad}, GroupIDs: []string{bad, bad + "2"}, ExcludeGroupID: bad})
		check("FindUsers", err, false)
		_, err = f.s.Audit.FindAuditEntries(f.ctx, cohort.AuditFilter{TargetID: bad, ActorName: bad, Action: bad})
		check("FindAuditEntries", err, false)
		_, err = f.s.Auth.Authenticate(f.ctx, cohort.Credentials{Practice: bad, Email: bad, Password: bad})
		wantCode(t, err, cohort.EUNAUTHORIZED)
		_, err = f.s.Auth.Authenticate(f.ctx, cohort.Credentials{Practice: f.ws.Slug, Email: bad, Password: bad})
		wantCode(t, err, cohort.EUNAUTHORIZED)
		_, err = f.s.Auth.FindSession(f.ctx, bad, 0)
		wantCode(t, err, cohort.EUNAUTHORIZED)
		_, err = f.s.APIKeys.AuthenticateAPIKey(f.ctx, cohort.APIKeyPrefix+bad)
		wantCode(t, err, cohort.EUNAUTHORIZED)
		_, err = f.s.Idempotency.FindIdempotency(f.ctx, bad, bad)
		check("FindIdempotency", err, false)
		_, err = f.s.Workspaces.FindWorkspaceBySlug(f.ctx, bad)
		check("FindWorkspaceBySlug", err, false)
	}
	if got := f.getGroup(t, g.ID); got.Version != 1 || len(f.events(t, seq)) != 0 {
		t.Fatalf("bad input changed the group: %+v", got)
	}
}

// testControlText sends control characters (NUL, BEL, ESC sequences, DEL,
// C1), bidi controls and invisible characters through every write that
// takes text. Both engines must give the same answer: EINVALID naming the
// field, and nothing stored. (A description with NUL was once stored by
// SQLite and refused with a generic message by PostgreSQL; BEL and ESC
// were stored by both.)
func testControlText(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	u := f.user(t, "Val", "Id", cohort.RolePractitioner)
	g := f.group(t, "Clean", u)
	seq := f.lastSeq(t)
	wantField := func(what, field string, err error) {
		t.Helper()
		e := cohort.AsError(err)
		if e == nil || e.Code != cohort.EINVALID || len(e.Fields[field]) != 1 {
			t.Errorf("%s: %v (fields %v), want invalid with a %s message", what, err, cohort.ErrorFields(err), field)
		}
	}
	for _, bad := range []string{"a\x00b", "ring\x07", "\x1b[2J\x1b[31mred", "del\x7f", "c1\u009b", "rtl\u202efdp.exe"} {
		_, err := f.s.Groups.CreateGroup(f.ctx, cohort.GroupCreate{Name: "New", Description: bad})
		wantField("CreateGroup description "+bad, "description", err)
		_, _, err = f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{Description: ptr(bad)})
		wantField("UpdateGroup description "+bad, "description", err)
		_, err = f.s.Groups.CreateGroup(f.ctx, cohort.GroupCreate{Name: bad})
		wantField("CreateGroup name "+bad, "name", err)
		_, err = f.s.Groups.CreateGroup(f.ctx, cohort.GroupCreate{Name: "New", ExternalID: bad})
		wantField("CreateGroup external ID "+bad, "external_id", err)
		_, err = f.s.Users.CreateUser(f.ctx, cohort.UserCreate{Email: "new@x.test", GivenName: bad, FamilyName: "F"})
		wantField("CreateUser given name "+bad, "given_name", err)
		_, err = f.s.Users.UpdateUser(f.ctx, u.ID, cohort.UserUpdate{FamilyName: ptr(bad)})
		wantField("UpdateUser family name "+bad, "family_name", err)
		_, err = f.s.Users.UpdateUser(f.ctx, u.ID, cohort.UserUpdate{ExternalID: ptr(bad)})
		wantField("UpdateUser external ID "+bad, "external_id", err)
		_, _, err = f.s.APIKeys.CreateAPIKey(f.ctx, cohort.APIKeyCreate{Name: bad, Scopes: []cohort.Scope{cohort.ScopeGroupsRead}})
		wantField("CreateAPIKey name "+bad, "name", err)
		_, err = f.s.Imports.ImportGroups(f.ctx, []cohort.GroupImport{{Row: 2, Name: "Imported", Description: bad}})
		if ie := importRows(err); len(ie) != 1 || ie[0].Column != "description" {
			t.Errorf("ImportGroups description %q: %v", bad, err)
		}
	}
	for _, bad := range []string{"Jo\u200bhn", "\ufeffJohn", "Jo\u00adhn", "\u0410nna"} {
		_, err := f.s.Users.CreateUser(f.ctx, cohort.UserCreate{Email: "new@x.test", GivenName: bad, FamilyName: "F"})
		wantField("CreateUser given name "+bad, "given_name", err)
		_, err = f.s.Imports.ImportUsers(f.ctx, []cohort.UserImport{{Row: 2, Email: "new@x.test", GivenName: "A", FamilyName: bad}})
		if ie := importRows(err); len(ie) != 1 || ie[0].Column != "family_name" {
			t.Errorf("ImportUsers family name %q: %v", bad, err)
		}
		_, err = f.s.Groups.CreateGroup(f.ctx, cohort.GroupCreate{Name: "Admin " + bad})
		wantField("CreateGroup name "+bad, "name", err)
	}
	// A description keeps its paragraphs and tabs, the same on both engines.
	got, _, err := f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{Description: ptr("One\r\n\tTwo")})
	if err != nil || got.Description != "One\n\tTwo" || f.getGroup(t, g.ID).Description != "One\n\tTwo" {
		t.Fatalf("multi-line description: %v %+v", err, got)
	}
	if evs := f.events(t, seq); len(evs) != 1 {
		t.Fatalf("refused writes made %d events, want only the description change", len(evs))
	}
	if page, err := f.s.Users.FindUsers(f.ctx, cohort.UserFilter{Email: "new@x.test"}); err != nil || len(page.Users) != 0 {
		t.Fatalf("a refused user was stored: %v", err)
	}
}

func importRows(err error) []cohort.RowError {
	var ie *cohort.ImportError
	if errors.As(err, &ie) {
		return ie.Rows
	}
	return nil
}

// testLookAlikeNames: names that look the same are one name. A group
// name is unique by its NFKC, case-folded key, and look-alikes that the
// key cannot fold (zero-width characters, a Cyrillic letter in a Latin
// word) are refused.
func testLookAlikeNames(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	g := f.group(t, "Admin team")
	for _, name := range []string{"ADMIN TEAM", "Ａｄｍｉｎ team", "Admin\u00a0team", "Admin　team"} {
		_, err := f.s.Groups.CreateGroup(f.ctx, cohort.GroupCreate{Name: name})
		if e := wantCode(t, err, cohort.ECONFLICT); e.Detail["group_id"] != g.ID {
			t.Errorf("CreateGroup(%q): %v", name, e)
		}
	}
	for _, name := range []string{"Admin\u200bteam", "\u0410dmin team", "Admin team\u202e", "Ad\u00admin team", "\ufeffAdmin team"} {
		_, err := f.s.Groups.CreateGroup(f.ctx, cohort.GroupCreate{Name: name})
		wantCode(t, err, cohort.EINVALID)
	}
	// Found by any form of the name.
	page, err := f.s.Groups.FindGroups(f.ctx, cohort.GroupFilter{Name: "ａｄｍｉｎ TEAM"})
	if err != nil || len(page.Groups) != 1 || page.Groups[0].ID != g.ID {
		t.Fatalf("FindGroups by a full-width name: %v", err)
	}
	// Stored normalised.
	other, err := f.s.Groups.CreateGroup(f.ctx, cohort.GroupCreate{Name: "Ｔｅｌｅｈｅａｌｔｈ"})
	if err != nil || other.Name != "Telehealth" {
		t.Fatalf("full-width name stored as %v, %v", other, err)
	}
	_, _, err = f.s.Groups.UpdateGroup(f.ctx, other.ID, cohort.GroupUpdate{Name: ptr("admin TEAM")})
	wantCode(t, err, cohort.ECONFLICT)
}
