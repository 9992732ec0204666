package events

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cohorthq/cohort"
)

// AllowPrivateEnv is the documented development switch that lets webhooks
// target loopback and private addresses (and plain HTTP to loopback).
const AllowPrivateEnv = "COHORT_WEBHOOK_ALLOW_PRIVATE"

// DefaultTimeout bounds one delivery: connect, send and read the answer.
const DefaultTimeout = 10 * time.Second

// lookupTimeout bounds the DNS lookup when a URL is saved.
const lookupTimeout = 5 * time.Second

// maxURLLength keeps stored URLs and delivery logs reasonable.
const maxURLLength = 2000

// blockedRange is an address range a webhook may not reach by default.
type blockedRange struct {
	prefix netip.Prefix
	reason string
}

// blocked lists the ranges that reach the host itself, its network or the
// cloud provider rather than the public internet. Addresses that embed an
// IPv4 address (IPv4-mapped, IPv4-translated, NAT64, 6to4) are checked by
// the address they embed first, for the clearer reason; the mapped and
// translated ranges are then refused whatever they embed, since a public
// receiver is reached by its plain IPv4 address and these forms only
// serve to slip past a check.
var blocked = func() []blockedRange {
	raw := []struct{ cidr, reason string }{
		{"169.254.169.254/32", "the cloud metadata service"},
		{"0.0.0.0/8", "an unspecified address"},
		{"10.0.0.0/8", "a private network address"},
		{"100.64.0.0/10", "a carrier-grade NAT address"},
		{"127.0.0.0/8", "a loopback address"},
		{"169.254.0.0/16", "a link-local address"},
		{"172.16.0.0/12", "a private network address"},
		{"192.0.0.0/24", "a reserved address"},
		{"192.0.2.0/24", "a documentation address"},
		{"192.88.99.0/24", "a 6to4 relay anycast address"},
		{"192.168.0.0/16", "a private network address"},
		{"198.18.0.0/15", "a benchmarking address"},
		{"198.51.100.0/24", "a documentation address"},
		{"203.0.113.0/24", "a documentation address"},
		{"224.0.0.0/4", "a multicast address"},
		{"240.0.0.0/4", "a reserved address"},
		{"::/128", "an unspecified address"},
		{"::1/128", "a loopback address"},
		{"::/96", "a reserved address"},
		{"::ffff:0:0/96", "an IPv4-mapped IPv6 address"},
		{"::ffff:0:0:0/96", "an IPv4-translated IPv6 address"},
		{"64:ff9b:1::/48", "a private NAT64 address"},
		{"100::/64", "a discard address"},
		{"2001::/32", "a Teredo tunnel address"},
		{"2001:db8::/32", "a documentation address"},
		{"fc00::/7", "a private network address"},
		{"fe80::/10", "a link-local address"},
		{"fec0::/10", "a site-local address"},
		{"ff00::/8", "a multicast address"},
	}
	out := make([]blockedRange, len(raw))
	for i, r := range raw {
		out[i] = blockedRange{netip.MustParsePrefix(r.cidr), r.reason}
	}
	return out
}()

