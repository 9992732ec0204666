package cohort

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Staff attributes are what a practice tells its people apart and groups
// them by: a job title (or profession), the location or site they work
// at, a phone number or extension, and an employment type. All are
// optional and free text (a practice names its own sites and titles); the
// same rule checks them whichever edge they come through (form, REST,
// SCIM, CSV): the rules of a name (text.go) and a length, and for the
// phone the characters a phone number is written with.

// Limits on staff attributes.
const (
	JobTitleMax       = 100
	LocationMax       = 100
	PhoneMax          = 40
	EmploymentTypeMax = 50
)

// EmploymentTypes are the employment types the forms suggest; any other
// is accepted, as a practice may use its own words.
var EmploymentTypes = []string{"Full-time", "Part-time", "Casual", "Contractor", "Locum", "Volunteer"}

// StaffAttributes are a staff member's optional attributes; "" is unset.
type StaffAttributes struct {
	JobTitle       string
	Location       string
	Phone          string
	EmploymentType string
}

// Empty reports whether no attribute is set.
func (a StaffAttributes) Empty() bool { return a == StaffAttributes{} }

// Validate normalises a in place and adds a message per bad field to v.
func (a *StaffAttributes) Validate(v *Validation) {
	u := a.Update()
	u.Validate(v)
	*a = StaffAttributes{JobTitle: *u.JobTitle, Location: *u.Location, Phone: *u.Phone, EmploymentType: *u.EmploymentType}
}

// Update is a's values as an update that sets every attribute.
func (a StaffAttributes) Update() StaffAttributesUpdate {
	return StaffAttributesUpdate{JobTitle: &a.JobTitle, Location: &a.Location, Phone: &a.Phone, EmploymentType: &a.EmploymentType}
}

// StaffAttributesUpdate changes staff attributes: a nil field is left as
// it is, "" clears it.
type StaffAttributesUpdate struct {
	JobTitle       *string
	Location       *string
	Phone          *string
	EmploymentType *string
}

// Validate normalises u in place and adds a message per bad field to v.
func (u *StaffAttributesUpdate) Validate(v *Validation) {
	check := func(field string, p **string, f func(string) (string, error)) {
		if *p == nil {
			return
		}
		s, err := f(**p)
		if err != nil {
			v.Add(field, ErrorMessage(err))
		}
		*p = &s
	}
	check("job_title", &u.JobTitle, ValidateJobTitle)
	check("location", &u.Location, ValidateLocation)
	check("phone", &u.Phone, ValidatePhone)
	check("employment_type", &u.EmploymentType, ValidateEmploymentType)
}

// Apply sets on a the attributes u changes and, when c is not nil,
// records each change in it.
func (u StaffAttributesUpdate) Apply(a *StaffAttributes, c *UserChanges) {
	if c == nil {
		c = &UserChanges{}
	}
	set := func(from, to *string, change **Change[string]) {
		if to != nil && *to != *from {
			*change = Changed(*from, *to)
			*from = *to
		}
	}
	set(&a.JobTitle, u.JobTitle, &c.JobTitle)
	set(&a.Location, u.Location, &c.Location)
	set(&a.Phone, u.Phone, &c.Phone)
	set(&a.EmploymentType, u.EmploymentType, &c.EmploymentType)
}

// Initial records in c the attributes a sets, as changes from nothing
// (a new staff member).
func (a StaffAttributes) Initial(c *UserChanges) {
	for _, f := range []struct {
		v      string
		change **Change[string]
	}{{a.JobTitle, &c.JobTitle}, {a.Location, &c.Location}, {a.Phone, &c.Phone}, {a.EmploymentType, &c.EmploymentType}} {
		if f.v != "" {
			*f.change = Initial(f.v)
		}
	}
}

// validateOptionalName is ValidateName for an optional field: blank is
// "", not an error.
func validateOptionalName(field, label, s string, max int) (string, error) {
	if strings.TrimFunc(s, unicode.IsSpace) == "" {
		return "", nil
	}
	return ValidateName(field, label, s, max, "")
}

// ValidateJobTitle normalises and checks a job title or profession
// ("Physiotherapist"); "" clears it.
func ValidateJobTitle(s string) (string, error) {
	return validateOptionalName("job_title", "job title", s, JobTitleMax)
}

// ValidateLocation normalises and checks a location or site ("Bondi
// Junction"); "" clears it.
func ValidateLocation(s string) (string, error) {
	return validateOptionalName("location", "location", s, LocationMax)
}

// ValidateEmploymentType normalises and checks an employment type
// ("Part-time"); "" clears it.
func ValidateEmploymentType(s string) (string, error) {
	return validateOptionalName("employment_type", "employment type", s, EmploymentTypeMax)
}

// ValidatePhone normalises and checks a phone number or extension: the
// rules of a name (so full-width digits become ASCII and spaces are
// collapsed), at least one digit, and only digits, spaces, + ( ) - . / #
// * and the letters of "ext" or "x" ("+61 2 9876 5432", "ext 204").
// "" clears it.
func ValidatePhone(s string) (string, error) {
	n, err := validateOptionalName("phone", "phone", s, PhoneMax)
	if err != nil || n == "" {
		return n, err
	}
	digits := 0
	for _, r := range n {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune(" +()-./#*extEXT", r):
		default:
			return n, FieldError("phone", fmt.Sprintf("The phone cannot contain %q: use digits, spaces, + ( ) - and “ext”, such as +61 2 9876 5432 or ext 204.", r))
		}
	}
	if digits == 0 {
		return n, FieldError("phone", "The phone has no digits: enter a number or an extension, such as +61 2 9876 5432 or ext 204.")
	}
	return n, nil
}

// matchesWords reports whether q (a SearchKey) starts label or one of its
// words, case-insensitively.
func matchesWords(label, q string) bool {
	k := SearchKey(label)
	for {
		if strings.HasPrefix(k, q) {
			return true
		}
		i := strings.IndexByte(k, ' ')
		if i < 0 {
			return false
		}
		k = k[i+1:]
	}
}

// RolesMatching lists the roles whose label ("Receptionist", "Practice
// manager") or one of its words starts with the search q, so a staff
// search for "recep" or "manager" finds people by role. An empty q
// matches none.
func RolesMatching(q string) []Role {
	q = SearchKey(q)
	if q == "" || !utf8.ValidString(q) {
		return nil
	}
	var out []Role
	for _, r := range Roles {
		if matchesWords(r.Label(), q) {
			out = append(out, r)
		}
	}
	return out
}
