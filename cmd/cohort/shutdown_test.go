package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMDrainsWritesAndDeliveries stops a real `cohort serve` while
// API clients keep writing and a webhook delivery is in flight to a slow
// receiver. Within --shutdown-timeout (COHORT_SHUTDOWN_TIMEOUT) the server
// answers every write it accepted, lets the delivery finish and records
// it as delivered, and exits 0; every acknowledged write is in the
// database. Requests after the listener closed are refused at connect.
func TestSIGTERMDrainsWritesAndDeliveries(t *testing.T) {
	t.Parallel()
	bin := buildCohort(t)
	dsn := testDSN(t)
	env := map[string]string{"COHORT_WEBHOOK_ALLOW_PRIVATE": "true"}
	token := setUpWorkspace(t, dsn, "drain")

	// The receiver holds every delivery until released, so one is surely
	// in flight when the signal comes.
	inFlight := make(chan string, 100)
	release := make(chan struct{})
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inFlight <- r.Header.Get("Cohort-Event-Id")
		<-release
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()
	var releaseOnce sync.Once
	defer releaseOnce.Do(func() { close(release) })
	if r := runCLI(t, env, "", "webhook", "create", "--db", dsn, "--workspace", "drain", "--url", receiver.URL, "--events", "*"); r.err != nil {
		t.Fatalf("webhook create: %v\n%s", r.err, r.stderr)
	}

	p := startProcess(t, bin, []string{"COHORT_LOG_LEVEL=info", "COHORT_WEBHOOK_ALLOW_PRIVATE=true", "COHORT_SHUTDOWN_TIMEOUT=30s", "COHORT_RATE_LIMIT=0"}, "--db", dsn)

	type outcome struct {
		requestID string
		status    int
		id        string
		err       error
	}
	results := make(chan outcome, 100000)
	var acks atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			c := &http.Client{Timeout: time.Minute}
			for n := 0; ; n++ {
				o := outcome{requestID: fmt.Sprintf("drain-%d-%d", w, n)}
				var body []byte
				o.status, body, o.err = createWithKey(c, p.URL, token, o.requestID)
				if o.err == nil && o.status == http.StatusCreated {
					o.id = groupID(body)
					acks.Add(1)
				}
				results <- o
				if errors.Is(o.err, syscall.ECONNREFUSED) {
					return // the listener is closed: shutdown has begun
				}
			}
		})
	}

	// A delivery is in flight and writes are flowing: stop the server.
	var event string
	select {
	case event = <-inFlight:
	case <-time.After(time.Minute):
		t.Fatalf("no webhook delivery started\n%s", p.stderr)
	}
	for acks.Load() < 50 {
		select {
		case err := <-p.exited:
			t.Fatalf("exited under load: %v\n%s", err, p.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Once the server is draining, let the delivery finish.
	for !strings.Contains(p.stderr.String(), "shutting down") {
		select {
		case err := <-p.exited:
			t.Fatalf("exited before draining: %v\n%s", err, p.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	releaseOnce.Do(func() { close(release) })
	if err := <-p.exited; err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, p.stderr)
	}
	wg.Wait()
	close(results)

	// The server's access log names every request it accepted. Each of
	// them must have reached the client as a success; a request that got
	// no answer must be one the server never accepted (its connection
	// was refused or closed before the request was read).
	logged := map[string]string{}
	for _, m := range accessLogRE.FindAllStringSubmatch(p.stderr.String(), -1) {
		logged[m[2]] = m[1]
	}
	var acked []string
	cut := 0
	for o := range results {
		status, accepted := logged[o.requestID]
		switch {
		case o.err == nil && o.status == http.StatusCreated:
			acked = append(acked, o.id)
		case o.err != nil && !accepted:
			cut++
		default:
			t.Errorf("request %s failed during shutdown: client saw %d %v; server logged %q", o.requestID, o.status, o.err, status)
		}
	}
	for id, status := range logged {
		if status != "201" {
			t.Errorf("request %s was answered %s", id, status)
		}
	}
	db := openCheckDB(t, dsn)
	for _, id := range acked {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM groups WHERE id = $1`, id).Scan(&n); err != nil || n != 1 {
			t.Errorf("acknowledged group %s missing after shutdown (%v)", id, err)
		}
	}
	var status string
	if err := db.QueryRow(`SELECT status FROM deliveries WHERE event_id = $1`, event).Scan(&status); err != nil || status != "delivered" {
		t.Errorf("the delivery in flight at SIGTERM is %q (%v), want delivered", status, err)
	}
	t.Logf("%d writes acknowledged around SIGTERM, all kept; %d never accepted (listener closed); the delivery in flight finished before exit 0", len(acked), cut)
}

// accessLogRE finds the status and request ID of each logged API write.
var accessLogRE = regexp.MustCompile(`msg=request method=POST path=/api/v1/groups .*?status=(\d+) .*?request_id=(\S+)`)

// createWithKey creates a group as a careful client does: with an
// Idempotency-Key, which makes the POST safe to retry, so the HTTP client
// resends it when the server closes an idle connection just as it was
// reused (as it does when shutdown begins). The request ID is also the
// group's name and the key.
func createWithKey(c *http.Client, base, token, requestID string) (int, []byte, error) {
	b, _ := json.Marshal(map[string]any{"name": requestID})
	req, err := http.NewRequest("POST", base+"/api/v1/groups", bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", requestID)
	req.Header.Set("X-Request-Id", requestID)
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

func groupID(body []byte) string {
	var g struct{ ID string }
	_ = json.Unmarshal(body, &g)
	return g.ID
}
