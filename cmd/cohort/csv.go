package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/csvio"
)

// CSV import and export of staff and groups (docs/csv.md).

func cmdImport(ctx context.Context, e *env, args []string) error {
	return subcommands(ctx, e, "import", args, []command{
		{"users", "create or update staff from a CSV file (matched by email)", func(ctx context.Context, e *env, args []string) error {
			return runImport(ctx, e, "users", args)
		}},
		{"groups", "create or update groups and set their members from a CSV file (matched by name)", func(ctx context.Context, e *env, args []string) error {
			return runImport(ctx, e, "groups", args)
		}},
	})
}

func cmdExport(ctx context.Context, e *env, args []string) error {
	return subcommands(ctx, e, "export", args, []command{
		{"users", "write every staff member as CSV", func(ctx context.Context, e *env, args []string) error {
			return runExport(ctx, e, "users", args)
		}},
		{"groups", "write every group with its members as CSV, one row per member", func(ctx context.Context, e *env, args []string) error {
			return runExport(ctx, e, "groups", args)
		}},
	})
}

// runImport checks the whole file before it opens the database, then
// imports it in one transaction: any bad row means nothing changes.
func runImport(ctx context.Context, e *env, kind string, args []string) error {
	c, err := newDBCommand(e, "import "+kind, "cohort import "+kind+" --workspace SLUG --file FILE.csv (- reads standard input)")
	if err != nil {
		return err
	}
	slug := c.String("workspace", "", "the workspace's slug")
	file := c.String("file", "", "the CSV file to import, or - for standard input")
	if _, err := c.parse(e, args, 0); err != nil {
		return err
	}
	if *file == "" {
		return usagef("cohort import %s: --file is required: name the CSV file (see docs/csv.md for its columns)", kind)
	}
	if *slug == "" {
		return usagef("cohort import %s: --workspace is required: give the workspace's slug", kind)
	}
	var in io.Reader = e.stdin
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return fmt.Errorf("import %s: %w", kind, err)
		}
		defer f.Close()
		in = f
	}
	var users []cohort.UserImport
	var groups []cohort.GroupImport
	if kind == "users" {
		users, err = csvio.ReadUsers(in)
	} else {
		groups, err = csvio.ReadGroups(in)
	}
	if err != nil {
		return importProblem(*file, err)
	}
	ctx, svc, ws, closeDB, err := c.openWorkspace(ctx, e, *slug)
	if err != nil {
		return err
	}
	defer closeDB()
	var res cohort.ImportResult
	if kind == "users" {
		res, err = svc.Imports.ImportUsers(ctx, users)
	} else {
		res, err = svc.Imports.ImportGroups(ctx, groups)
	}
	if err != nil {
		return importProblem(*file, err)
	}
	fmt.Fprintf(e.stdout, "Imported %s into %s: %d created, %d updated, %d unchanged.\n", kind, ws.Slug, res.Created, res.Updated, res.Unchanged)
	if kind == "users" && res.Created > 0 {
		fmt.Fprintln(e.stdout, "New staff have no password yet: a manager sets one on their page in Settings → Users before they can sign in.")
	}
	return nil
}

// importProblem lists every bad row, one a line, under a summary.
func importProblem(file string, err error) error {
	var ie *cohort.ImportError
	if !errors.As(err, &ie) {
		return describe("import "+file, err)
	}
	msg := fmt.Sprintf("import %s: nothing was imported; fix these rows and run the import again:", file)
	for _, r := range ie.Rows {
		msg += "\n  " + r.String()
	}
	return &cliError{msg: msg, err: err}
}

// runExport writes the CSV to --file (through a temporary file renamed
// into place, so a failed export never leaves half a file) or stdout.
func runExport(ctx context.Context, e *env, kind string, args []string) (err error) {
	c, err := newDBCommand(e, "export "+kind, "cohort export "+kind+" --workspace SLUG [--file FILE.csv]")
	if err != nil {
		return err
	}
	slug := c.String("workspace", "", "the workspace's slug")
	file := c.String("file", "", "write to this file instead of standard output")
	if _, err := c.parse(e, args, 0); err != nil {
		return err
	}
	if *slug == "" {
		return usagef("cohort export %s: --workspace is required: give the workspace's slug", kind)
	}
	ctx, svc, _, closeDB, err := c.openWorkspace(ctx, e, *slug)
	if err != nil {
		return err
	}
	defer closeDB()
	out := e.stdout
	var tmp *os.File
	if *file != "" && *file != "-" {
		tmp, err = os.CreateTemp(filepath.Dir(*file), ".cohort-export-*.csv")
		if err != nil {
			return fmt.Errorf("export %s: %w", kind, err)
		}
		defer func() {
			if err != nil {
				tmp.Close()
				os.Remove(tmp.Name())
			}
		}()
		out = tmp
	}
	if kind == "users" {
		err = csvio.WriteUsers(ctx, out, svc.Users)
	} else {
		err = csvio.WriteGroups(ctx, out, svc.Groups)
	}
	if err != nil {
		return describe("export "+kind, err)
	}
	if tmp != nil {
		if err = tmp.Close(); err != nil {
			return fmt.Errorf("export %s: %w", kind, err)
		}
		if err = os.Rename(tmp.Name(), *file); err != nil {
			return fmt.Errorf("export %s: %w", kind, err)
		}
		fmt.Fprintf(e.stderr, "Exported %s to %s.\n", kind, *file)
	}
	return nil
}
