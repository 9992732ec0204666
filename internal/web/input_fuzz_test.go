package web

import (
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzFormInput feeds form values through the helpers every page uses on
// outside input: what they return is valid UTF-8 without stray control
// characters and within its length, IDs and cursors keep their shape, and
// versions are never negative.
func FuzzFormInput(f *testing.F) {
	for _, s := range []string{"Physiotherapists", "  After-hours\tclinicians \r\n", "\x00\xff\xfe", "Zoë\u200b\u202e", "12", "-3", "9223372036854775808", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "eyJhIjoiYiJ9", "a/b+c=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{cleanText(s, 100), cleanMultiline(s, 500)} {
			if !utf8.ValidString(out) {
				t.Fatalf("cleaned %q to invalid UTF-8 %q", s, out)
			}
		}
		if n := utf8.RuneCountInString(cleanText(s, 100)); n > 100 {
			t.Fatalf("cleanText kept %d runes of %q", n, s)
		}
		for _, r := range cleanText(s, 100) {
			if unicode.IsControl(r) {
				t.Fatalf("cleanText kept control character %U of %q", r, s)
			}
		}
		ml := cleanMultiline(s, 500)
		if utf8.RuneCountInString(ml) > 500 || hasBadControl(ml) {
			t.Fatalf("cleanMultiline(%q) = %q", s, ml)
		}
		if v := parseVersion(s); v < 0 {
			t.Fatalf("parseVersion(%q) = %d", s, v)
		}
		if c := cleanCursor(s); c != "" && c != s {
			t.Fatalf("cleanCursor(%q) = %q: a cursor is kept whole or dropped", s, c)
		}
		if validID(s) && (len(s) > 64 || hasBadControl(s)) {
			t.Fatalf("validID accepted %q", s)
		}
	})
}
