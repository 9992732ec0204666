package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
)

func init() {
	register(
		test{name: "AuthPasswords", fn: testAuthPasswords},
		test{name: "AuthSessions", fn: testAuthSessions},
	)
}

func testAuthPasswords(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	ctx := context.Background()
	const pw = "correct horse battery"
	email := "pat." + f.ws.Slug + "@riverside.test"
	u, err := f.s.Users.CreateUser(f.ctx, cohort.UserCreate{Email: email, GivenName: "Pat", FamilyName: "Word", Password: pw})
	must(t, err)
	got, err := f.s.Auth.Authenticate(ctx, "  "+email+" ", pw)
	must(t, err)
	if len(got) != 1 || got[0].ID != u.ID {
		t.Fatalf("Authenticate = %v", got)
	}
	for _, tc := range []struct{ email, pw string }{
		{email, "wrong password!"},
		{"nobody." + f.ws.Slug + "@riverside.test", pw},
		{f.owner.Email, "no password set at all"},
	} {
		_, err := f.s.Auth.Authenticate(ctx, tc.email, tc.pw)
		if e := wantCode(t, err, cohort.EUNAUTHORIZED); e.Message != "Email or password is incorrect." {
			t.Fatalf("message = %q", e.Message)
		}
	}
	_, err = f.s.Users.CreateUser(f.ctx, cohort.UserCreate{Email: "short@x.test", GivenName: "S", FamilyName: "P", Password: "short"})
	wantCode(t, err, cohort.EINVALID)
	// The same person in two practices signs in to either.
	f2 := newFixture(t, db)
	u2, err := f2.s.Users.CreateUser(f2.ctx, cohort.UserCreate{Email: email, GivenName: "Pat", FamilyName: "Word", Password: pw})
	must(t, err)
	got, err = f.s.Auth.Authenticate(ctx, email, pw)
	must(t, err)
	if !sameSet(ids(got...), []string{u.ID, u2.ID}) {
		t.Fatalf("two practices: %v", ids(got...))
	}
	// Archived staff cannot sign in; a new password works, the old not.
	_, err = f2.s.Users.ArchiveUser(f2.ctx, u2.ID)
	must(t, err)
	must(t, f.s.Users.SetPassword(f.as(u), u.ID, "a brand new passphrase"))
	_, err = f.s.Auth.Authenticate(ctx, email, pw)
	wantCode(t, err, cohort.EUNAUTHORIZED)
	got, err = f.s.Auth.Authenticate(ctx, email, "a brand new passphrase")
	must(t, err)
	if len(got) != 1 || got[0].ID != u.ID {
		t.Fatalf("after new password: %v", ids(got...))
	}
	// Only the person, a manager or the system sets a password, and the
	// owner's only they (or the system) set.
	other := f.user(t, "Rita", "Reception", cohort.RoleReceptionist)
	wantCode(t, f.s.Users.SetPassword(f.as(other), u.ID, "another long passphrase"), cohort.EFORBIDDEN)
	mgr := f.user(t, "Max", "Manager", cohort.RolePracticeManager)
	must(t, f.s.Users.SetPassword(f.as(mgr), u.ID, "manager set passphrase"))
	wantCode(t, f.s.Users.SetPassword(f.as(mgr), f.owner.ID, "manager set passphrase"), cohort.EFORBIDDEN)
	wantCode(t, f.s.Users.SetPassword(f.ctx, u.ID, "short"), cohort.EINVALID)
}

func testAuthSessions(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	ctx := context.Background()
	u := f.user(t, "Sid", "Session", cohort.RolePractitioner)
	tok, s, err := f.s.Auth.CreateSession(ctx, u.ID, time.Hour)
	must(t, err)
	sum := sha256.Sum256([]byte(tok))
	if len(tok) < 43 || s.ID != hex.EncodeToString(sum[:]) || s.CSRFToken == "" || s.UserID != u.ID || s.WorkspaceID != f.ws.ID {
		t.Fatalf("session = %+v, token %q", s, tok)
	}
	su, err := f.s.Auth.FindSession(ctx, tok, time.Hour)
	must(t, err)
	if su.User.ID != u.ID || su.Workspace.ID != f.ws.ID || su.Session.CSRFToken != s.CSRFToken || !su.Session.LastSeenAt.Equal(s.LastSeenAt) {
		t.Fatalf("FindSession = %+v", su)
	}
	if a := su.Actor(cohort.ViaWeb, "r1"); a.UserID != u.ID || a.SessionID != s.ID {
		t.Fatalf("actor = %+v", a)
	}
	for _, bad := range []string{"", "nope", s.ID} {
		_, err := f.s.Auth.FindSession(ctx, bad, 0)
		wantCode(t, err, cohort.EUNAUTHORIZED)
	}
	// Expired and idle sessions are refused.
	short, _, err := f.s.Auth.CreateSession(ctx, u.ID, time.Microsecond)
	must(t, err)
	_, err = f.s.Auth.FindSession(ctx, short, 0)
	wantCode(t, err, cohort.EUNAUTHORIZED)
	_, err = f.s.Auth.FindSession(ctx, tok, time.Microsecond)
	wantCode(t, err, cohort.EUNAUTHORIZED)
	// Sign out everywhere except here, then sign out here.
	tok2, s2, err := f.s.Auth.CreateSession(ctx, u.ID, time.Hour)
	must(t, err)
	must(t, f.s.Auth.DeleteUserSessions(f.as(u), u.ID, s2.ID))
	_, err = f.s.Auth.FindSession(ctx, tok, 0)
	wantCode(t, err, cohort.EUNAUTHORIZED)
	_, err = f.s.Auth.FindSession(ctx, tok2, 0)
	must(t, err)
	other := f.user(t, "Pam", "Practitioner", cohort.RolePractitioner)
	wantCode(t, f.s.Auth.DeleteUserSessions(f.as(other), u.ID, ""), cohort.EFORBIDDEN)
	must(t, f.s.Auth.DeleteSession(ctx, tok2))
	_, err = f.s.Auth.FindSession(ctx, tok2, 0)
	wantCode(t, err, cohort.EUNAUTHORIZED)
	must(t, f.s.Auth.DeleteSession(ctx, tok2))
	_, _, err = f.s.Auth.CreateSession(ctx, "missing", time.Hour)
	wantCode(t, err, cohort.ENOTFOUND)
}
