package cohort_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
)

func TestStaffAttributesFollowTheTextRules(t *testing.T) {
	a := cohort.StaffAttributes{JobTitle: "  Senior   Physiotherapist ", Location: "Ｂｏｎｄｉ Junction", Phone: "＋61 2 9876  5432", EmploymentType: "Part-time"}
	var v cohort.Validation
	a.Validate(&v)
	if err := v.Err(); err != nil {
		t.Fatal(err)
	}
	want := cohort.StaffAttributes{JobTitle: "Senior Physiotherapist", Location: "Bondi Junction", Phone: "+61 2 9876 5432", EmploymentType: "Part-time"}
	if a != want {
		t.Errorf("normalised to %+v, want %+v", a, want)
	}
	// Blank is unset, not an error.
	b := cohort.StaffAttributes{JobTitle: "   ", Phone: " "}
	var v2 cohort.Validation
	b.Validate(&v2)
	if v2.Err() != nil || !b.Empty() {
		t.Errorf("blank attributes: %v, %+v", v2.Err(), b)
	}
	for _, tc := range []struct {
		field string
		a     cohort.StaffAttributes
		says  string
	}{
		{"job_title", cohort.StaffAttributes{JobTitle: "Physio\u200btherapist"}, "invisible"},
		{"job_title", cohort.StaffAttributes{JobTitle: strings.Repeat("a", 101)}, "at most 100"},
		{"location", cohort.StaffAttributes{Location: "Bondi\u202e"}, "text-direction"},
		{"location", cohort.StaffAttributes{Location: "B\u043endi"}, "Latin and Cyrillic"},
		{"phone", cohort.StaffAttributes{Phone: "call me"}, "cannot contain"},
		{"phone", cohort.StaffAttributes{Phone: "ext"}, "no digits"},
		{"phone", cohort.StaffAttributes{Phone: "1\n2"}, "one line"},
		{"employment_type", cohort.StaffAttributes{EmploymentType: strings.Repeat("a", 51)}, "at most 50"},
	} {
		c := cohort.UserCreate{Email: "a@example.com", GivenName: "A", FamilyName: "B", StaffAttributes: tc.a}
		err := c.Validate()
		msgs := cohort.ErrorFields(err)[tc.field]
		if len(msgs) != 1 || !strings.Contains(msgs[0], tc.says) {
			t.Errorf("%+v: %s messages %q, want one saying %q", tc.a, tc.field, msgs, tc.says)
		}
	}
	for _, ok := range []string{"ext 204", "204", "(02) 9876-5432 x12", "+61 400 000 000"} {
		if _, err := cohort.ValidatePhone(ok); err != nil {
			t.Errorf("ValidatePhone(%q): %v", ok, err)
		}
	}
}

func TestStaffAttributesUpdateLeavesNilAlone(t *testing.T) {
	a := cohort.StaffAttributes{JobTitle: "Psychologist", Location: "Bondi"}
	loc := ""
	title := " Clinical  psychologist"
	u := cohort.UserUpdate{StaffAttributesUpdate: cohort.StaffAttributesUpdate{JobTitle: &title, Location: &loc}}
	if err := u.Validate(); err != nil {
		t.Fatal(err)
	}
	var changed cohort.UserChanges
	u.Apply(&a, &changed)
	if a.JobTitle != "Clinical psychologist" || a.Location != "" || changed.JobTitle == nil || changed.Location == nil ||
		changed.Phone != nil || changed.EmploymentType != nil {
		t.Errorf("after update %+v, changed %+v", a, changed)
	}
	var again cohort.UserChanges
	if u.Apply(&a, &again); !again.Empty() {
		t.Errorf("the same update again changed %+v", again)
	}
}

func TestRolesMatching(t *testing.T) {
	for q, want := range map[string][]cohort.Role{
		"Receptionist": {cohort.RoleReceptionist},
		"recep":        {cohort.RoleReceptionist},
		"practitioner": {cohort.RolePractitionerAdmin, cohort.RolePractitioner},
		"manager":      {cohort.RolePracticeManager},
		"admin":        {cohort.RolePractitionerAdmin},
		"":             nil,
		"zzz":          nil,
	} {
		if got := cohort.RolesMatching(q); !slices.Equal(got, want) {
			t.Errorf("RolesMatching(%q) = %v, want %v", q, got, want)
		}
	}
}
