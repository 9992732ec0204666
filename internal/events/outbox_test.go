package events

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore/sqltest"
)

// change is an (action, target) pair, as both an outbox event and an
// audit entry name it.
type change struct{ Action, Target string }

func outboxOf(t *testing.T, ctx context.Context, svc cohort.Services, wsID string) []change {
	t.Helper()
	evs, err := svc.Events.FindEventsAfter(ctx, wsID, 0, 10000)
	if err != nil {
		t.Fatalf("FindEventsAfter: %v", err)
	}
	var out []change
	for _, ev := range evs {
		var d struct {
			Group *struct{ ID string } `json:"group"`
			User  *struct{ ID string } `json:"user"`
		}
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatalf("event %s data is not JSON: %v", ev.ID, err)
		}
		c := change{Action: ev.Type}
		switch {
		case d.Group != nil:
			c.Target = d.Group.ID
		case d.User != nil:
			c.Target = d.User.ID
		default:
			t.Fatalf("event %s %s names neither a group nor a user: %s", ev.Type, ev.ID, ev.Data)
		}
		out = append(out, c)
	}
	return out
}

// auditOf returns the workspace's audit entries for event actions, oldest
// first.
func auditOf(t *testing.T, ctx context.Context, svc cohort.Services) []change {
	t.Helper()
	var out []change
	f := cohort.AuditFilter{Limit: 100}
	for {
		page, err := svc.Audit.FindAuditEntries(ctx, f)
		if err != nil {
			t.Fatalf("FindAuditEntries: %v", err)
		}
		for _, e := range page.Entries {
			if slices.Contains(cohort.EventTypes, e.Action) {
				out = append(out, change{e.Action, e.TargetID})
			}
		}
		if page.Next == "" {
			break
		}
		f.After = page.Next
	}
	slices.Reverse(out)
	return out
}

// TestOutboxMatchesCommits: every committed change has exactly one outbox
// event and one audit entry, and a change that fails (its transaction
// rolls back) leaves neither.
func TestOutboxMatchesCommits(t *testing.T) {
	t.Parallel()
	db := sqltest.Open(t)
	svc := db.Services()
	ctx, ws := workspace(t, svc, "outbox")
	state := func() ([]change, []change) { return outboxOf(t, ctx, svc, ws.ID), auditOf(t, ctx, svc) }

	u1 := createUser(t, ctx, svc, "one@outbox.example")
	u2 := createUser(t, ctx, svc, "two@outbox.example")
	g := createGroup(t, ctx, svc, "Physiotherapists", u1.ID)
	other := createGroup(t, ctx, svc, "Psychologists")
	name := "Physio team"
	g, _, err := svc.Groups.UpdateGroup(ctx, g.ID, cohort.GroupUpdate{Name: &name, IfVersion: g.Version})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Groups.UpdateGroup(ctx, g.ID, cohort.GroupUpdate{Add: []string{u2.ID}, Remove: []string{u1.ID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Groups.ArchiveGroup(ctx, other.ID, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Groups.RestoreGroup(ctx, other.ID, "", 0); err != nil {
		t.Fatal(err)
	}
	role := cohort.RolePracticeManager
	if _, err := svc.Users.UpdateUser(ctx, u1.ID, cohort.UserUpdate{Role: &role}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Users.ArchiveUser(ctx, u2.ID, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Users.RestoreUser(ctx, u2.ID, 0); err != nil {
		t.Fatal(err)
	}

	events, audit := state()
	want := []change{
		{cohort.ActionUserCreated, u1.ID}, {cohort.ActionUserCreated, u2.ID},
		{cohort.ActionGroupCreated, g.ID}, {cohort.ActionGroupCreated, other.ID},
		{cohort.ActionGroupUpdated, g.ID}, {cohort.ActionGroupMembersChanged, g.ID},
		{cohort.ActionGroupArchived, other.ID}, {cohort.ActionGroupRestored, other.ID},
		{cohort.ActionUserUpdated, u1.ID}, {cohort.ActionUserArchived, u2.ID}, {cohort.ActionUserRestored, u2.ID},
	}
	// The workspace's owner was created with the workspace; compare what
	// followed.
	if !slices.Equal(tail(events, len(want)), want) {
		t.Fatalf("outbox events\n%v\nwant (after the owner's)\n%v", events, want)
	}
	if !slices.Equal(audit, events) {
		t.Fatalf("audit entries\n%v\ndo not match outbox events one to one\n%v", audit, events)
	}

	// Each of these fails inside its transaction: nothing may remain.
	stale := "Physio"
	failing := []struct {
		name string
		code string
		run  func() error
	}{
		{"create with a taken name", cohort.ECONFLICT, func() error {
			_, err := svc.Groups.CreateGroup(ctx, cohort.GroupCreate{Name: "  physio   TEAM ", MemberIDs: []string{u1.ID}})
			return err
		}},
		{"rename to a taken name", cohort.ECONFLICT, func() error {
			n := "Psychologists"
			_, _, err := svc.Groups.UpdateGroup(ctx, g.ID, cohort.GroupUpdate{Name: &n})
			return err
		}},
		{"stale version", cohort.ESTALE, func() error {
			_, _, err := svc.Groups.UpdateGroup(ctx, g.ID, cohort.GroupUpdate{Name: &stale, IfVersion: g.Version - 1})
			return err
		}},
		{"unknown member", cohort.EINVALID, func() error {
			_, _, err := svc.Groups.UpdateGroup(ctx, g.ID, cohort.GroupUpdate{Add: []string{u1.ID, "no-such-user"}})
			return err
		}},
		{"taken email", cohort.ECONFLICT, func() error {
			_, err := svc.Users.CreateUser(ctx, cohort.UserCreate{Email: "ONE@outbox.example", GivenName: "A", FamilyName: "B"})
			return err
		}},
	}
	for _, f := range failing {
		err := f.run()
		if cohort.ErrorCode(err) != f.code {
			t.Fatalf("%s: err = %v, want code %s", f.name, err, f.code)
		}
		ev, au := state()
		if !slices.Equal(ev, events) || !slices.Equal(au, audit) {
			t.Fatalf("%s failed but left events %v and audit %v", f.name, ev[len(events):], au[len(audit):])
		}
	}
}

func tail(s []change, n int) []change {
	if len(s) < n {
		return s
	}
	return s[len(s)-n:]
}
