package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// process is one `cohort serve` started from the built binary.
type process struct {
	cmd    *exec.Cmd
	URL    string
	stderr *syncBuffer
	exited chan error
}

// buildCohort compiles the binary, once per test run: separate processes
// share nothing but the database, as instances in production do.
func buildCohort(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "cohort-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.dir = dir
		bin := filepath.Join(dir, "cohort")
		out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		built.bin = bin
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// built is the binary buildCohort made; TestMain removes it.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	stopChromium()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

func startProcess(t *testing.T, bin string, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	p := &process{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	urlCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := runningRE.FindStringSubmatch(sc.Text()); m != nil {
				urlCh <- m[1]
			}
		}
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	select {
	case p.URL = <-urlCh:
	case err := <-p.exited:
		t.Fatalf("cohort serve exited before printing its URL: %v\n%s", err, p.stderr)
	case <-time.After(2 * time.Minute):
		t.Fatalf("cohort serve printed no URL\n%s", p.stderr)
	}
	return p
}

// session is a signed-in browser session used over plain HTTP.
type session struct {
	t      *testing.T
	cookie *http.Cookie
	csrf   string
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func signInHTTP(t *testing.T, base, email, password string) *session {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on the sign-in page:\n%s", body)
	}
	resp, err = c.PostForm(base+"/signin", url.Values{
		"csrf_token": {html.UnescapeString(string(m[1]))}, "email": {email}, "password": {password},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, _ := url.Parse(base)
	s := &session{t: t}
	for _, ck := range jar.Cookies(u) {
		if strings.Contains(strings.ToLower(ck.Name), "session") {
			s.cookie = ck
		}
	}
	if s.cookie == nil {
		t.Fatalf("no session cookie after signing in as %s (status %d)", email, resp.StatusCode)
	}
	return s
}

// do sends one request with the session cookie only, to any instance.
func (s *session) do(method, target string, form url.Values) (int, string) {
	s.t.Helper()
	var body io.Reader
	if form != nil {
		if s.csrf != "" {
			form.Set("csrf_token", s.csrf)
		}
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.AddCookie(s.cookie)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(b); m != nil {
		s.csrf = html.UnescapeString(string(m[1]))
	}
	return resp.StatusCode, string(b)
}

// groupIDs lists the groups of one tab of the Groups page: name → ID.
func (s *session) groupIDs(base, status string) map[string]string {
	s.t.Helper()
	code, page := s.do("GET", base+"/settings/groups?status="+status, nil)
	if code != http.StatusOK {
		s.t.Fatalf("GET %s/settings/groups: %d\n%s", base, code, page)
	}
	out := map[string]string{}
	rowRE := regexp.MustCompile(`(?s)data-group-id="([^"]+)".*?class="group-name">([^<]+)</a>`)
	for _, m := range rowRE.FindAllStringSubmatch(page, -1) {
		out[html.UnescapeString(m[2])] = m[1]
	}
	return out
}

// TestTwoInstancesShareOnePostgreSQL runs two `cohort serve` processes on
// one database: a change through one is seen at once through
// the other, live updates cross instances, a session from one is valid on
// the other, and killing one leaves the other serving.
func TestTwoInstancesShareOnePostgreSQL(t *testing.T) {
	t.Parallel()
	dsn := postgresDSN(t)
	bin := buildCohort(t)
	env := []string{"COHORT_DEMO_PASSWORD=" + testDemoPassword, "COHORT_LOG_LEVEL=warn"}
	a := startProcess(t, bin, env, "--demo", "--db", dsn)
	b := startProcess(t, bin, env, "--db", dsn)

	// Signed in on A; the same cookie is used on B.
	s := signInHTTP(t, a.URL, "owner@demo.test", testDemoPassword)
	if code, page := s.do("GET", b.URL+"/settings/groups", nil); code != http.StatusOK || !strings.Contains(page, "Physiotherapists") {
		t.Fatalf("A's session on B: %d\n%.500s", code, page)
	}

	// Live updates on B hear about a change made through A.
	streamCtx, endStream := context.WithCancel(context.Background())
	defer endStream()
	req, _ := http.NewRequestWithContext(streamCtx, "GET", b.URL+"/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.AddCookie(s.cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("open B's live stream: %v %v", err, resp)
	}
	defer resp.Body.Close()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()

	// Created through A (with a CSRF token from B's page: the token is the
	// session's, not the instance's) …
	s.do("GET", b.URL+"/settings/groups/new", nil)
	code, page := s.do("POST", a.URL+"/settings/groups/new", url.Values{"name": {"Falls prevention"}, "op": {"save"}})
	if code != http.StatusSeeOther && code != http.StatusFound {
		t.Fatalf("create through A: %d\n%.800s", code, page)
	}
	// … is listed through B at once.
	id := s.groupIDs(b.URL, "active")["Falls prevention"]
	if id == "" {
		t.Fatalf("B does not list the group created through A: %v", s.groupIDs(b.URL, "active"))
	}
	waitForLine(t, lines, id, "B's live stream never reported the group created through A")

	// Archived through B, seen as archived through A at once.
	s.do("GET", b.URL+"/settings/groups", nil)
	if code, page := s.do("POST", b.URL+"/settings/groups/"+id+"/archive", url.Values{}); code >= 400 {
		t.Fatalf("archive through B: %d\n%.800s", code, page)
	}
	if _, ok := s.groupIDs(a.URL, "active")["Falls prevention"]; ok {
		t.Error("A still lists the group B archived as active")
	}
	if s.groupIDs(a.URL, "archived")["Falls prevention"] != id {
		t.Error("A does not list the group B archived under Archived")
	}

	// Killing A leaves B and its users alone.
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-a.exited
	if code, _ := s.do("GET", b.URL+"/readyz", nil); code != http.StatusOK {
		t.Errorf("B not ready after A was killed: %d", code)
	}
	s.do("GET", b.URL+"/settings/groups", nil)
	if code, page := s.do("POST", b.URL+"/settings/groups/new", url.Values{"name": {"Balance clinic"}, "op": {"save"}}); code >= 400 {
		t.Errorf("B cannot create a group after A was killed: %d\n%.500s", code, page)
	}
	if _, ok := s.groupIDs(b.URL, "active")["Balance clinic"]; !ok {
		t.Error("B does not list the group it created after A was killed")
	}

	// B stops cleanly on SIGTERM.
	endStream()
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-b.exited; err != nil {
		t.Errorf("B after SIGTERM: %v\n%s", err, b.stderr)
	}
}

// waitForLine reads stream lines until one contains want. The bound only
// keeps a broken stream from hanging the run.
func waitForLine(t *testing.T, lines <-chan string, want, failure string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal(failure + ": the stream ended")
			}
			if strings.Contains(l, want) {
				return
			}
		case <-deadline:
			t.Fatal(failure)
		}
	}
}

// TestSIGTERMUnderLoad stops a real `cohort serve` process while clients
// keep sending requests: it exits 0, and every request it accepted is
// answered; later ones are refused at connect, which a load balancer
// retries on another instance.
func TestSIGTERMUnderLoad(t *testing.T) {
	t.Parallel()
	bin := buildCohort(t)
	p := startProcess(t, bin, []string{"COHORT_LOG_LEVEL=warn"}, "--db", testDSN(t))

	type outcome struct {
		status int
		err    error
	}
	results := make(chan outcome, 10000)
	stop := make(chan struct{})
	done := make(chan struct{})
	const clients = 4
	for range clients {
		go func() {
			defer func() { done <- struct{}{} }()
			// One connection per request: a kept-alive connection that the
			// server closes as idle while the client reuses it fails in a
			// way no server can prevent. TestGracefulShutdown checks, from
			// the server's access log, that every accepted request is answered.
			c := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := c.Get(p.URL + "/readyz")
				if err != nil {
					results <- outcome{err: err}
					if refusedAtConnect(err) {
						return // the listener is closed: shutdown has begun
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				results <- outcome{status: resp.StatusCode}
			}
		}()
	}
	// Let every client get requests answered before the signal.
	answered := 0
	for range clients * 5 {
		if o := <-results; o.err != nil || o.status != http.StatusOK {
			t.Fatalf("before SIGTERM: %+v", o)
		}
		answered++
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-p.exited; err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, p.stderr)
	}
	close(stop)
	for range clients {
		<-done
	}
	close(results)
	for o := range results {
		switch {
		case o.err == nil && o.status == http.StatusOK:
			answered++
		case o.err != nil && refusedAtConnect(o.err):
		default:
			t.Errorf("a request failed during shutdown: status %d, %v", o.status, o.err)
		}
	}
	t.Logf("%d requests answered, then SIGTERM; exit 0", answered)
}

// refusedAtConnect reports whether a request never reached the server: the
// listener was closed (refused), or the connection was still in the
// kernel's accept queue when the listener closed (reset before any byte of
// an answer), which a load balancer retries on another instance.
func refusedAtConnect(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF)
}
