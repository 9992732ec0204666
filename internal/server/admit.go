package server

import (
	"bytes"
	"net/http"

	"github.com/cohorthq/cohort/internal/httpx"
)

// Reads take turns. A process serves reads with as many at once as
// Config.ReadConcurrency; others wait for a turn, in arrival order. On a
// busy SQLite server this is what keeps writes quick: without it, dozens
// of reads share the CPU with the one writer, every commit waits behind
// them, and the queue for the writer grows to seconds. With it, a write
// competes with a few reads only, and reads wait a few milliseconds for a
// turn instead.
//
// While a read holds its turn its response is kept in memory (up to
// heldBodyMax), and sent after the turn is given back, so a client that
// reads its response slowly never holds a turn. Longer responses (large
// CSV exports) are sent as they are written.
//
// Writes do not take turns (they queue for the database's writer anyway),
// nor do routes marked Stream (the live-event stream) or Quick (health
// checks, static files). The route decides, never a request header.

// heldBodyMax is the most of a response kept while its read holds a turn.
const heldBodyMax = 1 << 20

// admit makes the reads of rt take turns. It returns next unchanged when
// reads are not limited or the route never waits.
func (s *Server) admit(rt httpx.Route, next http.Handler) http.Handler {
	if s.turns == nil || rt.Stream || rt.Quick {
		return next
	}
	turns := s.turns
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case turns <- struct{}{}:
		case <-r.Context().Done():
			return // the client left, or the server is stopping
		}
		if r.Context().Err() != nil {
			<-turns // both were ready: the client has left all the same
			return
		}
		held := &heldWriter{w: w}
		released := false
		release := func() {
			if !released {
				released = true
				<-turns
			}
		}
		defer release() // a panic still gives the turn back
		next.ServeHTTP(held, r)
		release()
		held.send()
	})
}

// heldWriter keeps a response in memory until send, unless it grows past
// heldBodyMax or the handler flushes: then it passes everything through.
type heldWriter struct {
	w      http.ResponseWriter
	code   int
	body   bytes.Buffer
	direct bool
}

func (h *heldWriter) Header() http.Header { return h.w.Header() }

func (h *heldWriter) WriteHeader(code int) {
	switch {
	case h.direct:
		h.w.WriteHeader(code)
	case code >= 100 && code < 200:
		h.w.WriteHeader(code) // informational: not the final status
	case h.code == 0:
		h.code = code
	}
}

func (h *heldWriter) Write(p []byte) (int, error) {
	if h.direct {
		return h.w.Write(p)
	}
	if h.code == 0 {
		h.code = http.StatusOK
	}
	if h.body.Len()+len(p) > heldBodyMax {
		if err := h.passThrough(); err != nil {
			return 0, err
		}
		return h.w.Write(p)
	}
	return h.body.Write(p)
}

// Flush sends what is held and passes the rest through.
func (h *heldWriter) Flush() {
	if err := h.passThrough(); err == nil {
		if f, ok := h.w.(http.Flusher); ok {
			f.Flush()
		}
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (h *heldWriter) Unwrap() http.ResponseWriter { return h.w }

// passThrough writes the held status and body and stops holding.
func (h *heldWriter) passThrough() error {
	if h.direct {
		return nil
	}
	h.direct = true
	if h.code != 0 {
		h.w.WriteHeader(h.code)
	}
	if h.body.Len() == 0 {
		return nil
	}
	_, err := h.w.Write(h.body.Bytes())
	h.body.Reset()
	return err
}

// send writes the held response.
func (h *heldWriter) send() { _ = h.passThrough() }
