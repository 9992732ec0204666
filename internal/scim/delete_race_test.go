package scim_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/scim"
	"github.com/cohorthq/cohort/internal/server"
	"github.com/cohorthq/cohort/internal/sqlstore/sqltest"
)

// interleaved runs a write of someone else's between the SCIM handler's
// read of a resource and its archive of it: the moment a lost update
// needs.
type interleaved struct {
	cohort.GroupService
	before func()
}

func (s *interleaved) ArchiveGroup(ctx context.Context, id string, ifVersion int64) (*cohort.Group, error) {
	s.run()
	return s.GroupService.ArchiveGroup(ctx, id, ifVersion)
}

type interleavedUsers struct {
	cohort.UserService
	s *interleaved
}

func (u interleavedUsers) ArchiveUser(ctx context.Context, id string, ifVersion int64) (*cohort.User, error) {
	u.s.run()
	return u.UserService.ArchiveUser(ctx, id, ifVersion)
}

// UpdateUser runs the change in between too: a SCIM DELETE deprovisions
// with one UpdateUser.
func (u interleavedUsers) UpdateUser(ctx context.Context, id string, upd cohort.UserUpdate) (*cohort.User, error) {
	u.s.run()
	return u.UserService.UpdateUser(ctx, id, upd)
}

func (s *interleaved) run() {
	if f := s.before; f != nil {
		s.before = nil
		f()
	}
}

// A SCIM DELETE with If-Match names the version the client read; a change
// committed after the handler read the resource and before it archived
// must make the DELETE fail with 412, not be overwritten by the archive.
func TestDeleteIfMatchHoldsUntilTheArchive(t *testing.T) {
	db := sqltest.Open(t)
	svc := db.Services()
	ws, _, err := svc.Workspaces.CreateWorkspace(t.Context(), cohort.WorkspaceCreate{Name: "Race Practice", Slug: "race",
		Owner: cohort.UserCreate{Email: "owner@race.test", GivenName: "Olive", FamilyName: "Owner"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := cohort.NewContextWithActor(t.Context(), cohort.SystemActor(ws.ID, "test"))
	_, token, err := svc.APIKeys.CreateAPIKey(ctx, cohort.APIKeyCreate{Name: "okta", Scopes: []cohort.Scope{cohort.ScopeSCIM}})
	if err != nil {
		t.Fatal(err)
	}
	wrapped := &interleaved{GroupService: svc.Groups}
	wsvc := svc
	wsvc.Groups = wrapped
	wsvc.Users = interleavedUsers{UserService: svc.Users, s: wrapped}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(server.New(server.Config{}, wsvc, logger, scim.New(wsvc, logger).Routes()))
	t.Cleanup(srv.Close)
	del := func(path string, version int64) int {
		t.Helper()
		req, _ := http.NewRequest("DELETE", srv.URL+scim.Base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("If-Match", fmt.Sprintf(`W/"%d"`, version))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}

	g, err := svc.Groups.CreateGroup(ctx, cohort.GroupCreate{Name: "Night shift"})
	if err != nil {
		t.Fatal(err)
	}
	renamed := "Night shift (keep)"
	wrapped.before = func() {
		if _, _, err := svc.Groups.UpdateGroup(ctx, g.ID, cohort.GroupUpdate{Name: &renamed}); err != nil {
			t.Error(err)
		}
	}
	if got := del("/Groups/"+g.ID, g.Version); got != http.StatusPreconditionFailed {
		t.Errorf("DELETE of a group changed in between: %d, want 412", got)
	}
	if now, _ := svc.Groups.FindGroupByID(ctx, g.ID); now == nil || now.Archived() || now.Name != renamed {
		t.Errorf("the change in between was lost: %+v", now)
	}

	u, err := svc.Users.CreateUser(ctx, cohort.UserCreate{Email: "casey@race.test", GivenName: "Casey", FamilyName: "Jones"})
	if err != nil {
		t.Fatal(err)
	}
	given := "Casey-Lee"
	wrapped.before = func() {
		if _, err := svc.Users.UpdateUser(ctx, u.ID, cohort.UserUpdate{GivenName: &given}); err != nil {
			t.Error(err)
		}
	}
	if got := del("/Users/"+u.ID, u.Version); got != http.StatusPreconditionFailed {
		t.Errorf("DELETE of a user changed in between: %d, want 412", got)
	}
	if now, _ := svc.Users.FindUserByID(ctx, u.ID); now == nil || now.Archived() {
		t.Errorf("the user was archived over a change made in between: %+v", now)
	}
	// With the current version the DELETE archives.
	cur, _ := svc.Groups.FindGroupByID(ctx, g.ID)
	if got := del("/Groups/"+g.ID, cur.Version); got != http.StatusNoContent {
		t.Errorf("DELETE with the current version: %d, want 204", got)
	}
}
