// Command cohort-bench measures Cohort on the project's benchmark workloads:
// it generates a data set (S, M or L, seed 42), loads it straight into a
// fresh database, starts a real `cohort serve` on 127.0.0.1, signs in and
// creates API keys, runs operations B1–B9 and a bare net/http handler (the
// ceiling) with the same HTTP client, and prints one table with each
// operation's median, p95 and p99 latency, its throughput, reads as a
// fraction of the ceiling, and the server's peak memory.
//
//	go run ./cmd/cohort-bench --set M
//	go run ./cmd/cohort-bench --set L --duration 30s --json > l.json
//	go run ./cmd/cohort-bench --set M --db postgres://postgres@127.0.0.1:5432/postgres
//
// Timings are for comparing runs on the same machine, in the same session.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cohort-bench:", err)
		os.Exit(1)
	}
}

// allOps are the operations a run does unless --ops names fewer.
var allOps = []string{"R1", "B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9"}

type options struct {
	set      string
	db       string
	duration time.Duration
	json     bool
	ops      map[string]bool
	cohort   string
	clients  int
	pprof    string
}

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("cohort-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	var ops string
	fs.StringVar(&o.set, "set", "M", "data set: S (25 staff), M (5,000 staff, 500 groups) or L (50,000 staff, 5,000 groups + one of 50,000)")
	fs.StringVar(&o.db, "db", "", "database: a new SQLite file (default: one in a temporary folder), or postgres://… of a server to create a throw-away database on")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "length of B8, the mixed load")
	fs.BoolVar(&o.json, "json", false, "print the results as JSON instead of a table")
	fs.StringVar(&ops, "ops", strings.Join(allOps, ","), "comma-separated operations to run (the ceiling always runs)")
	fs.StringVar(&o.cohort, "cohort", "", "a cohort binary to serve with (default: go build ./cmd/cohort)")
	fs.IntVar(&o.clients, "clients", 32, "concurrent clients of B8 and of the concurrent read runs")
	fs.StringVar(&o.pprof, "pprof", "", "write the server's CPU and allocation profiles of each operation to this folder (builds cohort with -tags pprof)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: every setting is a flag (see --help)", fs.Arg(0))
	}
	o.set = strings.ToUpper(o.set)
	if _, ok := specs[o.set]; !ok {
		return nil, fmt.Errorf("--set %q: choose S, M or L", o.set)
	}
	if o.duration < time.Second {
		return nil, fmt.Errorf("--duration %s: give at least 1s, e.g. 30s", o.duration)
	}
	if o.clients < 1 || o.clients > 1024 {
		return nil, fmt.Errorf("--clients %d: give 1 to 1024", o.clients)
	}
	o.ops = map[string]bool{}
	for _, op := range strings.Split(ops, ",") {
		op = strings.ToUpper(strings.TrimSpace(op))
		if op == "" {
			continue
		}
		known := false
		for _, k := range allOps {
			known = known || k == op
		}
		if !known {
			return nil, fmt.Errorf("--ops: unknown operation %q: use any of %s", op, strings.Join(allOps, ","))
		}
		o.ops[op] = true
	}
	return o, nil
}

// run is the whole benchmark; main only adapts the process to it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	rep, err := measure(ctx, o, newProgress(stderr))
	if err != nil {
		return err
	}
	if o.json {
		err = rep.writeJSON(stdout)
	} else {
		err = rep.writeTable(stdout)
	}
	if err != nil {
		return err
	}
	if n := rep.errors(); n > 0 {
		return fmt.Errorf("%d requests failed (see first errors above): the measurements are not valid", n)
	}
	return nil
}

// measure seeds, serves and runs the operations, and returns the report.
func measure(ctx context.Context, o *options, prog *progress) (*report, error) {
	defer prog.done()
	d := generate(specs[o.set])
	dir, err := os.MkdirTemp("", "cohort-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	bin := o.cohort
	if bin == "" {
		prog.phase("building cohort")
		if bin, err = buildCohort(ctx, dir, o.pprof != ""); err != nil {
			return nil, err
		}
	}
	db, err := newDatabase(ctx, o.db, dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := db.drop(); err != nil {
			fmt.Fprintln(prog.w, "cohort-bench: drop the benchmark database:", err)
		}
	}()
	prog.phase("seeding data set %s: %d staff, %d groups, %d memberships", o.set, len(d.staff), len(d.groups), d.memberships())
	s, err := seedData(ctx, db.dsn, d, prog)
	if err != nil {
		return nil, err
	}
	prog.phase("starting cohort serve")
	srv, err := startServer(ctx, bin, db.dsn, o.pprof)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	ceil, err := startCeiling()
	if err != nil {
		return nil, err
	}
	defer ceil.close()

	tr := newTransport()
	defer tr.CloseIdleConnections()
	web, err := signIn(ctx, tr, srv.url, s.ownerEmail, s.password)
	if err != nil {
		return nil, err
	}
	engine := "SQLite"
	if strings.HasPrefix(db.dsn, "postgres") {
		engine = "PostgreSQL"
	}
	rep := &report{Set: o.set, Engine: engine, Started: time.Now(), Machine: machine(),
		Staff: len(d.staff) + 1, Groups: len(d.groups), Memberships: d.memberships(), SeedSeconds: s.took.Seconds()}
	b := &bench{
		ctx: ctx, d: d, s: s, web: web, prog: prog, rep: rep, reps: repsFor(o.set), dur: o.duration,
		par:     min(5*time.Second, max(time.Second, o.duration/6)),
		clients: o.clients,
		api:     newClient(tr, srv.url, "Bearer "+s.apiToken, nil),
		scim:    newClient(tr, srv.url, "Bearer "+s.scimToken, nil),
		bare:    newClient(tr, ceil.url, "", nil),
	}
	b.runCeiling()
	if o.pprof != "" {
		defer func() { prog.phase("profiles of each operation are in %s (index.txt names them)", o.pprof) }()
	}
	steps := []struct {
		op  string
		run func()
	}{
		{"R1", b.runR1}, {"B1", b.runB1}, {"B2", b.runB2}, {"B7", b.runB7}, {"B9", b.runB9},
		{"B6", func() { b.runB6(true) }}, {"B3", b.runB3}, {"B4", b.runB4}, {"B5", b.runB5}, {"B8", b.runB8},
	}
	for _, st := range steps {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if st.op == "B4" && o.ops["B4"] && b.all == "" {
			b.runB6(false) // B4 needs the all-staff group
		}
		if o.ops[st.op] {
			if err := srv.profile(st.op, st.run); err != nil {
				return nil, err
			}
		}
	}
	if rep.PeakRSS, err = srv.peakRSS(); err != nil {
		return nil, fmt.Errorf("read the server's peak memory: %w", err)
	}
	return rep, nil
}

// machine describes where the run happened.
func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	s := fmt.Sprintf("%d cores, %s/%s, %s", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	if model != "" {
		s = model + ", " + s
	}
	return s
}
