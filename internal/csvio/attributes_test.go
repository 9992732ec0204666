package csvio_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/csvio"
)

// Staff attributes in the staff file: imported, exported (a phone
// starting with + guarded against spreadsheets), kept when the file has
// no such column, cleared by an empty cell, and checked by the domain's
// rule with the row and column named.
func TestStaffAttributesInCSV(t *testing.T) {
	p := newPractice(t)
	file := "email,given_name,family_name,role,status,job_title,location,phone,employment_type\n" +
		"grace@riverside.test,Grace,Turner,practitioner,active,Physiotherapist,Bondi Junction,+61 2 9876 5432,Part-time\n" +
		"pat@riverside.test,Pat,Desk,receptionist,active,,Coogee,ext 12,\n"
	if res, err := p.importUsers(t, file); err != nil || res.Created != 2 {
		t.Fatalf("import: %+v %v", res, err)
	}
	u1, _ := p.export(t)
	if !strings.Contains(u1, "email,given_name,family_name,role,status,job_title,location,phone,employment_type\n") ||
		!strings.Contains(u1, "grace@riverside.test,Grace,Turner,practitioner,active,Physiotherapist,Bondi Junction,'+61 2 9876 5432,Part-time\n") ||
		!strings.Contains(u1, "pat@riverside.test,Pat,Desk,receptionist,active,,Coogee,ext 12,\n") {
		t.Errorf("export:\n%s", u1)
	}
	if res, err := p.importUsers(t, u1); err != nil || res.Updated != 0 {
		t.Errorf("re-import of the export: %+v %v", res, err)
	}
	// No location column: locations stay. An empty job_title clears it.
	if res, err := p.importUsers(t, "email,given_name,family_name,job_title\ngrace@riverside.test,Grace,Turner,\n"); err != nil || res.Updated != 1 {
		t.Fatalf("partial import: %+v %v", res, err)
	}
	page, err := p.svc.Users.FindUsers(p.ctx, cohort.UserFilter{Email: "grace@riverside.test"})
	if err != nil {
		t.Fatal(err)
	}
	if g := page.Users[0]; g.JobTitle != "" || g.Location != "Bondi Junction" || g.Phone != "+61 2 9876 5432" {
		t.Errorf("after partial import %+v", g.StaffAttributes)
	}
	_, err = csvio.ReadUsers(strings.NewReader("email,given_name,family_name,phone,location\n" +
		"a@riverside.test,A,B,call me,Bondi\u202e\n"))
	got := map[string]bool{}
	for _, r := range rowErrors(t, err) {
		got[fmt.Sprintf("%d/%s", r.Row, r.Column)] = true
	}
	if !got["2/phone"] || !got["2/location"] {
		t.Errorf("row errors = %v", got)
	}
}
