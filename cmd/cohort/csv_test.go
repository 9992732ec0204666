package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCSVImportExport drives `cohort import` and `cohort export` against a
// real database (SQLite, or PostgreSQL with COHORT_TEST_ENGINE=postgres).
func TestCSVImportExport(t *testing.T) {
	t.Parallel()
	env := map[string]string{"COHORT_DB": testDSN(t)}
	if r := runCLI(t, env, "owner-password-123\n", "workspace", "create", "--name", "Riverside", "--slug", "riverside",
		"--owner-email", "owner@riverside.test"); r.err != nil {
		t.Fatalf("workspace create: %v %s", r.err, r.stderr)
	}
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.csv", "\uFEFFemail,given_name,family_name,role\nzoe@riverside.test,Zoë,O'Connor,practitioner\nmei@riverside,美玲,王,receptionist\n")
	r := runCLI(t, env, "", "import", "users", "--workspace", "riverside", "--file", bad)
	if r.err == nil || !strings.Contains(r.err.Error(), "row 3, column email") || !strings.Contains(r.err.Error(), "nothing was imported") {
		t.Fatalf("a bad row: %v", r.err)
	}
	r = runCLI(t, env, "", "export", "users", "--workspace", "riverside")
	if strings.Contains(r.stdout, "zoe@") {
		t.Fatalf("a refused import changed the staff:\n%s", r.stdout)
	}

	good := write("good.csv", "email,given_name,family_name,role\nzoe@riverside.test,Zoë,O'Connor,practitioner\nmei@riverside.test,美玲,王,receptionist\n")
	r = runCLI(t, env, "", "import", "users", "--workspace", "riverside", "--file", good)
	if r.err != nil || !strings.Contains(r.stdout, "2 created, 0 updated, 0 unchanged") {
		t.Fatalf("import users: %v %q", r.err, r.stdout)
	}
	r = runCLI(t, env, "group_name,member_email\nTelehealth providers,zoe@riverside.test\nTelehealth providers,mei@riverside.test\n",
		"import", "groups", "--workspace", "riverside", "--file", "-")
	if r.err != nil || !strings.Contains(r.stdout, "1 created") {
		t.Fatalf("import groups from stdin: %v %q", r.err, r.stdout)
	}

	usersFile, groupsFile := filepath.Join(dir, "users.csv"), filepath.Join(dir, "groups.csv")
	for kind, f := range map[string]string{"users": usersFile, "groups": groupsFile} {
		if r := runCLI(t, env, "", "export", kind, "--workspace", "riverside", "--file", f); r.err != nil {
			t.Fatalf("export %s: %v", kind, r.err)
		}
	}
	u, _ := os.ReadFile(usersFile)
	g, _ := os.ReadFile(groupsFile)
	if !strings.Contains(string(u), "mei@riverside.test,美玲,王,receptionist,active") ||
		!strings.Contains(string(g), "Telehealth providers,,active,zoe@riverside.test") {
		t.Fatalf("exports:\n%s\n%s", u, g)
	}
	for kind, f := range map[string]string{"users": usersFile, "groups": groupsFile} {
		r := runCLI(t, env, "", "import", kind, "--workspace", "riverside", "--file", f)
		if r.err != nil || !strings.Contains(r.stdout, "0 created, 0 updated") {
			t.Errorf("re-import of the %s export: %v %q", kind, r.err, r.stdout)
		}
	}

	for _, args := range [][]string{
		{"import", "users", "--workspace", "riverside"},
		{"import", "people", "--workspace", "riverside", "--file", good},
		{"export", "users"},
	} {
		if r := runCLI(t, env, "", args...); r.err == nil || exitCode(r.err) != 2 {
			t.Errorf("%v: %v, want a usage error", args, r.err)
		}
	}
	if r := runCLI(t, env, "", "import", "users", "--workspace", "nowhere", "--file", good); r.err == nil || !strings.Contains(r.err.Error(), "nowhere") {
		t.Errorf("unknown workspace: %v", r.err)
	}
}
