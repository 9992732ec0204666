package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/cohorthq/cohort"
)

// RelayOptions tunes the relay. Zero values take the defaults noted on
// each field; tests shorten the delays.
type RelayOptions struct {
	// PollInterval is the safety net when no commit wakes the relay
	// (default 1 s): it also picks up retries that another instance
	// scheduled.
	PollInterval time.Duration
	// RoundGap is the least time between two rounds (default 20 ms): a
	// burst of commits wakes the relay once per commit, and waiting this
	// long lets one fan-out transaction take the whole burst instead of
	// each commit costing the writer another transaction.
	RoundGap time.Duration
	// Concurrency bounds deliveries in flight (default 8).
	Concurrency int
	// FanOutBatch is how many events one fan-out step consumes (default 500).
	FanOutBatch int
	// Lease is how long a claimed delivery is reserved for this relay
	// (default 1 min). It must outlast Timeout; a relay that dies
	// mid-delivery leaves the lease to expire and another relay retries.
	Lease time.Duration
	// Timeout bounds one delivery attempt (default 10 s).
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the retry delay (default 10 s and
	// 1 h): attempt n waits a random time in [MinBackoff·2ⁿ⁻², MinBackoff·2ⁿ⁻¹),
	// capped at MaxBackoff.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// RetryFor is how long after the event a failing delivery is retried
	// before it is marked failed (default 24 h).
	RetryFor time.Duration
	// PauseAfterFailures pauses a webhook when a delivery is given up and
	// the endpoint has failed at least this many attempts in a row
	// (default 10), so a dead endpoint stops collecting attempts while a
	// single failed resend of an old delivery does not pause a healthy one.
	PauseAfterFailures int
	// DrainTimeout is how long Run waits for deliveries in flight when its
	// context ends (default Timeout + 5 s); then they are cancelled and
	// left to their lease, to be retried.
	DrainTimeout time.Duration
	// AllowPrivate lets deliveries reach loopback and private addresses
	// (COHORT_WEBHOOK_ALLOW_PRIVATE, development only).
	AllowPrivate bool
}

func (o RelayOptions) withDefaults() RelayOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.PollInterval, time.Second)
	def(&o.RoundGap, 20*time.Millisecond)
	def(&o.Lease, time.Minute)
	def(&o.Timeout, DefaultTimeout)
	def(&o.MinBackoff, 10*time.Second)
	def(&o.MaxBackoff, time.Hour)
	def(&o.RetryFor, 24*time.Hour)
	def(&o.DrainTimeout, o.Timeout+5*time.Second)
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.Lease < o.Timeout {
		o.Lease = 2 * o.Timeout
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.FanOutBatch <= 0 {
		o.FanOutBatch = 500
	}
	if o.PauseAfterFailures <= 0 {
		o.PauseAfterFailures = 10
	}
	return o
}

// Backoff returns the delay before retrying after the n-th failed
// attempt (n ≥ 1). The jitter spreads retries from many webhooks over
// time, and the ranges of successive attempts do not overlap, so each
// wait is longer than the one before until the cap.
func (o RelayOptions) Backoff(n int) time.Duration {
	o = o.withDefaults()
	base := o.MaxBackoff
	if n < 1 {
		n = 1
	}
	if n <= 40 {
		if b := o.MinBackoff << (n - 1); b > 0 && b < base {
			base = b
		}
	}
	half := base / 2
	return half + rand.N(base-half)
}

// Relay delivers outbox events to webhooks, after commit, at least once
// and in commit order per webhook. Any number of relays (one per
// `cohort serve` instance) may share a database: the store's claims and
// leases keep them from sending the same delivery at once.
type Relay struct {
	svc    cohort.Services
	wake   func(context.Context) <-chan struct{}
	log    *slog.Logger
	opts   RelayOptions
	client *http.Client

	mu      sync.Mutex
	nextDue time.Time // earliest retry this relay scheduled

	failing bool // the store is failing; only Run's goroutine uses it
}

// NewRelay returns a relay over svc. wake, when not nil, returns a
// channel that receives after commits that wrote events (the store's
// Subscribe); without it the relay polls.
func NewRelay(svc cohort.Services, wake func(context.Context) <-chan struct{}, logger *slog.Logger, opts RelayOptions) *Relay {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts = opts.withDefaults()
	client := NewHTTPClient(opts.AllowPrivate)
	client.Timeout = opts.Timeout
	return &Relay{svc: svc, wake: wake, log: logger, opts: opts, client: client}
}

