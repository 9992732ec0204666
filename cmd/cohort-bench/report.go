package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// result is one line of the table.
type result struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	N      int     `json:"n"`
	Errors int     `json:"errors"`
	Median float64 `json:"median_ms"`
	P95    float64 `json:"p95_ms"`
	P99    float64 `json:"p99_ms"`
	OpsSec float64 `json:"ops_per_s"`
	// Ceiling is the op's throughput as a fraction of the bare handler's,
	// measured the same way (reads only).
	Ceiling   float64 `json:"ceiling_ratio,omitempty"`
	Note      string  `json:"note,omitempty"`
	FirstErr  string  `json:"first_error,omitempty"`
	read      bool
	parallel  bool
	durations []time.Duration
}

// sampler collects the timings of one operation.
type sampler struct {
	mu       sync.Mutex
	d        []time.Duration
	errs     int
	firstErr error
}

// time runs fn and records how long it took and whether it failed.
func (s *sampler) time(fn func() error) {
	t0 := time.Now()
	err := fn()
	s.add(time.Since(t0), err)
}

func (s *sampler) add(d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	s.fail(err)
}

// untimed runs preparation or clean-up: only a failure is recorded.
func (s *sampler) untimed(fn func() error) {
	err := fn()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail(err)
}

func (s *sampler) fail(err error) {
	if err == nil {
		return
	}
	s.errs++
	if s.firstErr == nil {
		s.firstErr = err
	}
}

// result summarises sequential samples: throughput is one client's,
// 1 / mean latency.
func (s *sampler) result(id, name string) result {
	r := summarize(id, name, s.d)
	r.Errors = s.errs
	if s.firstErr != nil {
		r.FirstErr = s.firstErr.Error()
	}
	if len(s.d) > 0 {
		var sum time.Duration
		for _, d := range s.d {
			sum += d
		}
		r.OpsSec = float64(len(s.d)) / sum.Seconds()
	}
	return r
}

func summarize(id, name string, ds []time.Duration) result {
	r := result{ID: id, Name: name, N: len(ds), durations: ds}
	if len(ds) == 0 {
		return r
	}
	v := append([]time.Duration(nil), ds...)
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	r.Median = ms(quantile(v, 0.50))
	r.P95 = ms(quantile(v, 0.95))
	r.P99 = ms(quantile(v, 0.99))
	return r
}

// quantile is the nearest-rank quantile of sorted v.
func quantile(v []time.Duration, q float64) time.Duration {
	i := int(float64(len(v))*q+0.5) - 1
	return v[max(0, min(i, len(v)-1))]
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// report is everything one run measured.
type report struct {
	Set         string    `json:"set"`
	Engine      string    `json:"engine"`
	Started     time.Time `json:"started"`
	Machine     string    `json:"machine"`
	Staff       int       `json:"staff"`
	Groups      int       `json:"groups"`
	Memberships int       `json:"memberships"`
	SeedSeconds float64   `json:"seed_seconds"`
	PeakRSS     int64     `json:"server_peak_rss_bytes"`
	Results     []result  `json:"results"`
	Ratios      []ratio   `json:"ratios,omitempty"`
}

// ratio compares two results' medians (B4: the large group and the small).
type ratio struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

func (r *report) errors() int {
	n := 0
	for _, x := range r.Results {
		n += x.Errors
	}
	return n
}

func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func (r *report) writeTable(w io.Writer) error {
	fmt.Fprintf(w, "Cohort benchmark: data set %s (%d staff, %d groups, %d memberships), %s, %s\n",
		r.Set, r.Staff, r.Groups, r.Memberships, r.Engine, r.Machine)
	fmt.Fprintf(w, "seeded in %.1fs; started %s\n\n", r.SeedSeconds, r.Started.UTC().Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\toperation\tn\tmedian ms\tp95 ms\tp99 ms\tops/s\tvs ceiling\terrors\t")
	for _, x := range r.Results {
		c := ""
		if x.Ceiling > 0 {
			c = fmt.Sprintf("%.0f%%", 100*x.Ceiling)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%.2f\t%.2f\t%.0f\t%s\t%d\t\n",
			x.ID, x.Name, x.N, x.Median, x.P95, x.P99, x.OpsSec, c, x.Errors)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, x := range r.Ratios {
		fmt.Fprintf(w, "%s: %.2f×\n", x.Name, x.Value)
	}
	fmt.Fprintf(w, "server peak RSS (VmHWM): %.1f MiB\n", float64(r.PeakRSS)/(1<<20))
	for _, x := range r.Results {
		if x.FirstErr != "" {
			fmt.Fprintf(w, "%s first error: %s\n", x.ID, x.FirstErr)
		}
	}
	return nil
}

// progress tells the person waiting what the benchmark is doing, on
// stderr: one line rewritten in place on a terminal, a line per phase
// otherwise.
type progress struct {
	w       io.Writer
	tty     bool
	last    string
	lastPct int
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// phase announces a new phase.
func (p *progress) phase(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", msg)
	} else {
		fmt.Fprintln(p.w, msg)
	}
	p.last, p.lastPct = msg, -1
}

// step shows how far a phase is, with a bar on a terminal and every 10%
// otherwise.
func (p *progress) step(what string, done, total int) {
	if total <= 0 {
		return
	}
	pct := 100 * done / total
	if p.tty {
		const width = 30
		bar := strings.Repeat("#", width*done/total) + strings.Repeat(".", width-width*done/total)
		fmt.Fprintf(p.w, "\r\033[K%s [%s] %3d%% (%d/%d)", what, bar, pct, done, total)
		return
	}
	if pct/10 != p.lastPct/10 || done == total && p.lastPct != 100 {
		fmt.Fprintf(p.w, "%s %d%% (%d/%d)\n", what, pct, done, total)
		p.lastPct = pct
	}
}

// done ends the progress output.
func (p *progress) done() {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
