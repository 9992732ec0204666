package events

import (
	"testing"

	"github.com/cohorthq/cohort"
)

// FuzzWebhookURL feeds webhook URLs as an owner would type them: each is
// refused with a clear message on the url field, or is a full https URL
// (http only when private targets are allowed) without credentials or
// fragment and with a valid port.
func FuzzWebhookURL(f *testing.F) {
	for _, s := range []string{
		"https://example.com/webhooks/cohort", "http://127.0.0.1:8080/hook", "https://user:pw@example.com/",
		"https://example.com:0/", "https://example.com:99999/", "https://[::1]/", "https://example.com/#x",
		"ftp://example.com/", "https:///path", "//example.com", "https://exa mple.com/", "https://%00/",
		"HTTPS://EXAMPLE.COM", "https://example.com:443:443/", "javascript:alert(1)",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, allowPrivate bool) {
		u, err := parseWebhookURL(raw, allowPrivate)
		if err != nil {
			if cohort.ErrorCode(err) != cohort.EINVALID || len(cohort.ErrorFields(err)["url"]) == 0 {
				t.Fatalf("%q refused with %v: want EINVALID on url", raw, err)
			}
			return
		}
		switch {
		case u.Scheme != "https" && !(allowPrivate && u.Scheme == "http"):
			t.Fatalf("%q accepted with scheme %q", raw, u.Scheme)
		case u.Hostname() == "" || u.User != nil || u.Fragment != "":
			t.Fatalf("%q accepted: host %q, user %v, fragment %q", raw, u.Hostname(), u.User, u.Fragment)
		}
	})
}
