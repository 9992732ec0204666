package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/config"
)

// subcommands dispatches "cohort <group> <sub> …" and prints the group's
// usage for no sub-command or --help.
func subcommands(ctx context.Context, e *env, group string, args []string, subs []command) error {
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "Usage: cohort %s <command> [flags]\n\nCommands:\n", group)
		for _, c := range subs {
			fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
		}
		fmt.Fprintf(w, "\nRun 'cohort %s <command> --help' for a command's flags.\n", group)
	}
	if len(args) == 0 {
		usage(e.stdout)
		return usagef("cohort %s: name a command: %s", group, subNames(subs))
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(e.stdout)
		return nil
	}
	for _, c := range subs {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	return usagef("cohort %s: unknown command %q: use %s", group, args[0], subNames(subs))
}

func subNames(subs []command) string {
	names := make([]string, len(subs))
	for i, c := range subs {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	c, err := newDBCommand(e, "migrate", "cohort migrate [--db DB]")
	if err != nil {
		return err
	}
	if _, err := c.parse(e, args, 0); err != nil {
		return err
	}
	db, err := c.open(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(e.stdout, "The database %s is up to date.\n", redactDSN(c.cfg.DB))
	return nil
}

func cmdWorkspace(ctx context.Context, e *env, args []string) error {
	return subcommands(ctx, e, "workspace", args, []command{
		{"create", "create a workspace and its account owner (password from stdin)", cmdWorkspaceCreate},
		{"list", "list workspaces", cmdWorkspaceList},
	})
}

func cmdWorkspaceCreate(ctx context.Context, e *env, args []string) error {
	c, err := newDBCommand(e, "workspace create",
		`cohort workspace create --name "Riverside Physio" --slug riverside --owner-email EMAIL [--owner-given-name NAME --owner-family-name NAME] < password`)
	if err != nil {
		return err
	}
	name := c.String("name", "", "the practice's name, as staff see it")
	slug := c.String("slug", "", "short identifier: lower-case letters, digits and hyphens")
	email := c.String("owner-email", "", "the account owner's email (signs in with it)")
	given := c.String("owner-given-name", "Account", "the owner's given name")
	family := c.String("owner-family-name", "Owner", "the owner's family name")
	if _, err := c.parse(e, args, 0); err != nil {
		return err
	}
	var missing []string
	for _, req := range []struct{ flag, value string }{{"--name", *name}, {"--slug", *slug}, {"--owner-email", *email}} {
		if strings.TrimSpace(req.value) == "" {
			missing = append(missing, req.flag)
		}
	}
	if len(missing) > 0 {
		return usagef("cohort workspace create: %s required\nRun 'cohort workspace create --help' for usage.", strings.Join(missing, ", "))
	}
	wc := cohort.WorkspaceCreate{Name: *name, Slug: *slug, Owner: cohort.UserCreate{
		Email: *email, GivenName: *given, FamilyName: *family, Role: cohort.RolePracticeManager,
	}}
	// Check the input before asking for a password, so a typo is reported
	// without the password being typed first.
	if err := wc.Validate(); err != nil {
		return describe("create workspace", err)
	}
	if wc.Owner.Password, err = readPassword(e, wc.Owner.Email); err != nil {
		return err
	}
	db, err := c.open(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	ws, owner, err := services(db, &c.cfg).Workspaces.CreateWorkspace(ctx, wc)
	if err != nil {
		return describe("create workspace", err)
	}
	fmt.Fprintf(e.stdout, "Created workspace %q (slug %s, id %s).\nAccount owner: %s <%s>, who signs in with the password given.\n",
		ws.Name, ws.Slug, ws.ID, owner.Name(), owner.Email)
	return nil
}

func cmdWorkspaceList(ctx context.Context, e *env, args []string) error {
	c, err := newDBCommand(e, "workspace list", "cohort workspace list")
	if err != nil {
		return err
	}
	if _, err := c.parse(e, args, 0); err != nil {
		return err
	}
	db, err := c.open(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	wss, err := services(db, &c.cfg).Workspaces.FindWorkspaces(ctx)
	if err != nil {
		return describe("list workspaces", err)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLUG\tNAME\tID\tCREATED")
	for _, ws := range wss {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ws.Slug, ws.Name, ws.ID, ws.CreatedAt.UTC().Format(time.DateOnly))
	}
	return tw.Flush()
}

func cmdUser(ctx context.Context, e *env, args []string) error {
	return subcommands(ctx, e, "user", args, []command{
		{"create", "create a staff member (password from stdin, or --no-password)", cmdUserCreate},
	})
}

func cmdUserCreate(ctx context.Context, e *env, args []string) error {
	c, err := newDBCommand(e, "user create",
		"cohort user create --workspace SLUG --email EMAIL --given-name NAME --family-name NAME --role ROLE [--no-password] < password")
	if err != nil {
		return err
	}
	slug := c.String("workspace", "", "the workspace's slug")
	email := c.String("email", "", "the staff member's email (unique in the workspace)")
	given := c.String("given-name", "", "given name")
	family := c.String("family-name", "", "family name")
	role := c.String("role", string(cohort.RolePractitioner), "one of "+roleList())
	noPassword := c.Bool("no-password", false, "create the user without a password (cannot sign in until one is set)")
	if _, err := c.parse(e, args, 0); err != nil {
		return err
	}
	uc := cohort.UserCreate{Email: *email, GivenName: *given, FamilyName: *family, Role: cohort.Role(*role)}
	if err := uc.Validate(); err != nil {
		return describe("create user", err)
	}
	if *slug == "" {
		return usagef("cohort user create: --workspace is required: give the workspace's slug")
	}
	if !*noPassword {
		if uc.Password, err = readPassword(e, uc.Email); err != nil {
			return err
		}
	}
	ctx, svc, ws, closeDB, err := c.openWorkspace(ctx, e, *slug)
	if err != nil {
		return err
	}
	defer closeDB()
	u, err := svc.Users.CreateUser(ctx, uc)
	if err != nil {
		return describe("create user", err)
	}
	fmt.Fprintf(e.stdout, "Created %s <%s> (%s) in %s, id %s.\n", u.Name(), u.Email, u.Role.Label(), ws.Slug, u.ID)
	if *noPassword {
		fmt.Fprintln(e.stdout, "They have no password yet, so they cannot sign in until one is set.")
	}
	return nil
}

func roleList() string {
	names := make([]string, len(cohort.Roles))
	for i, r := range cohort.Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

func cmdAPIKey(ctx context.Context, e *env, args []string) error {
	return subcommands(ctx, e, "apikey", args, []command{
		{"create", "create an API key; prints its token once, alone on the last line", cmdAPIKeyCreate},
		{"list", "list a workspace's API keys", cmdAPIKeyList},
		{"revoke", "revoke an API key by ID", cmdAPIKeyRevoke},
	})
}

func cmdAPIKeyCreate(ctx context.Context, e *env, args []string) error {
	c, err := newDBCommand(e, "apikey create",
		"cohort apikey create --workspace SLUG --name NAME --scopes groups:read,groups:write [--expires 2027-01-01]")
	if err != nil {
		return err
	}
	slug := c.String("workspace", "", "the workspace's slug")
	name := c.String("name", "", "what the key is for, e.g. the system that uses it")
	scopes := c.String("scopes", "", "comma-separated: groups:read, groups:write, users:read, users:write, scim")
	expires := c.String("expires", "", "expiry date (2027-01-01) or time (RFC 3339); none when empty")
	if _, err := c.parse(e, args, 0); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		return usagef("cohort apikey create: --name is required: say what the key is for")
	}
	sc, err := cohort.ParseScopes(*scopes)
	if err != nil {
		return usagef("cohort apikey create: --scopes: %s", cohort.ErrorMessage(err))
	}
	var exp *time.Time
	if *expires != "" {
		t, err := parseExpiry(*expires, time.Now())
		if err != nil {
			return usagef("cohort apikey create: --expires: %v", err)
		}
		exp = &t
	}
	ctx, svc, ws, closeDB, err := c.openWorkspace(ctx, e, *slug)
	if err != nil {
		return err
	}
	defer closeDB()
	key, token, err := svc.APIKeys.CreateAPIKey(ctx, cohort.APIKeyCreate{Name: *name, Scopes: sc, ExpiresAt: exp})
	if err != nil {
		return describe("create API key", err)
	}
	fmt.Fprintf(e.stdout, "Created API key %q (id %s) in %s with scopes %s%s.\n",
		key.Name, key.ID, ws.Slug, scopeList(key.Scopes), expiryText(key.ExpiresAt))
	fmt.Fprintln(e.stdout, "The token is shown only now; store it in a secret manager:")
	// The token alone on the last line, so scripts can take it with tail -n1.
	fmt.Fprintln(e.stdout, token)
	return nil
}

// parseExpiry reads a date (end of that day, UTC) or an RFC 3339 time,
// which must be in the future.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err == nil {
		t = t.Add(24*time.Hour - time.Second)
	} else if t, err = time.Parse(time.RFC3339, s); err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date: use YYYY-MM-DD, like 2027-01-01, or an RFC 3339 time", s)
	}
	if !t.After(now) {
		return time.Time{}, fmt.Errorf("%s is in the past: give a future date", s)
	}
	return t.UTC(), nil
}

func scopeList(sc []cohort.Scope) string {
	names := make([]string, len(sc))
	for i, s := range sc {
		names[i] = string(s)
	}
	return strings.Join(names, ",")
}

func expiryText(t *time.Time) string {
	if t == nil {
		return ", no expiry"
	}
	return ", expires " + t.UTC().Format(time.RFC3339)
}

func cmdAPIKeyList(ctx context.Context, e *env, args []string) error {
	c, err := newDBCommand(e, "apikey list", "cohort apikey list --workspace SLUG")
	if err != nil {
		return err
	}
	slug := c.String("workspace", "", "the workspace's slug")
	if _, err := c.parse(e, args, 0); err != nil {
		return err
	}
	ctx, svc, _, closeDB, err := c.openWorkspace(ctx, e, *slug)
	if err != nil {
		return err
	}
	defer closeDB()
	keys, err := svc.APIKeys.FindAPIKeys(ctx)
	if err != nil {
		return describe("list API keys", err)
	}
	now := time.Now()
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tSCOPES\tSTATUS\tEXPIRES\tLAST USED")
	for _, k := range keys {
		status := "active"
		switch {
		case k.RevokedAt != nil:
			status = "revoked"
		case k.ExpiresAt != nil && !k.ExpiresAt.After(now):
			status = "expired"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, scopeList(k.Scopes), status,
			optTime(k.ExpiresAt), optTime(k.LastUsedAt))
	}
	return tw.Flush()
}

func optTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func cmdAPIKeyRevoke(ctx context.Context, e *env, args []string) error {
	return workspaceIDCommand(ctx, e, args, idCommand{
		name: "apikey revoke", idName: "KEY_ID", noun: "key", list: "apikey list",
		what: "revoke API key",
		act: func(ctx context.Context, svc cohort.Services, id string) error {
			return svc.APIKeys.RevokeAPIKey(ctx, id)
		},
		done: "Revoked API key %s; requests with its token are refused from now on.\n",
	})
}

// idCommand is a command that acts on one object of a workspace, named by
// its ID: revoke a key, delete a webhook.
type idCommand struct {
	name   string // "apikey revoke"
	idName string // "KEY_ID", for the usage line
	noun   string // "key", for the message when the ID is missing
	list   string // the command that lists the IDs
	what   string // "revoke API key", for the message when act fails
	act    func(ctx context.Context, svc cohort.Services, id string) error
	done   string // printed with the ID after act succeeds
}

func workspaceIDCommand(ctx context.Context, e *env, args []string, ic idCommand) error {
	c, err := newDBCommand(e, ic.name, "cohort "+ic.name+" --workspace SLUG "+ic.idName)
	if err != nil {
		return err
	}
	slug := c.String("workspace", "", "the workspace's slug")
	pos, err := c.parse(e, args, 1)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("cohort %s: give the %s's ID (see 'cohort %s')", ic.name, ic.noun, ic.list)
	}
	ctx, svc, _, closeDB, err := c.openWorkspace(ctx, e, *slug)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := ic.act(ctx, svc, pos[0]); err != nil {
		return describe(ic.what+" "+pos[0], err)
	}
	fmt.Fprintf(e.stdout, ic.done, pos[0])
	return nil
}

