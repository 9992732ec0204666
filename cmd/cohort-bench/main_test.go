package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestSmokeSetS runs the whole benchmark on data set S with a short mixed
// load: a real cohort binary is built and served, and every operation must
// run without a single failed request. Timings are never asserted.
func TestSmokeSetS(t *testing.T) {
	if testing.Short() {
		t.Skip("the benchmark smoke run builds and serves cohort; skipped with -short")
	}
	args := []string{"--set", "S", "--duration", "2s", "--clients", "8", "--json"}
	// The suite's PostgreSQL pass runs the benchmark on PostgreSQL too (a
	// throw-away database on that server, dropped at the end).
	if os.Getenv("COHORT_TEST_ENGINE") == "postgres" {
		server := os.Getenv("COHORT_TEST_POSTGRES")
		if server == "" {
			t.Fatal("COHORT_TEST_ENGINE=postgres needs COHORT_TEST_POSTGRES, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
		}
		args = append(args, "--db", server)
	}
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), args, &stdout, &stderr)
	if err != nil {
		t.Fatalf("benchmark failed: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), stdout.String())
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("--json output is not a report: %v\n%s", err, stdout.String())
	}
	seen := map[string]int{}
	for _, r := range rep.Results {
		seen[r.ID] += r.N
		if r.Errors != 0 {
			t.Errorf("%s %s: %d errors, first: %s", r.ID, r.Name, r.Errors, r.FirstErr)
		}
		if r.N == 0 {
			t.Errorf("%s %s: no samples", r.ID, r.Name)
		}
	}
	for _, op := range append([]string{"C0"}, allOps...) {
		if seen[op] == 0 {
			t.Errorf("operation %s did not run", op)
		}
	}
	if len(rep.Ratios) != 4 {
		t.Errorf("B4 ratios: got %d, want 4 (API and SCIM, in and out)", len(rep.Ratios))
	}
	if rep.PeakRSS <= 0 {
		t.Errorf("server peak RSS not read: %d", rep.PeakRSS)
	}
	if !strings.Contains(stderr.String(), "seeding data set S") {
		t.Errorf("no progress on stderr:\n%s", stderr.String())
	}
}

// TestTableNamesEveryResult checks the table form: every operation is a
// row and the server's memory is printed.
func TestTableNamesEveryResult(t *testing.T) {
	rep := &report{Set: "S", Engine: "SQLite", Machine: "test", PeakRSS: 64 << 20,
		Results: []result{{ID: "B1", Name: "Groups page", N: 3, Median: 1.5}, {ID: "B2", Name: "walk", N: 2, Errors: 1, FirstErr: "status 500"}},
		Ratios:  []ratio{{Name: "B4 API one member in", Value: 1.1}}}
	var out bytes.Buffer
	if err := rep.writeTable(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Groups page", "walk", "64.0 MiB", "B4 API one member in: 1.10×", "B2 first error: status 500"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

// TestBadFlagsSayWhatToFix checks that a wrong flag is refused with a
// message naming it, before anything is built or seeded.
func TestBadFlagsSayWhatToFix(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--set", "XL"}, "choose S, M or L"},
		{[]string{"--duration", "10ms"}, "at least 1s"},
		{[]string{"--ops", "B1,B10"}, `unknown operation "B10"`},
		{[]string{"--clients", "0"}, "give 1 to 1024"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), tc.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}
