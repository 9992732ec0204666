package cohort

import (
	_ "embed"
	"strings"
	"sync"
)

// commonPasswordList is a small list of passwords that meet the length
// rule but are among the first an attacker tries. It ships with Cohort so
// the check works offline; see commonpasswords.txt.
//
//go:embed commonpasswords.txt
var commonPasswordList string

var commonPasswords = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(commonPasswordList, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[strings.ToLower(line)] = true
	}
	return m
})

// IsCommonPassword reports whether p is on the list of common passwords,
// case-insensitively, or is one character repeated. Pass it to
// ValidatePassword.
func IsCommonPassword(p string) bool {
	lp := strings.ToLower(strings.TrimSpace(p))
	if commonPasswords()[lp] {
		return true
	}
	if lp == "" {
		return false
	}
	first := []rune(lp)[0]
	return strings.Trim(lp, string(first)) == ""
}
