// Package config owns Cohort's run-time settings: one Config struct with
// defaults, filled from the environment and then from command-line flags
// (flags win). Every flag has an environment variable named COHORT_ plus
// the flag name in upper case with hyphens as underscores, so a container
// can be configured without a command line. Nothing here is global: each
// command builds its own Config.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of a Cohort process.
type Config struct {
	// Addr is the host:port the server listens on. Port 0 picks a free one.
	Addr string
	// DB is a SQLite file path or a postgres:// URL.
	DB string
	// Demo seeds the demo practice when the database has no workspace.
	Demo bool
	// DemoPassword is every demo user's password; generated when empty.
	// It is read from the environment only, never a flag, so it does not
	// show up in the process list.
	DemoPassword string

	LogLevel  slog.Level
	LogFormat string // "text" or "json"

	// TLSCert and TLSKey, when both set, make the server speak HTTPS itself.
	TLSCert string
	TLSKey  string
	// BehindTLSProxy says a reverse proxy in front serves HTTPS, so the
	// site is HTTPS to browsers even though this process speaks HTTP.
	BehindTLSProxy bool

	// PublicURL is the absolute URL (scheme, host, optional path) at which
	// clients reach this server, without a trailing slash. Absolute URLs
	// Cohort hands out (SCIM meta.location, Location headers) are built
	// from it; empty builds them from the request, trusting the Host
	// header only as a validated host[:port] and forwarded headers only
	// with BehindTLSProxy.
	PublicURL string

	// SessionTTL is the longest a browser session lives; SessionIdle ends
	// it earlier when unused for that long.
	SessionTTL  time.Duration
	SessionIdle time.Duration

	// DBMaxConns caps open database connections of this process.
	DBMaxConns int
	// SQLiteSynchronous is SQLite's synchronous pragma: FULL (default:
	// a committed change survives a power cut) or NORMAL (faster; the last
	// commits may be lost in a power cut, never corrupted).
	SQLiteSynchronous string
	// DBStatementTimeout bounds one statement on PostgreSQL (SQLite has no
	// server side; there it bounds waiting for the write lock).
	DBStatementTimeout time.Duration

	// ShutdownTimeout is how long in-flight requests may take to finish
	// after SIGINT/SIGTERM before the server closes them.
	ShutdownTimeout time.Duration

	// ReadConcurrency is how many reads (GET requests) are served at
	// once; others wait their turn. 0 picks: the number of CPUs (at
	// least 2) on SQLite, DBMaxConns on PostgreSQL.
	ReadConcurrency int

	// RateLimit is the number of requests one API key may make per minute,
	// across the REST API and SCIM together; 0 turns the limit off (the one
	// meaning of 0 everywhere: see internal/ratelimit).
	RateLimit int

	// MetricsAddr is the host:port of a separate listener that serves
	// Prometheus metrics at /metrics; empty serves none. Metrics are not
	// on the main address, whose clients are the public and the
	// practice's staff.
	MetricsAddr string

	// WebhookAllowPrivate lets webhooks target loopback and private
	// addresses (tests, or an integration inside the practice's network).
	// Off by default so a webhook cannot be aimed at internal services.
	WebhookAllowPrivate bool
}

// Default returns the settings used when neither a flag nor an environment
// variable says otherwise.
func Default() Config {
	return Config{
		Addr:               "127.0.0.1:8080",
		DB:                 "cohort.db",
		LogLevel:           slog.LevelInfo,
		LogFormat:          "text",
		SessionTTL:         12 * time.Hour,
		SessionIdle:        2 * time.Hour,
		DBMaxConns:         10,
		SQLiteSynchronous:  "full",
		DBStatementTimeout: 30 * time.Second,
		ShutdownTimeout:    15 * time.Second,
		RateLimit:          600,
	}
}

// Set names a group of options a command accepts.
type Set int

const (
	// SetDB is what every command that opens the database accepts.
	SetDB Set = iota
	// SetServe is what only `cohort serve` accepts.
	SetServe
	// SetWebhook is what commands that create webhooks accept (serve and
	// `webhook create`).
	SetWebhook
)

// Option describes one setting, for flags, the environment and docs.
type Option struct {
	Flag    string // without dashes
	Env     string
	Usage   string
	Default string
	// EnvOnly options have no flag (secrets).
	EnvOnly bool
	set     Set
	value   func(c *Config) flag.Value
}

