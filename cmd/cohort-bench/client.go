package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// client is one way of talking to the server: an API key, or the signed-in
// browser session (cookies and CSRF token). All clients share one
// transport, so every operation and the ceiling pay the same connection
// costs.
type client struct {
	hc   *http.Client
	base string
	auth string // Authorization header value, "" for the session
	csrf string
}

func newTransport() *http.Transport {
	return &http.Transport{
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

func newClient(tr http.RoundTripper, base, auth string, jar http.CookieJar) *client {
	return &client{base: base, auth: auth, hc: &http.Client{
		Transport: tr,
		Jar:       jar,
		Timeout:   2 * time.Minute,
		// Redirects are answers to check, not to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// reply is a response read to the end.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request and fails unless the status is one of want.
// body is JSON-encoded unless it is url.Values (a form) or nil.
func (c *client) do(ctx context.Context, method, path string, body any, header map[string]string, want ...int) (*reply, error) {
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case []byte:
		rd, ct = bytes.NewReader(b), "application/json"
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd, ct = bytes.NewReader(buf), "application/json"
	}
	u := path
	if !strings.HasPrefix(u, "http") {
		u = c.base + path
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	} else if c.csrf != "" && method != http.MethodGet {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	r := &reply{status: resp.StatusCode, header: resp.Header, body: b}
	for _, w := range want {
		if w == resp.StatusCode {
			return r, nil
		}
	}
	return r, fmt.Errorf("%s %s: status %d, want %v: %.300s", method, path, resp.StatusCode, want, b)
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// signIn signs the owner in through the sign-in form, as a browser does:
// the form's CSRF token (double-submit cookie) goes back with the
// password, and the session cookie lands in the jar.
func signIn(ctx context.Context, tr http.RoundTripper, base, email, password string) (*client, error) {
	jar, _ := cookiejar.New(nil)
	c := newClient(tr, base, "", jar)
	r, err := c.do(ctx, "GET", "/signin", nil, nil, http.StatusOK)
	if err != nil {
		return nil, err
	}
	m := csrfField.FindSubmatch(r.body)
	if m == nil {
		return nil, fmt.Errorf("the sign-in page has no csrf_token field")
	}
	form := url.Values{"email": {email}, "password": {password}, "csrf_token": {string(m[1])}}
	if _, err := c.do(ctx, "POST", "/signin", form, nil, http.StatusSeeOther); err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	// The session's own CSRF token, for the session's state changes.
	r, err = c.do(ctx, "GET", "/settings/groups", nil, nil, http.StatusOK)
	if err != nil {
		return nil, fmt.Errorf("after sign-in: %w", err)
	}
	if m = csrfField.FindSubmatch(r.body); m != nil {
		c.csrf = string(m[1])
	}
	return c, nil
}

// etagOf is a response's ETag, to send back as If-Match.
func etagOf(r *reply) string { return r.header.Get("ETag") }
