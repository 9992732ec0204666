package events

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
)

func TestValidateWebhookURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url          string
		allowPrivate bool
		ok           bool
		msg          string // part of the message when refused
	}{
		{"https://127.0.0.1/hook", false, false, "loopback"},
		{"https://10.0.0.1/hook", false, false, "private network"},
		{"https://169.254.169.254/latest/meta-data", false, false, "metadata"},
		{"https://[::1]/hook", false, false, "loopback"},
		{"https://localhost/hook", false, false, `"localhost" resolves to`},
		{"https://[::ffff:127.0.0.1]/hook", false, false, "loopback"},
		{"https://[::ffff:a9fe:a9fe]/hook", false, false, "metadata"},
		{"https://[64:ff9b::a00:1]/hook", false, false, "private network"},
		{"https://[2002:a00:1::]/hook", false, false, "private network"},
		{"https://[fd00:ec2::254]/hook", false, false, "private network"},
		// 6to4 relay anycast, plain and embedded in NAT64 and 6to4.
		{"https://192.88.99.1/hook", false, false, "6to4 relay anycast"},
		{"https://[64:ff9b::c058:6301]/hook", false, false, "6to4 relay anycast"},
		{"https://[2002:c058:6301::]/hook", false, false, "6to4 relay anycast"},
		// NAT64 of a loopback or metadata address.
		{"https://[64:ff9b::7f00:1]/hook", false, false, "loopback"},
		{"https://[64:ff9b::a9fe:a9fe]/hook", false, false, "metadata"},
		// IPv4-mapped: checked by the address it carries, and refused as
		// a form even when that address is public.
		{"https://[::ffff:a00:1]/hook", false, false, "private network"},
		{"https://[::ffff:8.8.8.8]/hook", false, false, "IPv4-mapped"},
		// IPv4-translated (SIIT, ::ffff:0:a.b.c.d), which Unmap leaves alone.
		{"https://[::ffff:0:7f00:1]/hook", false, false, "loopback"},
		{"https://[::ffff:0:808:808]/hook", false, false, "IPv4-translated"},
		// NAT64 of a public address is a public address.
		{"https://[64:ff9b::808:808]/hook", false, true, ""},
		{"https://[fe80::1]/hook", false, false, "link-local"},
		{"https://100.64.0.1/hook", false, false, "carrier-grade NAT"},
		{"https://0.0.0.0/hook", false, false, "unspecified"},
		{"https://[::]/hook", false, false, "unspecified"},
		{"https://224.0.0.1/hook", false, false, "multicast"},
		{"https://172.16.5.4/hook", false, false, "private network"},
		{"https://192.168.1.1/hook", false, false, "private network"},
		{"https://8.8.8.8/hook", false, true, ""},
		{"https://[2606:4700::1111]/hook", false, true, ""},
		{"http://8.8.8.8/hook", false, false, "HTTPS"},
		{"http://8.8.8.8/hook", true, false, "loopback"},
		{"ftp://8.8.8.8/hook", false, false, "HTTPS"},
		{"", false, false, "Enter the URL"},
		{"example.com/hook", false, false, "full URL"},
		{"https://user:pw@8.8.8.8/hook", false, false, "user name and password"},
		{"https://8.8.8.8/hook#x", false, false, "fragment"},
		{"https://8.8.8.8:99999/hook", false, false, "port"},
		{"https://no-such-host.invalid/hook", false, false, "could not find the host"},
		{"https://" + strings.Repeat("a", 2000) + ".com/", false, false, "too long"},

		{"https://127.0.0.1/hook", true, true, ""},
		{"https://10.0.0.1/hook", true, true, ""},
		{"https://169.254.169.254/hook", true, true, ""},
		{"https://[::1]/hook", true, true, ""},
		{"https://localhost/hook", true, true, ""},
		{"http://127.0.0.1:8080/hook", true, true, ""},
		{"http://localhost:8080/hook", true, true, ""},
		{"http://[::1]:8080/hook", true, true, ""},
		{"http://10.0.0.1/hook", true, false, "loopback"},
	}
	for _, tt := range tests {
		err := ValidateWebhookURL(t.Context(), tt.url, tt.allowPrivate)
		if tt.ok {
			if err != nil {
				t.Errorf("ValidateWebhookURL(%q, allowPrivate=%v) = %v, want ok", tt.url, tt.allowPrivate, err)
			}
			continue
		}
		e := cohort.AsError(err)
		if e == nil || e.Code != cohort.EINVALID || len(e.Fields["url"]) == 0 {
			t.Errorf("ValidateWebhookURL(%q, allowPrivate=%v) = %v, want an invalid url field error", tt.url, tt.allowPrivate, err)
			continue
		}
		if !strings.Contains(e.Message, tt.msg) {
			t.Errorf("ValidateWebhookURL(%q) message %q does not mention %q", tt.url, e.Message, tt.msg)
		}
	}
}

// TestClientRefusesBlockedAtConnect proves the connect-time check: even a
// URL that was never validated (or whose name changed its answer since)
// cannot reach a loopback receiver unless private targets are allowed.
func TestClientRefusesBlockedAtConnect(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "reached")
	}))
	t.Cleanup(srv.Close)
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]

	for _, u := range []string{srv.URL, "http://localhost" + port} {
		resp, err := NewHTTPClient(false).Get(u)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("GET %s with the default client succeeded, want refused", u)
		}
		var b *BlockedAddressError
		if !errors.As(err, &b) || !b.Addr.IsLoopback() {
			t.Fatalf("GET %s: err = %v, want a BlockedAddressError for loopback", u, err)
		}
	}

	resp, err := NewHTTPClient(true).Get(srv.URL)
	if err != nil {
		t.Fatalf("GET with allowPrivate: %v", err)
	}
	resp.Body.Close()
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	var followed bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/target" {
			followed = true
			return
		}
		http.Redirect(w, r, "/target", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	resp, err := NewHTTPClient(true).Post(srv.URL+"/hook", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || followed {
		t.Fatalf("status %d, followed %v: want the 307 itself, not followed", resp.StatusCode, followed)
	}
}

func TestBlockedReasonPublic(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "64:ff9b::101:101"} {
		if r := blockedReason(netip.MustParseAddr(s)); r != "" {
			t.Errorf("blockedReason(%s) = %q, want public", s, r)
		}
	}
}
