package sqlstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Subscribe returns a channel that receives a signal after any transaction
// that wrote outbox events commits: in this process on SQLite, and from any
// process on PostgreSQL (LISTEN/NOTIFY on "cohort_events"). Signals are
// coalesced and never block the writer: a receiver reads what is new with
// FindEventsAfter. The channel is closed when ctx ends.
func (db *DB) Subscribe(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{}, 1)
	db.subsMu.Lock()
	db.subs[ch] = struct{}{}
	// Under subsMu and only while open: Close stops under the same lock
	// before it waits, so no listener starts after that wait began.
	if db.engine == EnginePostgres && !db.listening && db.stopCtx.Err() == nil {
		db.listening = true
		db.wg.Add(1)
		go db.listen()
	}
	db.subsMu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
		case <-db.stopCtx.Done():
		}
		db.subsMu.Lock()
		delete(db.subs, ch)
		close(ch)
		db.subsMu.Unlock()
	}()
	return ch
}

// notifyLocal signals every subscriber of this process.
func (db *DB) notifyLocal() {
	db.subsMu.Lock()
	defer db.subsMu.Unlock()
	for ch := range db.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// listen holds one PostgreSQL connection LISTENing for events written by
// any instance, reconnecting when it drops. After a reconnect it signals
// subscribers once, since notifications may have been missed meanwhile.
func (db *DB) listen() {
	defer db.wg.Done()
	ctx := db.stopCtx
	for ctx.Err() == nil {
		err := db.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		db.log.Warn("sqlstore: LISTEN connection lost; reconnecting", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (db *DB) listenOnce(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, db.pgConfig)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	db.notifyLocal()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		db.notifyLocal()
	}
}
