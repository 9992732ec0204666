package scim_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
)

// BenchmarkPatchOneMember is the benchmark's B4 through SCIM: a PATCH that
// adds one member and a PATCH that removes it again, on a 10-member group
// and on a 50,000-member group. Membership changes are deltas, so both
// must cost about the same (within 2×). Compare the two
// ns/op figures of one run:
//
//	go test ./internal/scim -run '^$' -bench PatchOneMember -benchtime 200x
func BenchmarkPatchOneMember(b *testing.B) {
	const big = 50000
	e := newEnv(b)
	rows := make([]cohort.UserImport, 0, big+11)
	for i := range big + 11 {
		rows = append(rows, cohort.UserImport{Row: i + 2, Email: fmt.Sprintf("staff%05d@example.com", i), GivenName: "Staff", FamilyName: fmt.Sprintf("Member %05d", i)})
	}
	if _, err := e.svc.Imports.ImportUsers(e.sysCtx, rows); err != nil {
		b.Fatal(err)
	}
	page, err := e.svc.Users.FindUsers(e.sysCtx, cohort.UserFilter{})
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, 0, big+11)
	for _, u := range page.Users {
		if strings.HasPrefix(u.Email, "staff") {
			ids = append(ids, u.ID)
		}
	}
	if len(ids) != big+11 {
		b.Fatalf("%d imported users, want %d", len(ids), big+11)
	}
	extra := ids[big+10]
	small := e.group(b, e.sysCtx, "Ten members", ids[:10]...)
	large := e.group(b, e.sysCtx, "Everyone", ids[:big]...)
	for _, g := range []*cohort.Group{small, large} {
		b.Run(fmt.Sprintf("members=%d", len(e.memberIDs(b, g.ID))), func(b *testing.B) {
			add := patchOp(op("add", "members", refs(extra)))
			remove := patchOp(op("remove", `members[value eq "`+extra+`"]`, nil))
			for b.Loop() {
				e.do(b, "PATCH", "/Groups/"+g.ID, add).want(b, http.StatusNoContent)
				e.do(b, "PATCH", "/Groups/"+g.ID, remove).want(b, http.StatusNoContent)
			}
		})
	}
}
