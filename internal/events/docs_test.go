package events

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDocsShellRecipe runs the openssl verification recipe from
// docs/webhooks.md against a signature made by Sign, so the documented
// recipe cannot drift from what Cohort sends.
func TestDocsShellRecipe(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"sh", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed; the documented shell recipe needs it", tool)
		}
	}
	doc, err := os.ReadFile("../../docs/webhooks.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)### Shell \\(openssl\\).*?```sh\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/webhooks.md has no shell recipe under \"### Shell (openssl)\"")
	}
	recipe := string(m[1])

	dir := t.TempDir()
	body := []byte(`{"id":"evt_1","type":"group.created","data":{"group":{"name":"O'Brien & \"Co\""}}}`)
	if err := os.WriteFile(filepath.Join(dir, "body.json"), body, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(secret, sig string) string {
		cmd := exec.Command("sh", "-c", recipe)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "SECRET="+secret, "SIG="+sig)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("recipe failed: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	sig := Sign("whsec_docs", time.Now(), body)
	if got := run("whsec_docs", sig); got != "valid" {
		t.Fatalf("recipe on a fresh signature printed %q, want valid", got)
	}
	if got := run("other", sig); got != "INVALID" {
		t.Fatalf("recipe with the wrong secret printed %q, want INVALID", got)
	}
	if got := run("whsec_docs", Sign("whsec_docs", time.Now().Add(-6*time.Minute), body)); got != "INVALID" {
		t.Fatalf("recipe on a 6-minute-old signature printed %q, want INVALID", got)
	}
}
