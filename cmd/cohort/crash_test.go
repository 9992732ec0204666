package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// crashIterations is how often TestCrashLoop kills the server: at least 20,
// more with COHORT_CRASH_ITERATIONS for a longer soak.
func crashIterations(t *testing.T) int {
	n := 20
	if s := os.Getenv("COHORT_CRASH_ITERATIONS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			t.Fatalf("COHORT_CRASH_ITERATIONS=%q: give a whole number of at least 1", s)
		}
		n = v
	}
	return n
}

// acked is what the client saw acknowledged (a 2xx) across every run.
type acked struct {
	mu       sync.Mutex
	created  []string // group IDs
	archived []string
}

func (a *acked) addCreated(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.created = append(a.created, id)
}

func (a *acked) addArchived(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.archived = append(a.archived, id)
}

// pickCreated returns an acknowledged group, or "" when there is none.
func (a *acked) pickCreated() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.created) == 0 {
		return ""
	}
	return a.created[rand.IntN(len(a.created))]
}

// TestCrashLoop runs the real binary on one database, drives a stream of
// API writes through it and kills it with SIGKILL at a random moment, many
// times. After every kill the database must pass its integrity check and
// hold every write the client saw acknowledged, each with its audit entry
// and its outbox event, and the member counters must match the
// memberships. The server must then start again on it.
func TestCrashLoop(t *testing.T) {
	t.Parallel()
	bin := buildCohort(t)
	dsn := testDSN(t)
	env := map[string]string{}

	// The workspace and an API key come from the CLI, as on a real install.
	if r := runCLI(t, env, testDemoPassword+"\n", "workspace", "create", "--db", dsn,
		"--name", "Crash Practice", "--slug", "crash", "--owner-email", "owner@crash.test"); r.err != nil {
		t.Fatalf("workspace create: %v\n%s", r.err, r.stderr)
	}
	r := runCLI(t, env, "", "apikey", "create", "--db", dsn, "--workspace", "crash",
		"--name", "crash loop", "--scopes", "groups:read,groups:write,users:read")
	if r.err != nil {
		t.Fatalf("apikey create: %v\n%s", r.err, r.stderr)
	}
	token := lastLine(r.stdout)

	db := openCheckDB(t, dsn)
	var ownerID string
	if err := db.QueryRow(`SELECT id FROM users WHERE email = 'owner@crash.test'`).Scan(&ownerID); err != nil {
		t.Fatalf("find the owner: %v", err)
	}

	iterations := crashIterations(t)
	var ack acked
	var requests, failures int
	for i := range iterations {
		// The writers outpace the per-key rate limit, which is not under test.
		p := startProcess(t, bin, []string{"COHORT_LOG_LEVEL=error", "COHORT_RATE_LIMIT=0"}, "--db", dsn)
		sent, refused := driveWrites(t, p.URL, token, ownerID, i, &ack, func(answered <-chan struct{}) {
			// A random moment in the stream of writes: once they flow
			// (a slow start must not make every kill land before the
			// first write), after 0–250 ms.
			<-answered
			time.Sleep(time.Duration(rand.IntN(250)) * time.Millisecond)
			if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Errorf("kill: %v", err)
			}
		})
		requests += sent
		failures += refused
		<-p.exited
		checkAcknowledged(t, db, dsn, &ack, i)
		if t.Failed() {
			t.Fatalf("after kill %d:\n%s", i+1, p.stderr)
		}
	}

	// The last restart still serves the data.
	p := startProcess(t, bin, []string{"COHORT_LOG_LEVEL=error", "COHORT_RATE_LIMIT=0"}, "--db", dsn)
	req, _ := http.NewRequest("GET", p.URL+"/api/v1/groups?status=all&limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after %d kills the server answers %d", iterations, resp.StatusCode)
	}
	if len(ack.created) == 0 {
		t.Fatalf("no write was acknowledged in %d runs: the loop tested nothing", iterations)
	}
	t.Logf("%d SIGKILLs; %d requests sent, %d cut off by the kill; %d creates and %d archives acknowledged, all present with audit and event",
		iterations, requests, failures, len(ack.created), len(ack.archived))
}

