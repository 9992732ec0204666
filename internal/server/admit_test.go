package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cohorthq/cohort/internal/httpx"
	"github.com/cohorthq/cohort/internal/server"
)

// With one turn for reads, a read in progress makes the next read wait,
// while writes and health checks go straight through; the waiting read
// is served once the first gives its turn back.
func TestReadsTakeTurns(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var inside, most atomic.Int32
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inside.Add(1)
		defer inside.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		if r.URL.Query().Get("block") != "" {
			<-release
		}
		w.Header().Set("X-Read", "yes")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "read done")
	})
	write := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "write done") })
	s := newServer(t, server.Config{ReadConcurrency: 1},
		httpx.Route{Method: "GET", Pattern: "/read", Public: true, Stateless: true, Handler: slow},
		httpx.Route{Method: "POST", Pattern: "/write", Public: true, Stateless: true, Handler: write})

	first := make(chan string, 1)
	go func() {
		res, err := http.Get(s.URL + "/read?block=1")
		if err != nil {
			first <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		first <- string(b)
	}()
	waitFor(t, func() bool { return inside.Load() == 1 })

	second := make(chan string, 1)
	go func() {
		res, err := http.Get(s.URL + "/read")
		if err != nil {
			second <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		second <- res.Header.Get("X-Read") + " " + res.Status + " " + string(b)
	}()
	// Writes and health checks do not wait for the read's turn.
	if res, body := s.do(t, "POST", "/write", nil, nil); res.StatusCode != 200 || body != "write done" {
		t.Fatalf("write while a read holds the turn: %d %q", res.StatusCode, body)
	}
	if res, _ := s.do(t, "GET", "/healthz", nil, nil); res.StatusCode != 200 {
		t.Fatalf("healthz while a read holds the turn: %d", res.StatusCode)
	}
	select {
	case got := <-second:
		t.Fatalf("the second read was served while the first held the only turn: %q", got)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if got := <-first; got != "read done" {
		t.Fatalf("first read: %q", got)
	}
	if got := <-second; got != "yes 202 Accepted read done" {
		t.Fatalf("second read: %q", got)
	}
	if most.Load() != 1 {
		t.Fatalf("%d reads ran at once with one turn", most.Load())
	}
}

// A held response keeps its status, headers and body; one larger than
// what is held, or one the handler flushes, passes through whole; a
// panicking read gives its turn back.
func TestHeldResponses(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("0123456789abcdef", (3<<20)/16) // 3 MiB
	routes := []httpx.Route{
		{Method: "GET", Pattern: "/small", Public: true, Stateless: true, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "not ")
			io.WriteString(w, "here")
		})},
		{Method: "GET", Pattern: "/big", Public: true, Stateless: true, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i < len(big); i += 4096 {
				io.WriteString(w, big[i:min(i+4096, len(big))])
			}
		})},
		{Method: "GET", Pattern: "/flushed", Public: true, Stateless: true, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "part one;")
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("flush through the held writer: %v", err)
			}
			io.WriteString(w, "part two")
		})},
		{Method: "GET", Pattern: "/boom", Public: true, Stateless: true, Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			panic("boom")
		})},
	}
	s := newServer(t, server.Config{ReadConcurrency: 1}, routes...)
	res, body := s.do(t, "GET", "/small", nil, nil)
	if res.StatusCode != 404 || body != "not here" || res.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("small: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	if res, body := s.do(t, "GET", "/big", nil, nil); res.StatusCode != 200 || body != big {
		t.Fatalf("big: %d, %d bytes of %d", res.StatusCode, len(body), len(big))
	}
	if res, body := s.do(t, "GET", "/flushed", nil, nil); res.StatusCode != 200 || body != "part one;part two" {
		t.Fatalf("flushed: %d %q", res.StatusCode, body)
	}
	for range 3 { // with one turn, a turn kept by a panic would hang the next
		if res, _ := s.do(t, "GET", "/boom", nil, nil); res.StatusCode != 500 {
			t.Fatalf("panic: %d", res.StatusCode)
		}
	}
	if res, body := s.do(t, "GET", "/small", nil, nil); res.StatusCode != 404 || body != "not here" {
		t.Fatalf("after panics: %d %q", res.StatusCode, body)
	}
}

