package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// cannotSaveMessage is what every interface says when the database takes
// no writes.
const cannotSaveMessage = "Cohort cannot save changes right now: the database is read-only or the disk is full. Your change was not saved."

// smallDisk mounts a tmpfs of size bytes in the test's temp directory and
// returns its path. It skips the test where mounting is not allowed (not
// root, or a container without the capability).
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("a full disk needs a small file system: mount -t tmpfs failed (run as root to include this test): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file until the file system is full and returns a function
// that frees the space again.
func fill(t *testing.T, dir string) func() {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", dir, err)
			}
			break
		}
	}
	f.Close()
	return func() {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDiskFull runs cohort serve on a SQLite file on a small file system,
// fills it, and checks that writes through the API and the web pages fail
// with a clear 503 and change nothing, that reading keeps working, and
// that writes work again once space is freed.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	if os.Getenv("COHORT_TEST_ENGINE") == "postgres" {
		t.Skip("the full-disk test runs on SQLite; TestReadOnlyPostgreSQL covers PostgreSQL")
	}
	dsn := filepath.Join(smallDisk(t, "4m"), "cohort.db")
	token := setUpWorkspace(t, dsn, "full")
	srv := startServer(t, nil, "--db", dsn)
	s := signInHTTP(t, srv.URL, "owner@full.test", testDemoPassword)
	if status, body, err := apiCall(http.DefaultClient, srv.URL, token, "POST", "/api/v1/groups", map[string]any{"name": "Before the disk filled"}); err != nil || status != http.StatusCreated {
		t.Fatalf("create before filling: %d %v %s", status, err, body)
	}

	free := fill(t, filepath.Dir(dsn))
	// The WAL may still have room from earlier writes, so write until the
	// disk refuses (a bounded number of times).
	refused := ""
	for i := 0; i < 2000 && refused == ""; i++ {
		name := fmt.Sprintf("Full %d", i)
		status, body, err := apiCall(http.DefaultClient, srv.URL, token, "POST", "/api/v1/groups",
			map[string]any{"name": name, "description": strings.Repeat("x", 500)})
		switch {
		case err != nil:
			t.Fatal(err)
		case status == http.StatusCreated:
		case status == http.StatusServiceUnavailable:
			checkUnavailableProblem(t, body)
			refused = name
		default:
			t.Fatalf("write on a full disk: %d %s", status, body)
		}
	}
	if refused == "" {
		t.Fatal("2000 writes on a full disk all succeeded")
	}
	checkReadsAndNoPartialWrite(t, srv.URL, token, s, refused)

	// The web form says so in words and keeps nothing.
	s.do("GET", srv.URL+"/settings/groups/new", nil)
	code, page := s.do("POST", srv.URL+"/settings/groups/new", url.Values{"name": {"Web while full"}, "op": {"save"}})
	if code != http.StatusServiceUnavailable || !strings.Contains(page, cannotSaveMessage) {
		t.Errorf("web write on a full disk: %d\n%.1500s", code, page)
	}
	checkReadsAndNoPartialWrite(t, srv.URL, token, s, "Web while full")

	// Space is back: writes work again without a restart.
	free()
	if status, body, err := apiCall(http.DefaultClient, srv.URL, token, "POST", "/api/v1/groups", map[string]any{"name": refused}); err != nil || status != http.StatusCreated {
		t.Fatalf("create after freeing space: %d %v %s", status, err, body)
	}
	var res string
	db := openCheckDB(t, dsn)
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
		t.Errorf("integrity_check after the full disk: %q %v", res, err)
	}
}

// TestReadOnlyPostgreSQL makes the database read-only
// (default_transaction_read_only, as on a standby) and checks that writes
// are a clear 503 and reads keep working.
func TestReadOnlyPostgreSQL(t *testing.T) {
	t.Parallel()
	dsn := postgresDSN(t)
	token := setUpWorkspace(t, dsn, "readonly")
	u, _ := url.Parse(dsn)
	name := strings.TrimPrefix(u.Path, "/")
	admin := openCheckDB(t, os.Getenv("COHORT_TEST_POSTGRES"))
	srv := startServer(t, nil, "--db", dsn)
	s := signInHTTP(t, srv.URL, "owner@readonly.test", testDemoPassword)
	if _, err := admin.Exec("ALTER DATABASE " + name + " SET default_transaction_read_only = on"); err != nil {
		t.Fatal(err)
	}
	// Connections already open keep their setting; make the server
	// reconnect, as after a failover.
	if _, err := admin.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("ALTER DATABASE " + name + " SET default_transaction_read_only = off")
	})
	var status int
	var body []byte
	var err error
	// The first requests may meet terminated connections; the pool
	// replaces them.
	for range 5 {
		status, body, err = apiCall(http.DefaultClient, srv.URL, token, "POST", "/api/v1/groups", map[string]any{"name": "Read-only"})
		if err == nil && status == http.StatusServiceUnavailable {
			break
		}
	}
	if err != nil || status != http.StatusServiceUnavailable {
		t.Fatalf("write to a read-only database: %d %v %s", status, err, body)
	}
	checkUnavailableProblem(t, body)
	checkReadsAndNoPartialWrite(t, srv.URL, token, s, "Read-only")
}

// setUpWorkspace creates a workspace whose owner signs in with
// testDemoPassword and returns an API key that reads and writes groups.
func setUpWorkspace(t *testing.T, dsn, slug string) string {
	t.Helper()
	if r := runCLI(t, nil, testDemoPassword+"\n", "workspace", "create", "--db", dsn,
		"--name", "Practice "+slug, "--slug", slug, "--owner-email", "owner@"+slug+".test"); r.err != nil {
		t.Fatalf("workspace create: %v\n%s", r.err, r.stderr)
	}
	r := runCLI(t, nil, "", "apikey", "create", "--db", dsn, "--workspace", slug, "--name", "test", "--scopes", "groups:read,groups:write")
	if r.err != nil {
		t.Fatalf("apikey create: %v\n%s", r.err, r.stderr)
	}
	return lastLine(r.stdout)
}

func checkUnavailableProblem(t *testing.T, body []byte) {
	t.Helper()
	var p struct{ Code, Detail string }
	if err := json.Unmarshal(body, &p); err != nil || p.Code != "unavailable" || p.Detail != cannotSaveMessage {
		t.Errorf("refused write: want problem code unavailable saying %q, got %s", cannotSaveMessage, body)
	}
}

// checkReadsAndNoPartialWrite checks that the API and the pages still
// read, and that no group named name was kept.
func checkReadsAndNoPartialWrite(t *testing.T, base, token string, s *session, name string) {
	t.Helper()
	status, body, err := apiCall(http.DefaultClient, base, token, "GET", "/api/v1/groups?status=all&limit=100&q="+url.QueryEscape(name), nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("API read while writes fail: %d %v %s", status, err, body)
	}
	var page struct{ Data []struct{ Name string } }
	_ = json.Unmarshal(body, &page)
	for _, g := range page.Data {
		if g.Name == name {
			t.Errorf("the refused write %q was kept", name)
		}
	}
	if code, page := s.do("GET", base+"/settings/groups", nil); code != http.StatusOK {
		t.Errorf("Groups page while writes fail: %d\n%.800s", code, page)
	}
}