var (
	nat64          = netip.MustParsePrefix("64:ff9b::/96")
	ipv4Translated = netip.MustParsePrefix("::ffff:0:0:0/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
)

// blockedReason says why a webhook may not reach a, or "" when it may.
func blockedReason(a netip.Addr) string {
	a = a.WithZone("")
	if a.Is6() {
		b := a.As16()
		var embedded netip.Addr
		switch {
		case a.Is4In6():
			embedded = a.Unmap()
		case nat64.Contains(a), ipv4Translated.Contains(a):
			embedded = netip.AddrFrom4([4]byte(b[12:16]))
		case sixToFour.Contains(a):
			embedded = netip.AddrFrom4([4]byte(b[2:6]))
		}
		if embedded.IsValid() {
			if r := blockedReason(embedded); r != "" {
				return r
			}
		}
	}
	for _, r := range blocked {
		if r.prefix.Contains(a) {
			return r.reason
		}
	}
	return ""
}

// BlockedAddressError is returned when a connection would reach an
// address that webhooks may not target.
type BlockedAddressError struct {
	Addr   netip.Addr
	Reason string
}

func (e *BlockedAddressError) Error() string {
	return fmt.Sprintf("refused to connect to %s: it is %s", e.Addr, e.Reason)
}

// ValidateWebhookURL checks a webhook URL before it is stored. It must be
// an absolute HTTPS URL without credentials whose host resolves only to
// public addresses. With allowPrivate (development), private and loopback
// addresses are allowed, and plain HTTP is allowed to loopback only.
// The same address rule is enforced again when connecting (NewHTTPClient),
// so a name that later resolves elsewhere cannot get around it.
func ValidateWebhookURL(ctx context.Context, raw string, allowPrivate bool) error {
	u, err := parseWebhookURL(raw, allowPrivate)
	if err != nil {
		return err
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
		defer cancel()
		addrs, err = net.DefaultResolver.LookupNetIP(lctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			return urlError("Cohort could not find the host %q: check the URL.", host)
		}
		// The resolver may answer an IPv4 address in mapped form; it is
		// connected to as IPv4. A literal mapped host stays mapped, so
		// blockedReason refuses the form itself.
		for i := range addrs {
			addrs[i] = addrs[i].Unmap()
		}
	}
	for _, a := range addrs {
		if reason := blockedReason(a); reason != "" && !allowPrivate {
			what := a.String()
			if what != host {
				what = fmt.Sprintf("The host %q resolves to %s, which", host, a)
			}
			return urlError("%s is %s. Webhooks can only be sent to public internet addresses; %s=1 allows private targets for development.", what, reason, AllowPrivateEnv)
		}
		if u.Scheme == "http" && !a.IsLoopback() {
			return urlError("Use an HTTPS URL: plain HTTP is only allowed to loopback addresses (localhost, 127.0.0.1, [::1]) for development.")
		}
	}
	return nil
}

// parseWebhookURL checks the parts of a webhook URL that need no DNS.
func parseWebhookURL(raw string, allowPrivate bool) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, urlError("Enter the URL that should receive webhooks, e.g. https://example.com/webhooks/cohort.")
	}
	if len(raw) > maxURLLength {
		return nil, urlError("The URL is too long: use at most %d characters.", maxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return nil, urlError("Enter a full URL like https://example.com/webhooks/cohort.")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowPrivate {
			return nil, urlError("Use an HTTPS URL: deliveries carry staff data and must be encrypted.")
		}
	default:
		return nil, urlError("Use an HTTPS URL like https://example.com/webhooks/cohort.")
	}
	if u.User != nil {
		return nil, urlError("Remove the user name and password from the URL: each delivery is signed instead.")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return nil, urlError("Remove the #fragment from the URL: it is never sent to the receiver.")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, urlError("The port %q is not valid: use a number from 1 to 65535.", p)
		}
	}
	return u, nil
}

func urlError(format string, args ...any) error {
	return cohort.FieldError("url", fmt.Sprintf(format, args...))
}

// NewHTTPClient returns the client that sends webhook deliveries. Its
// dialer checks every address it connects to (after DNS resolution, so a
// name that changes its answer cannot reach a blocked address), it ignores
// proxy settings (a proxy would connect on its behalf, unchecked), and it
// follows no redirects: a 3xx answer counts as a failed delivery.
func NewHTTPClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{
		Timeout:   5 * time.Second,
		KeepAlive: 30 * time.Second,
		Control:   dialControl(allowPrivate),
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: DefaultTimeout,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   DefaultTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// dialControl refuses connections to blocked addresses. It runs after
// name resolution, on the address actually being connected to.
func dialControl(allowPrivate bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		if allowPrivate {
			return nil
		}
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return fmt.Errorf("events: dial %s: %w", address, err)
		}
		a, err := netip.ParseAddr(host)
		if err != nil {
			return fmt.Errorf("events: dial %s: %w", address, err)
		}
		if reason := blockedReason(a); reason != "" {
			return &BlockedAddressError{Addr: a.Unmap(), Reason: reason}
		}
		return nil
	}
}
