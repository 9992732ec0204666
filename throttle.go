package cohort

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"time"
)

// Sign-in throttling. Failed sign-ins are counted per account (the
// practice and email typed) and per client address, in the database, so
// every instance of a multi-instance deployment sees the same counts.
// Unknown practices and emails are counted exactly like known ones: the
// counters and the refusal say nothing about who has an account. A
// success clears only its own account's count, never another practice's
// account under the same email, nor the address's.

// SignInLimits bound failed sign-ins. The zero value means the defaults.
type SignInLimits struct {
	// PerAccount is how many failures one account (practice and email)
	// may have in Window (default 10).
	PerAccount int
	// PerAddress is how many failures one client address may have in
	// Window (default 50): enough for a practice's staff behind one
	// address, too few to try many passwords.
	PerAddress int
	// Window is how long failures count (default 15 minutes). A window
	// starts at its key's first failure.
	Window time.Duration
	// Concurrent bounds the password checks running at once in this
	// process (default twice GOMAXPROCS). Each check takes about 19 MiB
	// and a CPU for tens of milliseconds, so a flood of sign-ins from many
	// addresses queues here instead of exhausting memory.
	Concurrent int
}

// Default sign-in limits.
const (
	DefaultSignInPerAccount = 10
	DefaultSignInPerAddress = 50
	DefaultSignInWindow     = 15 * time.Minute
)

func (l SignInLimits) withDefaults() SignInLimits {
	if l.PerAccount <= 0 {
		l.PerAccount = DefaultSignInPerAccount
	}
	if l.PerAddress <= 0 {
		l.PerAddress = DefaultSignInPerAddress
	}
	if l.Window <= 0 {
		l.Window = DefaultSignInWindow
	}
	if l.Concurrent <= 0 {
		l.Concurrent = 2 * runtime.GOMAXPROCS(0)
	}
	return l
}

// SignInThrottle stores failure counters. Keys are opaque strings; the
// store keeps only their hashes.
type SignInThrottle interface {
	// SignInFailures returns, for each key, the failures counted in its
	// current window (a window older than window counts as zero).
	SignInFailures(ctx context.Context, keys []string, window time.Duration) ([]int, error)
	// RecordSignInFailure counts one failure against each key, starting a
	// new window for a key whose window has passed.
	RecordSignInFailure(ctx context.Context, keys []string, window time.Duration) error
	// ClearSignInFailures forgets the failures of keys.
	ClearSignInFailures(ctx context.Context, keys []string) error
}

type clientAddrKey struct{}

// NewContextWithClientAddr returns ctx carrying the address of the client
// that made the request (an IP address, without port), for throttling.
func NewContextWithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

// ClientAddrFromContext returns the client address of ctx, or "".
func ClientAddrFromContext(ctx context.Context) string {
	a, _ := ctx.Value(clientAddrKey{}).(string)
	return a
}

// ThrottleSignIn returns auth with Authenticate throttled by t: once an
// email or a client address has too many failures in the window, every
// attempt for it is refused with ERATELIMIT, right or wrong, before any
// password is checked. Every sign-in path (the sign-in form, the current
// password check of Change password) goes through Authenticate.
func ThrottleSignIn(auth AuthService, t SignInThrottle, l SignInLimits) AuthService {
	l = l.withDefaults()
	return &throttledAuth{
		AuthService: auth,
		t:           t,
		l:           l,
		checks:      make(chan struct{}, l.Concurrent),
		refused: &Error{Code: ERATELIMIT, Message: fmt.Sprintf(
			"Too many failed sign-ins. Wait %d minutes, then try again; if you forgot your password, ask a practice manager to set a new one.",
			int(l.Window/time.Minute))},
	}
}

type throttledAuth struct {
	AuthService
	t       SignInThrottle
	l       SignInLimits
	checks  chan struct{} // one token per password check running
	refused *Error
}

func (a *throttledAuth) Authenticate(ctx context.Context, c Credentials) (*User, error) {
	account := accountKey(c)
	keys := []string{account}
	limits := []int{a.l.PerAccount}
	if addr := ClientAddrFromContext(ctx); addr != "" {
		keys = append(keys, "addr:"+addressKey(addr))
		limits = append(limits, a.l.PerAddress)
	}
	counts, err := a.t.SignInFailures(ctx, keys, a.l.Window)
	if err != nil {
		return nil, fmt.Errorf("read sign-in failures: %w", err)
	}
	for i, n := range counts {
		if n >= limits[i] {
			return nil, a.refused
		}
	}
	select {
	case a.checks <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	user, err := a.AuthService.Authenticate(ctx, c)
	<-a.checks
	switch {
	case ErrorCode(err) == EUNAUTHORIZED:
		if rerr := a.t.RecordSignInFailure(ctx, keys, a.l.Window); rerr != nil {
			return nil, fmt.Errorf("record sign-in failure: %w", rerr)
		}
		return nil, err
	case err != nil:
		return nil, err
	}
	// The person knows this account's password: its count starts again.
	// The address keeps its count, so one right password does not buy an
	// address more guesses at other accounts, and an account of the same
	// email in another practice keeps its own.
	if err := a.t.ClearSignInFailures(ctx, []string{account}); err != nil {
		return nil, fmt.Errorf("clear sign-in failures: %w", err)
	}
	return user, nil
}

// accountKey is the throttling key of one account: the practice and the
// email as typed, normalised. A NUL cannot occur in either (both are
// refused with it), so two different accounts never share a key.
func accountKey(c Credentials) string {
	return "account:" + NormalizeSlug(c.Practice) + "\x00" + NormalizeEmail(c.Email)
}

// addressKey is what one client address counts as: an IPv4 address, or
// the /64 network of an IPv6 address, since one IPv6 client usually holds
// a whole /64 and could otherwise take a fresh address per guess.
func addressKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap()
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}
