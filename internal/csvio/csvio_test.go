package csvio_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/csvio"
	"github.com/cohorthq/cohort/internal/sqlstore/sqltest"
)

// practice is a real store with one workspace; ctx acts as its owner.
type practice struct {
	svc   cohort.Services
	ctx   context.Context
	owner *cohort.User
	ws    *cohort.Workspace
}

func newPractice(t *testing.T) *practice {
	t.Helper()
	db := sqltest.Open(t)
	svc := db.Services()
	ws, owner, err := svc.Workspaces.CreateWorkspace(t.Context(), cohort.WorkspaceCreate{Name: "Riverside", Slug: "riverside",
		Owner: cohort.UserCreate{Email: "owner@riverside.test", GivenName: "Olive", FamilyName: "Owner", Password: "a long enough password"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := cohort.NewContextWithActor(t.Context(), cohort.Actor{WorkspaceID: ws.ID, UserID: owner.ID, Name: owner.Name(),
		Role: owner.Role, IsOwner: true, Via: cohort.ViaWeb})
	return &practice{svc: svc, ctx: ctx, owner: owner, ws: ws}
}

func (p *practice) importUsers(t *testing.T, file string) (cohort.ImportResult, error) {
	t.Helper()
	rows, err := csvio.ReadUsers(strings.NewReader(file))
	if err != nil {
		return cohort.ImportResult{}, err
	}
	return p.svc.Imports.ImportUsers(p.ctx, rows)
}

func (p *practice) importGroups(t *testing.T, file string) (cohort.ImportResult, error) {
	t.Helper()
	rows, err := csvio.ReadGroups(strings.NewReader(file))
	if err != nil {
		return cohort.ImportResult{}, err
	}
	return p.svc.Imports.ImportGroups(p.ctx, rows)
}

func (p *practice) export(t *testing.T) (users, groups string) {
	t.Helper()
	var u, g bytes.Buffer
	if err := csvio.WriteUsers(p.ctx, &u, p.svc.Users); err != nil {
		t.Fatal(err)
	}
	if err := csvio.WriteGroups(p.ctx, &g, p.svc.Groups); err != nil {
		t.Fatal(err)
	}
	return u.String(), g.String()
}

func (p *practice) lastEventSeq(t *testing.T) int64 {
	t.Helper()
	seq, err := p.svc.Events.LastEventSeq(p.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

func rowErrors(t *testing.T, err error) []cohort.RowError {
	t.Helper()
	var ie *cohort.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("want an *ImportError, got %v", err)
	}
	if cohort.ErrorCode(err) != cohort.EINVALID {
		t.Errorf("code %q, want invalid", cohort.ErrorCode(err))
	}
	return ie.Rows
}

func bigUsersFile(n int, bad int) string {
	var b strings.Builder
	b.WriteString("email,given_name,family_name,role,status\n")
	for i := 2; i <= n+1; i++ {
		email := fmt.Sprintf("person%05d@riverside.test", i)
		if i == bad {
			email = "person-without-at-sign"
		}
		fmt.Fprintf(&b, "%s,Given%d,Family%d,practitioner,active\n", email, i, i)
	}
	return b.String()
}

// Acceptance 3: 5,000 rows with one bad row change nothing and name the
// row; the fixed file imports; importing it again changes nothing.
func TestImportFiveThousandRowsAllOrNothing(t *testing.T) {
	t.Parallel()
	p := newPractice(t)
	before := p.lastEventSeq(t)
	_, err := p.importUsers(t, bigUsersFile(5000, 3001))
	rows := rowErrors(t, err)
	if len(rows) != 1 || rows[0].Row != 3001 || rows[0].Column != "email" {
		t.Fatalf("errors %v, want one at row 3001, column email", rows)
	}
	if !strings.Contains(cohort.ErrorMessage(err), "row 3001") {
		t.Errorf("message %q does not name row 3001", cohort.ErrorMessage(err))
	}
	page, _ := p.svc.Users.FindUsers(p.ctx, cohort.UserFilter{Limit: 1})
	if page.Total != 1 || p.lastEventSeq(t) != before {
		t.Fatalf("a refused import changed something: %d users, events %d→%d", page.Total, before, p.lastEventSeq(t))
	}

	res, err := p.importUsers(t, bigUsersFile(5000, 0))
	if err != nil || res.Created != 5000 {
		t.Fatalf("fixed file: %+v, %v", res, err)
	}
	page, _ = p.svc.Users.FindUsers(p.ctx, cohort.UserFilter{Limit: 1})
	if page.Total != 5001 {
		t.Fatalf("%d users after import, want 5001", page.Total)
	}
	audit, _ := p.svc.Audit.FindAuditEntries(p.ctx, cohort.AuditFilter{Action: cohort.ActionUserCreated, Limit: 1})
	if len(audit.Entries) != 1 || audit.Entries[0].ActorName != "Olive Owner" {
		t.Errorf("imported users are not audited as the importing manager: %+v", audit.Entries)
	}
	seq := p.lastEventSeq(t)
	res, err = p.importUsers(t, bigUsersFile(5000, 0))
	if err != nil || res.Unchanged != 5000 || res.Created+res.Updated != 0 || p.lastEventSeq(t) != seq {
		t.Fatalf("re-import: %+v, %v, events %d→%d; want nothing changed", res, err, seq, p.lastEventSeq(t))
	}
}

func TestReadUsersReportsEveryBadRow(t *testing.T) {
	t.Parallel()
	file := "\uFEFFEmail,given_name,family_name,role,status\n" +
		"ok@riverside.test,Ok,Person,practitioner,active\n" +
		"bad,Bad,Email,practitioner,active\n" +
		"x@riverside.test,,NoGiven,nurse,gone\n" +
		"OK@riverside.test,Dup,Person,,\n" +
		"short@riverside.test,Short\n"
	_, err := csvio.ReadUsers(strings.NewReader(file))
	got := map[string]bool{}
	for _, r := range rowErrors(t, err) {
		got[fmt.Sprintf("%d/%s", r.Row, r.Column)] = true
		if r.Message == "" {
			t.Errorf("row %d column %s has no reason", r.Row, r.Column)
		}
	}
	for _, want := range []string{"3/email", "4/given_name", "4/role", "4/status", "5/email", "6/"} {
		if !got[want] {
			t.Errorf("no error at row/column %s; got %v", want, got)
		}
	}
	if _, err := csvio.ReadUsers(strings.NewReader("email,given_name,colour\n")); err == nil ||
		!strings.Contains(cohort.ErrorMessage(err), "colour") {
		t.Errorf("an unknown column is not named: %v", err)
	}
	if _, err := csvio.ReadUsers(strings.NewReader("email,given_name\n")); err == nil ||
		!strings.Contains(cohort.ErrorMessage(err), "family_name") {
		t.Errorf("a missing column is not named: %v", err)
	}
	if _, err := csvio.ReadUsers(strings.NewReader("email,given_name,family_name\n\"a@b.test,x,y\n")); err == nil {
		t.Error("a broken quote was accepted")
	}
	if _, err := csvio.ReadUsers(strings.NewReader("email,given_name,family_name\na@b.test,\xff\xfe,y\n")); err == nil ||
		rowErrors(t, err)[0].Column != "given_name" {
		t.Errorf("invalid UTF-8 is not reported at its cell: %v", err)
	}
}

// Names with accents, apostrophes and non-Latin scripts, and cells that
// a spreadsheet would run as formulas, survive export → import.
func TestRoundTripKeepsEveryNameAndChangesNothing(t *testing.T) {
	t.Parallel()
	p := newPractice(t)
	users := "email,given_name,family_name,role,status\n" +
		"zoe@riverside.test,Zoë,O'Connor,practitioner,active\n" +
		"jose@riverside.test,José,Núñez,practice_manager,active\n" +
		"mei@riverside.test,美玲,王,receptionist,active\n" +
		"olga@riverside.test,Ольга,Петрова,Accountant,archived\n" +
		"aroha@riverside.test,Aroha,\"Ngata, Jr\",practitioner_admin,active\n" +
		"eq@riverside.test,=SUM(A1),-Minus,practitioner,active\n"
	if res, err := p.importUsers(t, users); err != nil || res.Created != 6 {
		t.Fatalf("import users: %+v %v", res, err)
	}
	groups := "group_name,description,status,member_email\n" +
		"Physiotherapists,\"Musculoskeletal, sports\",active,zoe@riverside.test\n" +
		"physiotherapists,,,olga@riverside.test\n" +
		"Психологи,Детские,active,mei@riverside.test\n" +
		"Old team,,archived,jose@riverside.test\n" +
		"Empty group,,active,\n"
	if res, err := p.importGroups(t, groups); err != nil || res.Created != 4 {
		t.Fatalf("import groups: %+v %v", res, err)
	}
	u1, g1 := p.export(t)
	if !strings.HasPrefix(u1, "\uFEFF") {
		t.Error("the export has no byte order mark")
	}
	if !strings.Contains(u1, "'=SUM(A1)") || !strings.Contains(u1, "'-Minus") {
		t.Errorf("formula-like cells are not guarded:\n%s", u1)
	}
	for _, want := range []string{"Zoë,O'Connor", "美玲,王", "Ольга,Петрова,accountant,archived", `"Ngata, Jr"`} {
		if !strings.Contains(u1, want) {
			t.Errorf("users export lacks %q:\n%s", want, u1)
		}
	}
	for _, want := range []string{"Physiotherapists,\"Musculoskeletal, sports\",active,olga@riverside.test",
		"Психологи,Детские,active,mei@riverside.test", "Old team,,archived,jose@riverside.test", "Empty group,,active,\n"} {
		if !strings.Contains(g1, want) {
			t.Errorf("groups export lacks %q:\n%s", want, g1)
		}
	}
	g, _ := p.svc.Groups.FindGroups(p.ctx, cohort.GroupFilter{Name: "Physiotherapists"})
	if len(g.Groups) != 1 || g.Groups[0].MemberCount != 1 || g.Groups[0].ArchivedMemberCount != 1 {
		t.Fatalf("Physiotherapists: %+v; want 1 active and 1 archived member", g.Groups)
	}

	seq := p.lastEventSeq(t)
	if res, err := p.importUsers(t, u1); err != nil || res.Created+res.Updated != 0 {
		t.Fatalf("re-import of the users export: %+v %v", res, err)
	}
	if res, err := p.importGroups(t, g1); err != nil || res.Created+res.Updated != 0 {
		t.Fatalf("re-import of the groups export: %+v %v", res, err)
	}
	if p.lastEventSeq(t) != seq {
		t.Error("re-importing an export wrote events")
	}
	u2, g2 := p.export(t)
	if u1 != u2 || g1 != g2 {
		t.Errorf("export → import → export differs:\n%s\n%s\nvs\n%s\n%s", u1, g1, u2, g2)
	}
}

func TestImportGroupsSetsMembersAndRefusesWhatTheStoreCannotDo(t *testing.T) {
	t.Parallel()
	p := newPractice(t)
	if _, err := p.importUsers(t, "email,given_name,family_name\na@r.test,A,A\nb@r.test,B,B\nc@r.test,C,C\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.importGroups(t, "group_name,member_email\nTeam,a@r.test\nTeam,b@r.test\n"); err != nil {
		t.Fatal(err)
	}
	res, err := p.importGroups(t, "group_name,member_email\nteam,b@r.test\nTEAM,c@r.test\n")
	if err != nil || res.Updated != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	g, _ := p.svc.Groups.FindGroups(p.ctx, cohort.GroupFilter{Name: "team"})
	members, _ := p.svc.Groups.FindMembers(p.ctx, g.Groups[0].ID, cohort.UserFilter{})
	var emails []string
	for _, u := range members.Users {
		emails = append(emails, u.Email)
	}
	if strings.Join(emails, " ") != "b@r.test c@r.test" || g.Groups[0].Name != "team" {
		t.Fatalf("group %q members %v; want team with b and c", g.Groups[0].Name, emails)
	}

	seq := p.lastEventSeq(t)
	_, err = p.importGroups(t, "group_name,member_email\nNew one,a@r.test\nteam,nobody@r.test\n")
	rows := rowErrors(t, err)
	if len(rows) != 1 || rows[0].Row != 3 || rows[0].Column != "member_email" {
		t.Fatalf("unknown member: %v", rows)
	}
	if n, _, _ := p.svc.Groups.CountGroups(p.ctx); n != 1 || p.lastEventSeq(t) != seq {
		t.Fatalf("a refused import created a group or wrote events (%d active groups)", n)
	}

	_, err = p.importUsers(t, "email,given_name,family_name,role,status\nowner@riverside.test,Olive,Owner,practice_manager,archived\n")
	if rows := rowErrors(t, err); len(rows) != 1 || rows[0].Column != "status" || !strings.Contains(rows[0].Message, "owner") {
		t.Fatalf("archiving the owner by import: %v", rows)
	}

	// Only managers import.
	rec, _ := p.svc.Users.CreateUser(p.ctx, cohort.UserCreate{Email: "r@r.test", GivenName: "R", FamilyName: "R", Role: cohort.RoleReceptionist})
	rctx := cohort.NewContextWithActor(t.Context(), cohort.Actor{WorkspaceID: p.ws.ID, UserID: rec.ID, Role: rec.Role, Via: cohort.ViaWeb})
	if _, err := p.svc.Imports.ImportUsers(rctx, nil); cohort.ErrorCode(err) != cohort.EFORBIDDEN {
		t.Errorf("a receptionist imports users: %v", err)
	}
	if _, err := p.svc.Imports.ImportGroups(rctx, nil); cohort.ErrorCode(err) != cohort.EFORBIDDEN {
		t.Errorf("a receptionist imports groups: %v", err)
	}
}

func TestReadGroupsChecksRowsOfOneGroupAgree(t *testing.T) {
	t.Parallel()
	_, err := csvio.ReadGroups(strings.NewReader("group_name,description,status,member_email\n" +
		"A,one,active,a@r.test\nA,two,active,b@r.test\nA,,archived,c@r.test\na,,,a@r.test\n,,,x@r.test\n"))
	got := map[string]bool{}
	for _, r := range rowErrors(t, err) {
		got[fmt.Sprintf("%d/%s", r.Row, r.Column)] = true
	}
	for _, want := range []string{"3/description", "4/status", "5/member_email", "6/group_name"} {
		if !got[want] {
			t.Errorf("no error at %s; got %v", want, got)
		}
	}
}

// Archiving and restoring by import moves the person between their
// groups' counts, as Archive and Restore do.
func TestImportArchivesAndRestoresLikeTheButtons(t *testing.T) {
	t.Parallel()
	p := newPractice(t)
	if _, err := p.importUsers(t, "email,given_name,family_name\na@r.test,A,A\nb@r.test,B,B\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.importGroups(t, "group_name,member_email\nTeam,a@r.test\nTeam,b@r.test\nOther,a@r.test\n"); err != nil {
		t.Fatal(err)
	}
	counts := func(name string) (int, int) {
		g, _ := p.svc.Groups.FindGroups(p.ctx, cohort.GroupFilter{Name: name})
		return g.Groups[0].MemberCount, g.Groups[0].ArchivedMemberCount
	}
	res, err := p.importUsers(t, "email,given_name,family_name,role,status\na@r.test,A,A,practitioner,archived\nb@r.test,B,B,practitioner,active\n")
	if err != nil || res.Updated != 1 || res.Unchanged != 1 {
		t.Fatalf("archive by import: %+v %v", res, err)
	}
	if a, h := counts("Team"); a != 1 || h != 1 {
		t.Errorf("Team after archiving A: %d active, %d hidden", a, h)
	}
	if a, h := counts("Other"); a != 0 || h != 1 {
		t.Errorf("Other after archiving A: %d active, %d hidden", a, h)
	}
	if _, err := p.importUsers(t, "email,given_name,family_name,status\na@r.test,A,A,active\n"); err != nil {
		t.Fatal(err)
	}
	if a, h := counts("Team"); a != 2 || h != 0 {
		t.Errorf("Team after restoring A: %d active, %d hidden", a, h)
	}
}

// A spreadsheet starts a new cell at a separator, so a formula character
// anywhere after one is guarded, not only at a value's start; the guard
// comes off again on import.
func TestGuardDefusesFormulasAfterSeparators(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`x;=HYPERLINK("http://evil.test","Open")`: `'x;=HYPERLINK("http://evil.test","Open")`,
		"a,+1":                      "'a,+1",
		"a|@SUM(A1)":                "'a|@SUM(A1)",
		"line\n-2+3":                "'line\n-2+3",
		"a; =1":                     "'a; =1",
		"a;\"=1":                    "'a;\"=1",
		"tab\t=1":                   "'tab\t=1",
		"=1":                        "'=1",
		"Smith-Jones":               "Smith-Jones",
		"anna+cal@riverside.test":   "anna+cal@riverside.test",
		"Mon–Fri, after hours":      "Mon–Fri, after hours",
		"bell\a and \x1b[2J escape": "bell\uFFFD and \uFFFD[2J escape",
	} {
		if got := csvio.Guard(in); got != want {
			t.Errorf("Guard(%q) = %q, want %q", in, got, want)
		}
	}
	p := newPractice(t)
	desc := `x;=HYPERLINK("http://evil.test","Open")`
	file := "group_name,description\nLinks,\"" + strings.ReplaceAll(desc, `"`, `""`) + "\"\n"
	if _, err := p.importGroups(t, file); err != nil {
		t.Fatal(err)
	}
	_, g1 := p.export(t)
	if !strings.Contains(g1, `'x;=HYPERLINK(`) {
		t.Fatalf("a formula after a separator is not guarded:\n%s", g1)
	}
	seq := p.lastEventSeq(t)
	if res, err := p.importGroups(t, g1); err != nil || res.Created != 0 || res.Updated != 0 {
		t.Fatalf("re-importing the export: %+v %v", res, err)
	}
	if p.lastEventSeq(t) != seq {
		t.Fatal("re-importing the guarded export changed the description")
	}
}
