package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Engine names returned by DB.Engine.
const (
	EngineSQLite   = "sqlite"
	EnginePostgres = "postgres"
)

//go:embed migrations
var migrationsFS embed.FS

// Options tunes the database connection. The zero value is a good default.
type Options struct {
	// MaxOpenConns bounds the read pool on SQLite (the writer is always one
	// connection) and the whole pool on PostgreSQL. 0 picks a default.
	MaxOpenConns int
	// StatementTimeout sets PostgreSQL's statement_timeout; 0 leaves it.
	StatementTimeout time.Duration
	// BusyTimeout is how long SQLite waits for a lock held by another
	// process (e.g. a backup). 0 means 5 seconds.
	BusyTimeout time.Duration
	// Synchronous is SQLite's synchronous pragma: "FULL" (default),
	// "NORMAL" or "OFF".
	Synchronous string
	// Logger receives warnings (lost LISTEN connection, retries). nil
	// discards them.
	Logger *slog.Logger
}

// DB is Cohort's database. It implements every service interface of the
// domain package; Services returns them bundled.
type DB struct {
	engine string
	d      dialect
	// write runs every transaction that changes something. On SQLite it is
	// a single connection; on PostgreSQL it is the same pool as read.
	write *sql.DB
	read  *sql.DB
	log   *slog.Logger

	pgConfig *pgx.ConnConfig // for the LISTEN connection

	// SQLite checkpoints the WAL from its own connection, in the
	// background, so a commit never pays for copying earlier commits'
	// pages into the database file. wrote is set by every commit.
	ckpt  *sql.DB
	wrote atomic.Bool

	subsMu    sync.Mutex
	subs      map[chan struct{}]topic
	listening bool
	stop      context.CancelFunc
	stopCtx   context.Context
	wg        sync.WaitGroup
}

// Open opens (creating when needed) the database named by dsn and runs the
// embedded migrations. dsn "" means the SQLite file cohort.db; a plain path
// or a "file:" URI selects SQLite; "postgres://" or "postgresql://" selects
// PostgreSQL.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if dsn == "" {
		dsn = "cohort.db"
	}
	db := &DB{subs: map[chan struct{}]topic{}, log: opts.Logger}
	if db.log == nil {
		db.log = slog.New(slog.DiscardHandler)
	}
	db.stopCtx, db.stop = context.WithCancel(context.Background())
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		err = db.openPostgres(ctx, dsn, opts)
	} else {
		err = db.openSQLite(ctx, dsn, opts)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if db.engine == EngineSQLite {
		// Give the query planner statistics (bounded work, as SQLite
		// recommends for long-lived connections); PostgreSQL's autovacuum
		// does this by itself.
		if err := db.refreshStats(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("sqlstore: optimize: %w", err)
		}
	}
	return db, nil
}

// bigChange is how many rows one load or import must write before the
// planner's statistics are refreshed right after it.
const bigChange = 1000

// refreshStats brings the query planner's statistics up to date after
// the tables changed size a lot (a bulk load, a large import). Until then
// PostgreSQL plans as if the tables were as small as autovacuum last saw
// them (a picker search took 15 ms instead of 0.8 ms on 5,000 fresh staff)
// and SQLite as they were when the process opened the file. Bounded work
// on SQLite; ANALYZE samples on PostgreSQL, taking no lock writers wait on.
func (db *DB) refreshStats(ctx context.Context) error {
	q := `PRAGMA analysis_limit=400; PRAGMA optimize=0x10002`
	if db.engine == EnginePostgres {
		q = `ANALYZE users, groups, memberships`
	}
	_, err := db.write.ExecContext(ctx, q)
	return mapError(err)
}

func (db *DB) openSQLite(ctx context.Context, dsn string, opts Options) error {
	db.engine = EngineSQLite
	db.d = sqliteDialect{}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = 5 * time.Second
	}
	syncMode := strings.ToUpper(opts.Synchronous)
	switch syncMode {
	case "":
		syncMode = "FULL"
	case "FULL", "NORMAL", "OFF", "EXTRA":
	default:
		return cohort.Errorf(cohort.EINVALID, "Unknown SQLite synchronous mode %q: use FULL, NORMAL or OFF.", opts.Synchronous)
	}
	if strings.Contains(dsn, ":memory:") || strings.Contains(dsn, "mode=memory") {
		// The writer and the read pool are separate connections; each
		// would get its own empty in-memory database.
		return cohort.Errorf(cohort.EINVALID, "Cohort needs a SQLite file, not an in-memory database: give a path such as cohort.db (tests use sqltest.Open).")
	}
	name := dsn
	if !strings.HasPrefix(name, "file:") {
		name = "file:" + name
	}
	sep := "?"
	if strings.Contains(name, "?") {
		sep = "&"
	}
	// temp_store stays at its default on purpose: with MEMORY, every large
	// statement's journal is allocated and freed in small chunks, and the
	// driver's allocator returns each to the OS (a syscall per chunk),
	// which doubled the cost of creating a group with 1,000 members.
	common := sep + "_pragma=foreign_keys(1)&_pragma=busy_timeout(" + strconv.FormatInt(busy.Milliseconds(), 10) + ")"
	// wal_autocheckpoint is only a safety net (40 MB of WAL): the
	// checkpointer below keeps the WAL short without making a commit wait.
	writeDSN := name + common + "&_pragma=journal_mode(WAL)&_pragma=synchronous(" + syncMode + ")" +
		"&_pragma=cache_size(-16000)&_pragma=wal_autocheckpoint(10000)&_txlock=immediate"
	// Each reader keeps 4 MB of pages: in WAL mode a reader's cache is
	// emptied by any commit since its last read anyway, so larger caches
	// mostly add to the process's memory.
	readDSN := name + common + "&_pragma=query_only(1)&_pragma=cache_size(-4000)"

	w := sql.OpenDB(newSQLiteConnector(writeDSN))
	// One writer: SQLite allows one anyway, and a single connection makes
	// every write transaction queue in Go instead of failing with BUSY.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	db.write = w
	// The writer creates the file and switches it to WAL before any reader
	// opens it.
	if err := w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: open sqlite %s: %w", dsn, err)
	}
	r := sql.OpenDB(newSQLiteConnector(readDSN))
	n := opts.MaxOpenConns
	if n <= 0 {
		n = max(4, 2*runtime.NumCPU())
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(5 * time.Minute)
	db.read = r
	c, err := sql.Open("sqlite", name+common)
	if err != nil {
		return fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	c.SetMaxOpenConns(1)
	db.ckpt = c
	db.wg.Add(1)
	go db.checkpoint(syncMode)
	return nil
}

// checkpoint copies committed WAL pages into the database file about once
// a second after writes, without blocking readers or the writer (PASSIVE).
func (db *DB) checkpoint(syncMode string) {
	defer db.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-db.stopCtx.Done():
			return
		case <-tick.C:
		}
		if !db.wrote.Swap(false) {
			continue
		}
		if _, err := db.ckpt.ExecContext(db.stopCtx, `PRAGMA synchronous=`+syncMode+`; PRAGMA wal_checkpoint(PASSIVE)`); err != nil && db.stopCtx.Err() == nil {
			db.log.Warn("sqlstore: WAL checkpoint failed; SQLite's own checkpoint takes over", "err", err)
		}
	}
}

