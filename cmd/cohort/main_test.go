package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
	"github.com/cohorthq/cohort/internal/testdb"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to check PostgreSQL databases
)

// testDemoPassword is every demo user's password in tests.
const testDemoPassword = "correct-horse-battery-staple"

// testDSN returns a fresh, empty database for one test: a SQLite file in
// the test's temp directory, or, when COHORT_TEST_ENGINE=postgres, a
// throw-away database on the COHORT_TEST_POSTGRES server that is dropped
// when the test ends.
func testDSN(t *testing.T) string {
	t.Helper()
	if os.Getenv("COHORT_TEST_ENGINE") != "postgres" {
		return filepath.Join(t.TempDir(), "cohort.db")
	}
	return postgresDSN(t)
}

// postgresDSN creates a throw-away PostgreSQL database and returns its URL.
// It skips the test when COHORT_TEST_POSTGRES is unset.
func postgresDSN(t *testing.T) string {
	t.Helper()
	server := os.Getenv("COHORT_TEST_POSTGRES")
	if server == "" {
		t.Skip("PostgreSQL tests need COHORT_TEST_POSTGRES, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	return testdb.Postgres(t, server)
}

// syncBuffer is a writer that several goroutines may use and a test may
// read while a command is still running.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runResult is what one run() call printed and returned.
type runResult struct {
	stdout, stderr string
	err            error
}

// runCLI runs the real program in process, as a shell would.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) runResult {
	t.Helper()
	var out, errOut syncBuffer
	getenv := func(k string) string { return env[k] }
	err := run(t.Context(), args, getenv, strings.NewReader(stdin), &out, &errOut)
	return runResult{stdout: out.String(), stderr: errOut.String(), err: err}
}

// testServer is `cohort serve` running in process on a free port.
type testServer struct {
	URL    string
	stdout *syncBuffer
	stderr *syncBuffer
	stop   context.CancelFunc
	done   chan error
}

var runningRE = regexp.MustCompile(`Cohort is running at (\S+)`)

// startServer runs `cohort serve --addr 127.0.0.1:0 <args>` until the test
// ends and returns once the server prints its URL.
func startServer(t *testing.T, env map[string]string, args ...string) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &testServer{stdout: &syncBuffer{}, stderr: &syncBuffer{}, stop: cancel, done: make(chan error, 1)}
	getenv := func(k string) string { return env[k] }
	go func() {
		err := run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), getenv,
			strings.NewReader(""), io.MultiWriter(s.stdout, pw), s.stderr)
		pw.CloseWithError(fmt.Errorf("cohort serve ended: %v", err))
		s.done <- err
	}()
	// The URL is handed over once the whole greeting (demo sign-in
	// included) is printed: "Press Ctrl+C to stop." ends it.
	urlCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		var u string
		for sc.Scan() {
			if m := runningRE.FindStringSubmatch(sc.Text()); m != nil {
				u = m[1]
			}
			if strings.HasPrefix(sc.Text(), "Press Ctrl+C") && u != "" {
				urlCh <- u
				break
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() {
		s.stop()
		if err := <-s.done; err != nil {
			t.Errorf("cohort serve returned %v\nstderr:\n%s", err, s.stderr.String())
		}
		pr.Close()
	})
	select {
	case s.URL = <-urlCh:
	case err := <-s.done:
		s.done <- err // for the cleanup
		t.Fatalf("cohort serve ended before it printed its URL: %v\nstdout:\n%s\nstderr:\n%s", err, s.stdout, s.stderr)
	case <-time.After(2 * time.Minute):
		// Not a timing assertion: a bound so a hung start fails with its
		// output instead of hanging the whole run.
		t.Fatalf("cohort serve printed no URL\nstdout:\n%s\nstderr:\n%s", s.stdout, s.stderr)
	}
	return s
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestNoArgumentsPrintsUsageListingEveryCommand(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"--help"}, {"-h"}, {"help"}} {
		r := runCLI(t, nil, "", args...)
		if r.err != nil {
			t.Fatalf("cohort %v: %v", args, r.err)
		}
		for _, c := range commands() {
			if !strings.Contains(r.stdout, "\n  "+c.name+" ") {
				t.Errorf("cohort %v: usage does not list %q:\n%s", args, c.name, r.stdout)
			}
		}
	}
}

func TestCommandNamesAreUnique(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, c := range commands() {
		if seen[c.name] {
			t.Errorf("command %q is listed twice", c.name)
		}
		seen[c.name] = true
	}
}

