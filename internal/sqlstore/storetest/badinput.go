package storetest

import (
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
)

func init() {
	register(test{name: "BadTextIsNeverInternal", fn: testBadText})
}

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
		check("UpdateGroup external ID", err, false)
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
