package cohort_test

import (
	"context"
	"testing"

	"github.com/cohorthq/cohort"
)

// Every store call reads the actor from the context and checks a
// permission; these measure that per-request cost.

var sinkBool bool

func BenchmarkPermissionCheck(b *testing.B) {
	actors := map[string]cohort.Actor{
		"manager":  {WorkspaceID: "ws", UserID: "u", Role: cohort.RolePracticeManager},
		"staff":    {WorkspaceID: "ws", UserID: "u", Role: cohort.RolePractitioner},
		"api key":  {WorkspaceID: "ws", APIKeyID: "k", Scopes: []cohort.Scope{cohort.ScopeGroupsRead, cohort.ScopeUsersRead, cohort.ScopeGroupsWrite}},
		"scim key": {WorkspaceID: "ws", APIKeyID: "k", Scopes: []cohort.Scope{cohort.ScopeSCIM}},
	}
	for name, a := range actors {
		ctx := cohort.NewContextWithActor(context.Background(), a)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				got, ok := cohort.ActorFromContext(ctx)
				sinkBool = ok && got.CanViewGroups() && got.CanManageGroups() || got.CanViewUsers()
			}
		})
	}
}
