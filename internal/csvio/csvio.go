// Package csvio reads and writes Cohort's CSV files of staff and of groups
// with their members (docs/csv.md describes them). Reading checks every
// row and reports each problem by row, column and reason; it never
// changes anything itself: the domain's ImportService applies the rows in
// one transaction. Files are UTF-8; a byte order mark is accepted on
// input and written on output, so spreadsheet programs show accents and
// non-Latin scripts correctly.
package csvio

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cohorthq/cohort"
)

// Column names, in the order exports write them.
var (
	UserColumns  = []string{"email", "given_name", "family_name", "role", "status", "job_title", "location", "phone", "employment_type"}
	GroupColumns = []string{"group_name", "description", "status", "member_email"}
)

var bom = []byte{0xEF, 0xBB, 0xBF}

// table is a CSV file read against a known set of columns.
type table struct {
	r    *csv.Reader
	col  map[string]int // column name → index in a record
	n    int            // fields per record
	row  int            // the current record's row number (header = 1)
	errs cohort.ImportError
}

// open reads the header: every column must be known and the required ones
// present, in any order.
func open(r io.Reader, known, required []string) (*table, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, bom) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	t := &table{r: cr, col: map[string]int{}, row: 1}
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		t.errs.Add(1, "", "The file is empty: the first row must name the columns, e.g. "+strings.Join(known, ",")+".")
		return nil, t.errs.Err()
	}
	if err != nil {
		t.errs.Add(1, "", readProblem(err))
		return nil, t.errs.Err()
	}
	t.n = len(head)
	for i, h := range head {
		name := strings.ToLower(strings.TrimSpace(h))
		switch {
		case !utf8.ValidString(h):
			t.errs.Add(1, "", fmt.Sprintf("Column %d's name is not UTF-8 text: save the file as CSV UTF-8.", i+1))
		case !contains(known, name):
			// The message quotes the name; it is not a column we know, so it
			// is not given as the column (it may hold anything).
			t.errs.Add(1, "", fmt.Sprintf("Unknown column %q: the columns are %s.", h, strings.Join(known, ", ")))
		case t.has(name):
			t.errs.Add(1, name, fmt.Sprintf("The column %s appears twice: keep one.", name))
		default:
			t.col[name] = i
		}
	}
	for _, req := range required {
		if !t.has(req) {
			t.errs.Add(1, req, fmt.Sprintf("The column %s is missing: the first row must name the columns, e.g. %s.", req, strings.Join(known, ",")))
		}
	}
	if err := t.errs.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *table) has(name string) bool { _, ok := t.col[name]; return ok }

// next reads the next record; ok is false at the end of the file or after
// a break in the CSV structure, which is reported.
func (t *table) next() (rec []string, ok bool) {
	for {
		rec, err := t.r.Read()
		if errors.Is(err, io.EOF) {
			return nil, false
		}
		t.row++
		if err != nil {
			// A broken quote leaves the rest of the file unreadable: report
			// it and stop.
			t.errs.Add(t.row, "", readProblem(err))
			return nil, false
		}
		if t.row-1 > cohort.MaxImportRows {
			t.errs.Add(t.row, "", fmt.Sprintf("The file has more than %d rows: split it into several files.", cohort.MaxImportRows))
			return nil, false
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if len(rec) != t.n {
			t.errs.Add(t.row, "", fmt.Sprintf("The row has %d cells but the header names %d columns: check for a missing or extra comma.", len(rec), t.n))
			continue
		}
		bad := false
		for name, i := range t.col {
			if !utf8.ValidString(rec[i]) {
				t.errs.Add(t.row, name, "The cell is not UTF-8 text: save the file as CSV UTF-8.")
				bad = true
			}
		}
		if bad {
			continue
		}
		return rec, true
	}
}

// cell returns the named column of rec, "" when the file has no such
// column, without the guard quote exports put before formula characters.
func (t *table) cell(rec []string, name string) string {
	i, ok := t.col[name]
	if !ok {
		return ""
	}
	return unguard(strings.TrimSpace(rec[i]))
}

func readProblem(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(pe.Err, csv.ErrQuote), errors.Is(pe.Err, csv.ErrBareQuote):
			return fmt.Sprintf("A quote is not closed or stands inside an unquoted cell (line %d of the file): put cells that contain quotes in double quotes and double the inner quotes, then import again. Nothing after this line could be read.", pe.Line)
		}
		return fmt.Sprintf("The file cannot be read as CSV at line %d: %v. Nothing after this line could be read.", pe.Line, pe.Err)
	}
	return "The file cannot be read: " + err.Error() + "."
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Spreadsheet programs run a cell as a formula when it starts with one of
// these, and a cell split at a separator (";" in many locales, ",", tab,
// "|", a line break) is a new cell: "x;=HYPERLINK(…)" is a formula in a
// program that splits on ";". Guard puts a quote before any value with a
// formula character at its start or right after a separator-like
// character (the OWASP advice against CSV injection, widened to every
// place a cell may start), and imports take it off again.
const (
	formulaStart = "=+-@\t\r"
	cellBreak    = ";,\t|\n\r"
)

