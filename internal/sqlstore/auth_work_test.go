package sqlstore

import (
	"context"
	"testing"

	"github.com/cohorthq/cohort"
)

// TestSignInCostsOnePasswordCheck checks that every sign-in, whatever it
// names, does the same work: exactly one argon2 check. Before sign-ins
// named their practice, an email in two practices cost two checks and an
// unknown one a single dummy check, so the time told how many practices
// an email belonged to.
//
// Not parallel: it counts every password check in the process
// (passwordChecks), so no other test may sign in meanwhile.
func TestSignInCostsOnePasswordCheck(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	const pw = "a passphrase for both practices"
	for _, slug := range []string{"first", "second"} {
		if _, _, err := db.CreateWorkspace(ctx, cohort.WorkspaceCreate{Name: "Practice " + slug, Slug: slug,
			Owner: cohort.UserCreate{Email: "shared@both.test", GivenName: "Sam", FamilyName: "Shared", Password: pw}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := db.CreateWorkspace(ctx, cohort.WorkspaceCreate{Name: "No password", Slug: "third",
		Owner: cohort.UserCreate{Email: "shared@both.test", GivenName: "Sam", FamilyName: "Shared"}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []cohort.Credentials{
		{Practice: "first", Email: "shared@both.test", Password: pw},
		{Practice: "second", Email: "shared@both.test", Password: "wrong"},
		{Practice: "third", Email: "shared@both.test", Password: pw},
		{Practice: "first", Email: "nobody@both.test", Password: pw},
		{Practice: "nowhere", Email: "shared@both.test", Password: pw},
		{Practice: "first\x00", Email: "shared@both.test", Password: pw},
	} {
		before := passwordChecks.Load()
		_, _ = db.Authenticate(ctx, c)
		if n := passwordChecks.Load() - before; n != 1 {
			t.Errorf("sign-in %+v did %d password checks, want 1", c, n)
		}
	}
}