func options() []Option {
	return []Option{
		{Flag: "db", Env: "COHORT_DB", set: SetDB,
			Usage: "`database`: a SQLite file path, or postgres://user@host:5432/name for PostgreSQL",
			value: func(c *Config) flag.Value { return (*stringValue)(&c.DB) }},
		{Flag: "db-max-conns", Env: "COHORT_DB_MAX_CONNS", set: SetDB,
			Usage: "most open database connections (`n`) of this process (PostgreSQL: keep instances × this below the server's max_connections)",
			value: func(c *Config) flag.Value { return &intValue{p: &c.DBMaxConns, min: 1} }},
		{Flag: "db-statement-timeout", Env: "COHORT_DB_STATEMENT_TIMEOUT", set: SetDB,
			Usage: "longest one database statement may run, a `duration` (PostgreSQL statement_timeout; SQLite busy timeout)",
			value: func(c *Config) flag.Value { return &durationValue{p: &c.DBStatementTimeout, min: time.Millisecond} }},
		{Flag: "sqlite-synchronous", Env: "COHORT_SQLITE_SYNCHRONOUS", set: SetDB,
			Usage: "SQLite durability (`mode`): full (a commit survives a power cut) or normal (faster; a power cut may lose the last commits)",
			value: func(c *Config) flag.Value {
				return &choiceValue{p: &c.SQLiteSynchronous, choices: []string{"full", "normal"}}
			}},
		{Flag: "log-level", Env: "COHORT_LOG_LEVEL", set: SetDB,
			Usage: "least important log `level` written: debug, info, warn or error",
			value: func(c *Config) flag.Value { return (*levelValue)(&c.LogLevel) }},
		{Flag: "log-format", Env: "COHORT_LOG_FORMAT", set: SetDB,
			Usage: "log `format`: text (for people) or json (for log collectors)",
			value: func(c *Config) flag.Value {
				return &choiceValue{p: &c.LogFormat, choices: []string{"text", "json"}}
			}},
		{Flag: "addr", Env: "COHORT_ADDR", set: SetServe,
			Usage: "`host:port` to listen on; port 0 picks a free port",
			value: func(c *Config) flag.Value { return (*addrValue)(&c.Addr) }},
		{Flag: "demo", Env: "COHORT_DEMO", set: SetServe,
			Usage: "seed the Demo Practice when the database has no workspace",
			value: func(c *Config) flag.Value { return (*boolValue)(&c.Demo) }},
		{Env: "COHORT_DEMO_PASSWORD", set: SetServe, EnvOnly: true,
			Usage: "password of every demo user (at least 12 characters); generated and printed when unset",
			value: func(c *Config) flag.Value { return (*stringValue)(&c.DemoPassword) }},
		{Flag: "tls-cert", Env: "COHORT_TLS_CERT", set: SetServe,
			Usage: "TLS certificate `file` (PEM); with --tls-key serves HTTPS",
			value: func(c *Config) flag.Value { return (*stringValue)(&c.TLSCert) }},
		{Flag: "tls-key", Env: "COHORT_TLS_KEY", set: SetServe,
			Usage: "TLS private key `file` (PEM); with --tls-cert serves HTTPS",
			value: func(c *Config) flag.Value { return (*stringValue)(&c.TLSKey) }},
		{Flag: "behind-tls-proxy", Env: "COHORT_BEHIND_TLS_PROXY", set: SetServe,
			Usage: "a reverse proxy in front serves HTTPS and appends the client to X-Forwarded-For: cookies get Secure, HSTS is sent, sign-in throttling counts the client's address",
			value: func(c *Config) flag.Value { return (*boolValue)(&c.BehindTLSProxy) }},
		{Flag: "public-url", Env: "COHORT_PUBLIC_URL", set: SetServe,
			Usage: "absolute `URL` clients reach Cohort at, e.g. https://cohort.example.org; absolute links (SCIM locations) use it instead of the request's Host",
			value: func(c *Config) flag.Value { return (*publicURLValue)(&c.PublicURL) }},
		{Flag: "session-ttl", Env: "COHORT_SESSION_TTL", set: SetServe,
			Usage: "longest a browser session lasts (a `duration`)",
			value: func(c *Config) flag.Value { return &durationValue{p: &c.SessionTTL, min: time.Minute} }},
		{Flag: "session-idle", Env: "COHORT_SESSION_IDLE", set: SetServe,
			Usage: "a session unused this long (a `duration`) ends",
			value: func(c *Config) flag.Value { return &durationValue{p: &c.SessionIdle, min: time.Minute} }},
		{Flag: "shutdown-timeout", Env: "COHORT_SHUTDOWN_TIMEOUT", set: SetServe,
			Usage: "how long (a `duration`) requests in flight may finish after SIGINT/SIGTERM",
			value: func(c *Config) flag.Value { return &durationValue{p: &c.ShutdownTimeout, min: 0} }},
		{Flag: "read-concurrency", Env: "COHORT_READ_CONCURRENCY", set: SetServe,
			Usage: "reads (`n`) served at once, others wait their turn so writes stay quick under load; 0 picks the number of CPUs (at least 2) on SQLite, --db-max-conns on PostgreSQL",
			value: func(c *Config) flag.Value { return &intValue{p: &c.ReadConcurrency, min: 0} }},
		{Flag: "rate-limit", Env: "COHORT_RATE_LIMIT", set: SetServe,
			Usage: "requests per minute (`n`) per API key, REST API and SCIM together; 0 turns the limit off",
			value: func(c *Config) flag.Value { return &intValue{p: &c.RateLimit, min: 0} }},
		{Flag: "metrics-addr", Env: "COHORT_METRICS_ADDR", set: SetServe,
			Usage: "host:port serving Prometheus metrics at /metrics, e.g. 127.0.0.1:9464; empty serves none",
			value: func(c *Config) flag.Value { return (*optAddrValue)(&c.MetricsAddr) }},
		{Flag: "webhook-allow-private", Env: "COHORT_WEBHOOK_ALLOW_PRIVATE", set: SetWebhook,
			Usage: "allow webhook URLs on loopback and private networks",
			value: func(c *Config) flag.Value { return (*boolValue)(&c.WebhookAllowPrivate) }},
	}
}