// needsGuard reports whether a spreadsheet could read part of s as a
// formula.
func needsGuard(s string) bool {
	start := true
	for _, r := range s {
		switch {
		case start && strings.ContainsRune(formulaStart, r):
			return true
		case strings.ContainsRune(cellBreak, r):
			start = true
		case start && (r == ' ' || r == '"'):
			// A program that splits "a; =b" or `a;"=b` starts the cell here.
		default:
			start = false
		}
	}
	return false
}

// Guard is Cohort's one CSV formula guard, for every file it writes (staff
// and group exports, the audit log): a value a spreadsheet could run gets
// a quote before it. It also replaces control characters other than line
// breaks and tabs, which older versions stored, with U+FFFD, so an export
// printed to a terminal cannot send it escape sequences.
func Guard(s string) string {
	s = strings.Map(func(r rune) rune {
		if r != '\n' && r != '\t' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)) {
			return utf8.RuneError
		}
		return r
	}, s)
	if needsGuard(s) {
		return "'" + s
	}
	return s
}

// unguard takes off the quote Guard put before a value.
func unguard(s string) string {
	if len(s) > 1 && s[0] == '\'' && needsGuard(s[1:]) {
		return s[1:]
	}
	return s
}

// ReadUsers reads a staff file (email, given_name, family_name and
// optionally role, status and the staff attributes job_title, location,
// phone and employment_type) and checks every row. On any problem it
// returns an *cohort.ImportError listing all of them.
func ReadUsers(r io.Reader) ([]cohort.UserImport, error) {
	t, err := open(r, UserColumns, []string{"email", "given_name", "family_name"})
	if err != nil {
		return nil, err
	}
	var out []cohort.UserImport
	first := map[string]int{}
	for {
		rec, ok := t.next()
		if !ok {
			break
		}
		u := cohort.UserImport{
			Row:        t.row,
			Email:      t.cell(rec, "email"),
			GivenName:  t.cell(rec, "given_name"),
			FamilyName: t.cell(rec, "family_name"),
			Role:       cohort.Role(t.cell(rec, "role")),
			Status:     cohort.Status(t.cell(rec, "status")),
		}
		// An attribute column the file has sets (an empty cell clears);
		// one it lacks leaves the attribute as it is.
		attr := func(name string) *string {
			if !t.has(name) {
				return nil
			}
			v := t.cell(rec, name)
			return &v
		}
		u.StaffAttributesUpdate = cohort.StaffAttributesUpdate{JobTitle: attr("job_title"), Location: attr("location"),
			Phone: attr("phone"), EmploymentType: attr("employment_type")}
		if err := u.Validate(); err != nil {
			t.errs.AddFields(t.row, err)
			continue
		}
		if row, dup := first[u.Email]; dup {
			t.errs.Add(t.row, "email", fmt.Sprintf("%s is already on row %d: list each staff member once.", u.Email, row))
			continue
		}
		first[u.Email] = t.row
		out = append(out, u)
	}
	if err := t.errs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ReadGroups reads a groups file: one row per membership (group_name and
// optionally description, status and member_email); a group without
// members is one row with member_email empty. Rows of one group may be
// anywhere in the file; its description and status must agree wherever
// they are given.
func ReadGroups(r io.Reader) ([]cohort.GroupImport, error) {
	t, err := open(r, GroupColumns, []string{"group_name"})
	if err != nil {
		return nil, err
	}
	var out []cohort.GroupImport
	index := map[string]int{}
	descRow := map[string]int{}
	statusRow := map[string]int{}
	for {
		rec, ok := t.next()
		if !ok {
			break
		}
		g := cohort.GroupImport{
			Row:         t.row,
			Name:        t.cell(rec, "group_name"),
			Description: t.cell(rec, "description"),
			Status:      cohort.Status(t.cell(rec, "status")),
		}
		rawStatus := t.cell(rec, "status")
		rawDesc := g.Description
		if err := g.Validate(); err != nil {
			t.errs.AddFields(t.row, err)
			continue
		}
		email := t.cell(rec, "member_email")
		key := cohort.NameKey(g.Name)
		i, seen := index[key]
		if !seen {
			index[key] = len(out)
			if rawDesc != "" {
				descRow[key] = t.row
			}
			if rawStatus != "" {
				statusRow[key] = t.row
			}
			out = append(out, g)
			i = len(out) - 1
		} else {
			have := &out[i]
			if rawDesc != "" {
				if row, set := descRow[key]; !set {
					have.Description, descRow[key] = g.Description, t.row
				} else if have.Description != g.Description {
					t.errs.Add(t.row, "description", fmt.Sprintf("The description differs from row %d for the group %q: give the same description on every row of a group, or leave it empty after the first.", row, g.Name))
					continue
				}
			}
			if rawStatus != "" {
				if row, set := statusRow[key]; !set {
					have.Status, statusRow[key] = g.Status, t.row
				} else if have.Status != g.Status {
					t.errs.Add(t.row, "status", fmt.Sprintf("The status differs from row %d for the group %q: give the same status on every row of a group.", row, g.Name))
					continue
				}
			}
		}
		if email == "" {
			continue
		}
		e, err := cohort.ValidateEmail(email)
		if err != nil {
			t.errs.Add(t.row, "member_email", cohort.ErrorMessage(err))
			continue
		}
		dup := false
		for _, m := range out[i].Members {
			if m.Email == e {
				t.errs.Add(t.row, "member_email", fmt.Sprintf("%s is already listed for the group %q on row %d: list each member once.", e, out[i].Name, m.Row))
				dup = true
				break
			}
		}
		if !dup {
			out[i].Members = append(out[i].Members, cohort.ImportMember{Row: t.row, Email: e})
		}
	}
	if err := t.errs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// exportPage is how many records an export reads per query.
const exportPage = 1000

// newWriter starts a CSV file with the byte order mark and header.
func newWriter(w io.Writer, header []string) (*csv.Writer, error) {
	if _, err := w.Write(bom); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(w)
	return cw, cw.Write(header)
}

// WriteUsers writes every staff member of the actor's workspace, active
// and archived, ordered by family name, in the format ReadUsers reads.
func WriteUsers(ctx context.Context, w io.Writer, users cohort.UserService) error {
	cw, err := newWriter(w, UserColumns)
	if err != nil {
		return err
	}
	f := cohort.UserFilter{Limit: exportPage}
	for {
		page, err := users.FindUsers(ctx, f)
		if err != nil {
			return err
		}
		for _, u := range page.Users {
			if err := cw.Write([]string{Guard(u.Email), Guard(u.GivenName), Guard(u.FamilyName), string(u.Role), string(u.Status),
				Guard(u.JobTitle), Guard(u.Location), Guard(u.Phone), Guard(u.EmploymentType)}); err != nil {
				return err
			}
		}
		if page.Next == "" {
			break
		}
		f.After = page.Next
	}
	cw.Flush()
	return cw.Error()
}

// WriteGroups writes every group of the actor's workspace, active and
// archived, ordered by name: one row per member (active and archived
// staff), one row with no member_email for an empty group. The
// description and status are on every row.
func WriteGroups(ctx context.Context, w io.Writer, groups cohort.GroupService) error {
	cw, err := newWriter(w, GroupColumns)
	if err != nil {
		return err
	}
	gf := cohort.GroupFilter{Limit: exportPage}
	for {
		page, err := groups.FindGroups(ctx, gf)
		if err != nil {
			return err
		}
		for _, g := range page.Groups {
			row := []string{Guard(g.Name), Guard(g.Description), string(g.Status), ""}
			wrote := false
			mf := cohort.UserFilter{Limit: exportPage}
			for {
				members, err := groups.FindMembers(ctx, g.ID, mf)
				if err != nil {
					return err
				}
				for _, u := range members.Users {
					row[3] = Guard(u.Email)
					if err := cw.Write(row); err != nil {
						return err
					}
					wrote = true
				}
				if members.Next == "" {
					break
				}
				mf.After = members.Next
			}
			if !wrote {
				if err := cw.Write(row); err != nil {
					return err
				}
			}
		}
		if page.Next == "" {
			break
		}
		gf.After = page.Next
	}
	cw.Flush()
	return cw.Error()
}
