package scim

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/cohorthq/cohort"
)

func TestListParams(t *testing.T) {
	for q, want := range map[string]listParams{
		"":                          {startIndex: 1, count: DefaultCount},
		"count=5000":                {startIndex: 1, count: MaxCount},
		"count=1000":                {startIndex: 1, count: 1000},
		"count=0":                   {startIndex: 1, count: 0},
		"count=-5":                  {startIndex: 1, count: 0},
		"startIndex=0":              {startIndex: 1, count: DefaultCount},
		"startIndex=-3&count=7":     {startIndex: 1, count: 7},
		"startIndex=%2042%20&count": {startIndex: 42, count: DefaultCount},
	} {
		v, _ := url.ParseQuery(q)
		got, err := parseListParams(v)
		if err != nil || got != want {
			t.Errorf("%q: %+v, %v; want %+v", q, got, err, want)
		}
	}
	for _, q := range []string{"startIndex=one", "count=1.5", "count=99999999999999999999"} {
		v, _ := url.ParseQuery(q)
		if _, err := parseListParams(v); err == nil {
			t.Errorf("%q accepted", q)
		}
	}
}

func TestIfMatch(t *testing.T) {
	for h, want := range map[string]struct {
		v  int64
		ok bool
	}{
		"":                         {0, true},
		"*":                        {0, true},
		`W/"7"`:                    {7, true},
		`"7"`:                      {7, true},
		`"x", W/"9"`:               {9, true},
		`W/"0"`:                    {0, false},
		`W/"-1"`:                   {0, false},
		"7":                        {0, false},
		`W/"99999999999999999999"`: {0, false},
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		if h != "" {
			r.Header.Set("If-Match", h)
		}
		v, ok := ifMatch(r)
		if v != want.v || ok != want.ok {
			t.Errorf("If-Match %q: %d %v, want %d %v", h, v, ok, want.v, want.ok)
		}
	}
}

// TestBaseURLHost: without a public URL the Host header is used only when
// it is a plain host[:port]; anything else falls back to the address the
// request arrived on.
func TestBaseURLHost(t *testing.T) {
	h := New(cohort.Services{}, nil)
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	cases := map[string]string{
		"cohort.example.org":      "http://cohort.example.org/scim/v2",
		"cohort.example.org:8443": "http://cohort.example.org:8443/scim/v2",
		"10.0.0.5":                "http://10.0.0.5/scim/v2",
		"[2001:db8::1]:8080":      "http://[2001:db8::1]:8080/scim/v2",
		"evil.example/x":          "http://127.0.0.1:8080/scim/v2",
		"evil.example?x":          "http://127.0.0.1:8080/scim/v2",
		"user@evil.example":       "http://127.0.0.1:8080/scim/v2",
		"evil.example:99999":      "http://127.0.0.1:8080/scim/v2",
		"evil.example:x":          "http://127.0.0.1:8080/scim/v2",
		"":                        "http://127.0.0.1:8080/scim/v2",
		"a:b:c":                   "http://127.0.0.1:8080/scim/v2",
	}
	for host, want := range cases {
		r := httptest.NewRequest("GET", "/scim/v2/Users", nil)
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, net.Addr(local)))
		r.Host = host
		if got := h.baseURL(r); got != want {
			t.Errorf("Host %q: %q, want %q", host, got, want)
		}
	}
}