func cmdWebhook(ctx context.Context, e *env, args []string) error {
	return subcommands(ctx, e, "webhook", args, []command{
		{"create", "create a webhook; prints its signing secret alone on the last line", cmdWebhookCreate},
		{"list", "list a workspace's webhooks", cmdWebhookList},
		{"delete", "delete a webhook by ID", cmdWebhookDelete},
	})
}

func cmdWebhookCreate(ctx context.Context, e *env, args []string) error {
	c, err := newDBCommand(e, "webhook create",
		"cohort webhook create --workspace SLUG --url URL --events group.created,group.updated,…", config.SetWebhook)
	if err != nil {
		return err
	}
	slug := c.String("workspace", "", "the workspace's slug")
	url := c.String("url", "", "where deliveries are POSTed (https:// unless on a private network)")
	events := c.String("events", "", "comma-separated event types, or * for all: "+strings.Join(cohort.EventTypes, ", "))
	if _, err := c.parse(e, args, 0); err != nil {
		return err
	}
	types, err := parseEvents(*events)
	if err != nil {
		return usagef("cohort webhook create: --events: %v", err)
	}
	if strings.TrimSpace(*url) == "" {
		return usagef("cohort webhook create: --url is required")
	}
	ctx, svc, ws, closeDB, err := c.openWorkspace(ctx, e, *slug)
	if err != nil {
		return err
	}
	defer closeDB()
	wh, err := svc.Webhooks.CreateWebhook(ctx, cohort.WebhookCreate{URL: *url, Events: types})
	if err != nil {
		return describe("create webhook", err)
	}
	fmt.Fprintf(e.stdout, "Created webhook %s in %s for %s → %s.\n", wh.ID, ws.Slug, strings.Join(wh.Events, ","), wh.URL)
	fmt.Fprintln(e.stdout, "Its signing secret is shown only now; the receiver verifies signatures with it:")
	fmt.Fprintln(e.stdout, wh.Secret)
	return nil
}

