package scim

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzIfMatch feeds SCIM If-Match headers: the result is "any", a
// positive version, or "matches nothing"; this server's own ETags read
// back as their version.
func FuzzIfMatch(f *testing.F) {
	for _, s := range []string{`W/"7"`, `"7"`, `*`, ``, `W/"1", W/"2"`, `W/"0"`, `W/"-1"`, `"`, `W/""`, "W/\"7\x00\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if strings.ContainsAny(h, "\r\n") {
			return // cannot arrive in a header
		}
		r := httptest.NewRequest("PUT", "/scim/v2/Groups/x", nil)
		r.Header.Set("If-Match", h)
		v, ok := ifMatch(r)
		if v < 0 || !ok && v != 0 {
			t.Fatalf("If-Match %q: %d, %v", h, v, ok)
		}
		if ok && v > 0 {
			r.Header.Set("If-Match", etag(v))
			if again, ok := ifMatch(r); !ok || again != v {
				t.Fatalf("the ETag of version %d reads back as %d, %v", v, again, ok)
			}
		}
	})
}
