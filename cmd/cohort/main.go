// Command cohort is Cohort's one binary: the server (`cohort serve`) and
// the admin commands of a real install (workspaces, users, API keys,
// webhooks, backups, migrations).
//
// main only adapts the process to run: everything else takes its inputs
// (arguments, environment, standard streams, a context cancelled on
// SIGINT/SIGTERM) as parameters, so tests drive the real program in
// process.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cohort:", err)
		os.Exit(exitCode(err))
	}
}

// usageError marks a mistake on the command line (unknown command, bad
// flag value): the process exits with status 2, as the flag package and
// most Unix tools do, so scripts can tell it from a failure at run time.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

func exitCode(err error) int {
	var u *usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

// env is what every command gets from the process.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one entry of `cohort <command>`. Commands with
// sub-commands (apikey, webhook, …) dispatch again inside run.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands lists every command in the order usage shows them. A new
// command is one more entry here and a file of its own beside this one
// (csv.go holds import and export).
func commands() []command {
	return []command{
		{"serve", "run the web UI, REST API and SCIM server (--demo seeds the Demo Practice)", cmdServe},
		{"migrate", "apply database migrations and exit", cmdMigrate},
		{"workspace", "create or list workspaces (practices) and their owners", cmdWorkspace},
		{"user", "create staff members", cmdUser},
		{"import", "import staff or groups from a CSV file (all rows or none)", cmdImport},
		{"export", "export staff or groups as CSV", cmdExport},
		{"apikey", "create, list or revoke API keys", cmdAPIKey},
		{"webhook", "create, list or delete webhooks", cmdWebhook},
		{"backup", "write a consistent copy of the database to a file", cmdBackup},
		{"version", "print the version", cmdVersion},
	}
}

// run is the whole program: it parses args and runs one command.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		printUsage(stdout)
		return nil
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printUsage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, e, args[1:])
			if errors.Is(err, errHelp) {
				return nil
			}
			return err
		}
	}
	return usagef("unknown command %q: run 'cohort --help' to see the commands", args[0])
}

func printUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString("Cohort keeps a practice's staff and their user groups.\n\n")
	b.WriteString("Usage:\n  cohort <command> [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun 'cohort <command> --help' for a command's flags. Every flag can also be\n")
	b.WriteString("set through an environment variable: --db is COHORT_DB, --addr is COHORT_ADDR, …\n")
	b.WriteString("\nQuick start:\n  cohort serve --demo\n")
	_, _ = io.WriteString(w, b.String())
}

// errHelp is returned after a command printed its --help; run turns it
// into success.
var errHelp = errors.New("help shown")

// flags is one command's flag set with a one-line synopsis for --help.
type flags struct {
	*flag.FlagSet
	synopsis string
}

// newFlags returns the flag set of "cohort <name>"; its errors come back
// to the caller instead of being printed by the flag package.
func newFlags(name, synopsis string) *flags {
	fs := flag.NewFlagSet("cohort "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flags{FlagSet: fs, synopsis: synopsis}
}

// parse parses args, which may hold up to maxArgs positional arguments
// (before, between or after the flags). --help prints the command's flags
// and returns errHelp; a bad flag is a usage error saying how to get help.
func (f *flags) parse(e *env, args []string, maxArgs int) ([]string, error) {
	var positional []string
	for {
		err := f.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			f.printHelp(e.stdout)
			return nil, errHelp
		}
		if err != nil {
			return nil, usagef("%s: %v\nRun '%s --help' for usage.", f.Name(), err, f.Name())
		}
		if f.NArg() == 0 {
			break
		}
		positional = append(positional, f.Arg(0))
		args = f.Args()[1:]
	}
	if len(positional) > maxArgs {
		return nil, usagef("%s: unexpected argument %q\nRun '%s --help' for usage.", f.Name(), positional[maxArgs], f.Name())
	}
	return positional, nil
}

func (f *flags) printHelp(w io.Writer) {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s\n", f.synopsis)
	var n int
	f.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		b.WriteString("\nFlags:\n")
	}
	f.VisitAll(func(fl *flag.Flag) {
		name, usage := flag.UnquoteUsage(fl)
		fmt.Fprintf(&b, "  --%s", fl.Name)
		if name != "" {
			fmt.Fprintf(&b, " %s", name)
		}
		fmt.Fprintf(&b, "\n      %s", usage)
		if fl.DefValue != "" && fl.DefValue != "false" && fl.DefValue != "0" {
			fmt.Fprintf(&b, " (default %q)", fl.DefValue)
		}
		b.WriteString("\n")
	})
	_, _ = io.WriteString(w, b.String())
}
