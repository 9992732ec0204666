package csvio_test

import (
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/csvio"
)

var csvSeeds = []string{
	"email,given_name,family_name,role,status\njane@example.com,Jane,Smith,practitioner,active\n",
	"\ufeffemail,given_name,family_name\r\nJANE@example.com ,Jane,Smith\r\njane@example.com,J,S\r\n",
	"group_name,description,status,member_email\nPhysiotherapists,Hands-on,active,jane@example.com\nPhysiotherapists,,,\n",
	"group_name\n=HYPERLINK(\"x\")\n'=guarded\n",
	"email,email\n\"unterminated\n",
	"\x00,\xff\xfe\n",
	"",
	"a,b,c\n1,2\n",
}

// FuzzReadUsers: any file is either a list of valid staff rows or a
// refusal that names what to fix; never a panic or an internal error.
func FuzzReadUsers(f *testing.F) {
	for _, s := range csvSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		users, err := csvio.ReadUsers(strings.NewReader(in))
		if err != nil {
			if cohort.ErrorCode(err) != cohort.EINVALID || cohort.ErrorMessage(err) == "" {
				t.Fatalf("ReadUsers refused with %v: want EINVALID with a message", err)
			}
			return
		}
		for _, u := range users {
			if err := u.Validate(); err != nil {
				t.Fatalf("ReadUsers accepted row %d that does not validate: %v", u.Row, err)
			}
		}
	})
}

// FuzzReadGroups is FuzzReadUsers for the groups file.
func FuzzReadGroups(f *testing.F) {
	for _, s := range csvSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if _, err := csvio.ReadGroups(strings.NewReader(in)); err != nil {
			if cohort.ErrorCode(err) != cohort.EINVALID || cohort.ErrorMessage(err) == "" {
				t.Fatalf("ReadGroups refused with %v: want EINVALID with a message", err)
			}
		}
	})
}
