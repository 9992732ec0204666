package sqlstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// topic is what a subscriber is woken for; on PostgreSQL it is also the
// LISTEN/NOTIFY channel that carries it between instances.
type topic string

const (
	// topicEvents: a transaction that wrote outbox events committed.
	topicEvents topic = notifyChannel
	// topicSessions: sessions ended (sign-out, sign out everywhere, a
	// password change, an archived user).
	topicSessions topic = "cohort_sessions"
)

// Subscribe returns a channel that receives a signal after any transaction
// that wrote outbox events commits: in this process on SQLite, and from any
// process on PostgreSQL (LISTEN/NOTIFY on "cohort_events"). Signals are
// coalesced and never block the writer: a receiver reads what is new with
// FindEventsAfter. The channel is closed when ctx ends.
func (db *DB) Subscribe(ctx context.Context) <-chan struct{} {
	return db.subscribe(ctx, topicEvents)
}

// SubscribeSessionsEnded returns a channel that receives a signal after
// sessions end: in this process on SQLite, and from any process on
// PostgreSQL ("cohort_sessions"). Signals are coalesced; a receiver
// re-checks the sessions it relies on with LiveSessions. The channel is
// closed when ctx ends.
func (db *DB) SubscribeSessionsEnded(ctx context.Context) <-chan struct{} {
	return db.subscribe(ctx, topicSessions)
}

func (db *DB) subscribe(ctx context.Context, tp topic) <-chan struct{} {
	ch := make(chan struct{}, 1)
	db.subsMu.Lock()
	db.subs[ch] = tp
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

// notifyLocal signals every events subscriber of this process.
func (db *DB) notifyLocal() { db.signal(topicEvents) }

// signal wakes every subscriber of this process to tp ("" wakes all).
func (db *DB) signal(tp topic) {
	db.subsMu.Lock()
	defer db.subsMu.Unlock()
	for ch, t := range db.subs {
		if tp != "" && t != tp {
			continue
		}
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// noteSessionsEnded records that t deletes sessions. On PostgreSQL the
// NOTIFY goes out with the commit, to every instance; in this process
// subscribers are woken after the commit (tryTx).
func (t *tx) noteSessionsEnded() error {
	t.endsSessions = true
	if t.db.engine != EnginePostgres {
		return nil
	}
	_, err := t.exec(`SELECT pg_notify($1, '')`, string(topicSessions))
	return err
}

// sessionsEnded announces sessions deleted outside a transaction.
func (db *DB) sessionsEnded(ctx context.Context) error {
	if db.engine == EnginePostgres {
		if _, err := db.write.ExecContext(ctx, `SELECT pg_notify($1, '')`, string(topicSessions)); err != nil {
			return err
		}
	}
	db.signal(topicSessions)
	return nil
}

// listen holds one PostgreSQL connection LISTENing for events written and
// sessions ended by any instance, reconnecting when it drops. After a
// reconnect it signals every subscriber once, since notifications may
// have been missed meanwhile.
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
	for _, tp := range []topic{topicEvents, topicSessions} {
		if _, err := conn.Exec(ctx, "LISTEN "+string(tp)); err != nil {
			return err
		}
	}
	db.signal("")
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		db.signal(topic(n.Channel))
	}
}
