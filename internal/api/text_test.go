package api_test

import (
	"strings"
	"testing"

	"github.com/cohorthq/cohort/internal/api"
)

// Control, bidi and invisible characters in any text field get a 422
// naming the field and the character, on either engine (run with
// COHORT_TEST_ENGINE=postgres too): a NUL description was once stored by
// SQLite and refused with a generic message by PostgreSQL.
func TestTextRulesAnswer422WithAFieldMessage(t *testing.T) {
	e := newEnv(t, api.Options{})
	token, _ := e.key(t, e.sysCtx, allScopes()...)
	for _, tc := range []struct {
		path, body, field, says string
	}{
		{"/api/v1/groups", `{"name":"Notes","description":"a\u0000b"}`, "description", "U+0000"},
		{"/api/v1/groups", `{"name":"Notes","description":"\u001b[2J\u0007"}`, "description", "U+001B"},
		{"/api/v1/groups", `{"name":"Admin\u200bteam"}`, "name", "U+200B ZERO WIDTH SPACE"},
		{"/api/v1/groups", `{"name":"\u0410dmin team"}`, "name", "Cyrillic"},
		{"/api/v1/users", `{"email":"k@example.com","given_name":"Kim\u202e","family_name":"Kay"}`, "given_name", "U+202E"},
		{"/api/v1/users", `{"email":"k\u00ad@example.com","given_name":"Kim","family_name":"Kay"}`, "email", "U+00AD SOFT HYPHEN"},
	} {
		p := e.must(t, 422, req{method: "POST", path: tc.path, token: token, body: tc.body}).problem(t)
		if msgs := p.Errors[tc.field]; len(msgs) != 1 || !strings.Contains(msgs[0], tc.says) {
			t.Errorf("POST %s %s: errors %v, want a %s message naming %q", tc.path, tc.body, p.Errors, tc.field, tc.says)
		}
	}
}