// Run delivers until ctx ends, then waits up to DrainTimeout for the
// deliveries in flight. It returns nil after a clean stop; store errors
// are logged and retried, since the database may come back.
func (r *Relay) Run(ctx context.Context) error {
	if r.svc.Deliveries == nil {
		return errors.New("events: the relay needs Services.Deliveries")
	}
	var wake <-chan struct{}
	if r.wake != nil {
		wake = r.wake(ctx)
	}
	// Sends outlive ctx so a shutdown can let them finish (drain).
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	var wg sync.WaitGroup
	slots := make(chan struct{}, r.opts.Concurrency)
	finished := make(chan struct{}, 1)
	timer := time.NewTimer(0)
	defer timer.Stop()

	var last time.Time
	for {
		if wait := r.opts.RoundGap - time.Since(last); wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		if ctx.Err() == nil {
			last = time.Now()
			r.round(ctx, sendCtx, slots, finished, &wg)
		}
		timer.Reset(r.untilNextRound())
		select {
		case <-ctx.Done():
			r.drain(&wg, cancelSends)
			return nil
		case _, ok := <-wake:
			if !ok {
				wake = nil
			}
		case <-finished:
		case <-timer.C:
		}
	}
}

// drain waits for deliveries in flight, at most DrainTimeout.
func (r *Relay) drain(wg *sync.WaitGroup, cancelSends context.CancelFunc) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(r.opts.DrainTimeout):
		r.log.Warn("webhook relay stopped with deliveries in flight; they will be retried when their lease ends")
		cancelSends()
		<-done
	}
}

// round fans new events out into deliveries, then claims as many due
// deliveries as there are free slots and sends them concurrently.
func (r *Relay) round(ctx, sendCtx context.Context, slots chan struct{}, finished chan struct{}, wg *sync.WaitGroup) {
	for {
		n, err := r.svc.Deliveries.FanOutEvents(ctx, r.opts.FanOutBatch)
		if err != nil {
			r.storeFailed(ctx, "webhook fan-out failed", err)
			return
		}
		if n < r.opts.FanOutBatch {
			break
		}
	}
	free := cap(slots) - len(slots)
	if free == 0 {
		return
	}
	jobs, err := r.svc.Deliveries.ClaimDeliveries(ctx, time.Now(), free, r.opts.Lease)
	if err != nil {
		r.storeFailed(ctx, "claiming webhook deliveries failed", err)
		return
	}
	if r.failing {
		r.failing = false
		r.log.Info("webhook relay reaches the database again")
	}
	for _, job := range jobs {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.deliver(sendCtx, job)
			<-slots
			// A finished delivery may make the webhook's next one due.
			select {
			case finished <- struct{}{}:
			default:
			}
		}()
	}
}

// storeFailed logs a store error once per outage: the relay retries every
// poll, and one line a second would bury the cause.
func (r *Relay) storeFailed(ctx context.Context, msg string, err error) {
	if ctx.Err() == nil && !r.failing {
		r.failing = true
		r.log.Error(msg+"; retrying", "error", err)
	}
}

// untilNextRound is the poll interval, or less when a retry this relay
// scheduled falls due sooner.
func (r *Relay) untilNextRound() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.opts.PollInterval
	if !r.nextDue.IsZero() {
		until := time.Until(r.nextDue)
		if until <= 0 {
			r.nextDue = time.Time{}
			until = 0
		}
		d = min(d, until)
	}
	return d
}

func (r *Relay) scheduleRound(at time.Time) {
	r.mu.Lock()
	if r.nextDue.IsZero() || at.Before(r.nextDue) {
		r.nextDue = at
	}
	r.mu.Unlock()
}

