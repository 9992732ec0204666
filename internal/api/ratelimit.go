package api

import (
	"math"
	"sync"
	"time"
)

// limiter is a token bucket per API key: a key may burst up to limit
// requests, and earns limit tokens back per window, evenly.
//
// It lives in this process. With several `cohort serve` instances behind
// a load balancer each instance enforces the limit on its own, so a key
// may make up to limit × instances requests a minute in all; size the
// limit for that (docs/api.md says so).
type limiter struct {
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

// decision is the outcome of one take, with what the headers report.
type decision struct {
	allowed   bool
	limit     int
	remaining int
	// resetSeconds is how long until the bucket is full again.
	resetSeconds int
	// retryAfterSeconds is how long until one request is allowed.
	retryAfterSeconds int
}

// maxIdleBuckets bounds the map: full buckets carry no information and
// are dropped when it grows past this.
const maxIdleBuckets = 10000

func newLimiter(limit int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{limit: limit, window: window, now: now, buckets: map[string]*bucket{}}
}

func (l *limiter) rate() float64 { return float64(l.limit) / l.window.Seconds() }

func (l *limiter) refill(b *bucket, now time.Time) {
	if el := now.Sub(b.at).Seconds(); el > 0 {
		b.tokens = math.Min(float64(l.limit), b.tokens+el*l.rate())
	}
	b.at = now
}

// take spends one token of key's bucket if it has one.
func (l *limiter) take(key string) decision {
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
	d := decision{limit: l.limit}
	if b.tokens >= 1 {
		b.tokens--
		d.allowed = true
	} else {
		d.retryAfterSeconds = ceilSeconds((1 - b.tokens) / l.rate())
	}
	d.remaining = int(math.Floor(b.tokens))
	d.resetSeconds = ceilSeconds((float64(l.limit) - b.tokens) / l.rate())
	return d
}

func (l *limiter) prune(now time.Time) {
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
