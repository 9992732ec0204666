package csvio_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/csvio"
)

// Any bytes either read as valid rows or fail with an *ImportError naming
// rows; never a panic, never another kind of error.
func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"email,given_name,family_name,role,status\nzoe@r.test,Zoë,O'Connor,practitioner,active\n",
		"\uFEFFgroup_name,description,status,member_email\nTeam,\"a, b\",archived,x@r.test\nTeam,,,\n",
		"email,given_name\n\"broken,quote\n", "", "\xff\xfe", "email,email,family_name\n", "a\x00b,c\n",
		"group_name\n'=SUM(A1)\n", "email,given_name,family_name\n,,,\n\n\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		check := func(err error) {
			if err == nil {
				return
			}
			var ie *cohort.ImportError
			if !errors.As(err, &ie) || len(ie.Rows) == 0 {
				t.Fatalf("error %v is not an ImportError with rows", err)
			}
			for _, r := range ie.Rows {
				if r.Row < 1 || r.Message == "" {
					t.Fatalf("row error without a row or reason: %+v", r)
				}
			}
		}
		users, err := csvio.ReadUsers(strings.NewReader(s))
		check(err)
		for _, u := range users {
			if err := u.Validate(); err != nil {
				t.Fatalf("ReadUsers returned an invalid row %+v: %v", u, err)
			}
		}
		groups, err := csvio.ReadGroups(strings.NewReader(s))
		check(err)
		for _, g := range groups {
			if err := g.Validate(); err != nil {
				t.Fatalf("ReadGroups returned an invalid group %+v: %v", g, err)
			}
		}
	})
}