// deliver makes one attempt and records its outcome.
func (r *Relay) deliver(ctx context.Context, job *cohort.DeliveryJob) {
	d, hook := job.Delivery, job.Webhook
	log := r.log.With("delivery_id", d.ID, "webhook_id", hook.ID, "event_id", job.Event.ID, "event_type", job.Event.Type, "attempt", d.Attempts+1)
	at := time.Now()
	code, pause, sendErr := r.send(ctx, hook, job.Event, at)
	if sendErr != nil && ctx.Err() != nil {
		// Shut down mid-delivery: not the receiver's fault. The lease
		// expires and the delivery is tried again.
		return
	}
	a := cohort.DeliveryAttempt{At: at, StatusCode: code, Delivered: sendErr == nil}
	if sendErr != nil {
		a.Error = sendErr.Error()
		giveUp := at.Sub(d.CreatedAt) >= r.opts.RetryFor
		switch {
		case pause:
			// The URL itself is refused: retrying cannot help until the
			// owner fixes it, so pause and keep the delivery waiting.
			next := at.Add(r.opts.Backoff(d.Attempts + 1))
			a.NextAttempt = &next
			a.PauseWebhook = true
			a.PauseReason = fmt.Sprintf("Paused on %s: %s", at.UTC().Format("2 Jan 2006 15:04 MST"), a.Error)
		case giveUp:
			if hook.FailureCount+1 >= r.opts.PauseAfterFailures {
				a.PauseWebhook = true
				a.PauseReason = fmt.Sprintf("Paused on %s: the endpoint failed %d attempts in a row and a delivery was given up after %s of retries (last error: %s). Fix the endpoint, then resume the webhook to send the events waiting for it; resend the failed delivery from the log.",
					at.UTC().Format("2 Jan 2006 15:04 MST"), hook.FailureCount+1, formatSpan(r.opts.RetryFor), a.Error)
			}
		default:
			next := at.Add(r.opts.Backoff(d.Attempts + 1))
			a.NextAttempt = &next
			r.scheduleRound(next)
		}
		if a.NextAttempt != nil {
			log.Warn("webhook delivery failed", "status", code, "error", a.Error, "retry_in", a.NextAttempt.Sub(at), "paused", a.PauseWebhook)
		} else {
			log.Warn("webhook delivery failed; giving up", "status", code, "error", a.Error, "paused", a.PauseWebhook)
		}
	} else {
		log.Debug("webhook delivered", "status", code, "duration", time.Since(at))
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.svc.Deliveries.RecordDeliveryAttempt(rctx, d.ID, a); err != nil {
		// Unrecorded, the lease expires and the delivery is sent again:
		// at least once.
		log.Error("recording a webhook delivery attempt failed", "error", err)
	}
}

// send POSTs the signed event to the webhook. It returns the response
// code (0 without a response), whether a failure is one retrying cannot
// fix (a refused URL), and an error unless the receiver answered 2xx.
func (r *Relay) send(ctx context.Context, hook *cohort.Webhook, ev *cohort.Event, at time.Time) (code int, pause bool, err error) {
	if _, err := parseWebhookURL(hook.URL, r.opts.AllowPrivate); err != nil {
		return 0, true, errors.New(cohort.ErrorMessage(err))
	}
	body, err := Payload(ev)
	if err != nil {
		return 0, false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(body))
	if err != nil {
		return 0, true, fmt.Errorf("the URL cannot be requested: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderEventID, ev.ID)
	req.Header.Set(HeaderEventType, ev.Type)
	req.Header.Set(HeaderSignature, Sign(hook.Secret, at, body))
	resp, err := r.client.Do(req)
	if err != nil {
		var blockedErr *BlockedAddressError
		if errors.As(err, &blockedErr) {
			return 0, true, blockedErr
		}
		return 0, false, describeSendError(err, r.opts.Timeout)
	}
	defer resp.Body.Close()
	// Read a little of the answer so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, false, fmt.Errorf("the endpoint answered HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, false, nil
}

// describeSendError turns a client error into a short reason for the
// delivery log, without repeating the method and URL.
func describeSendError(err error, timeout time.Duration) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Errorf("no answer within %s", timeout)
		}
		err = ue.Err
	}
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return errors.New(msg)
}

// Payload is the JSON body of a webhook delivery.
func Payload(ev *cohort.Event) ([]byte, error) {
	data := ev.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	body, err := json.Marshal(struct {
		ID          string          `json:"id"`
		Type        string          `json:"type"`
		CreatedAt   string          `json:"created_at"`
		WorkspaceID string          `json:"workspace_id"`
		Data        json.RawMessage `json:"data"`
	}{ev.ID, ev.Type, ev.Time.UTC().Format(time.RFC3339Nano), ev.WorkspaceID, data})
	if err != nil {
		return nil, fmt.Errorf("events: event %s has data that is not JSON: %w", ev.ID, err)
	}
	return body, nil
}

func formatSpan(d time.Duration) string {
	switch {
	case d == time.Hour:
		return "1 hour"
	case d > time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return d.String()
}
