package cohort

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Imports replace or fill a practice's staff and groups from a file (CSV
// through the CLI or the Settings page). An import is all or nothing: every
// row is checked first, and one bad row means nothing changes. Importing
// the same data again changes nothing.

// MaxImportRows bounds one import, so one file cannot hold the database
// for long; larger practices import in several files.
const MaxImportRows = 100000

// UserImport is one staff member of an import, matched by email: a new
// email creates the user (without a password: they cannot sign in until a
// manager sets one), a known email updates names, role and status.
type UserImport struct {
	// Row is the row of the source file, for messages (the header is row 1).
	Row        int
	Email      string
	GivenName  string
	FamilyName string
	Role       Role
	Status     Status // "" means active
	// StaffAttributesUpdate: a column the file does not have is nil and
	// leaves the attribute as it is; an empty cell clears it.
	StaffAttributesUpdate
}

// Validate normalises u in place and returns field errors keyed by the
// CSV column names (email, given_name, family_name, role, status).
func (u *UserImport) Validate() error {
	var v Validation
	var err error
	if u.Email, err = ValidateEmail(u.Email); err != nil {
		v.Add("email", ErrorMessage(err))
	}
	if u.GivenName, err = ValidatePersonName("given_name", "given name", u.GivenName); err != nil {
		v.Add("given_name", ErrorMessage(err))
	}
	if u.FamilyName, err = ValidatePersonName("family_name", "family name", u.FamilyName); err != nil {
		v.Add("family_name", ErrorMessage(err))
	}
	if r, ok := ParseRole(string(u.Role)); ok {
		u.Role = r
	} else {
		v.Add("role", fmt.Sprintf("Unknown role %q: use practitioner_admin, practitioner, practice_manager, receptionist or accountant.", string(u.Role)))
	}
	if s, ok := ParseStatus(string(u.Status)); ok {
		u.Status = s
	} else {
		v.Add("status", fmt.Sprintf("Unknown status %q: use active or archived.", string(u.Status)))
	}
	u.StaffAttributesUpdate.Validate(&v)
	return v.Err()
}

// ParseRole reads a role by its name (practice_manager) or its label
// (Practice manager), case-insensitively; "" is a practitioner.
func ParseRole(s string) (Role, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return RolePractitioner, true
	}
	for _, r := range Roles {
		if strings.EqualFold(s, string(r)) || strings.EqualFold(s, r.Label()) {
			return r, true
		}
	}
	return Role(s), false
}

// ParseStatus reads active or archived, case-insensitively; "" is active.
func ParseStatus(s string) (Status, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "active":
		return StatusActive, true
	case "archived":
		return StatusArchived, true
	}
	return Status(s), false
}

// GroupImport is one group of an import, matched by name
// (case-insensitively): the active group holding the name, else the most
// recently archived one, else a new group. Its description and status are
// set to the imported ones and its members to exactly the listed people.
type GroupImport struct {
	// Row is the group's first row in the source file.
	Row         int
	Name        string
	Description string
	Status      Status // "" means active
	Members     []ImportMember
}

// ImportMember is a member of an imported group, named by email.
type ImportMember struct {
	Row   int
	Email string
}

// Validate normalises g in place and returns field errors keyed by the
// CSV column names (group_name, description, status).
func (g *GroupImport) Validate() error {
	var v Validation
	var err error
	if g.Name, err = ValidateGroupName(g.Name); err != nil {
		v.Add("group_name", ErrorMessage(err))
	}
	if g.Description, err = ValidateGroupDescription(g.Description); err != nil {
		v.Add("description", ErrorMessage(err))
	}
	if s, ok := ParseStatus(string(g.Status)); ok {
		g.Status = s
	} else {
		v.Add("status", fmt.Sprintf("Unknown status %q: use active or archived.", string(g.Status)))
	}
	return v.Err()
}

// RowError is what is wrong with one cell (or row, Column "") of an
// imported file.
type RowError struct {
	Row     int
	Column  string
	Message string
}

func (e RowError) String() string {
	if e.Column == "" {
		return fmt.Sprintf("row %d: %s", e.Row, e.Message)
	}
	return fmt.Sprintf("row %d, column %s: %s", e.Row, e.Column, e.Message)
}

// ImportError lists every bad row of a refused import. It unwraps to an
// EINVALID *Error, so ErrorCode and ErrorMessage work on it as on any
// domain error; errors.As finds the rows.
type ImportError struct {
	Rows []RowError
}

func (e *ImportError) Error() string {
	return "cohort: import refused: " + e.summary()
}

func (e *ImportError) summary() string {
	n := 0
	seen := map[int]bool{}
	for _, r := range e.Rows {
		if !seen[r.Row] {
			seen[r.Row] = true
			n++
		}
	}
	if n == 1 {
		return "1 row needs fixing, so nothing was imported: " + e.Rows[0].String() + "."
	}
	return fmt.Sprintf("%d rows need fixing, so nothing was imported. The first: %s.", n, e.Rows[0].String())
}

// Unwrap returns the EINVALID *Error the import error stands for.
func (e *ImportError) Unwrap() error {
	return &Error{Code: EINVALID, Message: e.summary()}
}

// Add records one problem.
func (e *ImportError) Add(row int, column, msg string) {
	e.Rows = append(e.Rows, RowError{Row: row, Column: column, Message: msg})
}

// AddFields records every field message of err (a Validate result) at row.
func (e *ImportError) AddFields(row int, err error) {
	fields := ErrorFields(err)
	if len(fields) == 0 {
		e.Add(row, "", ErrorMessage(err))
		return
	}
	for _, col := range slices.Sorted(maps.Keys(fields)) {
		for _, m := range fields[col] {
			e.Add(row, col, m)
		}
	}
}

// Err returns e when it holds rows, else nil.
func (e *ImportError) Err() error {
	if e == nil || len(e.Rows) == 0 {
		return nil
	}
	return e
}

// ImportResult says what an import did.
type ImportResult struct {
	Created   int
	Updated   int
	Unchanged int
}

// ImportService imports staff and groups, each call in one transaction:
// everything is checked, then written with its audit entries and outbox
// events, or nothing is. Managers only. A refused import returns an
// *ImportError naming every bad row.
type ImportService interface {
	ImportUsers(ctx context.Context, users []UserImport) (ImportResult, error)
	ImportGroups(ctx context.Context, groups []GroupImport) (ImportResult, error)
}