// driveWrites sends writes from four clients until the server dies; kill
// runs alongside and is told when the first answer came. It returns how
// many requests were sent and how many got no answer.
func driveWrites(t *testing.T, base, token, ownerID string, run int, ack *acked, kill func(answered <-chan struct{})) (sent, cut int) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	answered := make(chan struct{})
	var firstAnswer sync.Once
	client := &http.Client{Timeout: 30 * time.Second}
	for w := range 4 {
		wg.Go(func() {
			for n := 0; ; n++ {
				var status int
				var body []byte
				var err error
				if id := ack.pickCreated(); id != "" && n%3 == 2 {
					status, body, err = apiCall(client, base, token, "POST", "/api/v1/groups/"+id+"/archive", nil)
					if err == nil && status == http.StatusOK {
						ack.addArchived(id)
					}
				} else {
					name := fmt.Sprintf("Crash %d-%d-%d", run, w, n)
					status, body, err = apiCall(client, base, token, "POST", "/api/v1/groups",
						map[string]any{"name": name, "member_ids": []string{ownerID}})
					if err == nil && status == http.StatusCreated {
						var g struct{ ID string }
						if json.Unmarshal(body, &g) == nil && g.ID != "" {
							ack.addCreated(g.ID)
						}
					}
				}
				mu.Lock()
				sent++
				if err != nil {
					cut++
				}
				mu.Unlock()
				if err != nil {
					firstAnswer.Do(func() { close(answered) })
					return // the server is gone
				}
				firstAnswer.Do(func() { close(answered) })
				if status >= 300 {
					// Not acknowledged, so not checked; but a live server
					// must not refuse a plain write.
					t.Errorf("run %d: status %d before the kill: %s", run+1, status, body)
					return
				}
			}
		})
	}
	kill(answered)
	wg.Wait()
	return sent, cut
}

func apiCall(c *http.Client, base, token, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		// Headers came but the body was cut: not an acknowledgement the
		// client could rely on.
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

// openCheckDB opens the test's database directly, beside the server, to
// check what is on disk.
func openCheckDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	driver := "sqlite"
	if strings.HasPrefix(dsn, "postgres") {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// checkAcknowledged checks the database after a kill: SQLite's integrity
// check, every acknowledged write with its audit entry and event, and
// member counters equal to the counted memberships.
func checkAcknowledged(t *testing.T, db *sql.DB, dsn string, ack *acked, run int) {
	t.Helper()
	if !strings.HasPrefix(dsn, "postgres") {
		var res string
		if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
			t.Fatalf("after kill %d: integrity_check = %q, %v", run+1, res, err)
		}
	}
	ack.mu.Lock()
	defer ack.mu.Unlock()
	check := func(id, action, status string) {
		var got string
		err := db.QueryRow(`SELECT status FROM groups WHERE id = $1`, id).Scan(&got)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			t.Errorf("after kill %d: acknowledged group %s is missing", run+1, id)
			return
		case err != nil:
			t.Fatal(err)
		}
		if status != "" && got != status {
			t.Errorf("after kill %d: group %s acknowledged %s is %s", run+1, id, status, got)
		}
		var audits, events int
		if err := db.QueryRow(`SELECT count(*) FROM audit_entries WHERE target_id = $1 AND action = $2`, id, action).Scan(&audits); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT count(*) FROM events WHERE type = $1 AND CAST(data AS TEXT) LIKE $2`, action, "%"+id+"%").Scan(&events); err != nil {
			t.Fatal(err)
		}
		if audits == 0 || events == 0 {
			t.Errorf("after kill %d: acknowledged %s of %s has %d audit entries and %d events", run+1, action, id, audits, events)
		}
	}
	for _, id := range ack.created {
		check(id, "group.created", "")
	}
	for _, id := range ack.archived {
		check(id, "group.archived", "archived")
	}
	rows, err := db.Query(`SELECT g.id, g.member_count, (SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.group_id = g.id AND u.status = 'active') FROM groups g`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var stored, counted int
		if err := rows.Scan(&id, &stored, &counted); err != nil {
			t.Fatal(err)
		}
		if stored != counted {
			t.Errorf("after kill %d: group %s says %d members, memberships count %d", run+1, id, stored, counted)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