// Options lists every option with its default, in the order of the docs.
func Options() []Option {
	def := Default()
	opts := options()
	for i := range opts {
		opts[i].Default = opts[i].value(&def).String()
	}
	return opts
}

// Bind registers the flags of the given sets on fs, each starting from the
// value of its environment variable when that is set, so that flags given
// on the command line override the environment. A bad environment value
// is an error that names the variable and what it expects. Variables of
// other sets are not read: a command is not troubled by settings it does
// not use.
func (c *Config) Bind(fs *flag.FlagSet, getenv func(string) string, sets ...Set) error {
	var errs []error
	for _, o := range options() {
		if !slices.Contains(sets, o.set) {
			continue
		}
		v := o.value(c)
		if s := getenv(o.Env); s != "" {
			if err := v.Set(s); err != nil {
				errs = append(errs, fmt.Errorf("invalid value %q for %s: %w", s, o.Env, err))
			}
		}
		if o.EnvOnly {
			continue
		}
		fs.Var(v, o.Flag, o.Usage+" (env "+o.Env+")")
	}
	return errors.Join(errs...)
}

// Validate checks rules that involve more than one setting.
func (c *Config) Validate() error {
	var errs []error
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together: give both files or neither"))
	}
	if c.SessionIdle > c.SessionTTL {
		errs = append(errs, fmt.Errorf("--session-idle (%s) is longer than --session-ttl (%s): make it shorter or equal", c.SessionIdle, c.SessionTTL))
	}
	if strings.TrimSpace(c.DB) == "" {
		errs = append(errs, errors.New("--db is empty: give a SQLite file path or a postgres:// URL"))
	}
	if c.DemoPassword != "" && len([]rune(c.DemoPassword)) < 12 {
		errs = append(errs, errors.New("COHORT_DEMO_PASSWORD is too short: use at least 12 characters"))
	}
	return errors.Join(errs...)
}

// IsPostgres reports whether DB names a PostgreSQL database.
func (c *Config) IsPostgres() bool {
	return strings.HasPrefix(c.DB, "postgres://") || strings.HasPrefix(c.DB, "postgresql://")
}