func TestCommandHelp(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "", "serve", "--help")
	if r.err != nil {
		t.Fatal(r.err)
	}
	for _, want := range []string{"--addr", "COHORT_ADDR", "--db", "COHORT_DB", "--demo", "--session-ttl", "--shutdown-timeout"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("serve --help lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runCLI(t, nil, "", "apikey")
	if exitCode(r.err) != 2 || !strings.Contains(r.stdout, "revoke") {
		t.Errorf("cohort apikey: err %v, stdout %q; want usage and exit 2", r.err, r.stdout)
	}
}

func TestBadCommandLinesExitTwoWithAClearMessage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{args: []string{"frobnicate"}, want: `unknown command "frobnicate"`},
		{args: []string{"serve", "--addr", "nowhere"}, want: "-addr: expected host:port"},
		{args: []string{"serve", "--session-ttl", "soon"}, want: "-session-ttl: expected a duration"},
		{args: []string{"serve", "--log-format", "xml"}, want: "-log-format: expected one of text, json"},
		{args: []string{"serve", "--bogus"}, want: "flag provided but not defined: -bogus"},
		{args: []string{"serve"}, env: map[string]string{"COHORT_DB_MAX_CONNS": "many"}, want: "COHORT_DB_MAX_CONNS: expected a whole number"},
		{args: []string{"serve", "extra"}, want: `unexpected argument "extra"`},
		{args: []string{"migrate", "--addr", ":1"}, want: "flag provided but not defined: -addr"},
		{args: []string{"workspace", "create", "--name", "X"}, want: "--slug, --owner-email required"},
		{args: []string{"apikey", "create", "--workspace", "demo", "--name", "sync", "--scopes", "root"}, want: "Unknown scope root"},
		{args: []string{"apikey", "create", "--workspace", "demo", "--name", "sync", "--scopes", "groups:read", "--expires", "someday"}, want: "use YYYY-MM-DD"},
		{args: []string{"apikey", "create", "--workspace", "demo", "--name", "sync", "--scopes", "groups:read", "--expires", "2001-01-01"}, want: "in the past"},
		{args: []string{"webhook", "create", "--workspace", "demo", "--url", "https://x.test", "--events", "group.eaten"}, want: `unknown event type "group.eaten"`},
		{args: []string{"apikey", "revoke", "--workspace", "demo"}, want: "give the key's ID"},
		{args: []string{"backup"}, want: "--to is required"},
	}
	for _, tc := range cases {
		r := runCLI(t, tc.env, "", tc.args...)
		if r.err == nil {
			t.Errorf("cohort %v: no error", tc.args)
			continue
		}
		if code := exitCode(r.err); code != 2 {
			t.Errorf("cohort %v: exit code %d, want 2 (%v)", tc.args, code, r.err)
		}
		if !strings.Contains(r.err.Error(), tc.want) {
			t.Errorf("cohort %v: error %q does not say %q", tc.args, r.err, tc.want)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "", "version")
	if r.err != nil || !strings.HasPrefix(r.stdout, "cohort ") {
		t.Errorf("version: %q %v", r.stdout, r.err)
	}
}

