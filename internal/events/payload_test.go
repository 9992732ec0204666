package events

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore/sqltest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestEventPayloadShapes pins the webhook body of every event type, as
// the store writes it and the relay sends it, to testdata/payloads/:
// receivers parse these bytes (docs/webhooks.md), so any change to a
// field name, a field's presence or the order of keys fails here. IDs
// and times are replaced by placeholders; everything else is compared
// byte for byte. Run with -update after a deliberate change, and update
// docs/webhooks.md with it.
func TestEventPayloadShapes(t *testing.T) {
	ctx, svc, wsID, names, after := everyEvent(t)
	evs, err := svc.Events.FindWorkspaceEventsAfter(ctx, wsID, after, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	for _, ev := range evs {
		for _, id := range idPattern.FindAllString(string(ev.Data), -1) {
			if _, ok := names[id]; !ok {
				names[id] = fmt.Sprintf("<id:%d>", len(names))
			}
		}
		body, err := Payload(ev)
		if err != nil {
			t.Fatal(err)
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, normalizeIDs(body, names, ev.ID), "", "  "); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&got, "# %s\n%s\n\n", ev.Type, pretty.Bytes())
	}
	golden(t, "payloads.golden", got.Bytes())

	// Every event type is pinned.
	for _, typ := range cohort.EventTypes {
		if !bytes.Contains(got.Bytes(), []byte("# "+typ+"\n")) {
			t.Errorf("no %s event in the pinned payloads", typ)
		}
	}
}

// everyEvent makes a workspace and, in it, every kind of change that
// writes an event, through the services and the CSV import. It returns
// the workspace's position before the changes and names for the IDs it
// made.
func everyEvent(t *testing.T) (ctx context.Context, svc cohort.Services, wsID string, names map[string]string, after int64) {
	t.Helper()
	db := sqltest.Open(t)
	svc = db.Services()
	ctx, ws := workspace(t, svc, "shapes")
	names = map[string]string{ws.ID: "<workspace>"}
	owner, _ := owners.Load(ws.ID)
	names[owner.(string)] = "<user:owner>"
	after = lastSeq(t, ctx, svc, ws.ID)

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	sam := createUser(t, ctx, svc, "sam@shapes.example")
	kim, err := svc.Users.CreateUser(ctx, cohort.UserCreate{Email: "kim@shapes.example", GivenName: "Kim", FamilyName: "Lee",
		Role: cohort.RoleReceptionist})
	must(err)
	names[sam.ID], names[kim.ID] = "<user:sam>", "<user:kim>"

	// Created with members, and without: "added" only when there are some.
	physios := createGroup(t, ctx, svc, "Physios", sam.ID)
	empty, err := svc.Groups.CreateGroup(ctx, cohort.GroupCreate{Name: "Empty", Description: "Nobody yet"})
	must(err)
	names[physios.ID], names[empty.ID] = "<group:physios>", "<group:empty>"

	// One save renaming and changing members: group.updated, then
	// group.members_changed.
	name, desc, ext := "Physiotherapists", "Hands on", "ext-physio"
	_, _, err = svc.Groups.UpdateGroup(ctx, physios.ID, cohort.GroupUpdate{Name: &name, Description: &desc, ExternalID: &ext,
		Add: []string{kim.ID}, Remove: []string{sam.ID}})
	must(err)
	_, err = svc.Groups.ArchiveGroup(ctx, empty.ID, 0)
	must(err)
	_, err = svc.Groups.RestoreGroup(ctx, empty.ID, "Empty again", 0)
	must(err)

	email, given, family, role, uext := "samuel@shapes.example", "Samuel", "Staffer", cohort.RolePracticeManager, "ext-sam"
	_, err = svc.Users.UpdateUser(ctx, sam.ID, cohort.UserUpdate{Email: &email, GivenName: &given, FamilyName: &family,
		Role: &role, ExternalID: &uext})
	must(err)
	_, err = svc.Users.ArchiveUser(ctx, kim.ID, 0)
	must(err)
	_, err = svc.Users.RestoreUser(ctx, kim.ID, 0)
	must(err)
	// Two user.updated events: the old owner's, then the new one's.
	must(svc.Users.TransferOwnership(ctx, sam.ID))

	// The CSV import writes the events a manager's edits would.
	_, err = svc.Imports.ImportUsers(ctx, []cohort.UserImport{
		{Row: 2, Email: "new@shapes.example", GivenName: "Nia", FamilyName: "New", Role: cohort.RolePractitioner},
		{Row: 3, Email: "kim@shapes.example", GivenName: "Kim", FamilyName: "Lee", Role: cohort.RoleAccountant, Status: cohort.StatusArchived},
	})
	must(err)
	_, err = svc.Imports.ImportGroups(ctx, []cohort.GroupImport{
		{Row: 2, Name: "Physiotherapists", Description: "Imported", Status: cohort.StatusArchived,
			Members: []cohort.ImportMember{{Row: 2, Email: "samuel@shapes.example"}}},
		{Row: 3, Name: "Imported", Description: "From a file", Status: cohort.StatusArchived,
			Members: []cohort.ImportMember{{Row: 3, Email: "samuel@shapes.example"}}},
	})
	must(err)
	_, err = svc.Imports.ImportGroups(ctx, []cohort.GroupImport{
		{Row: 2, Name: "Physiotherapists", Description: "Imported", Status: cohort.StatusActive,
			Members: []cohort.ImportMember{{Row: 2, Email: "samuel@shapes.example"}}},
	})
	must(err)

	return ctx, svc, ws.ID, names, after
}

var (
	idPattern   = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	timePattern = regexp.MustCompile(`"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z"`)
)

// normalizeIDs replaces the test's IDs by their names, the event's own
// ID by <event> and times by <time>, so that only the shape is compared.
func normalizeIDs(body []byte, names map[string]string, eventID string) []byte {
	s := strings.ReplaceAll(string(body), eventID, "<event>")
	s = idPattern.ReplaceAllStringFunc(s, func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return "<unknown id>"
	})
	return []byte(timePattern.ReplaceAllString(s, `"<time>"`))
}

func lastSeq(t *testing.T, ctx context.Context, svc cohort.Services, wsID string) int64 {
	t.Helper()
	n, err := svc.Events.LastWorkspaceEventSeq(ctx, wsID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// golden compares got with testdata/name, or writes it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed: webhook receivers depend on these bytes. Got:\n%s", path, got)
	}
}
