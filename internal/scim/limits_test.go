package scim_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/scim"
	"github.com/cohorthq/cohort/internal/server"
	"github.com/cohorthq/cohort/internal/sqlstore/sqltest"
)

// TestBodyLimit: a body over scim.MaxBodyBytes is refused with 413 and
// changes nothing, whether its size is declared (the server refuses it
// unread) or not (SCIM stops reading at the limit and answers its own
// error); a members replacement naming 50,000 users fits.
func TestBodyLimit(t *testing.T) {
	if scim.MaxBodyBytes > 6<<20 {
		t.Errorf("MaxBodyBytes = %d: more than the 6 MiB docs/scim.md promises", scim.MaxBodyBytes)
	}
	// 50,000 member references with a UUID value and a display name.
	var b strings.Builder
	b.WriteString(`{"schemas":["` + scim.SchemaGroup + `"],"displayName":"All staff","members":[`)
	for i := range 50000 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"value":"0190f5a8-7c3e-7b1a-9d2e-%012d","display":"Given%05d Family%05d"}`, i, i, i)
	}
	b.WriteString(`]}`)
	if b.Len() > scim.MaxBodyBytes {
		t.Errorf("a 50,000-member replacement is %d bytes, over the limit %d", b.Len(), scim.MaxBodyBytes)
	}

	e := newEnv(t)
	over := `{"schemas":["` + scim.SchemaGroup + `"],"displayName":"` + strings.Repeat("x", scim.MaxBodyBytes) + `"}`
	// Declared by Content-Length: the server refuses it before SCIM
	// reads it, still as a SCIM error body.
	if d, _ := e.do(t, "POST", "/Groups", over).scimError(t, http.StatusRequestEntityTooLarge, "")["detail"].(string); !strings.Contains(d, "6 MiB") {
		t.Errorf("detail %q does not name the limit", d)
	}
	// Streamed without a length: SCIM's own 413.
	req, err := http.NewRequestWithContext(t.Context(), "POST", e.base+"/Groups", io.MultiReader(strings.NewReader(over)))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1
	req.Header.Set("Content-Type", scim.ContentType)
	req.Header.Set("Authorization", "Bearer "+e.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	r := &resp{status: res.StatusCode, header: res.Header, body: body}
	if d, _ := r.scimError(t, http.StatusRequestEntityTooLarge, "")["detail"].(string); !strings.Contains(d, "6 MiB") {
		t.Errorf("detail %q does not name the limit", d)
	}
	if n := e.do(t, "GET", "/Groups", nil).total(t); n != 0 {
		t.Errorf("a refused body created %d groups", n)
	}
}

// TestFilterScanBound: a filter the database cannot answer exactly is
// evaluated in Go over the candidates only when there are at most
// MaxScan of them; more are refused with 400 tooMany before any is
// examined, and a narrowing eq the database answers still works.
func TestFilterScanBound(t *testing.T) {
	e := newEnv(t, scim.WithMaxScan(5))
	for i := range 6 {
		e.user(t, e.sysCtx, fmt.Sprintf("staff%d@example.com", i), "Staff", fmt.Sprintf("Member%d", i))
	}
	for i := range 6 {
		e.group(t, e.sysCtx, fmt.Sprintf("Team %d", i))
	}
	// 7 users (the owner too) and 6 groups are candidates: over 5.
	e.do(t, "GET", `/Users?filter=`+url.QueryEscape(`userName co "staff"`), nil).scimError(t, http.StatusBadRequest, "tooMany")
	e.do(t, "GET", `/Groups?filter=`+url.QueryEscape(`displayName sw "Team"`), nil).scimError(t, http.StatusBadRequest, "tooMany")
	// An eq the store answers narrows the candidates under the bound.
	if n := e.do(t, "GET", `/Users?filter=`+url.QueryEscape(`userName eq "staff3@example.com" and name.familyName co "3"`), nil).total(t); n != 1 {
		t.Errorf("narrowed filter: %d results, want 1", n)
	}
	// The exact pushdown has no bound: it is one query.
	if n := e.do(t, "GET", `/Users?filter=`+url.QueryEscape(`active eq true`), nil).total(t); n != 7 {
		t.Errorf("active eq true: %d, want 7", n)
	}
}

// countingGroups counts FindMembers calls on a real store.
type countingGroups struct {
	cohort.GroupService
	findMembers atomic.Int64
}

func (c *countingGroups) FindMembers(ctx context.Context, groupID string, f cohort.UserFilter) (*cohort.UserPage, error) {
	c.findMembers.Add(1)
	return c.GroupService.FindMembers(ctx, groupID, f)
}

// TestMemberFilterCost: a members filter the store cannot answer exactly
// asks about each user it names once, not once per group examined, and
// still answers exactly.
func TestMemberFilterCost(t *testing.T) {
	db := sqltest.Open(t)
	svc := db.Services()
	groups := &countingGroups{GroupService: svc.Groups}
	svc.Groups = groups
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(server.New(server.Config{}, svc, logger, scim.New(svc, logger).Routes()))
	t.Cleanup(srv.Close)
	e := &env{svc: svc, srv: srv, base: srv.URL + scim.Base}
	e.ws, e.owner, e.sysCtx = e.newWorkspace(t)
	e.token, _ = e.key(t, e.sysCtx, "okta", cohort.ScopeSCIM)

	a := e.user(t, e.sysCtx, "a@example.com", "Ann", "A")
	b := e.user(t, e.sysCtx, "b@example.com", "Ben", "B")
	want := map[string]bool{}
	for i := range 30 {
		var members []string
		switch i % 3 {
		case 0:
			members = []string{a.ID}
		case 1:
			members = []string{b.ID}
		}
		g := e.group(t, e.sysCtx, fmt.Sprintf("Team %02d", i), members...)
		if len(members) > 0 {
			want[g.ID] = true
		}
	}
	groups.findMembers.Store(0)
	f := `members[value eq "` + a.ID + `" or value eq "` + b.ID + `"]`
	got := e.do(t, "GET", "/Groups?count=100&excludedAttributes=members&filter="+url.QueryEscape(f), nil).ids(t)
	if len(got) != len(want) {
		t.Errorf("%d groups, want %d", len(got), len(want))
	}
	for _, id := range got {
		if !want[id] {
			t.Errorf("group %s is not a member's", id)
		}
	}
	if n := groups.findMembers.Load(); n > 2 {
		t.Errorf("%d member queries for 30 groups and 2 users named: one per group examined", n)
	}
}