// TestAdminCommands sets up a real install without the demo, end to end,
// through the commands an operator types.
func TestAdminCommands(t *testing.T) {
	t.Parallel()
	env := map[string]string{"COHORT_DB": testDSN(t)}

	r := runCLI(t, env, "owner-password-123\n", "workspace", "create",
		"--name", "Riverside Physio", "--slug", "riverside", "--owner-email", "Amara.Okafor@Riverside.test",
		"--owner-given-name", "Amara", "--owner-family-name", "Okafor")
	if r.err != nil {
		t.Fatalf("workspace create: %v\n%s", r.err, r.stderr)
	}
	if !strings.Contains(r.stdout, `Created workspace "Riverside Physio"`) || !strings.Contains(r.stdout, "Amara.Okafor@Riverside.test") {
		t.Errorf("workspace create printed %q", r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, "owner-password-123") {
		t.Error("the password was echoed")
	}

	r = runCLI(t, env, "", "workspace", "list")
	if r.err != nil || !strings.Contains(r.stdout, "riverside") {
		t.Errorf("workspace list: %v %q", r.err, r.stdout)
	}

	// The same slug again is refused with the store's message.
	r = runCLI(t, env, "owner-password-123\n", "workspace", "create",
		"--name", "Other", "--slug", "riverside", "--owner-email", "x@riverside.test")
	if r.err == nil || exitCode(r.err) != 1 {
		t.Errorf("duplicate slug: %v", r.err)
	}

	r = runCLI(t, env, "zoe-password-1234\n", "user", "create", "--workspace", "riverside",
		"--email", "zoe@riverside.test", "--given-name", "Zoë", "--family-name", "O'Connor", "--role", "practitioner")
	if r.err != nil || !strings.Contains(r.stdout, "Created Zoë O'Connor <zoe@riverside.test> (Practitioner)") {
		t.Fatalf("user create: %v %q %s", r.err, r.stdout, r.stderr)
	}
	r = runCLI(t, env, "", "user", "create", "--workspace", "riverside", "--no-password",
		"--email", "jose@riverside.test", "--given-name", "José", "--family-name", "Núñez", "--role", "receptionist")
	if r.err != nil || !strings.Contains(r.stdout, "no password yet") {
		t.Fatalf("user create --no-password: %v %q %s", r.err, r.stdout, r.stderr)
	}

	// Bad input says what to fix and creates nothing.
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"--email", "a@riverside.test", "--given-name", "A", "--family-name", "B"}, "no password on standard input"},
		{"short\n", []string{"--email", "a@riverside.test", "--given-name", "A", "--family-name", "B"}, "at least 12 characters"},
		{"long-enough-password\n", []string{"--email", "not-an-email", "--given-name", "A", "--family-name", "B"}, "email"},
		{"long-enough-password\n", []string{"--email", "a@riverside.test", "--given-name", "A", "--family-name", "B", "--role", "boss"}, "Choose a role"},
		{"long-enough-password\n", []string{"--email", "ZOE@riverside.test", "--given-name", "A", "--family-name", "B"}, "create user"},
	} {
		r = runCLI(t, env, tc.stdin, append([]string{"user", "create", "--workspace", "riverside"}, tc.args...)...)
		if r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
			t.Errorf("user create %v: error %v, want it to mention %q", tc.args, r.err, tc.want)
		}
	}
	r = runCLI(t, env, "long-enough-password\n", "user", "create", "--workspace", "nowhere",
		"--email", "a@x.test", "--given-name", "A", "--family-name", "B")
	if r.err == nil || !strings.Contains(r.err.Error(), `no workspace with slug "nowhere"`) {
		t.Errorf("unknown workspace: %v", r.err)
	}

	r = runCLI(t, env, "", "apikey", "create", "--workspace", "riverside", "--name", "sync",
		"--scopes", "groups:read,groups:write", "--expires", "2099-01-01")
	if r.err != nil {
		t.Fatalf("apikey create: %v %s", r.err, r.stderr)
	}
	token := lastLine(r.stdout)
	if !strings.HasPrefix(token, "cohort_") || strings.Contains(token, " ") {
		t.Fatalf("apikey create: last line %q is not the token alone:\n%s", token, r.stdout)
	}
	r = runCLI(t, env, "", "apikey", "list", "--workspace", "riverside")
	if r.err != nil || !strings.Contains(r.stdout, "sync") || !strings.Contains(r.stdout, "groups:read,groups:write") || strings.Contains(r.stdout, token) {
		t.Fatalf("apikey list: %v\n%s", r.err, r.stdout)
	}
	keyID := strings.Fields(strings.Split(strings.TrimSpace(r.stdout), "\n")[1])[0]
	r = runCLI(t, env, "", "apikey", "revoke", keyID, "--workspace", "riverside")
	if r.err != nil {
		t.Fatalf("apikey revoke: %v", r.err)
	}
	r = runCLI(t, env, "", "apikey", "list", "--workspace", "riverside")
	if !strings.Contains(r.stdout, "revoked") {
		t.Errorf("after revoke: %s", r.stdout)
	}

	// A webhook may not target the internal network unless allowed (the
	// tests have no outside network, so the allowed case is loopback).
	r = runCLI(t, env, "", "webhook", "create", "--workspace", "riverside", "--url", "https://127.0.0.1:9/cohort",
		"--events", "group.created,group.archived")
	if r.err == nil || !strings.Contains(r.err.Error(), "COHORT_WEBHOOK_ALLOW_PRIVATE") {
		t.Errorf("webhook to loopback without --webhook-allow-private: %v", r.err)
	}
	r = runCLI(t, env, "", "webhook", "create", "--workspace", "riverside", "--url", "http://127.0.0.1:9/cohort",
		"--events", "group.created,group.archived", "--webhook-allow-private")
	if r.err != nil {
		t.Fatalf("webhook create: %v %s", r.err, r.stderr)
	}
	secret := lastLine(r.stdout)
	if len(secret) < 16 || strings.Contains(secret, " ") {
		t.Fatalf("webhook create: last line %q is not the secret alone:\n%s", secret, r.stdout)
	}
	r = runCLI(t, env, "", "webhook", "list", "--workspace", "riverside")
	if r.err != nil || !strings.Contains(r.stdout, "http://127.0.0.1:9/cohort") {
		t.Fatalf("webhook list: %v %s", r.err, r.stdout)
	}
	hookID := strings.Fields(strings.Split(strings.TrimSpace(r.stdout), "\n")[1])[0]
	if r = runCLI(t, env, "", "webhook", "delete", "--workspace", "riverside", hookID); r.err != nil {
		t.Fatalf("webhook delete: %v", r.err)
	}
	r = runCLI(t, env, "", "webhook", "list", "--workspace", "riverside")
	if strings.Contains(r.stdout, hookID) {
		t.Errorf("deleted webhook still listed: %s", r.stdout)
	}

	// The audit log says the command line made these changes.
	db, err := sqlstore.Open(t.Context(), env["COHORT_DB"], sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := db.Services().Workspaces.FindWorkspaceBySlug(t.Context(), "riverside")
	if err != nil {
		t.Fatal(err)
	}
	actx := cohort.NewContextWithActor(t.Context(), cohort.SystemActor(ws.ID, "test"))
	page, err := db.Services().Audit.FindAuditEntries(actx, cohort.AuditFilter{Action: cohort.ActionUserCreated})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) < 2 {
		t.Errorf("%d user.created audit entries, want the two CLI-created users", len(page.Entries))
	}
	cliEntries := 0
	for _, a := range page.Entries {
		// The owner is created with the workspace, before there is a
		// workspace to act in; `user create` acts as the "cli" actor.
		if a.TargetName == "Amara Okafor" {
			continue
		}
		if a.ActorName != "cli" || a.Via != cohort.ViaCLI {
			t.Errorf("audit entry %s %s: actor %q via %q, want cli via cli", a.Action, a.TargetName, a.ActorName, a.Via)
		}
		cliEntries++
	}
	if cliEntries == 0 {
		t.Error("no audit entry for the CLI's user create")
	}
	db.Close()

	if r = runCLI(t, env, "", "migrate"); r.err != nil || !strings.Contains(r.stdout, "up to date") {
		t.Errorf("migrate: %v %q", r.err, r.stdout)
	}

	if os.Getenv("COHORT_TEST_ENGINE") != "postgres" {
		backup := filepath.Join(t.TempDir(), "backup.db")
		if r = runCLI(t, env, "", "backup", "--to", backup); r.err != nil {
			t.Fatalf("backup: %v", r.err)
		}
		// The copy is a working database with the same data.
		r = runCLI(t, map[string]string{"COHORT_DB": backup}, "", "workspace", "list")
		if r.err != nil || !strings.Contains(r.stdout, "riverside") {
			t.Errorf("backup copy: %v %q", r.err, r.stdout)
		}
		r = runCLI(t, env, "", "backup", "--to", backup)
		if r.err == nil || !strings.Contains(r.err.Error(), "already exists") {
			t.Errorf("backup over an existing file: %v", r.err)
		}
	}
}

