// Package ratelimit is the per-API-key request limit that every machine
// interface (the REST API and SCIM) shares: one token bucket per key, so
// a key is one client with one allowance whichever interface it calls.
//
// The limit is a number of requests per minute; 0 (or less) means no
// limit, in the --rate-limit flag, in this package and in the handlers'
// options alike.
package ratelimit

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Limiter is a token bucket per key: a key may burst up to limit
// requests, and earns limit tokens back per window, evenly.
//
// It lives in this process. With several `cohort serve` instances behind
// a load balancer each instance enforces the limit on its own, so a key
// may make up to limit × instances requests a minute in all; size the
// limit for that (docs/api.md says so).
//
// A nil *Limiter is no limit: Take always allows and reports nothing.
type Limiter struct {
	mu      sync.Mutex
	limit   int
	window  time.Duration
	now     func() time.Time
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// Decision is the outcome of one Take, with what the headers report.
type Decision struct {
	Allowed bool
	// Limit is the bucket's size; 0 when there is no limit.
	Limit     int
	Remaining int
	// ResetSeconds is how long until the bucket is full again.
	ResetSeconds int
	// RetryAfterSeconds is how long until one request is allowed.
	RetryAfterSeconds int
}

// maxIdleBuckets bounds the map: full buckets carry no information and
// are dropped when it grows past this.
const maxIdleBuckets = 10000

// PerMinute returns a limiter of perMinute requests a minute per key, or
// nil (no limit) when perMinute is 0 or less. now is the clock; nil means
// time.Now (tests pass their own to move time without sleeping).
func PerMinute(perMinute int, now func() time.Time) *Limiter {
	return New(perMinute, time.Minute, now)
}

// New returns a limiter of limit requests per window per key, or nil (no
// limit) when limit is 0 or less.
func New(limit int, window time.Duration, now func() time.Time) *Limiter {
	if limit <= 0 || window <= 0 {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{limit: limit, window: window, now: now, buckets: map[string]*bucket{}}
}

func (l *Limiter) rate() float64 { return float64(l.limit) / l.window.Seconds() }

func (l *Limiter) refill(b *bucket, now time.Time) {
	if el := now.Sub(b.at).Seconds(); el > 0 {
		b.tokens = math.Min(float64(l.limit), b.tokens+el*l.rate())
	}
	b.at = now
}

// Take spends one token of key's bucket if it has one.
func (l *Limiter) Take(key string) Decision {
	if l == nil {
		return Decision{Allowed: true}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxIdleBuckets {
			l.prune(now)
		}
		b = &bucket{tokens: float64(l.limit), at: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	d := Decision{Limit: l.limit}
	if b.tokens >= 1 {
		b.tokens--
		d.Allowed = true
	} else {
		d.RetryAfterSeconds = ceilSeconds((1 - b.tokens) / l.rate())
	}
	d.Remaining = int(math.Floor(b.tokens))
	d.ResetSeconds = ceilSeconds((float64(l.limit) - b.tokens) / l.rate())
	return d
}

// SetHeaders writes X-RateLimit-Limit, -Remaining and -Reset, and
// Retry-After when the request is refused. Without a limit it writes
// nothing.
func (d Decision) SetHeaders(h http.Header) {
	if d.Limit == 0 {
		return
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("X-RateLimit-Reset", strconv.Itoa(d.ResetSeconds))
	if !d.Allowed {
		h.Set("Retry-After", strconv.Itoa(d.RetryAfterSeconds))
	}
}

func (l *Limiter) prune(now time.Time) {
	for k, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= float64(l.limit) {
			delete(l.buckets, k)
		}
	}
}

// ceilSeconds rounds up to whole seconds, at least 1 when s > 0.
func ceilSeconds(s float64) int {
	if s <= 0 {
		return 0
	}
	return max(1, int(math.Ceil(s-1e-9)))
}
