package sqlstore_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
	"github.com/cohorthq/cohort/internal/sqlstore/sqltest"
	"github.com/cohorthq/cohort/internal/sqlstore/storetest"
	"github.com/cohorthq/cohort/internal/testdb"
)

func postgresServer(t *testing.T) string {
	server := os.Getenv("COHORT_TEST_POSTGRES")
	if server == "" {
		t.Skip("PostgreSQL tests skipped: set COHORT_TEST_POSTGRES, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	return server
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	server := postgresServer(t)
	storetest.Run(t, func(t *testing.T) *sqlstore.DB { return sqltest.OpenPostgres(t, server) })
}

// TestPostgresTwoInstances starts two stores on one empty database at the
// same moment (the migration lock makes them take turns), then checks that
// a change through one signals the other's subscribers and is visible
// there, and that a session made on one is valid on the other.
func TestPostgresTwoInstances(t *testing.T) {
	t.Parallel()
	dsn := testdb.Postgres(t, postgresServer(t)) // created, not opened
	ctx := context.Background()
	dbs := make([]*sqlstore.DB, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = sqlstore.Open(ctx, dsn, sqlstore.Options{StatementTimeout: 30 * time.Second})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	a, b := dbs[0], dbs[1]
	if a.Engine() != sqlstore.EnginePostgres || a.Ping(ctx) != nil {
		t.Fatal("not a live PostgreSQL store")
	}
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := b.Subscribe(subCtx)
	ws, owner, err := a.CreateWorkspace(ctx, cohort.WorkspaceCreate{Name: "Two", Slug: "two",
		Owner: cohort.UserCreate{Email: "o@two.test", GivenName: "O", FamilyName: "Two"}})
	if err != nil {
		t.Fatal(err)
	}
	// Drain whatever arrived while LISTEN started, then make one change.
	select {
	case <-ch:
	case <-time.After(200 * time.Millisecond):
	}
	actx := cohort.NewContextWithActor(ctx, cohort.Actor{WorkspaceID: ws.ID, UserID: owner.ID, Name: "O Two", IsOwner: true})
	g, err := a.CreateGroup(actx, cohort.GroupCreate{Name: "Seen elsewhere"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatal("instance b was not signalled of a change made through a")
	}
	if got, err := b.FindGroupByID(actx, g.ID); err != nil || got.Name != "Seen elsewhere" {
		t.Fatalf("b does not see a's group: %v", err)
	}
	token, _, err := a.CreateSession(ctx, owner.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if su, err := b.FindSession(ctx, token, 0); err != nil || su.User.ID != owner.ID {
		t.Fatalf("a's session is not valid on b: %v", err)
	}
	if err := a.Backup(ctx, "/tmp/x.db"); cohort.ErrorCode(err) != cohort.EINVALID {
		t.Fatalf("Backup on PostgreSQL: %v", err)
	}
}
