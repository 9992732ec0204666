package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/api"
	"github.com/cohorthq/cohort/internal/config"
	"github.com/cohorthq/cohort/internal/demo"
	"github.com/cohorthq/cohort/internal/events"
	"github.com/cohorthq/cohort/internal/httpx"
	"github.com/cohorthq/cohort/internal/ratelimit"
	"github.com/cohorthq/cohort/internal/scim"
	"github.com/cohorthq/cohort/internal/server"
	"github.com/cohorthq/cohort/internal/sqlstore"
	"github.com/cohorthq/cohort/internal/web"
)

// HTTP timeouts. Bodies are small (forms, JSON, SCIM), so a slow client
// that needs longer than these is almost certainly not a person.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 60 * time.Second
	// writeTimeout bounds one response. The server sets it per request
	// (not on the http.Server) so that routes marked Stream, the
	// live-update stream that stays open for hours, are exempt.
	writeTimeout = 60 * time.Second
	idleTimeout  = 120 * time.Second
)

func cmdServe(ctx context.Context, e *env, args []string) error {
	f := newFlags("serve", "cohort serve [--demo] [--addr HOST:PORT] [--db DB] [flags]")
	cfg := config.Default()
	if err := cfg.Bind(f.FlagSet, e.getenv, config.SetDB, config.SetServe, config.SetWebhook); err != nil {
		return &usageError{err}
	}
	if _, err := f.parse(e, args, 0); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return &usageError{err}
	}
	return serve(ctx, e, &cfg)
}

// serve runs the server until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, e *env, cfg *config.Config) error {
	if e.getenv("GOGC") == "" {
		// Requests allocate briefly and the live heap is small: collecting
		// at twice the live heap instead of the default once cut the
		// collector's share of a busy server's CPU enough for 15% more
		// requests per second (the benchmark's mixed load, B8), well inside the
		// memory target. GOGC in the environment still decides.
		debug.SetGCPercent(200)
	}
	logger := newLogger(cfg, e.stderr)
	db, err := openDB(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()

	var demoPassword string
	var seeded *cohort.Workspace
	if cfg.Demo {
		demoPassword = cfg.DemoPassword
		if demoPassword == "" {
			demoPassword = demo.GeneratePassword()
		}
		seeded, err = demo.Seed(ctx, services(db, cfg), demoPassword)
		// Two instances started with --demo on one fresh PostgreSQL race to
		// seed; the loser finds the workspace taken and carries on.
		if err != nil && cohort.ErrorCode(err) != cohort.ECONFLICT {
			return fmt.Errorf("seed demo data: %w", err)
		}
	}

	svc := services(db, cfg)
	// Streams end with their session: checked every few seconds, and at
	// once when sessions end on any instance.
	live := events.NewLive(svc, db.Subscribe, logger, events.LiveOptions{
		SessionIdle:   cfg.SessionIdle,
		SessionsEnded: db.SubscribeSessionsEnded,
	})
	defer live.Close()
	handler, err := newHandler(cfg, db, svc, logger, live)
	if err != nil {
		return err
	}
	// Metrics (only with --metrics-addr) count requests and, through the
	// relay's queue, webhook deliveries.
	m := newMetrics(cfg.MetricsAddr, db, logger)
	handler = m.instrument(handler)
	svc.Deliveries = m.countDeliveries(svc.Deliveries)
	stopMetrics, err := m.serve(cfg.MetricsAddr, e, logger)
	if err != nil {
		return err
	}
	defer stopMetrics()

	// The certificate is loaded before listening so that a wrong file is
	// reported at once, not after the URL has been printed.
	var tlsConfig *tls.Config
	if cfg.TLS() {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("--tls-cert %s and --tls-key %s: %w (give a PEM certificate and its private key)", cfg.TLSCert, cfg.TLSKey, err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another Cohort or program using the port? choose another with --addr)", cfg.Addr, err)
	}
	scheme := "http"
	if cfg.TLS() {
		scheme = "https"
	}
	url := scheme + "://" + displayAddr(ln.Addr())

	// The relay delivers webhooks from the outbox. Every instance runs one;
	// the store's leases keep them from sending a delivery twice at once.
	relayCtx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRelay()
	relayDone := make(chan error, 1)
	relay := events.NewRelay(svc, db.Subscribe, logger, events.RelayOptions{
		AllowPrivate: cfg.WebhookAllowPrivate,
		// Deliveries in flight at shutdown get the same drain time as
		// requests in flight.
		DrainTimeout: cfg.ShutdownTimeout,
	})
	go func() { relayDone <- relay.Run(relayCtx) }()
	waitRelay := func() {
		stopRelay()
		if err := <-relayDone; err != nil {
			logger.Error("webhook relay stopped", "err", err)
		}
	}

	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    server.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		TLSConfig:         tlsConfig,
	}
	// Live streams end when shutdown starts; ordinary requests get
	// ShutdownTimeout to finish.
	srv.RegisterOnShutdown(live.Close)

	serveErr := make(chan error, 1)
	go func() {
		if cfg.TLS() {
			serveErr <- srv.ServeTLS(ln, "", "")
		} else {
			serveErr <- srv.Serve(ln)
		}
	}()

	logger.Info("listening", "url", url, "db_engine", db.Engine())
	fmt.Fprintf(e.stdout, "Cohort is running at %s\n", url)
	if cfg.Demo {
		printDemo(e, url, seeded != nil, demoPassword)
	}
	fmt.Fprintln(e.stdout, "Press Ctrl+C to stop.")

	select {
	case err := <-serveErr:
		waitRelay()
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	case <-ctx.Done():
	}

	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		// Requests still running after the timeout are cut off.
		_ = srv.Close()
		logger.Warn("shutdown timed out; open connections were closed", "err", err)
	}
	// Deliveries in flight finish (or go back to their lease) before the
	// database closes.
	waitRelay()
	logger.Info("stopped")
	return nil
}

