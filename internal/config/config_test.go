package config

import (
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

var all = []Set{SetDB, SetServe, SetWebhook}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func parse(t *testing.T, sets []Set, getenv func(string) string, args ...string) (Config, error) {
	t.Helper()
	c := Default()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := c.Bind(fs, getenv, sets...); err != nil {
		return c, err
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, c.Validate()
}

func TestDefaults(t *testing.T) {
	c, err := parse(t, all, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DB != "cohort.db" || c.LogFormat != "text" || c.LogLevel != slog.LevelInfo {
		t.Errorf("defaults = %+v", c)
	}
	if c.IsPostgres() || c.TLS() {
		t.Errorf("default must be SQLite without TLS")
	}
}

func TestEnvThenFlags(t *testing.T) {
	e := env(map[string]string{
		"COHORT_ADDR":                  "0.0.0.0:9000",
		"COHORT_DB":                    "postgres://postgres@127.0.0.1:5432/cohort",
		"COHORT_DEMO":                  "true",
		"COHORT_DEMO_PASSWORD":         "correct horse battery",
		"COHORT_LOG_LEVEL":             "debug",
		"COHORT_LOG_FORMAT":            "JSON",
		"COHORT_SESSION_TTL":           "8h",
		"COHORT_SESSION_IDLE":          "30m",
		"COHORT_DB_MAX_CONNS":          "25",
		"COHORT_DB_STATEMENT_TIMEOUT":  "5s",
		"COHORT_SHUTDOWN_TIMEOUT":      "3s",
		"COHORT_RATE_LIMIT":            "0",
		"COHORT_WEBHOOK_ALLOW_PRIVATE": "1",
		"COHORT_BEHIND_TLS_PROXY":      "true",
		"COHORT_SQLITE_SYNCHRONOUS":    "NORMAL",
	})
	c, err := parse(t, all, e, "--addr", "127.0.0.1:0", "--log-level=warn")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Addr: "127.0.0.1:0", DB: "postgres://postgres@127.0.0.1:5432/cohort", Demo: true,
		DemoPassword: "correct horse battery", LogLevel: slog.LevelWarn, LogFormat: "json",
		SessionTTL: 8 * time.Hour, SessionIdle: 30 * time.Minute, DBMaxConns: 25,
		DBStatementTimeout: 5 * time.Second, ShutdownTimeout: 3 * time.Second, RateLimit: 0,
		WebhookAllowPrivate: true, BehindTLSProxy: true, SQLiteSynchronous: "normal",
	}
	if c != want {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	if !c.IsPostgres() {
		t.Error("postgres:// must select PostgreSQL")
	}
	if c.TLS() || !c.HTTPS() {
		t.Error("behind a TLS proxy the site is HTTPS but this process does not serve TLS")
	}
}

// A command that only opens the database must not trip over, or accept,
// the server's settings.
func TestDBSetIgnoresServeOptions(t *testing.T) {
	_, err := parse(t, []Set{SetDB}, env(map[string]string{"COHORT_RATE_LIMIT": "lots"}), "--db", "x.db")
	if err != nil {
		t.Fatalf("SetDB read a serve-only variable: %v", err)
	}
	_, err = parse(t, []Set{SetDB}, env(nil), "--addr", ":1")
	if err == nil || !strings.Contains(err.Error(), "-addr") {
		t.Fatalf("SetDB accepted --addr: %v", err)
	}
}

func TestBadValuesNameTheFlagAndWhatIsExpected(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want []string
	}{
		{args: []string{"--addr", "localhost"}, want: []string{"-addr", "host:port"}},
		{args: []string{"--addr", "127.0.0.1:99999"}, want: []string{"-addr", "0 to 65535"}},
		{args: []string{"--session-ttl", "forever"}, want: []string{"-session-ttl", "duration"}},
		{args: []string{"--session-ttl", "10s"}, want: []string{"-session-ttl", "at least 1m0s"}},
		{args: []string{"--db-max-conns", "0"}, want: []string{"-db-max-conns", "at least 1"}},
		{args: []string{"--rate-limit", "-1"}, want: []string{"-rate-limit", "at least 0"}},
		{args: []string{"--log-format", "xml"}, want: []string{"-log-format", "text, json"}},
		{args: []string{"--log-level", "loud"}, want: []string{"-log-level", "debug, info, warn or error"}},
		{args: []string{"--demo=maybe"}, want: []string{"-demo", "true or false"}},
		{args: []string{"--sqlite-synchronous", "off"}, want: []string{"-sqlite-synchronous", "full, normal"}},
		{args: []string{"--tls-cert", "c.pem"}, want: []string{"--tls-cert and --tls-key"}},
		{args: []string{"--session-ttl", "1h", "--session-idle", "2h"}, want: []string{"--session-idle", "shorter"}},
		{args: []string{"--db", " "}, want: []string{"--db is empty"}},
		{env: map[string]string{"COHORT_SHUTDOWN_TIMEOUT": "soon"}, want: []string{"COHORT_SHUTDOWN_TIMEOUT", "duration"}},
		{env: map[string]string{"COHORT_DEMO_PASSWORD": "short"}, want: []string{"COHORT_DEMO_PASSWORD", "12 characters"}},
	}
	for _, tc := range cases {
		_, err := parse(t, all, env(tc.env), tc.args...)
		if err == nil {
			t.Errorf("%v %v: no error", tc.args, tc.env)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v %v: error %q does not mention %q", tc.args, tc.env, err, w)
			}
		}
	}
}

func TestOptionsDocumentEveryFlag(t *testing.T) {
	c := Default()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	if err := c.Bind(fs, env(nil), all...); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, o := range Options() {
		if !strings.HasPrefix(o.Env, "COHORT_") || o.Usage == "" {
			t.Errorf("option %+v lacks an env var or usage", o)
		}
		if !o.EnvOnly {
			want := "COHORT_" + strings.ToUpper(strings.ReplaceAll(o.Flag, "-", "_"))
			if o.Env != want {
				t.Errorf("flag %s has env %s, want %s", o.Flag, o.Env, want)
			}
		}
		documented[o.Flag] = true
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !documented[f.Name] {
			t.Errorf("flag %s is not in Options()", f.Name)
		}
	})
}