// TLS reports whether the server serves HTTPS itself.
func (c *Config) TLS() bool { return c.TLSCert != "" && c.TLSKey != "" }

// HTTPS reports whether browsers reach the site over HTTPS, directly or
// through a proxy.
func (c *Config) HTTPS() bool { return c.TLS() || c.BehindTLSProxy }

// Flag values. Each error says what is expected; the flag package adds the
// flag's name and the value given.

type stringValue string

func (s *stringValue) String() string     { return string(*s) }
func (s *stringValue) Set(v string) error { *s = stringValue(v); return nil }

type boolValue bool

func (b *boolValue) String() string   { return strconv.FormatBool(bool(*b)) }
func (b *boolValue) IsBoolFlag() bool { return true }
func (b *boolValue) Set(v string) error {
	x, err := strconv.ParseBool(v)
	if err != nil {
		return errors.New("expected true or false")
	}
	*b = boolValue(x)
	return nil
}

type intValue struct {
	p   *int
	min int
}

func (i *intValue) String() string {
	if i.p == nil {
		return "0"
	}
	return strconv.Itoa(*i.p)
}

func (i *intValue) Set(v string) error {
	x, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || x < i.min {
		return fmt.Errorf("expected a whole number of at least %d", i.min)
	}
	*i.p = x
	return nil
}

type durationValue struct {
	p   *time.Duration
	min time.Duration
}

func (d *durationValue) String() string {
	if d.p == nil {
		return "0s"
	}
	return d.p.String()
}

func (d *durationValue) Set(v string) error {
	x, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || x < d.min {
		if d.min > 0 {
			return fmt.Errorf("expected a duration of at least %s, like 30s, 15m or 12h", d.min)
		}
		return errors.New("expected a duration like 30s, 15m or 12h")
	}
	*d.p = x
	return nil
}

type choiceValue struct {
	p       *string
	choices []string
}

func (c *choiceValue) String() string {
	if c.p == nil {
		return ""
	}
	return *c.p
}

func (c *choiceValue) Set(v string) error {
	v = strings.ToLower(strings.TrimSpace(v))
	for _, ok := range c.choices {
		if v == ok {
			*c.p = v
			return nil
		}
	}
	return fmt.Errorf("expected one of %s", strings.Join(c.choices, ", "))
}

type levelValue slog.Level

func (l *levelValue) String() string { return strings.ToLower(slog.Level(*l).String()) }

func (l *levelValue) Set(v string) error {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "debug":
		*l = levelValue(slog.LevelDebug)
	case "info":
		*l = levelValue(slog.LevelInfo)
	case "warn", "warning":
		*l = levelValue(slog.LevelWarn)
	case "error":
		*l = levelValue(slog.LevelError)
	default:
		return errors.New("expected debug, info, warn or error")
	}
	return nil
}

type addrValue string

func (a *addrValue) String() string { return string(*a) }

func (a *addrValue) Set(v string) error {
	// An empty host (":8080") listens on every interface, which is allowed.
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return errors.New("expected host:port, like 127.0.0.1:8080 or :8080")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return errors.New("expected a port number from 0 to 65535, like 127.0.0.1:8080")
	}
	*a = addrValue(v)
	return nil
}

// optAddrValue is a host:port that may be left empty (a feature turned off).
type optAddrValue string

func (a *optAddrValue) String() string { return string(*a) }

func (a *optAddrValue) Set(v string) error {
	if strings.TrimSpace(v) == "" {
		*a = ""
		return nil
	}
	return (*addrValue)(a).Set(v)
}

// publicURLValue is an absolute http or https URL with a host, no user
// information, query or fragment; a trailing slash is dropped so paths
// can be appended.
type publicURLValue string

func (p *publicURLValue) String() string { return string(*p) }

func (p *publicURLValue) Set(v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		*p = ""
		return nil
	}
	const want = "expected an absolute http or https URL such as https://cohort.example.org, without a query or fragment"
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return errors.New(want)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(v, "#") {
		return errors.New(want)
	}
	if _, err := url.Parse("http://" + u.Host); err != nil || u.Hostname() == "" {
		return errors.New(want)
	}
	*p = publicURLValue(strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"))
	return nil
}
