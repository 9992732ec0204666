package api

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
)

// FuzzIfMatch feeds If-Match headers: each is a version this API issued
// (its own ETag reads back as the same version), "any", or a 400/428 that
// says what to send; never a panic or a 500.
func FuzzIfMatch(f *testing.F) {
	for _, s := range []string{`"7"`, `W/"7"`, `*`, ``, `"0"`, `"-1"`, `"9223372036854775808"`, `"7", "8"`, `"`, `""`, `W/`, "\"7\x00\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if strings.ContainsAny(h, "\r\n") {
			return // cannot arrive in a header
		}
		r := httptest.NewRequest("PATCH", "/api/v1/groups/x", nil)
		r.Header.Set("If-Match", h)
		v, err := ifMatch(r, true)
		if err != nil {
			if code := cohort.ErrorCode(err); code != codeIfMatchRequired && code != codeBadRequest || cohort.ErrorMessage(err) == "" {
				t.Fatalf("If-Match %q: %v", h, err)
			}
			return
		}
		if v < 0 {
			t.Fatalf("If-Match %q: version %d", h, v)
		}
		if v > 0 {
			r.Header.Set("If-Match", etag(v))
			if again, err := ifMatch(r, true); err != nil || again != v {
				t.Fatalf("the ETag of version %d reads back as %d, %v", v, again, err)
			}
		}
	})
}
