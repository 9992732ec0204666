package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
)

func testAuthPasswords(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	ctx := context.Background()
	const pw = "correct horse battery"
	email := "pat." + f.ws.Slug + "@riverside.test"
	creds := func(f *fixture, email, pw string) cohort.Credentials {
		return cohort.Credentials{Practice: f.ws.Slug, Email: email, Password: pw}
	}
	u, err := f.s.Users.CreateUser(f.ctx, cohort.UserCreate{Email: email, GivenName: "Pat", FamilyName: "Word", Password: pw})
	must(t, err)
	got, err := f.s.Auth.Authenticate(ctx, cohort.Credentials{Practice: " " + strings.ToUpper(f.ws.Slug), Email: "  " + email + " ", Password: pw})
	must(t, err)
	if got.ID != u.ID {
		t.Fatalf("Authenticate = %v", got.ID)
	}
	wantBad := func(c cohort.Credentials) {
		t.Helper()
		_, err := f.s.Auth.Authenticate(ctx, c)
		if e := wantCode(t, err, cohort.EUNAUTHORIZED); e.Message != "Email or password is incorrect." {
			t.Fatalf("message = %q", e.Message)
		}
	}
	wantBad(creds(f, email, "wrong password!"))
	wantBad(creds(f, "nobody."+f.ws.Slug+"@riverside.test", pw))
	wantBad(creds(f, f.owner.Email, "no password set at all"))
	wantBad(cohort.Credentials{Practice: "no-such-practice", Email: email, Password: pw})
	wantBad(cohort.Credentials{Practice: "", Email: email, Password: pw})
	// Staff an identity provider added without an email have "" as their
	// sign-in key; an empty email must not reach them, even with a
	// password set.
	noEmail, err := f.s.Users.CreateUser(f.ctx, cohort.UserCreate{UserName: "emp-4711-" + f.ws.Slug, GivenName: "Nomail"})
	must(t, err)
	if err := f.s.Users.SetPassword(f.ctx, noEmail.ID, "a password on no email"); err == nil {
		wantBad(cohort.Credentials{Practice: f.ws.Slug, Email: "", Password: "a password on no email"})
		wantBad(cohort.Credentials{Practice: f.ws.Slug, Email: "  ", Password: "a password on no email"})
	}
	wantBad(cohort.Credentials{Practice: "bad\x00slug", Email: email, Password: pw})
	_, err = f.s.Users.CreateUser(f.ctx, cohort.UserCreate{Email: "short@x.test", GivenName: "S", FamilyName: "P", Password: "short"})
	wantCode(t, err, cohort.EINVALID)

	// The same email in two practices is two accounts: a password is
	// checked against the named practice's account only, so a password
	// set in one practice never signs in to, or says anything about, the
	// other.
	f2 := newFixture(t, db)
	const pw2 = "another practice's passphrase"
	u2, err := f2.s.Users.CreateUser(f2.ctx, cohort.UserCreate{Email: email, GivenName: "Pat", FamilyName: "Word", Password: pw2})
	must(t, err)
	got, err = f.s.Auth.Authenticate(ctx, creds(f2, email, pw2))
	must(t, err)
	if got.ID != u2.ID {
		t.Fatalf("second practice signs in as %s", got.ID)
	}
	wantBad(creds(f2, email, pw))
	wantBad(creds(f, email, pw2))
	// Archived staff cannot sign in; a new password works, the old not.
	_, err = f2.s.Users.ArchiveUser(f2.ctx, u2.ID, 0)
	must(t, err)
	wantBad(creds(f2, email, pw2))
	must(t, f.s.Users.SetPassword(f.as(u), u.ID, "a brand new passphrase"))
	wantBad(creds(f, email, pw))
	got, err = f.s.Auth.Authenticate(ctx, creds(f, email, "a brand new passphrase"))
	must(t, err)
	if got.ID != u.ID {
		t.Fatalf("after new password: %v", got.ID)
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

	// A session in use stays alive under a short idle limit: its last use
	// is recorded often enough, not once a minute. Used every eighth of
	// the limit for one and a half limits, it must never count as idle.
	const idle = 2 * time.Second
	busy, _, err := f.s.Auth.CreateSession(ctx, u.ID, time.Hour)
	must(t, err)
	for end := time.Now().Add(idle * 3 / 2); time.Now().Before(end); time.Sleep(idle / 8) {
		if _, err := f.s.Auth.FindSession(ctx, busy, idle); err != nil {
			t.Fatalf("a session used every %s ended under an idle limit of %s: %v", idle/8, idle, err)
		}
	}
}
