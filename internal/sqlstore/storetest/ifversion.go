package storetest

import (
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
)

// Archive and restore take the version the writer read and check it in
// the transaction that acts: a stale one changes nothing.
func testStatusChangesIfVersion(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	g := f.group(t, "Weekend cover")
	rename := "Weekend cover (renamed)"
	g2, _, err := f.s.Groups.UpdateGroup(f.ctx, g.ID, cohort.GroupUpdate{Name: &rename})
	must(t, err)
	_, err = f.s.Groups.ArchiveGroup(f.ctx, g.ID, g.Version)
	wantCode(t, err, cohort.ESTALE)
	if now, err := f.s.Groups.FindGroupByID(f.ctx, g.ID); err != nil || now.Archived() || now.Version != g2.Version {
		t.Fatalf("stale archive changed the group: %+v %v", now, err)
	}
	archived, err := f.s.Groups.ArchiveGroup(f.ctx, g.ID, g2.Version)
	must(t, err)
	_, err = f.s.Groups.RestoreGroup(f.ctx, g.ID, "", g2.Version)
	wantCode(t, err, cohort.ESTALE)
	restored, err := f.s.Groups.RestoreGroup(f.ctx, g.ID, "", archived.Version)
	must(t, err)
	if restored.Archived() || restored.Version != archived.Version+1 {
		t.Fatalf("restore with the current version: %+v", restored)
	}

	u := f.user(t, "Vera", "Version", cohort.RolePractitioner)
	given := "Verity"
	u2, err := f.s.Users.UpdateUser(f.ctx, u.ID, cohort.UserUpdate{GivenName: &given})
	must(t, err)
	_, err = f.s.Users.ArchiveUser(f.ctx, u.ID, u.Version)
	wantCode(t, err, cohort.ESTALE)
	if now, err := f.s.Users.FindUserByID(f.ctx, u.ID); err != nil || now.Archived() {
		t.Fatalf("stale archive changed the user: %+v %v", now, err)
	}
	au, err := f.s.Users.ArchiveUser(f.ctx, u.ID, u2.Version)
	must(t, err)
	_, err = f.s.Users.RestoreUser(f.ctx, u.ID, u2.Version)
	wantCode(t, err, cohort.ESTALE)
	ru, err := f.s.Users.RestoreUser(f.ctx, u.ID, au.Version)
	must(t, err)
	if ru.Archived() {
		t.Fatal("restore with the current version left the user archived")
	}
}