// newHandler wires every edge package onto the server.
func newHandler(cfg *config.Config, db *sqlstore.DB, svc cohort.Services, logger *slog.Logger, live *events.Live) (http.Handler, error) {
	// One limiter for every machine interface: a key is one client, with
	// one allowance across /api/v1 and /scim/v2. --rate-limit 0 gives nil,
	// no limit.
	limiter := ratelimit.PerMinute(cfg.RateLimit, nil)
	apiHandler := api.New(svc, logger, api.Options{Limiter: limiter})
	scimHandler := scim.New(svc, logger, scim.WithLimiter(limiter),
		scim.WithPublicURL(cfg.PublicURL), scim.WithTLSProxy(cfg.BehindTLSProxy))
	pages, err := web.New(svc, logger, web.Options{
		SecureCookies: cfg.HTTPS(),
		SessionTTL:    cfg.SessionTTL,
		LiveEventsURL: liveEventsURL(live),
	})
	if err != nil {
		return nil, fmt.Errorf("web pages: %w", err)
	}
	routes := [][]httpx.Route{pages.Routes(), apiHandler.Routes(), scimHandler.Routes(), live.Routes()}
	reads := cfg.ReadConcurrency
	if reads == 0 {
		// SQLite reads are CPU work in this process: as many as there
		// are CPUs, and at least two so one long read (a large export)
		// never holds every turn. PostgreSQL reads wait on the network:
		// one per connection.
		reads = max(2, runtime.GOMAXPROCS(0))
		if db.Engine() == sqlstore.EnginePostgres {
			reads = max(reads, cfg.DBMaxConns)
		}
	}
	return server.New(server.Config{
		TLS:             cfg.HTTPS(),
		TrustProxy:      cfg.BehindTLSProxy,
		SessionIdle:     cfg.SessionIdle,
		ReadConcurrency: reads,
		WriteTimeout:    writeTimeout,
		Ready:           db.Ping,
	}, svc, logger, routes...), nil
}

// liveEventsURL is the path pages open for live updates: the stream the
// events package mounts.
func liveEventsURL(live *events.Live) string {
	for _, r := range live.Routes() {
		if r.Method == http.MethodGet {
			return r.Pattern
		}
	}
	return ""
}

// displayAddr is the address to print: a wildcard host (":8080",
// "0.0.0.0") becomes 127.0.0.1 so the printed URL can be opened.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}

func printDemo(e *env, url string, seeded bool, password string) {
	w := e.stdout
	if seeded {
		fmt.Fprintf(w, "Seeded the %s (workspace %q).\n", demo.WorkspaceName, demo.WorkspaceSlug)
	} else {
		fmt.Fprintln(w, "The database already has a workspace, so no demo data was added.")
	}
	fmt.Fprintf(w, "Sign in at %s/signin?practice=%s as %s", url, demo.WorkspaceSlug, demo.OwnerEmail)
	if seeded {
		fmt.Fprintf(w, " with the password %s\n", password)
	} else {
		fmt.Fprintln(w, " with the password used when the demo data was seeded")
		fmt.Fprintln(w, "(COHORT_DEMO_PASSWORD chooses it; a new --db file starts afresh).")
	}
	fmt.Fprintf(w, "Every demo user has the same password; one per role: %s, %s, %s, %s, %s.\n",
		demo.PractitionerAdminEmail, demo.PractitionerEmail, demo.ManagerEmail, demo.ReceptionistEmail, demo.AccountantEmail)
}