// A client that gives up while waiting for a turn never takes one.
func TestReadWaitingClientLeaves(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var served atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if r.URL.Query().Get("block") != "" {
			<-release
		}
	})
	s := newServer(t, server.Config{ReadConcurrency: 1},
		httpx.Route{Method: "GET", Pattern: "/read", Public: true, Stateless: true, Handler: h})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if res, err := http.Get(s.URL + "/read?block=1"); err == nil {
			res.Body.Close()
		}
	}()
	waitFor(t, func() bool { return served.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/read", nil)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatal("a read was answered while the only turn was held")
	}
	// The server learns that the client left when it reads the closed
	// connection; give it that moment before the turn comes free.
	time.Sleep(200 * time.Millisecond)
	close(release)
	<-done
	if res, _ := s.do(t, "GET", "/read", nil, nil); res.StatusCode != 200 {
		t.Fatalf("after the client left: %d", res.StatusCode)
	}
	if n := served.Load(); n != 2 {
		t.Fatalf("handler ran %d times, want 2 (the abandoned read never ran)", n)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Only a route marked Stream skips the read queue: a request that merely
// says Accept: text/event-stream on an ordinary read waits for its turn.
func TestOnlyStreamRoutesSkipReadQueue(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var served atomic.Int32
	read := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if r.URL.Query().Get("block") != "" {
			<-release
		}
		io.WriteString(w, "read done")
	})
	stream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "stream open") })
	s := newServer(t, server.Config{ReadConcurrency: 1},
		httpx.Route{Method: "GET", Pattern: "/read", Public: true, Stateless: true, Handler: read},
		httpx.Route{Method: "GET", Pattern: "/stream", Public: true, Stateless: true, Stream: true, Handler: stream})

	released := false
	t.Cleanup(func() { // a failed check must not leave the server waiting to close
		if !released {
			close(release)
		}
	})
	first := make(chan struct{})
	go func() {
		defer close(first)
		if res, err := http.Get(s.URL + "/read?block=1"); err == nil {
			res.Body.Close()
		}
	}()
	waitFor(t, func() bool { return served.Load() == 1 })

	if res, body := s.do(t, "GET", "/stream", nil, nil); res.StatusCode != 200 || body != "stream open" {
		t.Fatalf("stream route while a read holds the only turn: %d %q", res.StatusCode, body)
	}
	second := make(chan string, 1)
	go func() {
		req, _ := http.NewRequest("GET", s.URL+"/read", nil)
		req.Header.Set("Accept", "text/event-stream")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			second <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		second <- string(b)
	}()
	select {
	case got := <-second:
		t.Fatalf("a read asking for text/event-stream skipped the queue: %q", got)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	released = true
	<-first
	if got := <-second; got != "read done" {
		t.Fatalf("the waiting read: %q", got)
	}
}

// The write deadline bounds every response except a Stream route's:
// asking for text/event-stream on an ordinary route does not lift it.
func TestWriteDeadlineSparesOnlyStreamRoutes(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	late := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(3 * timeout) // past any deadline set when the request came in
		io.WriteString(w, "late")
	})
	s := newServer(t, server.Config{WriteTimeout: timeout},
		httpx.Route{Method: "GET", Pattern: "/read", Public: true, Stateless: true, Handler: late},
		httpx.Route{Method: "GET", Pattern: "/stream", Public: true, Stateless: true, Stream: true, Handler: late})

	get := func(path string) (string, error) {
		req, _ := http.NewRequest("GET", s.URL+path, nil)
		req.Header.Set("Accept", "text/event-stream")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return string(b), err
	}
	if body, err := get("/read"); err == nil && body == "late" {
		t.Fatal("an ordinary read asking for text/event-stream was answered after its write deadline")
	}
	if body, err := get("/stream"); err != nil || body != "late" {
		t.Fatalf("the stream route: %q, %v; want its answer despite the write deadline", body, err)
	}
}
