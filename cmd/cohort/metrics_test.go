package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var metricsURLRE = regexp.MustCompile(`Prometheus metrics at (\S+)`)

// scrape returns the metrics text.
func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", url, resp.StatusCode, b)
	}
	return string(b)
}

// metricValue returns the value of the sample whose line starts with
// series (name and labels as Prometheus prints them), or -1.
func metricValue(text, series string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

// TestMetricsAndLogs runs cohort serve with --metrics-addr and JSON logs,
// sends requests that carry a password, an API token, a session cookie, a
// webhook secret's delivery and a path with an injected newline, then
// checks the metrics (requests by route and status, latency, pools,
// outbox, delivery failures) and that the log has one JSON object per
// line, each request with its ID, and none of the secrets.
func TestMetricsAndLogs(t *testing.T) {
	t.Parallel()
	dsn := testDSN(t)
	env := map[string]string{"COHORT_LOG_FORMAT": "json", "COHORT_LOG_LEVEL": "debug", "COHORT_WEBHOOK_ALLOW_PRIVATE": "true"}
	const password = "metrics-owner-password-9"
	if r := runCLI(t, env, password+"\n", "workspace", "create", "--db", dsn,
		"--name", "Metrics Practice", "--slug", "metrics", "--owner-email", "owner@metrics.test"); r.err != nil {
		t.Fatalf("workspace create: %v\n%s", r.err, r.stderr)
	}
	r := runCLI(t, env, "", "apikey", "create", "--db", dsn, "--workspace", "metrics", "--name", "metrics", "--scopes", "groups:read,groups:write")
	if r.err != nil {
		t.Fatalf("apikey create: %v\n%s", r.err, r.stderr)
	}
	token := lastLine(r.stdout)
	// A receiver that always fails, so deliveries are counted as failures.
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	defer receiver.Close()
	r = runCLI(t, env, "", "webhook", "create", "--db", dsn, "--workspace", "metrics", "--url", receiver.URL, "--events", "*")
	if r.err != nil {
		t.Fatalf("webhook create: %v\n%s", r.err, r.stderr)
	}
	webhookSecret := lastLine(r.stdout)

	srv := startServer(t, env, "--db", dsn, "--metrics-addr", "127.0.0.1:0")
	m := metricsURLRE.FindStringSubmatch(srv.stdout.String())
	if m == nil {
		t.Fatalf("cohort serve did not print the metrics URL:\n%s", srv.stdout)
	}
	metricsURL := m[1]

	// The main address does not serve metrics.
	if resp, err := http.Get(srv.URL + "/metrics"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("/metrics is served on the main address too")
		}
	}

	status, body, err := apiCall(http.DefaultClient, srv.URL, token, "POST", "/api/v1/groups", map[string]any{"name": "Counted"})
	if err != nil || status != http.StatusCreated {
		t.Fatalf("create group: %d %v %s", status, err, body)
	}
	if status, _, _ := apiCall(http.DefaultClient, srv.URL, token, "GET", "/api/v1/groups", nil); status != http.StatusOK {
		t.Fatalf("list groups: %d", status)
	}
	// A signed-in browser: the sign-in form carries the password; later
	// requests carry the session cookie.
	s := signInHTTP(t, srv.URL, "owner@metrics.test", password)
	if code, _ := s.do("GET", srv.URL+"/settings/groups", nil); code != http.StatusOK {
		t.Fatalf("groups page: %d", code)
	}
	// A path with an encoded newline must not start a log line of its own.
	if resp, err := http.Get(srv.URL + "/nothing%0A%7B%22msg%22:%22forged%22%7D"); err == nil {
		resp.Body.Close()
	}
	// A raw request whose header value hides a bare line feed: the server
	// must not write it into a log line either.
	if conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://")); err == nil {
		_, _ = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: abcdefgh\nforged-line: 1\r\nConnection: close\r\n\r\n")
		_, _ = io.Copy(io.Discard, bufio.NewReader(conn))
		conn.Close()
	}

	// Scrape until the relay has recorded a failed delivery; the bound
	// only keeps a broken relay from hanging the run.
	var text string
	for deadline := time.Now().Add(time.Minute); ; {
		text = scrape(t, metricsURL)
		if metricValue(text, `cohort_webhook_deliveries_total{outcome="failed"}`) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed webhook delivery was counted:\n%s", text)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, series := range []string{
		`cohort_http_requests_total{code="201",route="POST /api/v1/groups"}`,
		`cohort_http_requests_total{code="200",route="GET /api/v1/groups"}`,
		`cohort_http_requests_total{code="200",route="GET /settings/groups"}`,
		`cohort_http_requests_total{code="404",route="unmatched"}`,
		`cohort_http_request_duration_seconds_count{route="POST /api/v1/groups"}`,
		`cohort_webhook_deliveries_total{outcome="delivered"}`,
		`cohort_outbox_lag_events`,
		`cohort_webhook_deliveries_pending`,
		`cohort_db_up`,
		`go_goroutines`,
	} {
		if metricValue(text, series) < 0 {
			t.Errorf("metrics lack %s", series)
		}
	}
	if !strings.Contains(text, `cohort_db_pool_open_connections{pool="`) || !strings.Contains(text, `cohort_db_pool_wait_count_total{pool="`) {
		t.Errorf("metrics lack the database pool statistics:\n%s", text)
	}
	if v := metricValue(text, `cohort_http_requests_total{code="201",route="POST /api/v1/groups"}`); v != 1 {
		t.Errorf("one group was created; the counter says %v", v)
	}

	// The log: one JSON object per line, each request with its ID; no
	// secret anywhere.
	srv.stop()
	if err := <-srv.done; err != nil {
		t.Errorf("cohort serve: %v", err)
	}
	srv.done <- nil // for startServer's cleanup
	log := srv.stderr.String()
	requests := 0
	for _, line := range strings.Split(strings.TrimRight(log, "\n"), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Errorf("a log line is not one JSON object: %q", line)
			continue
		}
		if entry["msg"] == "request" {
			requests++
			if id, _ := entry["request_id"].(string); id == "" {
				t.Errorf("request logged without a request ID: %q", line)
			}
		}
		if entry["msg"] == "forged" {
			t.Errorf("a request forged a log entry: %q", line)
		}
	}
	if requests < 5 {
		t.Errorf("only %d requests were logged:\n%s", requests, log)
	}
	for what, secret := range map[string]string{
		"the password": password, "the API token": token, "the session cookie": s.cookie.Value,
		"the CSRF token": s.csrf, "the webhook secret": webhookSecret,
	} {
		if secret != "" && strings.Contains(log, secret) {
			t.Errorf("the log contains %s", what)
		}
	}
	if !strings.Contains(log, `"path":"/nothing\n{\"msg\":\"forged\"}"`) {
		t.Error("the request with a newline in its path is not logged as one escaped value")
	}
	if strings.Contains(log, "forged-line") {
		t.Error("a header's hidden line feed reached the log")
	}
}
