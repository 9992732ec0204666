// Package storetest is the conformance suite of Cohort's store: every rule
// of the domain checked against a real database. Both engines
// run it: sqlstore's sqlite_test.go and postgres_test.go call Run.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
)

// test is one conformance check. It gets the shared database; it creates
// its own workspace(s), so checks do not see each other's data.
type test struct {
	name string
	fn   func(t *testing.T, db *sqlstore.DB)
	// own asks for a database of its own (the check reads state shared by
	// all workspaces, such as the event relay's position).
	own bool
}

// tests is the whole suite, in the order it runs, grouped by the file
// that holds each check. A check is listed here and nowhere else;
// TestEveryCheckIsListed fails for a check function that is not.
var tests = []test{
	// auth.go
	{name: "AuthPasswords", fn: testAuthPasswords},
	{name: "AuthSessions", fn: testAuthSessions},
	// attributes.go
	{name: "StaffAttributesStored", fn: testStaffAttributesStored},
	{name: "StaffAttributesSearched", fn: testStaffAttributesSearched},
	{name: "StaffAttributesImported", fn: testStaffAttributesImported},
	// badinput.go
	{name: "BadTextIsNeverInternal", fn: testBadText},
	{name: "ControlAndInvisibleTextIsRefusedAlike", fn: testControlText},
	{name: "LookAlikeGroupNamesAreOneName", fn: testLookAlikeNames},
	// biggroup.go
	{name: "MembersOfLargeAndSmallGroups", fn: testLargeGroups},
	// concurrency.go
	{name: "ConcurrentEditorsSameVersion", fn: testConcurrentEditors},
	{name: "ConcurrentMemberDeltas", fn: testConcurrentDeltas},
	{name: "MemberChangeRacingArchive", fn: testRaceArchive},
	{name: "ConcurrentCreatesSameName", fn: testConcurrentCreates},
	{name: "GroupCountsStayExact", fn: testGroupCountersExact},
	{name: "UserCountsStayExact", fn: testUserCountersExact},
	{name: "ConcurrentUserArchiveAndMemberChanges", fn: testConcurrentUserArchive},
	// events.go
	{name: "SubscribeSignalsAfterCommit", fn: testSubscribe},
	{name: "EventSeqVisibleInCommitOrder", fn: testSeqCommitOrder},
	// groups.go
	{name: "GroupCreate", fn: testGroupCreate},
	{name: "GroupNameRules", fn: testGroupNameRules},
	{name: "GroupNameUniqueAmongActive", fn: testGroupNameUnique},
	{name: "GroupUpdateAndVersion", fn: testGroupUpdate},
	{name: "GroupStaleWriteChangesNothing", fn: testGroupStale},
	{name: "GroupArchiveRestore", fn: testGroupArchiveRestore},
	{name: "GroupRestoreIntoTakenName", fn: testGroupRestoreTaken},
	{name: "GroupMembersSetSemantics", fn: testGroupMembers},
	{name: "GroupMembersUnknownIDChangesNothing", fn: testGroupMembersUnknown},
	{name: "GroupReplaceMembers", fn: testGroupReplace},
	{name: "GroupCountsActiveMembersOnly", fn: testGroupCounts},
	{name: "GroupRenameAndMembersWritesBothEvents", fn: testGroupRenameAndMembers},
	// ifversion.go
	{name: "StatusChangesIfVersion", fn: testStatusChangesIfVersion},
	// integrations.go
	{name: "APIKeys", fn: testAPIKeys},
	{name: "Idempotency", fn: testIdempotency},
	{name: "Webhooks", fn: testWebhooks},
	{name: "DeliveryQueue", fn: testDeliveryQueue, own: true},
	{name: "DeliveryOnlyOfLaterEvents", fn: testDeliveryLaterEvents, own: true},
	{name: "DeliveryQueuePauseResumeResend", fn: testDeliveryPause, own: true},
	// paging.go
	{name: "GroupPagingOrder", fn: testGroupPaging},
	{name: "GroupPagingWalkWithInserts", fn: testGroupWalkWithInserts},
	{name: "GroupSearchAndFilters", fn: testGroupFilters},
	{name: "UserPagingWalkWithInserts", fn: testUserWalkWithInserts},
	{name: "AuditPagingAndFilters", fn: testAuditPaging},
	// perms.go
	{name: "PermissionsByRole", fn: testPermissionsByRole},
	{name: "PermissionsByScope", fn: testPermissionsByScope},
	{name: "StaffVisibility", fn: testStaffVisibility},
	{name: "NoActor", fn: testNoActor},
	{name: "WorkspaceIsolation", fn: testIsolation},
	// users.go
	{name: "UserCreateAndEmailUnique", fn: testUserCreate},
	{name: "UserUpdate", fn: testUserUpdate},
	{name: "UserOwnerRules", fn: testUserOwner},
	{name: "NoOneArchivesThemselves", fn: testNoSelfArchive},
	{name: "UserArchiveEndsSessions", fn: testUserArchiveSessions},
	{name: "UserUpdateWithArchive", fn: testUserUpdateArchive},
	{name: "UserUpdateWithRestore", fn: testUserUpdateRestore},
	{name: "UserUpdateWithStatusRefused", fn: testUserUpdateStatusRefused},
	{name: "UserSearch", fn: testUserSearch},
	{name: "UserSearchPaging", fn: testUserSearchPaging},
	{name: "UserFilters", fn: testUserFilters},
	// usertotals.go
	{name: "UserTotalsMatchTheStaff", fn: testUserTotals},
}