func parseEvents(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		known := p == "*"
		for _, t := range cohort.EventTypes {
			known = known || p == t
		}
		if !known {
			return nil, fmt.Errorf("unknown event type %q: use * or %s", p, strings.Join(cohort.EventTypes, ", "))
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, errors.New("name at least one event type, or * for all")
	}
	return out, nil
}

func cmdWebhookList(ctx context.Context, e *env, args []string) error {
	c, err := newDBCommand(e, "webhook list", "cohort webhook list --workspace SLUG")
	if err != nil {
		return err
	}
	slug := c.String("workspace", "", "the workspace's slug")
	if _, err := c.parse(e, args, 0); err != nil {
		return err
	}
	ctx, svc, _, closeDB, err := c.openWorkspace(ctx, e, *slug)
	if err != nil {
		return err
	}
	defer closeDB()
	hooks, err := svc.Webhooks.FindWebhooks(ctx)
	if err != nil {
		return describe("list webhooks", err)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tURL\tEVENTS\tSTATUS\tFAILURES")
	for _, h := range hooks {
		status := "active"
		if h.PausedAt != nil {
			status = "paused: " + h.PausedReason
		} else if !h.Active {
			status = "inactive"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", h.ID, h.URL, strings.Join(h.Events, ","), status, h.FailureCount)
	}
	return tw.Flush()
}

func cmdWebhookDelete(ctx context.Context, e *env, args []string) error {
	return workspaceIDCommand(ctx, e, args, idCommand{
		name: "webhook delete", idName: "WEBHOOK_ID", noun: "webhook", list: "webhook list",
		what: "delete webhook",
		act: func(ctx context.Context, svc cohort.Services, id string) error {
			return svc.Webhooks.DeleteWebhook(ctx, id)
		},
		done: "Deleted webhook %s; nothing more is delivered to it.\n",
	})
}

func cmdBackup(ctx context.Context, e *env, args []string) error {
	c, err := newDBCommand(e, "backup", "cohort backup --to FILE [--db DB]")
	if err != nil {
		return err
	}
	to := c.String("to", "", "file to write the copy to (must not exist)")
	if _, err := c.parse(e, args, 0); err != nil {
		return err
	}
	if *to == "" {
		return usagef("cohort backup: --to is required: name the file to write")
	}
	db, err := c.open(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, *to); err != nil {
		return describe("back up to "+*to, err)
	}
	fmt.Fprintf(e.stdout, "Backed up %s to %s.\n", redactDSN(c.cfg.DB), *to)
	return nil
}

func cmdVersion(ctx context.Context, e *env, args []string) error {
	f := newFlags("version", "cohort version")
	if _, err := f.parse(e, args, 0); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, versionString())
	return nil
}

// versionString is the module version and, when the build recorded it,
// the commit, so a bug report can name the exact build.
func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "cohort (unknown version)"
	}
	v := "cohort " + bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v += " commit " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				v += " (modified)"
			}
		}
	}
	return v + " " + bi.GoVersion
}
