package cohort_test

import (
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
)

// Look-alikes of "Admin team" share its key, or are refused outright.
func TestNameKeyFoldsLookAlikes(t *testing.T) {
	want := cohort.NameKey("Admin team")
	for _, s := range []string{"ADMIN TEAM", "  admin   team ", "Ａｄｍｉｎ team", "Admin\u00a0team", "Admin\u200b team", "Ad\u00admin team", "\ufeffAdmin team"} {
		if got := cohort.NameKey(s); got != want {
			t.Errorf("NameKey(%q) = %q, want %q", s, got, want)
		}
	}
	if a, b := cohort.NameKey("Straße"), cohort.NameKey("STRASSE"); a != b {
		t.Errorf("case folding: %q != %q", a, b)
	}
	for _, s := range []string{"Ａｄｍｉｎ team", "Straße", "Ωmega"} {
		if k := cohort.NameKey(s); cohort.NameKey(k) != k {
			t.Errorf("NameKey is not stable on %q", s)
		}
	}
}

func TestValidateGroupNameRefusesLookAlikes(t *testing.T) {
	for _, tc := range []struct{ in, says string }{
		{"Admin\u200bteam", "U+200B ZERO WIDTH SPACE"},
		{"Admin team\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"},
		{"Ad\u00admin team", "U+00AD SOFT HYPHEN"},
		{"\ufeffAdmin team", "U+FEFF"},
		{"Admin\u2060team", "invisible"},
		{"Admin\ufe0f team", "invisible"},
		{"Admin\u3164team", "invisible"},
		{"\u0410dmin team", "Latin and Cyrillic"},
		{"Team Αdmin", "Latin and Greek"},
		{"Admin\tteam", "one line"},
		{"Admin\nteam", "one line"},
		{"Admin\x00team", "U+0000"},
		{"Admin\x1b[31mteam", "U+001B"},
		{"Admin\u0085team", "one line"},
		{"Admin\u0090team", "control character"},
		{"Admin\x7fteam", "control character"},
		{"Admin\xffteam", "not valid text"},
	} {
		_, err := cohort.ValidateGroupName(tc.in)
		if cohort.ErrorCode(err) != cohort.EINVALID {
			t.Errorf("ValidateGroupName(%q) = %v, want invalid", tc.in, err)
			continue
		}
		msg := cohort.ErrorFields(err)["name"]
		if len(msg) != 1 || !strings.Contains(msg[0], tc.says) {
			t.Errorf("ValidateGroupName(%q) says %q, want it to name %q", tc.in, msg, tc.says)
		}
	}
	for in, want := range map[string]string{
		"Ａｄｍｉｎ team":                 "Admin team",
		"  After-hours  clinicians ": "After-hours clinicians",
		"Anna Иванова":               "Anna Иванова",
		"Ψυχολόγοι":                  "Ψυχολόγοι",
		"Physio (Smith-Иванов)":      "Physio (Smith-Иванов)",
		"Zoë Noël":                   "Zoë Noël",
		"Admin team\n":               "Admin team",
	} {
		got, err := cohort.ValidateGroupName(in)
		if err != nil || got != want {
			t.Errorf("ValidateGroupName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// Every name field follows the same rule: people, practices, API keys.
func TestEveryNameFieldRefusesInvisibles(t *testing.T) {
	bad := "Jo\u200bhn"
	c := cohort.UserCreate{Email: "a@b.test", GivenName: bad, FamilyName: "\u0421mith"}
	fields := cohort.ErrorFields(c.Validate())
	if len(fields["given_name"]) != 1 || len(fields["family_name"]) != 1 {
		t.Errorf("UserCreate: %v", fields)
	}
	u := cohort.UserUpdate{GivenName: &bad}
	if len(cohort.ErrorFields(u.Validate())["given_name"]) != 1 {
		t.Error("UserUpdate takes an invisible character")
	}
	w := cohort.WorkspaceCreate{Name: bad, Slug: "x", Owner: cohort.UserCreate{Email: "a@b.test", GivenName: "A", FamilyName: "B"}}
	if len(cohort.ErrorFields(w.Validate())["name"]) != 1 {
		t.Error("WorkspaceCreate takes an invisible character")
	}
	k := cohort.APIKeyCreate{Name: "Calendar\u202e", Scopes: []cohort.Scope{cohort.ScopeGroupsRead}}
	if len(cohort.ErrorFields(k.Validate())["name"]) != 1 {
		t.Error("APIKeyCreate takes a bidi control")
	}
	imp := cohort.UserImport{Email: "a@b.test", GivenName: "A", FamilyName: bad}
	if len(cohort.ErrorFields(imp.Validate())["family_name"]) != 1 {
		t.Error("UserImport takes an invisible character")
	}
}

func TestValidateEmailNormalisesAndRefusesInvisibles(t *testing.T) {
	if e, err := cohort.ValidateEmail(" Ａnna@Riverside.TEST "); err != nil || e != "anna@riverside.test" {
		t.Errorf("full-width email: %q, %v", e, err)
	}
	for _, s := range []string{"an\u200bna@riverside.test", "anna@river\u00adside.test", "anna\x1b@riverside.test", "\u202eanna@riverside.test"} {
		if _, err := cohort.ValidateEmail(s); len(cohort.ErrorFields(err)["email"]) != 1 {
			t.Errorf("ValidateEmail(%q) = %v, want a field message", s, err)
		}
	}
}

// One rule for the multi-line description: line breaks and tabs, nothing
// else below U+0020, no DEL, no C1, no bidi controls.
func TestValidateGroupDescription(t *testing.T) {
	got, err := cohort.ValidateGroupDescription(" First line\r\nsecond\tline\rthird \n")
	if err != nil || got != "First line\nsecond\tline\nthird" {
		t.Errorf("line breaks: %q, %v", got, err)
	}
	for _, s := range []string{"a\x00b", "ring\x07", "\x1b[2Jcleared", "del\x7f", "c1\u009b", "rtl\u202e", "\xff"} {
		_, err := cohort.ValidateGroupDescription(s)
		if m := cohort.ErrorFields(err)["description"]; len(m) != 1 || !strings.Contains(m[0], "description") {
			t.Errorf("ValidateGroupDescription(%q) = %v, want a description message", s, err)
		}
	}
}

func TestValidateExternalID(t *testing.T) {
	if got, err := cohort.ValidateExternalID(" 00u1ab2CD3 "); err != nil || got != "00u1ab2CD3" {
		t.Errorf("plain ID: %q, %v", got, err)
	}
	for _, s := range []string{"a\x00b", "a\x1bb", "a\nb", "\xff", strings.Repeat("x", 256)} {
		if _, err := cohort.ValidateExternalID(s); len(cohort.ErrorFields(err)["external_id"]) != 1 {
			t.Errorf("ValidateExternalID(%q) = %v, want an external_id message", s, err)
		}
	}
	c := cohort.GroupCreate{Name: "G", ExternalID: "a\x07"}
	if len(cohort.ErrorFields(c.Validate())["external_id"]) != 1 {
		t.Error("GroupCreate takes a control character in the external ID")
	}
}
