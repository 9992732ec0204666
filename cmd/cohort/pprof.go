//go:build pprof

// Profiling hook for the benchmark (cmd/cohort-bench --pprof). It exists
// only in binaries built with `go build -tags pprof`, so the cohort that
// people run has no profiling endpoint or signal handler at all.
//
// With COHORT_PPROF_DIR set, SIGUSR1 starts a CPU profile and SIGUSR2
// stops it and writes the allocation profile beside it: the benchmark
// brackets each operation with the two signals, so every profile holds one
// operation and nothing else. Files are cpu-NN.pprof and allocs-NN.pprof;
// allocation profiles are cumulative (compare with `go tool pprof -base`).
// SIGWINCH writes goroutines-NN.txt, every goroutine's stack grouped by
// where it is, to see what requests wait on under load.

package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"
)

func init() {
	dir := os.Getenv("COHORT_PPROF_DIR")
	if dir == "" {
		return
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH)
	go profileOnSignals(dir, sig)
}

func profileOnSignals(dir string, sig <-chan os.Signal) {
	var cpu *os.File
	n := 0
	dumps := 0
	for s := range sig {
		switch {
		case s == syscall.SIGWINCH:
			dumps++
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("goroutines-%02d.txt", dumps)))
			if err != nil {
				fmt.Fprintln(os.Stderr, "cohort: pprof:", err)
				continue
			}
			if err := pprof.Lookup("goroutine").WriteTo(f, 1); err != nil {
				fmt.Fprintln(os.Stderr, "cohort: pprof:", err)
			}
			f.Close()
		case s == syscall.SIGUSR1 && cpu == nil:
			n++
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("cpu-%02d.pprof", n)))
			if err != nil {
				fmt.Fprintln(os.Stderr, "cohort: pprof:", err)
				continue
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				fmt.Fprintln(os.Stderr, "cohort: pprof:", err)
				f.Close()
				continue
			}
			cpu = f
		case s == syscall.SIGUSR2 && cpu != nil:
			pprof.StopCPUProfile()
			cpu.Close()
			cpu = nil
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("allocs-%02d.pprof", n)))
			if err != nil {
				fmt.Fprintln(os.Stderr, "cohort: pprof:", err)
				continue
			}
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				fmt.Fprintln(os.Stderr, "cohort: pprof:", err)
			}
			f.Close()
		}
	}
}
