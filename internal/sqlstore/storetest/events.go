package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
)

// waitSignal waits for a signal; the generous bound only stops a broken
// implementation from hanging the suite.
func waitSignal(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case _, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed early")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no signal after a committed change")
	}
}

func testSubscribe(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	ch := db.Subscribe(ctx)
	// Drain a signal from earlier writes or the LISTEN connection starting.
	select {
	case <-ch:
	case <-time.After(100 * time.Millisecond):
	}
	f.group(t, "Signalled")
	waitSignal(t, ch)
	cancel()
	for range ch {
	}
}

func testSeqCommitOrder(t *testing.T, db *sqlstore.DB) {
	f := newFixture(t, db)
	start := f.lastSeq(t)
	const writers, each = 8, 15
	var wg sync.WaitGroup
	done := make(chan struct{})
	var seen []int64
	// A relay-like reader: whatever it has read past is never revisited,
	// so an event that commits later with a smaller seq would be missed.
	go func() {
		defer close(done)
		pos := start
		for {
			evs, err := f.s.Events.FindEventsAfter(context.Background(), f.ws.ID, pos, 1000)
			if err != nil {
				t.Error(err)
				return
			}
			for _, e := range evs {
				seen = append(seen, e.Seq)
				pos = e.Seq
			}
			if len(seen) >= writers*each {
				return
			}
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := f.s.Groups.CreateGroup(f.ctx, cohort.GroupCreate{Name: fmt.Sprintf("W%d-%d", w, i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the reader saw %d of %d events: some committed behind its position", len(seen), writers*each)
	}
	all := f.events(t, start)
	if len(all) != writers*each || len(seen) != len(all) {
		t.Fatalf("reader saw %d events, %d exist", len(seen), len(all))
	}
}
