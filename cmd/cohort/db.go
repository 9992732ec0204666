package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/config"
	"github.com/cohorthq/cohort/internal/events"
	"github.com/cohorthq/cohort/internal/sqlstore"
)

// newLogger writes structured logs to w in the configured format.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openDB opens the configured database and brings its schema up to date:
// every command may be the first to touch a new database.
func openDB(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*sqlstore.DB, error) {
	db, err := sqlstore.Open(ctx, cfg.DB, sqlstore.Options{
		MaxOpenConns:     cfg.DBMaxConns,
		StatementTimeout: cfg.DBStatementTimeout,
		// SQLite has no statement timeout; the same setting bounds how long
		// a statement waits for a lock another process holds.
		BusyTimeout: cfg.DBStatementTimeout,
		Synchronous: cfg.SQLiteSynchronous,
		Logger:      logger,
	})
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", redactDSN(cfg.DB), err)
	}
	return db, nil
}

// redactDSN hides a password in a postgres:// URL before it is printed.
func redactDSN(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return dsn
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return dsn
	}
	userinfo := rest[:at]
	if user, _, hasPass := strings.Cut(userinfo, ":"); hasPass {
		return scheme + "://" + user + ":xxxxx" + rest[at:]
	}
	return dsn
}

// dbCommand holds what every database command shares: its flags (the
// config's database set) and, once run, the opened services.
type dbCommand struct {
	*flags
	cfg config.Config
}

// newDBCommand returns the flags of a command that opens the database,
// with the options of any further sets it needs.
func newDBCommand(e *env, name, synopsis string, more ...config.Set) (*dbCommand, error) {
	c := &dbCommand{flags: newFlags(name, synopsis), cfg: config.Default()}
	if err := c.cfg.Bind(c.FlagSet, e.getenv, append([]config.Set{config.SetDB}, more...)...); err != nil {
		return nil, &usageError{err}
	}
	return c, nil
}

// open validates the settings and opens the database. The caller closes it.
func (c *dbCommand) open(ctx context.Context, e *env) (*sqlstore.DB, error) {
	if err := c.cfg.Validate(); err != nil {
		return nil, &usageError{err}
	}
	return openDB(ctx, &c.cfg, newLogger(&c.cfg, e.stderr))
}

// openWorkspace opens the database and acts in the workspace with the
// given slug as the CLI's system actor. The caller calls closeDB.
func (c *dbCommand) openWorkspace(ctx context.Context, e *env, slug string) (context.Context, cohort.Services, *cohort.Workspace, func(), error) {
	db, err := c.open(ctx, e)
	if err != nil {
		return nil, cohort.Services{}, nil, nil, err
	}
	svc := services(db, &c.cfg)
	ctx, ws, err := inWorkspace(ctx, svc, slug)
	if err != nil {
		db.Close()
		return nil, cohort.Services{}, nil, nil, err
	}
	return ctx, svc, ws, func() { db.Close() }, nil
}

// services returns db's services as every interface must see them: webhook
// URLs are checked against the SSRF rule before the store keeps them.
func services(db *sqlstore.DB, cfg *config.Config) cohort.Services {
	svc := db.Services()
	svc.Webhooks = events.CheckWebhookURLs(svc.Webhooks, cfg.WebhookAllowPrivate)
	// Failed sign-ins are counted in the database, per email and per
	// client address, so every instance refuses a guesser alike.
	svc.Auth = cohort.ThrottleSignIn(svc.Auth, db, cohort.SignInLimits{})
	return svc
}

// inWorkspace finds a workspace by slug and returns ctx acting in it as
// the system actor "cli", as every admin command does.
func inWorkspace(ctx context.Context, svc cohort.Services, slug string) (context.Context, *cohort.Workspace, error) {
	if slug == "" {
		return nil, nil, usagef("--workspace is required: give the workspace's slug (see 'cohort workspace list')")
	}
	ws, err := svc.Workspaces.FindWorkspaceBySlug(ctx, slug)
	if cohort.ErrorCode(err) == cohort.ENOTFOUND {
		return nil, nil, fmt.Errorf("no workspace with slug %q: see 'cohort workspace list'", slug)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("find workspace %q: %w", slug, err)
	}
	return cohort.NewContextWithActor(ctx, cohort.SystemActor(ws.ID, "cli")), ws, nil
}

// readPassword reads a password so that it never appears in the process
// list or shell history: from a terminal it prompts twice with echo off;
// otherwise it takes the first line of stdin:
//
//	printf '%s\n' "$PASSWORD" | cohort user create …
func readPassword(e *env, who string) (string, error) {
	if f, ok := e.stdin.(*os.File); ok {
		if restore, ok := echoOff(f); ok {
			defer restore()
			in := bufio.NewReader(f)
			ask := func(prompt string) (string, error) {
				fmt.Fprint(e.stderr, prompt)
				line, err := in.ReadString('\n')
				fmt.Fprintln(e.stderr)
				if err != nil && !errors.Is(err, io.EOF) {
					return "", fmt.Errorf("read password: %w", err)
				}
				return strings.TrimRight(line, "\r\n"), nil
			}
			pw, err := ask(fmt.Sprintf("Password for %s (at least %d characters): ", who, cohort.PasswordMin))
			if err != nil {
				return "", err
			}
			if err := cohort.ValidatePassword(pw, cohort.IsCommonPassword); err != nil {
				return "", errors.New(cohort.ErrorMessage(err))
			}
			again, err := ask("The same password again: ")
			if err != nil {
				return "", err
			}
			if again != pw {
				return "", errors.New("the two passwords differ: nothing was created; run the command again")
			}
			return pw, nil
		}
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", fmt.Errorf("no password on standard input for %s: pipe one in, e.g. printf '%%s\\n' \"$PASSWORD\" | cohort …, or run the command in a terminal", who)
	}
	if err := cohort.ValidatePassword(pw, cohort.IsCommonPassword); err != nil {
		return "", errors.New(cohort.ErrorMessage(err))
	}
	return pw, nil
}

// cliError is a failure explained for the terminal; it keeps the cause
// for errors.Is/As.
type cliError struct {
	msg string
	err error
}

func (e *cliError) Error() string { return e.msg }
func (e *cliError) Unwrap() error { return e.err }

// describe explains a failure of what: a domain error by its message and
// field messages (which say what to fix), anything else as it is.
func describe(what string, err error) error {
	e := cohort.AsError(err)
	if e == nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", what, e.Message)
	for _, f := range slices.Sorted(maps.Keys(e.Fields)) {
		for _, m := range e.Fields[f] {
			if m != e.Message {
				fmt.Fprintf(&b, "\n  %s: %s", f, m)
			}
		}
	}
	return &cliError{msg: b.String(), err: err}
}
