package ratelimit_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/cohorthq/cohort/internal/ratelimit"
)

// TestZeroIsOff: 0 and negative limits mean no limit, the one meaning of
// --rate-limit 0; a nil limiter allows everything and sets no headers.
func TestZeroIsOff(t *testing.T) {
	for _, n := range []int{0, -1} {
		l := ratelimit.PerMinute(n, nil)
		if l != nil {
			t.Fatalf("PerMinute(%d) = %v, want nil (no limit)", n, l)
		}
		for range 1000 {
			if d := l.Take("k"); !d.Allowed {
				t.Fatalf("PerMinute(%d) refused a request", n)
			}
		}
		h := http.Header{}
		l.Take("k").SetHeaders(h)
		if len(h) != 0 {
			t.Errorf("PerMinute(%d) set headers %v", n, h)
		}
	}
}

// TestBucket: a key bursts up to the limit, is refused with Retry-After
// until a token is earned back, and other keys have their own bucket.
func TestBucket(t *testing.T) {
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	l := ratelimit.PerMinute(3, func() time.Time { return now })
	for i, want := range []int{2, 1, 0} {
		d := l.Take("a")
		if !d.Allowed || d.Remaining != want || d.Limit != 3 {
			t.Fatalf("take %d: %+v", i, d)
		}
	}
	d := l.Take("a")
	if d.Allowed || d.RetryAfterSeconds != 20 || d.ResetSeconds != 60 {
		t.Fatalf("over the limit: %+v", d)
	}
	h := http.Header{}
	d.SetHeaders(h)
	if h.Get("Retry-After") != "20" || h.Get("X-RateLimit-Limit") != "3" || h.Get("X-RateLimit-Remaining") != "0" || h.Get("X-RateLimit-Reset") != "60" {
		t.Errorf("headers %v", h)
	}
	if d := l.Take("b"); !d.Allowed {
		t.Errorf("another key was refused: %+v", d)
	}
	now = now.Add(20 * time.Second)
	if d := l.Take("a"); !d.Allowed {
		t.Errorf("after Retry-After: %+v", d)
	}
}
