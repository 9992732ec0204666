package web_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/httpx"
	"github.com/cohorthq/cohort/internal/web"
)

// failingGroups answers CountGroups, the first thing the Groups page asks,
// with err.
type failingGroups struct {
	cohort.GroupService
	err error
}

func (g failingGroups) CountGroups(context.Context) (int, int, error) { return 0, 0, g.err }

// TestErrorPages checks the pages' one table from a domain error code to
// the answer, through a handler that returns the service's error as is.
func TestErrorPages(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err      error
		status   int
		title    string
		location string
	}{
		{cohort.Errorf(cohort.ENOTFOUND, "No such thing."), http.StatusNotFound, "Not found", ""},
		{cohort.Errorf(cohort.EFORBIDDEN, "Not for you."), http.StatusForbidden, "Not allowed", ""},
		{cohort.Errorf(cohort.EUNAVAILABLE, "Read-only for a moment."), http.StatusServiceUnavailable, "Cohort is unavailable", ""},
		{cohort.Errorf(cohort.ERATELIMIT, "Slow down."), http.StatusTooManyRequests, "Too many requests", ""},
		{cohort.Errorf(cohort.EINVALID, "Bad value."), http.StatusUnprocessableEntity, "Not changed", ""},
		{cohort.Errorf(cohort.ECONFLICT, "Taken."), http.StatusConflict, "Not changed", ""},
		{cohort.Errorf(cohort.ESTALE, "Changed meanwhile."), http.StatusConflict, "Not changed", ""},
		{cohort.Errorf(cohort.EARCHIVED, "Archived."), http.StatusConflict, "Not changed", ""},
		{fmt.Errorf("counting: %w", cohort.Errorf(cohort.EUNAUTHORIZED, "Sign in.")), http.StatusSeeOther, "", "/signin"},
		{errors.New("disk on fire"), http.StatusInternalServerError, "Internal error", ""},
	} {
		t.Run(cohort.ErrorCode(c.err), func(t *testing.T) {
			t.Parallel()
			logs := &errorLog{}
			h, err := web.New(cohort.Services{Groups: failingGroups{err: c.err}}, slog.New(logs), web.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var page http.Handler
			for _, rt := range h.Routes() {
				if rt.Method == "GET" && rt.Pattern == "/settings/groups" {
					page = rt.Handler
				}
			}
			ctx := cohort.NewContextWithActor(t.Context(), cohort.Actor{WorkspaceID: "ws", UserID: "u", Role: cohort.RolePracticeManager})
			ctx = httpx.WithRequestID(ctx, "req-42")
			rec := httptest.NewRecorder()
			page.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", "/settings/groups", nil))
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d", rec.Code, c.status)
			}
			if c.location != "" {
				if got := rec.Header().Get("Location"); got != c.location {
					t.Errorf("Location %q, want %q", got, c.location)
				}
				return
			}
			body := rec.Body.String()
			if !strings.Contains(body, "<h1>"+c.title+"</h1>") {
				t.Errorf("no title %q:\n%s", c.title, body)
			}
			logs.mu.Lock()
			lines := logs.lines
			logs.mu.Unlock()
			if c.status != http.StatusInternalServerError {
				if !strings.Contains(body, cohort.ErrorMessage(c.err)) {
					t.Errorf("message %q not shown:\n%s", cohort.ErrorMessage(c.err), body)
				}
				if len(lines) != 0 {
					t.Errorf("logged: %q", lines)
				}
				return
			}
			// An internal error is logged once, with the request ID, and
			// the page shows the ID but not the error.
			if strings.Contains(body, "disk on fire") || !strings.Contains(body, "req-42") {
				t.Errorf("internal error page:\n%s", body)
			}
			if len(lines) != 1 || !strings.Contains(lines[0], "request_id=req-42") || !strings.Contains(lines[0], "disk on fire") {
				t.Errorf("logged %q, want one line with the request ID", lines)
			}
		})
	}
}