// TestPublicURL: --public-url takes an absolute http(s) URL (a trailing
// slash dropped) and refuses anything that cannot prefix a path.
func TestPublicURL(t *testing.T) {
	good := map[string]string{
		"https://cohort.example.org":         "https://cohort.example.org",
		"https://cohort.example.org/":        "https://cohort.example.org",
		"http://10.0.0.5:8080":               "http://10.0.0.5:8080",
		"https://example.org/cohort/":        "https://example.org/cohort",
		"  https://[2001:db8::1]:8443/ ":     "https://[2001:db8::1]:8443",
		"https://cohort.example.org/a%20b/c": "https://cohort.example.org/a%20b/c",
	}
	for in, want := range good {
		c, err := parse(t, all, env(map[string]string{"COHORT_PUBLIC_URL": in}))
		if err != nil || c.PublicURL != want {
			t.Errorf("COHORT_PUBLIC_URL=%q: %q, %v; want %q", in, c.PublicURL, err, want)
		}
	}
	for _, bad := range []string{
		"cohort.example.org", "/scim", "ftp://cohort.example.org", "https://", "https://cohort.example.org?x=1",
		"https://cohort.example.org/#top", "https://user:pw@cohort.example.org", "mailto:x@example.org", "https://:8080",
	} {
		if _, err := parse(t, all, env(nil), "--public-url", bad); err == nil {
			t.Errorf("--public-url %q was accepted", bad)
		}
	}
	if c, err := parse(t, all, env(nil)); err != nil || c.PublicURL != "" {
		t.Errorf("default public URL %q, %v; want none", c.PublicURL, err)
	}
}
