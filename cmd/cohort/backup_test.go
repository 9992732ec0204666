package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// TestBackupWhileWriting takes backups with `cohort backup` while a
// running server keeps changing groups and members through the API. Every
// copy opens, passes SQLite's integrity check and is consistent: each
// group's Users count equals its counted active members, and every audit
// entry's group or user exists. Restoring (docs/operations.md: copy the
// file into place and start Cohort on it) serves the data.
func TestBackupWhileWriting(t *testing.T) {
	t.Parallel()
	if os.Getenv("COHORT_TEST_ENGINE") == "postgres" {
		t.Skip("cohort backup copies SQLite files; PostgreSQL is backed up with pg_dump (docs/operations.md)")
	}
	bin := buildCohort(t)
	dir := t.TempDir()
	dsn := filepath.Join(dir, "cohort.db")
	if r := runCLI(t, nil, testDemoPassword+"\n", "workspace", "create", "--db", dsn,
		"--name", "Backup Practice", "--slug", "backup", "--owner-email", "owner@backup.test"); r.err != nil {
		t.Fatalf("workspace create: %v\n%s", r.err, r.stderr)
	}
	r := runCLI(t, nil, "", "apikey", "create", "--db", dsn, "--workspace", "backup", "--name", "backup test",
		"--scopes", "groups:read,groups:write,users:read,users:write")
	if r.err != nil {
		t.Fatalf("apikey create: %v\n%s", r.err, r.stderr)
	}
	token := lastLine(r.stdout)
	// The writers outpace the per-key rate limit, which is not under test.
	p := startProcess(t, bin, []string{"COHORT_LOG_LEVEL=error", "COHORT_RATE_LIMIT=0"}, "--db", dsn)
	c := &http.Client{}

	// Staff to put in groups.
	var users []string
	for i := range 6 {
		status, body, err := apiCall(c, p.URL, token, "POST", "/api/v1/users", map[string]any{
			"email": fmt.Sprintf("staff%d@backup.test", i), "given_name": "Staff", "family_name": fmt.Sprint(i), "role": "practitioner",
		})
		if err != nil || status != http.StatusCreated {
			t.Fatalf("create user: %d %v %s", status, err, body)
		}
		var u struct{ ID string }
		_ = json.Unmarshal(body, &u)
		users = append(users, u.ID)
	}

	// Writers: create groups with members, change members, archive a
	// user now and then (so the count and the hidden archived members
	// move), until the backups are done.
	var stop atomic.Bool
	var writes atomic.Int64
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			var mine []string
			for n := 0; !stop.Load(); n++ {
				var status int
				var body []byte
				var err error
				switch {
				case len(mine) > 0 && n%3 == 1:
					g := mine[n%len(mine)]
					status, body, err = apiCall(c, p.URL, token, "POST", "/api/v1/groups/"+g+"/members",
						map[string]any{"add": []string{users[n%len(users)]}, "remove": []string{users[(n+2)%len(users)]}})
				case n%11 == 5:
					u := users[(w+n)%len(users)]
					action := "archive"
					if n%2 == 0 {
						action = "restore"
					}
					status, body, err = apiCall(c, p.URL, token, "POST", "/api/v1/users/"+u+"/"+action, nil)
					if status == http.StatusConflict || status == http.StatusForbidden {
						continue // already in that state, or the owner
					}
				default:
					status, body, err = apiCall(c, p.URL, token, "POST", "/api/v1/groups", map[string]any{
						"name": fmt.Sprintf("Backup %d-%d", w, n), "member_ids": users[:1+n%len(users)],
					})
					var g struct{ ID string }
					if json.Unmarshal(body, &g) == nil && g.ID != "" {
						mine = append(mine, g.ID)
					}
				}
				if err != nil || status >= 300 {
					t.Errorf("write while backing up: %d %v %s", status, err, body)
					return
				}
				writes.Add(1)
			}
		})
	}

	var last string
	for i := range 3 {
		last = filepath.Join(dir, fmt.Sprintf("copy-%d.db", i))
		if r := runCLI(t, nil, "", "backup", "--db", dsn, "--to", last); r.err != nil {
			t.Fatalf("cohort backup: %v\n%s", r.err, r.stderr)
		}
		checkCopy(t, last)
	}
	stop.Store(true)
	wg.Wait()
	if writes.Load() == 0 {
		t.Fatal("no write happened during the backups")
	}

	// Restore: the documented steps are to stop Cohort, put the copy in
	// place of the database file and start Cohort on it.
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := <-p.exited; err != nil {
		t.Fatalf("stop: %v\n%s", err, p.stderr)
	}
	restored := filepath.Join(t.TempDir(), "cohort.db")
	copyFile(t, last, restored)
	var groups int
	db := openCheckDB(t, restored)
	if err := db.QueryRow(`SELECT count(*) FROM groups`).Scan(&groups); err != nil {
		t.Fatal(err)
	}
	db.Close()
	p2 := startProcess(t, bin, []string{"COHORT_LOG_LEVEL=error"}, "--db", restored)
	status, body, err := apiCall(c, p2.URL, token, "GET", "/api/v1/groups?status=all&limit=100", nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("list groups on the restored copy: %d %v %s", status, err, body)
	}
	var page struct{ Data []json.RawMessage }
	if err := json.Unmarshal(body, &page); err != nil || len(page.Data) != min(groups, 100) {
		t.Fatalf("the restored copy has %d groups; the API lists %d (%v)", groups, len(page.Data), err)
	}
	t.Logf("%d writes during 3 backups; the last copy holds %d groups and serves them after a restore", writes.Load(), groups)
}

// checkCopy opens a backup and checks it is whole and consistent.
func checkCopy(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
		t.Fatalf("%s: integrity_check = %q, %v", path, res, err)
	}
	var bad int
	if err := db.QueryRow(`SELECT count(*) FROM groups g WHERE g.member_count <> (SELECT count(*) FROM memberships m
		JOIN users u ON u.id = m.user_id WHERE m.group_id = g.id AND u.status = 'active')`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad > 0 {
		t.Errorf("%s: %d groups whose Users count differs from their counted active members", path, bad)
	}
	if err := db.QueryRow(`SELECT count(*) FROM audit_entries a WHERE
		(a.target_type = 'group' AND NOT EXISTS (SELECT 1 FROM groups g WHERE g.id = a.target_id)) OR
		(a.target_type = 'user' AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = a.target_id))`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad > 0 {
		t.Errorf("%s: %d audit entries whose group or user is missing", path, bad)
	}
	var audited int
	if err := db.QueryRow(`SELECT count(*) FROM audit_entries WHERE target_type IN ('group', 'user')`).Scan(&audited); err != nil || audited == 0 {
		t.Errorf("%s: no audit entries of groups or users (%v): the check checked nothing", path, err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
