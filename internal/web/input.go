package web

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cohorthq/cohort"
)

// Helpers that make outside input safe to echo back and to hand to the
// store: the store and both databases only ever see valid UTF-8 without
// control characters, and IDs of a sane shape.

// cleanText makes s valid UTF-8, drops control characters and keeps at
// most max runes. It is for echoing input back and for search boxes; the
// domain validates the fields it stores.
func cleanText(s string, max int) string { return keepRunes(s, max, false) }

// cleanMultiline is cleanText for a textarea: it keeps line breaks and
// tabs (a description may have paragraphs).
func cleanMultiline(s string, max int) string {
	return keepRunes(strings.ReplaceAll(s, "\r\n", "\n"), max, true)
}

func keepRunes(s string, max int, multiline bool) string {
	s = strings.ToValidUTF8(s, "")
	var b strings.Builder
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) {
			continue
		}
		if n == max {
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// hasBadControl reports control characters other than line breaks and
// tabs, or invalid UTF-8.
func hasBadControl(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return true
		}
	}
	return false
}

// IDs are made by the store (UUIDs); anything else cannot name a record.
var idRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func validID(id string) bool { return idRE.MatchString(id) }

// cursorRE bounds page cursors, which are opaque but never long or odd.
var cursorRE = regexp.MustCompile(`^[A-Za-z0-9_=.:+/-]{1,512}$`)

func cleanCursor(c string) string {
	if cursorRE.MatchString(c) {
		return c
	}
	return ""
}

// parseVersion reads a positive version number, or 0.
func parseVersion(s string) int64 {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || v <= 0 {
		return 0
	}
	return v
}

// Search boxes take at most this many characters.
const maxQuery = 100

// parseForm reads a posted form; a form it cannot read is refused with
// 413 (too large) or 400.
func (h *Handler) parseForm(r *http.Request) error {
	err := r.ParseForm()
	if err == nil {
		return nil
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &pageError{http.StatusRequestEntityTooLarge, "Request too large",
			"The form is larger than Cohort accepts. Choose fewer staff at once and try again."}
	}
	return &pageError{http.StatusBadRequest, "Bad request", "The form could not be read. Reload the page and try again."}
}

// markFields puts a refused save's field messages on a form through mark:
// a field the form shows (one of shown) keeps its name, any other field's
// messages go to fallback, and an error that names no field lands on
// fallback whole.
func markFields(err error, shown []string, fallback string, mark func(field, msg string)) {
	fields := cohort.ErrorFields(err)
	for f, msgs := range fields {
		if !slices.Contains(shown, f) {
			f = fallback
		}
		for _, m := range msgs {
			mark(f, m)
		}
	}
	if len(fields) == 0 {
		mark(fallback, cohort.ErrorMessage(err))
	}
}
