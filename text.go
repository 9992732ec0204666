package cohort

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/unicode/runenames"
)

// The text rules every field follows, whichever edge (web form, REST, SCIM,
// CSV, CLI) it came through and whichever engine stores it. They live here
// once; every Validate method calls them.
//
//   - Every text field is valid UTF-8 without control characters: no C0
//     (U+0000–U+001F), no DEL, no C1 (U+0080–U+009F). A multi-line field (a
//     group's description) may hold line breaks and tabs; "\r\n" and a lone
//     "\r" are stored as "\n". Bidi controls (U+202E and its kin) are
//     refused everywhere, as they make text read differently from what it
//     is.
//   - Names (groups, people's given and family names, practices, API keys)
//     are normalised with Unicode NFKC, trimmed, and inner runs of spaces
//     collapsed to one. They may not hold invisible characters (format
//     characters such as zero-width spaces, soft hyphens and U+FEFF,
//     variation selectors, fillers, private-use characters), nor a word
//     that mixes Latin letters with Cyrillic or Greek ones ("Аdmin" with a
//     Cyrillic А), the usual way to make a name look like another.
//   - Group names are unique by NameKey: NFKC, case folding, and invisible
//     characters dropped, so "Ａｄｍｉｎ team" and "ADMIN TEAM" are one name.

// foldCase folds case the Unicode way (ß and ss, σ and ς fold together).
// A cases.Caser keeps state, so it is not shared between goroutines.
func foldCase(s string) string { return cases.Fold().String(s) }

// NormalizeName is the one normaliser of every name: NFKC, trimmed, inner
// runs of white space collapsed to one space. It does not check anything;
// ValidateName does.
func NormalizeName(s string) string {
	if utf8.ValidString(s) {
		s = norm.NFKC.String(s)
	}
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// NameKey is the key names are compared by: the normalised name with case
// folded and invisible characters dropped. Group names are unique by it
// among a workspace's active groups and searched by it. Both engines
// compare this stored key, so the rule is the same on SQLite and
// PostgreSQL.
func NameKey(s string) string {
	s = strings.Map(func(r rune) rune {
		if invisible(r) {
			return -1
		}
		return r
	}, NormalizeName(s))
	// NFKC again after folding (as Unicode's NFKC_Casefold does), so the
	// key is stable: NameKey(NameKey(s)) == NameKey(s).
	return NormalizeName(foldCase(s))
}

// SearchKey is the lower-case key people's names are sorted and searched
// by.
func SearchKey(s string) string { return strings.ToLower(NormalizeName(s)) }

// bidiControl reports the characters that change the direction text is
// shown in (Unicode's Bidi_Control property).
func bidiControl(r rune) bool { return unicode.Is(unicode.Bidi_Control, r) }

// control reports C0, DEL and C1 control characters.
func control(r rune) bool { return unicode.IsControl(r) }

// invisible reports characters that show nothing or nothing on their own:
// format characters (Cf: zero-width spaces and joiners, soft hyphen,
// U+FEFF, bidi controls), Unicode's other default-ignorable code points
// (Hangul fillers, U+034F), variation selectors and private-use
// characters.
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Co, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector) ||
		r == '\u2800' // BRAILLE PATTERN BLANK, used as an invisible letter
}

// describeRune names a character for a message: U+200B ZERO WIDTH SPACE.
func describeRune(r rune) string {
	if n := runenames.Name(r); n != "" && !strings.HasPrefix(n, "<") {
		return fmt.Sprintf("U+%04X %s", r, n)
	}
	return fmt.Sprintf("U+%04X", r)
}