func (db *DB) openPostgres(ctx context.Context, dsn string, opts Options) error {
	db.engine = EnginePostgres
	db.d = postgresDialect{}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return cohort.Errorf(cohort.EINVALID, "The PostgreSQL URL is not valid: %v.", err)
	}
	if opts.StatementTimeout > 0 {
		cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "cohort"
	}
	db.pgConfig = cfg
	p := stdlib.OpenDB(*cfg)
	n := opts.MaxOpenConns
	if n <= 0 {
		n = 20
	}
	p.SetMaxOpenConns(n)
	p.SetMaxIdleConns(n)
	p.SetConnMaxIdleTime(5 * time.Minute)
	db.write, db.read = p, p
	if err := p.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: connect to postgres: %w", err)
	}
	return nil
}

// migrate brings the schema up to date. On PostgreSQL goose holds a session
// advisory lock while it works, so instances starting together take turns.
func (db *DB) migrate(ctx context.Context) error {
	dir, dialect := "migrations/sqlite", goose.DialectSQLite3
	var popts []goose.ProviderOption
	popts = append(popts, goose.WithDisableGlobalRegistry(true))
	if db.engine == EnginePostgres {
		dir, dialect = "migrations/postgres", goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return fmt.Errorf("sqlstore: migration lock: %w", err)
		}
		popts = append(popts, goose.WithSessionLocker(locker))
	}
	fsys, err := fs.Sub(migrationsFS, dir)
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	p, err := goose.NewProvider(dialect, db.write, fsys, popts...)
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	// Name keys are computed in Go, so a change of the rule is a data
	// migration no SQL file can do.
	return db.rekeyGroupNames(ctx)
}

// Engine returns "sqlite" or "postgres".
func (db *DB) Engine() string { return db.engine }

// Ping checks that the database answers (for /readyz).
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return &cohort.Error{Code: cohort.EUNAVAILABLE, Message: "The database is not reachable."}
	}
	if db.write != db.read {
		if err := db.write.PingContext(ctx); err != nil {
			return &cohort.Error{Code: cohort.EUNAVAILABLE, Message: "The database is not reachable."}
		}
	}
	return nil
}

// Close stops the LISTEN connection and closes the pools.
func (db *DB) Close() error {
	db.subsMu.Lock()
	db.stop()
	db.subsMu.Unlock()
	db.wg.Wait()
	var errs []error
	if db.read != nil && db.read != db.write {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	if db.ckpt != nil {
		errs = append(errs, db.ckpt.Close())
	}
	return errors.Join(errs...)
}

var _ interface {
	cohort.WorkspaceService
	cohort.UserService
	cohort.GroupService
	cohort.AuthService
	cohort.APIKeyService
	cohort.AuditService
	cohort.EventService
	cohort.WebhookService
	cohort.DeliveryQueue
	cohort.IdempotencyService
} = (*DB)(nil)

// Services returns every service, all backed by db.
func (db *DB) Services() cohort.Services {
	return cohort.Services{
		Workspaces:  db,
		Users:       db,
		Groups:      db,
		Auth:        db,
		APIKeys:     db,
		Audit:       db,
		Events:      db,
		Webhooks:    db,
		Deliveries:  db,
		Idempotency: db,
		Imports:     db,
		Directory:   db,
	}
}

// Backup writes a consistent copy of a SQLite database to path (VACUUM
// INTO), which must not exist yet. PostgreSQL is backed up with pg_dump.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.engine != EngineSQLite {
		return cohort.Errorf(cohort.EINVALID, "Back up a PostgreSQL database with pg_dump; Cohort's backup command copies SQLite files only.")
	}
	if path == "" {
		return cohort.FieldError("path", "Name the file to write the backup to.")
	}
	if _, err := os.Stat(path); err == nil {
		return cohort.FieldError("path", fmt.Sprintf("%s already exists: choose a new file name so no file is overwritten.", path))
	}
	if _, err := db.write.ExecContext(ctx, `VACUUM INTO $1`, path); err != nil {
		return fmt.Errorf("sqlstore: backup to %s: %w", path, mapError(err))
	}
	return nil
}
