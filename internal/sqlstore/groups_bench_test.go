package sqlstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
)

// BenchmarkGroupWalkTotal walks 5,000 active groups 100 at a time (B2),
// counting the matches on every page as the Groups page and SCIM need, and
// without the count as the API list asks (GroupFilter.SkipTotal).
func BenchmarkGroupWalkTotal(b *testing.B) {
	db, err := sqlstore.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ctx, _ := bulkWorkspace(b, db)
	staff := make([]sqlstore.BulkStaff, 200)
	for i := range staff {
		staff[i] = sqlstore.BulkStaff{Email: fmt.Sprintf("u%03d@practice.example", i), GivenName: "Given", FamilyName: "Family"}
	}
	groups := make([]sqlstore.BulkGroup, 5000)
	for i := range groups {
		groups[i] = sqlstore.BulkGroup{Name: fmt.Sprintf("Group %04d", i), Members: []int{i % 200, (i * 7) % 200}}
	}
	if _, _, err := db.BulkLoad(ctx, staff, groups, nil); err != nil {
		b.Fatal(err)
	}
	for _, skip := range []bool{false, true} {
		b.Run(fmt.Sprintf("SkipTotal=%v", skip), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f := cohort.GroupFilter{Status: cohort.StatusActive, Limit: 100, SkipTotal: skip}
				n := 0
				for {
					p, err := db.FindGroups(ctx, f)
					if err != nil {
						b.Fatal(err)
					}
					n += len(p.Groups)
					if p.Next == "" {
						break
					}
					f.After = p.Next
				}
				if n != len(groups) {
					b.Fatalf("walked %d groups, want %d", n, len(groups))
				}
			}
		})
	}
}