// textProblem says what is wrong with s as a field called label, or "".
// multiline allows line breaks and tabs.
func textProblem(label, s string, multiline bool) string {
	if !utf8.ValidString(s) {
		return "The " + label + " is not valid text (it is not UTF-8): type it again."
	}
	for _, r := range s {
		switch {
		case multiline && (r == '\n' || r == '\t'):
		case r == '\n' || r == '\r' || r == '\t' || r == '\v' || r == '\f' || r == '\u0085' || r == '\u2028' || r == '\u2029':
			return "The " + label + " contains a line break or tab: keep it on one line."
		case control(r):
			return "The " + label + " contains a control character (" + describeRune(r) + "), which cannot be shown: remove it."
		case bidiControl(r):
			return "The " + label + " contains a text-direction control (" + describeRune(r) + "), which makes it read differently from what it is: remove it."
		}
	}
	return ""
}

// nameProblem is textProblem for a name, plus invisible characters and
// words that mix scripts.
func nameProblem(label, s string) string {
	if p := textProblem(label, s, false); p != "" {
		return p
	}
	for _, r := range s {
		if invisible(r) {
			return "The " + label + " contains an invisible character (" + describeRune(r) + "), which could make it look like another name: remove it."
		}
	}
	return mixedScript(label, s)
}

// mixedScript refuses a word (a run of letters and marks) that mixes Latin
// letters with Cyrillic or Greek ones: "Аdmin" with a Cyrillic А looks
// exactly like "Admin". Words wholly in one script, and names with words
// in different scripts ("Anna Иванова"), are fine.
func mixedScript(label, s string) string {
	word := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsMark(r) }
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !word(r) }) {
		var latin bool
		other := ""
		for _, r := range w {
			switch {
			case unicode.Is(unicode.Latin, r):
				latin = true
			case unicode.Is(unicode.Cyrillic, r):
				other = "Cyrillic"
			case unicode.Is(unicode.Greek, r):
				other = "Greek"
			}
		}
		if latin && other != "" {
			return fmt.Sprintf("The %s mixes Latin and %s letters in the word %q, which makes it look like another name: type the word in one alphabet.", label, other, w)
		}
	}
	return ""
}

// ValidateName normalises and checks a name of at most max characters:
// field is its field name for the message, label how people call it
// ("given name"). empty is the message for a missing name.
func ValidateName(field, label, s string, max int, empty string) (string, error) {
	// Check before collapsing white space, which would hide a line break.
	t := strings.TrimFunc(s, unicode.IsSpace)
	if utf8.ValidString(t) {
		t = norm.NFKC.String(t)
	}
	if p := nameProblem(label, t); p != "" {
		return NormalizeName(s), FieldError(field, p)
	}
	n := NormalizeName(t)
	switch {
	case n == "":
		return n, FieldError(field, empty)
	case utf8.RuneCountInString(n) > max:
		return n, FieldError(field, fmt.Sprintf("The %s is too long: use at most %d characters.", label, max))
	}
	return n, nil
}

// ValidateText trims and checks a multi-line text field (a description)
// of at most max characters: line breaks are stored as "\n".
func ValidateText(field, label, s string, max int) (string, error) {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimSpace(s)
	if p := textProblem(label, s, true); p != "" {
		return s, FieldError(field, p)
	}
	if utf8.RuneCountInString(s) > max {
		return s, FieldError(field, fmt.Sprintf("The %s is too long: use at most %d characters.", label, max))
	}
	return s, nil
}

// ExternalIDMax bounds an identity provider's ID; real ones are short.
const ExternalIDMax = 255

// ValidateExternalID trims and checks an identity provider's ID (SCIM
// externalId). It is the provider's opaque text, so it is not normalised,
// but it follows the rule of every text field: one line, no control
// characters.
func ValidateExternalID(s string) (string, error) {
	s = strings.TrimSpace(s)
	if p := textProblem("external ID", s, false); p != "" {
		return s, FieldError("external_id", p)
	}
	if utf8.RuneCountInString(s) > ExternalIDMax {
		return s, FieldError("external_id", fmt.Sprintf("The external ID is too long: use at most %d characters.", ExternalIDMax))
	}
	return s, nil
}
