package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
	"github.com/jackc/pgx/v5"
)

// database is where the benchmark's data lives: a SQLite file in the run's
// temporary folder, or a throw-away PostgreSQL database on the server the
// user named, dropped at the end.
type database struct {
	dsn  string
	drop func() error
}

func newDatabase(ctx context.Context, flag, dir string) (*database, error) {
	if !strings.HasPrefix(flag, "postgres://") && !strings.HasPrefix(flag, "postgresql://") {
		path := flag
		if path == "" {
			path = filepath.Join(dir, "bench.db")
		}
		if _, err := os.Stat(path); err == nil {
			return nil, fmt.Errorf("--db %s already exists: name a new SQLite file (the benchmark seeds it from scratch)", path)
		}
		return &database{dsn: path, drop: func() error { return nil }}, nil
	}
	admin, err := pgx.Connect(ctx, flag)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", flag, err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "cohort_bench_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(flag)
	if err != nil {
		return nil, fmt.Errorf("--db is not a URL: %w", err)
	}
	u.Path = "/" + name
	return &database{dsn: u.String(), drop: func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, flag)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		_, err = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		return err
	}}, nil
}

// seeded is what the benchmark needs to know about the loaded data.
type seeded struct {
	workspace  string
	ownerEmail string
	password   string
	apiToken   string // groups and users, read and write
	scimToken  string // scope scim
	userIDs    []string
	groupIDs   []string
	took       time.Duration
}

// seedData creates the workspace, its owner and the API keys through the
// services, and the staff and groups through the store's bulk path.
func seedData(ctx context.Context, dsn string, d *dataset, prog *progress) (*seeded, error) {
	t0 := time.Now()
	db, err := sqlstore.Open(ctx, dsn, sqlstore.Options{})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dsn, err)
	}
	defer db.Close()
	s := &seeded{ownerEmail: "owner@practice.example", password: randomPassword()}
	ws, _, err := db.CreateWorkspace(ctx, cohort.WorkspaceCreate{Name: "Bench Practice " + d.spec.name, Slug: "bench",
		Owner: cohort.UserCreate{Email: s.ownerEmail, GivenName: "Olivia", FamilyName: "Owner",
			Role: cohort.RolePracticeManager, Password: s.password}})
	if err != nil {
		return nil, fmt.Errorf("create workspace: %w", err)
	}
	s.workspace = ws.ID
	actx := cohort.NewContextWithActor(ctx, cohort.SystemActor(ws.ID, "cohort-bench"))
	_, s.apiToken, err = db.CreateAPIKey(actx, cohort.APIKeyCreate{Name: "bench api",
		Scopes: []cohort.Scope{cohort.ScopeGroupsRead, cohort.ScopeGroupsWrite, cohort.ScopeUsersRead, cohort.ScopeUsersWrite}})
	if err != nil {
		return nil, fmt.Errorf("create API key: %w", err)
	}
	if _, s.scimToken, err = db.CreateAPIKey(actx, cohort.APIKeyCreate{Name: "bench scim", Scopes: []cohort.Scope{cohort.ScopeSCIM}}); err != nil {
		return nil, fmt.Errorf("create SCIM key: %w", err)
	}
	s.userIDs, s.groupIDs, err = db.BulkLoad(actx, d.staff, d.groups, func(done, total int) {
		prog.step("seed", done, total)
	})
	if err != nil {
		return nil, fmt.Errorf("load data set %s: %w", d.spec.name, err)
	}
	s.took = time.Since(t0)
	return s, nil
}

func randomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "bench-" + hex.EncodeToString(b)
}

// server is a running `cohort serve` process.
type server struct {
	cmd    *exec.Cmd
	url    string
	stderr *tailBuffer
	done   chan error
	// pprofDir, when set, receives a CPU and an allocation profile of
	// each operation (see cmd/cohort/pprof.go).
	pprofDir string
	profiles int
}

// buildCohort builds the cohort binary of this module into dir; with
// pprof, the build includes the profiling hook.
func buildCohort(ctx context.Context, dir string, pprof bool) (string, error) {
	bin := filepath.Join(dir, "cohort")
	args := []string{"build", "-o", bin}
	if pprof {
		args = append(args, "-tags", "pprof")
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "github.com/cohorthq/cohort/cmd/cohort")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/cohort: %w\n%s", err, out)
	}
	return bin, nil
}

// startServer runs `cohort serve` on 127.0.0.1:0 with the database and
// waits for the URL it prints. The API rate limit is off: the benchmark is
// one client doing the work of many.
func startServer(ctx context.Context, bin, dsn, pprofDir string) (*server, error) {
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", dsn, "--rate-limit", "0", "--log-level", "warn")
	cmd.Env = cleanEnv()
	if pprofDir != "" {
		abs, err := filepath.Abs(pprofDir)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return nil, fmt.Errorf("--pprof: %w", err)
		}
		cmd.Env = append(cmd.Env, "COHORT_PPROF_DIR="+abs)
		pprofDir = abs
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, stderr: &tailBuffer{max: 8 << 10}, done: make(chan error, 1), pprofDir: pprofDir}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s serve: %w", bin, err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "Cohort is running at "); ok {
				urls <- strings.TrimSpace(u)
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { s.done <- cmd.Wait() }()
	select {
	case s.url = <-urls:
		return s, nil
	case err := <-s.done:
		return nil, fmt.Errorf("cohort serve exited before it printed its URL: %v\n%s", err, s.stderr)
	case <-time.After(2 * time.Minute):
		s.stop()
		return nil, fmt.Errorf("cohort serve printed no URL within 2 minutes\n%s", s.stderr)
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
}

// cleanEnv is this process's environment without COHORT_ settings, so the
// server runs with the flags given and nothing else.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COHORT_") {
			out = append(out, kv)
		}
	}
	return out
}

// peakRSS reads the server's high-water resident set (VmHWM) in bytes.
func (s *server) peakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// profile runs fn; with profiling on, the server profiles exactly that
// time (SIGUSR1 starts, SIGUSR2 stops) and index.txt records which
// operation the numbered files hold.
func (s *server) profile(op string, fn func()) error {
	if s.pprofDir == "" {
		fn()
		return nil
	}
	if err := s.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		return err
	}
	// The signal is handled asynchronously; let the profile start first.
	time.Sleep(100 * time.Millisecond)
	fn()
	if err := s.cmd.Process.Signal(syscall.SIGUSR2); err != nil {
		return err
	}
	time.Sleep(200 * time.Millisecond)
	s.profiles++
	f, err := os.OpenFile(filepath.Join(s.pprofDir, "index.txt"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "cpu-%02d.pprof allocs-%02d.pprof %s\n", s.profiles, s.profiles, op)
	return err
}

// stop ends the server gracefully (SIGTERM), killing it after 10 seconds.
func (s *server) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		return err
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		return <-s.done
	}
}

// tailBuffer keeps the last max bytes written, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

// ceiling is the bare net/http handler every read is compared with: it
// writes a fixed JSON body about the size of one group.
type ceiling struct {
	url string
	srv *http.Server
}

var ceilingBody = []byte(`{"id":"0192f0c4-7a3e-7c4d-9f57-3c2b1d0e9a11","name":"Physiotherapists 0001","description":"",` +
	`"status":"active","member_count":123,"version":1,"created_at":"2026-01-01T00:00:00Z",` +
	`"updated_at":"2026-01-01T00:00:00Z","archived_at":null}`)

func startCeiling() (*ceiling, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(ceilingBody)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &ceiling{url: "http://" + ln.Addr().String(), srv: srv}, nil
}

func (c *ceiling) close() { _ = c.srv.Close() }
