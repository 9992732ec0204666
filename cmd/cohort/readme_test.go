package main

import (
	"os"
	"strings"
	"testing"

	"github.com/cohorthq/cohort/internal/config"
)

// The README is the newcomer's contract: it starts with the two commands,
// CI runs the same test command, and every setting and command is listed.
func TestREADMEKeepsUpWithTheProgram(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	head := text
	if len(head) > 400 {
		head = head[:400]
	}
	for _, cmd := range []string{"go run ./cmd/cohort serve --demo", "scripts/test"} {
		if !strings.Contains(head, cmd) {
			t.Errorf("README does not start with %q", cmd)
		}
	}
	ci, err := os.ReadFile("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ci), "\nscripts/test") {
		t.Error(".ci/run does not run scripts/test, the README's test command")
	}
	for _, o := range config.Options() {
		if !strings.Contains(text, "`"+o.Env+"`") {
			t.Errorf("README's configuration table lacks %s", o.Env)
		}
		if !o.EnvOnly && !strings.Contains(text, "`--"+o.Flag+"`") {
			t.Errorf("README's configuration table lacks --%s", o.Flag)
		}
	}
	for _, c := range commands() {
		if !strings.Contains(text, "`cohort "+c.name) {
			t.Errorf("README's command reference lacks cohort %s", c.name)
		}
	}
}