func TestServeStopsCleanlyAndReportsABusyPort(t *testing.T) {
	t.Parallel()
	dsn := testDSN(t)
	s := startServer(t, nil, "--db", dsn)
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || strings.HasSuffix(s.URL, ":0") {
		t.Fatalf("printed URL %q is not the real port", s.URL)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
	hostport := strings.TrimPrefix(s.URL, "http://")
	r := runCLI(t, nil, "", "serve", "--db", filepath.Join(t.TempDir(), "other.db"), "--addr", hostport)
	if r.err == nil || !strings.Contains(r.err.Error(), "choose another with --addr") {
		t.Errorf("second server on a busy port: %v", r.err)
	}
	s.stop()
	err := <-s.done
	s.done <- err
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("serve after cancel: %v", err)
	}
	if !strings.Contains(s.stderr.String(), "stopped") {
		t.Errorf("no shutdown log:\n%s", s.stderr)
	}
}

func TestServeHTTPS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pool := writeSelfSignedCert(t, certFile, keyFile)

	s := startServer(t, nil, "--db", testDSN(t), "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(s.URL, "https://127.0.0.1:") {
		t.Fatalf("printed URL %q is not https", s.URL)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(s.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("GET /healthz over TLS: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}

	r := runCLI(t, nil, "", "serve", "--db", testDSN(t), "--addr", "127.0.0.1:0", "--tls-cert", keyFile, "--tls-key", keyFile)
	if r.err == nil || !strings.Contains(r.err.Error(), "--tls-cert") || strings.Contains(r.stdout, "running at") {
		t.Errorf("serve with a wrong certificate file: %v\n%s", r.err, r.stdout)
	}
}

// writeSelfSignedCert writes a certificate for 127.0.0.1 and its key, and
// returns a pool that trusts it.
func writeSelfSignedCert(t *testing.T, certFile, keyFile string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}
