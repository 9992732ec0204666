package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
	"github.com/jackc/pgx/v5"
)

// twoInstances opens one fresh PostgreSQL database twice, as two
// `cohort serve` processes would.
func twoInstances(t *testing.T) (a, b *sqlstore.DB) {
	t.Helper()
	server := os.Getenv("COHORT_TEST_POSTGRES")
	if server == "" {
		t.Skip("set COHORT_TEST_POSTGRES (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to test several instances on PostgreSQL")
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("connect to %s: %v", server, err)
	}
	defer admin.Close(ctx)
	buf := make([]byte, 8)
	_, _ = rand.Read(buf)
	name := "cohort_events_" + hex.EncodeToString(buf)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("COHORT_TEST_POSTGRES is not a URL: %v", err)
	}
	u.Path = "/" + name
	open := func() *sqlstore.DB {
		db, err := sqlstore.Open(ctx, u.String(), sqlstore.Options{})
		if err != nil {
			t.Fatalf("open %s: %v", name, err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	return open(), open()
}

// TestAcrossInstances: a change committed through one instance reaches
// the live stream and the webhook relay of another, woken by PostgreSQL
// LISTEN/NOTIFY (their polls are set far beyond the test's wait).
func TestAcrossInstances(t *testing.T) {
	t.Parallel()
	a, b := twoInstances(t)
	svcA := a.Services()
	ctx, ws := workspace(t, svcA, "instances")
	rc := newReceiver(t, nil)
	createWebhook(t, ctx, svcA, rc.URL, cohort.ActionGroupCreated)

	srv, _ := liveServer(t, b, LiveOptions{PollInterval: time.Hour})
	stream := connect(t, srv, ws.ID, "")
	opts := fastRelay()
	opts.PollInterval = time.Hour
	startRelay(t, b, nil, opts)

	g := createGroup(t, ctx, svcA, "After-hours clinicians")
	if _, ch := stream.nextChange(t); ch.GroupID != g.ID {
		t.Fatalf("instance B's stream got %+v, want the group created on instance A", ch)
	}
	waitFor(t, "instance B's relay to deliver", func() bool { return len(rc.delivered()) == 1 })
	if got := rc.requests()[0].Header.Get(HeaderEventType); got != cohort.ActionGroupCreated {
		t.Fatalf("delivered %s, want group.created", got)
	}
}

// TestSessionEndAcrossInstances: signing out through one instance ends the
// session's live stream on another, woken by NOTIFY (its timer is set far
// beyond the test's wait).
func TestSessionEndAcrossInstances(t *testing.T) {
	t.Parallel()
	a, b := twoInstances(t)
	svcA := a.Services()
	ctx, _ := workspace(t, svcA, "revoke-instances")
	_, tok := staffSession(t, ctx, svcA, "leaver@revoke-instances.example")
	srv, _ := liveServer(t, b, LiveOptions{SessionCheck: time.Hour, SessionsEnded: b.SubscribeSessionsEnded})
	stream := connectSession(t, srv, tok)
	// A change from instance A reaching the stream shows instance B's
	// LISTEN connection is up (it wakes everyone once as it starts).
	g := createGroup(t, ctx, svcA, "Before signing out")
	stream.next(t, func(b sseBlock) bool { return isChange(b) && strings.Contains(b.Data, g.ID) })
	if err := svcA.Auth.DeleteSession(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	stream.ended(t, "signing out on the other instance")
}