// Run runs the whole conformance suite. open returns a fresh, migrated
// database; it is called once for the shared database and once more for
// each check that needs a database of its own.
// The checks run in parallel: each works in workspaces of its own, and
// a check that reads state shared by all workspaces has a database of its
// own (test.own).
func Run(t *testing.T, open func(t *testing.T) *sqlstore.DB) {
	shared := open(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := shared
			if tc.own {
				db = open(t)
			}
			tc.fn(t, db)
		})
	}
}

// fixture is one workspace with its owner, seen from the owner's chair.
type fixture struct {
	db    *sqlstore.DB
	s     cohort.Services
	ws    *cohort.Workspace
	owner *cohort.User
	ctx   context.Context
}

func randomSlug() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "ws-" + hex.EncodeToString(b)
}

func newFixture(t *testing.T, db *sqlstore.DB) *fixture {
	t.Helper()
	s := db.Services()
	ws, owner, err := s.Workspaces.CreateWorkspace(context.Background(), cohort.WorkspaceCreate{
		Name: "Riverside Physio", Slug: randomSlug(),
		Owner: cohort.UserCreate{Email: "owner@riverside.test", GivenName: "Olive", FamilyName: "Owner"},
	})
	if err != nil {
		t.Fatalf("CreateWorkspace: %v", err)
	}
	f := &fixture{db: db, s: s, ws: ws, owner: owner}
	f.ctx = f.as(owner)
	return f
}

// as returns a context whose actor is the staff member u.
func (f *fixture) as(u *cohort.User) context.Context {
	return cohort.NewContextWithActor(context.Background(), cohort.Actor{
		WorkspaceID: f.ws.ID, UserID: u.ID, Name: u.Name(), Role: u.Role, IsOwner: u.IsOwner,
		Via: cohort.ViaWeb, RequestID: "req-" + u.ID[len(u.ID)-6:],
	})
}

// key returns a context whose actor is an API key with scopes.
func (f *fixture) key(scopes ...cohort.Scope) context.Context {
	return cohort.NewContextWithActor(context.Background(), cohort.Actor{
		WorkspaceID: f.ws.ID, APIKeyID: "key-test", Name: "Test key", Scopes: scopes, Via: cohort.ViaAPI,
	})
}

// userSeq numbers the users the checks create; the checks run in parallel.
var userSeq atomic.Int64

func (f *fixture) user(t *testing.T, given, family string, role cohort.Role) *cohort.User {
	t.Helper()
	u, err := f.s.Users.CreateUser(f.ctx, cohort.UserCreate{
		Email: fmt.Sprintf("%s.%s.%d@riverside.test", given, family, userSeq.Add(1)), GivenName: given, FamilyName: family, Role: role,
	})
	if err != nil {
		t.Fatalf("CreateUser %s %s: %v", given, family, err)
	}
	return u
}

// users creates n practitioners named Staff NNN.
func (f *fixture) users(t *testing.T, n int) []*cohort.User {
	t.Helper()
	out := make([]*cohort.User, n)
	for i := range out {
		out[i] = f.user(t, fmt.Sprintf("Staff%03d", i), fmt.Sprintf("Member%03d", i), cohort.RolePractitioner)
	}
	return out
}

func ids(us ...*cohort.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

func (f *fixture) group(t *testing.T, name string, members ...*cohort.User) *cohort.Group {
	t.Helper()
	g, err := f.s.Groups.CreateGroup(f.ctx, cohort.GroupCreate{Name: name, MemberIDs: ids(members...)})
	if err != nil {
		t.Fatalf("CreateGroup %q: %v", name, err)
	}
	return g
}

func (f *fixture) getGroup(t *testing.T, id string) *cohort.Group {
	t.Helper()
	g, err := f.s.Groups.FindGroupByID(f.ctx, id)
	if err != nil {
		t.Fatalf("FindGroupByID: %v", err)
	}
	return g
}

// memberIDs returns every member ID of a group, in list order.
func (f *fixture) memberIDs(t *testing.T, groupID string) []string {
	t.Helper()
	p, err := f.s.Groups.FindMembers(f.ctx, groupID, cohort.UserFilter{})
	if err != nil {
		t.Fatalf("FindMembers: %v", err)
	}
	return ids(p.Users...)
}

// audit returns the audit entries of a target, oldest first.
func (f *fixture) audit(t *testing.T, targetID string) []*cohort.AuditEntry {
	t.Helper()
	p, err := f.s.Audit.FindAuditEntries(f.ctx, cohort.AuditFilter{TargetID: targetID, Limit: 1000})
	if err != nil {
		t.Fatalf("FindAuditEntries: %v", err)
	}
	out := p.Entries
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// events returns the workspace's events after seq.
func (f *fixture) events(t *testing.T, after int64) []*cohort.Event {
	t.Helper()
	ev, err := f.s.Events.FindEventsAfter(context.Background(), f.ws.ID, after, 10000)
	if err != nil {
		t.Fatalf("FindEventsAfter: %v", err)
	}
	return ev
}

func (f *fixture) lastSeq(t *testing.T) int64 {
	t.Helper()
	n, err := f.s.Events.LastEventSeq(context.Background())
	if err != nil {
		t.Fatalf("LastEventSeq: %v", err)
	}
	return n
}

// wantCode fails unless err carries the domain code.
func wantCode(t *testing.T, err error, code string) *cohort.Error {
	t.Helper()
	if got := cohort.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
	return cohort.AsError(err)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func decode(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("bad JSON %s: %v", raw, err)
	}
	return m
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
		if m[x] < 0 {
			return false
		}
	}
	return true
}

func ptr[T any](v T) *T { return &v }
