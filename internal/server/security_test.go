package server_test

import (
	"bufio"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/httpx"
	"github.com/cohorthq/cohort/internal/server"
	"github.com/cohorthq/cohort/internal/web"
)

// Browser-session security, sign-in throttling and the password rule,
// through the assembled server.

const ownerPassword = "a long and unusual owner passphrase"

// practice creates a workspace whose owner signs in with ownerPassword.
func (f *full) practice(slug string) (*cohort.Workspace, *cohort.User) {
	f.t.Helper()
	ws, owner, err := f.svc.Workspaces.CreateWorkspace(f.t.Context(), cohort.WorkspaceCreate{Name: "Practice " + slug, Slug: slug,
		Owner: cohort.UserCreate{Email: "owner@" + slug + ".test", GivenName: "Olive", FamilyName: "Owner", Password: ownerPassword}})
	if err != nil {
		f.t.Fatal(err)
	}
	return ws, owner
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// signInPage opens the sign-in page as a new browser and returns its
// double-submit cookie and the form's token.
func (f *full) signInPage(header http.Header) (*http.Cookie, string) {
	f.t.Helper()
	res, body := f.do(request{method: "GET", path: "/signin", header: header})
	m := csrfField.FindStringSubmatch(body)
	if res.StatusCode != 200 || m == nil {
		f.t.Fatalf("sign-in page: %d\n%s", res.StatusCode, body)
	}
	for _, c := range res.Cookies() {
		if c.Name == httpx.CSRFCookieName(f.srv.TLS != nil) {
			return c, m[1]
		}
	}
	f.t.Fatalf("sign-in page set no CSRF cookie: %v", res.Header["Set-Cookie"])
	return nil, ""
}

// postSignIn submits the sign-in form without naming a practice, as a
// client of a one-practice installation may.
func (f *full) postSignIn(email, password string, header http.Header, cookies ...*http.Cookie) (*http.Response, string) {
	f.t.Helper()
	return f.postSignInTo("", email, password, header, cookies...)
}

// postSignInTo submits the sign-in form for a practice.
func (f *full) postSignInTo(practice, email, password string, header http.Header, cookies ...*http.Cookie) (*http.Response, string) {
	f.t.Helper()
	c, tok := f.signInPage(header)
	return f.do(request{method: "POST", path: "/signin", header: header, contentType: "application/x-www-form-urlencoded",
		body: form("csrf_token", tok, "practice", practice, "email", email, "password", password), cookies: append(cookies, c)})
}

func sessionCookie(res *http.Response, secure bool) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == httpx.SessionCookieName(secure) {
			return c
		}
	}
	return nil
}

// alive reports whether a session token still signs in, on the server.
func (f *full) alive(token string) bool {
	f.t.Helper()
	_, err := f.svc.Auth.FindSession(f.t.Context(), token, time.Hour)
	if err != nil && cohort.ErrorCode(err) != cohort.EUNAUTHORIZED {
		f.t.Fatal(err)
	}
	return err == nil
}

func TestSignInRotatesTheSession(t *testing.T) {
	t.Parallel()
	f := newFull(t, server.Config{})
	_, owner := f.practice("rotate")
	// The browser already holds a session (an earlier sign-in, or one an
	// attacker planted): signing in must not keep it.
	old := f.signIn(owner.ID, false)
	res, body := f.do(request{method: "POST", path: "/signin", contentType: "application/x-www-form-urlencoded",
		body: form("csrf_token", old.csrf, "email", owner.Email, "password", ownerPassword), cookies: []*http.Cookie{old.cookie}})
	c := sessionCookie(res, false)
	if res.StatusCode != http.StatusSeeOther || c == nil || c.Value == "" {
		t.Fatalf("sign-in: %d, cookie %v\n%s", res.StatusCode, c, body)
	}
	if c.Value == old.cookie.Value {
		t.Error("sign-in kept the session the browser came with")
	}
	if f.alive(old.cookie.Value) {
		t.Error("the session from before sign-in still works on the server")
	}
	if !f.alive(c.Value) {
		t.Error("the new session does not work")
	}
	// Two sign-ins never share a session.
	res2, _ := f.postSignIn(owner.Email, ownerPassword, nil)
	if c2 := sessionCookie(res2, false); c2 == nil || c2.Value == c.Value {
		t.Errorf("second sign-in: cookie %v", c2)
	}
}

func TestSignOutEndsTheSessionOnTheServer(t *testing.T) {
	t.Parallel()
	f := newFull(t, server.Config{})
	_, owner := f.practice("signout")
	b := f.signIn(owner.ID, false)
	res, _ := f.do(request{method: "POST", path: "/signout", contentType: "application/x-www-form-urlencoded",
		body: form("csrf_token", b.csrf), cookies: []*http.Cookie{b.cookie}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin" {
		t.Fatalf("sign-out: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if c := sessionCookie(res, false); c == nil || c.MaxAge >= 0 {
		t.Errorf("sign-out did not clear the cookie: %v", c)
	}
	if f.alive(b.cookie.Value) {
		t.Fatal("the session still works on the server after sign-out")
	}
	// A copy of the old cookie (another tab, a thief) is signed out too.
	res, _ = f.do(request{method: "GET", path: "/settings/groups", cookies: []*http.Cookie{b.cookie}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/signin") {
		t.Errorf("old cookie after sign-out: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestSessionIdleAndAbsoluteTimeouts(t *testing.T) {
	t.Parallel()
	t.Run("idle", func(t *testing.T) {
		// An idle limit shorter than any request: every session is idle
		// by the time it is used.
		f := newFull(t, server.Config{SessionIdle: time.Nanosecond})
		_, owner := f.practice("idle")
		b := f.signIn(owner.ID, false)
		res, _ := f.do(request{method: "GET", path: "/settings/groups", cookies: []*http.Cookie{b.cookie}})
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/signin") {
			t.Errorf("idle session: %d %s, want the sign-in page", res.StatusCode, res.Header.Get("Location"))
		}
		// The same session under the default idle limit works.
		g := newFull(t, server.Config{})
		_, owner = g.practice("idle")
		b = g.signIn(owner.ID, false)
		if res, _ := g.do(request{method: "GET", path: "/settings/groups", cookies: []*http.Cookie{b.cookie}}); res.StatusCode != 200 {
			t.Errorf("fresh session under the default idle limit: %d", res.StatusCode)
		}
	})
	t.Run("absolute", func(t *testing.T) {
		const ttl = 90 * time.Minute
		f := newFull(t, server.Config{}, func(o *web.Options) { o.SessionTTL = ttl })
		_, owner := f.practice("ttl")
		res, _ := f.postSignIn(owner.Email, ownerPassword, nil)
		c := sessionCookie(res, false)
		if c == nil || c.MaxAge != int(ttl/time.Second) {
			t.Fatalf("session cookie %v, want Max-Age %d", c, int(ttl/time.Second))
		}
		su, err := f.svc.Auth.FindSession(t.Context(), c.Value, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if got := su.Session.ExpiresAt.Sub(su.Session.CreatedAt); got != ttl {
			t.Errorf("the server ends the session after %s, want %s", got, ttl)
		}
	})
}

func TestCookiesOverTLS(t *testing.T) {
	t.Parallel()
	for _, tls := range []bool{false, true} {
		t.Run(fmt.Sprint("tls=", tls), func(t *testing.T) {
			f := newFull(t, server.Config{TLS: tls})
			_, owner := f.practice("cookies")
			csrf, _ := f.signInPage(nil)
			res, body := f.postSignIn(owner.Email, ownerPassword, nil)
			s := sessionCookie(res, tls)
			if s == nil {
				t.Fatalf("no session cookie named %s: %v\n%s", httpx.SessionCookieName(tls), res.Header["Set-Cookie"], body)
			}
			for _, c := range []*http.Cookie{csrf, s} {
				if tls != strings.HasPrefix(c.Name, "__Host-") || c.Secure != tls {
					t.Errorf("cookie %s: Secure=%v over TLS=%v; want the __Host- prefix and Secure exactly over TLS", c.Name, c.Secure, tls)
				}
				if !c.HttpOnly || c.Path != "/" || c.Domain != "" || c.SameSite != http.SameSiteLaxMode {
					t.Errorf("cookie %s: HttpOnly=%v Path=%q Domain=%q SameSite=%v", c.Name, c.HttpOnly, c.Path, c.Domain, c.SameSite)
				}
			}
		})
	}
}

func TestSignOutEverywhere(t *testing.T) {
	t.Parallel()
	f := newFull(t, server.Config{})
	ws, owner := f.practice("everywhere")
	ctx := sys(t.Context(), ws.ID)
	staff, err := f.svc.Users.CreateUser(ctx, cohort.UserCreate{Email: "p@everywhere.test", GivenName: "Pat", FamilyName: "Staff", Role: cohort.RolePractitioner})
	if err != nil {
		t.Fatal(err)
	}
	manager, err := f.svc.Users.CreateUser(ctx, cohort.UserCreate{Email: "m@everywhere.test", GivenName: "Max", FamilyName: "Manager", Role: cohort.RolePracticeManager})
	if err != nil {
		t.Fatal(err)
	}
	post := func(b browser, path string) *http.Response {
		res, _ := f.do(request{method: "POST", path: path, contentType: "application/x-www-form-urlencoded",
			body: form("csrf_token", b.csrf), cookies: []*http.Cookie{b.cookie}})
		return res
	}

	// Where people find it: under Change password, and on a staff
	// member's page for the owner only.
	links := []struct {
		who  browser
		path string
		link string
		want bool
	}{
		{f.signIn(staff.ID, false), "/account/password", `href="/account/sessions"`, true},
		{f.signIn(owner.ID, false), "/settings/users/" + staff.ID, `href="/settings/users/` + staff.ID + `/sessions"`, true},
		{f.signIn(manager.ID, false), "/settings/users/" + staff.ID, `/sessions"`, false},
	}
	for _, l := range links {
		if _, body := f.do(request{method: "GET", path: l.path, cookies: []*http.Cookie{l.who.cookie}}); strings.Contains(body, l.link) != l.want {
			t.Errorf("%s: link %s shown=%v, want %v", l.path, l.link, !l.want, l.want)
		}
	}

	t.Run("own", func(t *testing.T) {
		laptop, phone := f.signIn(staff.ID, false), f.signIn(staff.ID, false)
		if res, body := f.do(request{method: "GET", path: "/account/sessions", cookies: []*http.Cookie{laptop.cookie}}); res.StatusCode != 200 || !strings.Contains(body, "Sign out everywhere") {
			t.Fatalf("page: %d", res.StatusCode)
		}
		res := post(laptop, "/account/sessions")
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin" {
			t.Fatalf("sign out everywhere: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		if f.alive(laptop.cookie.Value) || f.alive(phone.cookie.Value) {
			t.Error("a session survived sign out everywhere")
		}
		p, err := f.svc.Audit.FindAuditEntries(ctx, cohort.AuditFilter{Action: cohort.ActionSessionsEnded, TargetID: staff.ID})
		if err != nil || len(p.Entries) != 1 {
			t.Errorf("audit of ended sessions: %v %v", p, err)
		}
	})

	t.Run("owner over anyone", func(t *testing.T) {
		s1, s2 := f.signIn(staff.ID, false), f.signIn(staff.ID, false)
		path := "/settings/users/" + staff.ID + "/sessions"
		// A manager who is not the owner may not.
		if res := post(f.signIn(manager.ID, false), path); res.StatusCode != http.StatusForbidden {
			t.Errorf("manager: %d, want 403", res.StatusCode)
		}
		if !f.alive(s1.cookie.Value) {
			t.Fatal("a refused request ended a session")
		}
		ob := f.signIn(owner.ID, false)
		res := post(ob, path)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != path+"?done=1" {
			t.Fatalf("owner: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		if f.alive(s1.cookie.Value) || f.alive(s2.cookie.Value) {
			t.Error("a session of the staff member survived")
		}
		if !f.alive(ob.cookie.Value) {
			t.Error("the owner was signed out too")
		}
		if _, body := f.do(request{method: "GET", path: path + "?done=1", cookies: []*http.Cookie{ob.cookie}}); !strings.Contains(body, "is signed out of every browser") {
			t.Error("no confirmation after signing someone out")
		}
		// The owner on themselves keeps the session in use.
		other := f.signIn(owner.ID, false)
		post(ob, "/settings/users/"+owner.ID+"/sessions")
		if f.alive(other.cookie.Value) || !f.alive(ob.cookie.Value) {
			t.Error("the owner's other sessions should end and this one stay")
		}
	})
}

// stripVolatile removes what differs between two renders of one form for
// reasons other than the answer: CSRF tokens and the email typed.
func stripVolatile(body string, emails ...string) string {
	body = csrfField.ReplaceAllString(body, "")
	for _, e := range emails {
		body = strings.ReplaceAll(body, e, "EMAIL")
	}
	return body
}

func TestSignInThrottle(t *testing.T) {
	t.Parallel()
	f := newFull(t, server.Config{})
	ws, owner := f.practice("throttle")
	unknown := "nobody@throttle.test"

	// Unknown email and wrong password: one answer.
	r1, b1 := f.postSignIn(owner.Email, "wrong password, long enough", nil)
	r2, b2 := f.postSignIn(unknown, "wrong password, long enough", nil)
	if r1.StatusCode != http.StatusUnauthorized || r2.StatusCode != r1.StatusCode ||
		stripVolatile(b1, owner.Email) != stripVolatile(b2, unknown) {
		t.Fatalf("wrong password %d and unknown email %d answer differently", r1.StatusCode, r2.StatusCode)
	}
	for i := 2; i <= cohort.DefaultSignInPerAccount; i++ {
		f.postSignIn(owner.Email, "wrong password, long enough", nil)
		f.postSignIn(unknown, "wrong password, long enough", nil)
	}
	// Over the limit: refused even with the right password, and the
	// refusal is the same for an unknown email.
	r1, b1 = f.postSignIn(owner.Email, ownerPassword, nil)
	r2, b2 = f.postSignIn(unknown, ownerPassword, nil)
	if r1.StatusCode != http.StatusTooManyRequests || sessionCookie(r1, false) != nil {
		t.Fatalf("account over the limit: %d, cookie %v", r1.StatusCode, sessionCookie(r1, false))
	}
	if !strings.Contains(b1, "Too many failed sign-ins") {
		t.Errorf("throttled page does not say why:\n%s", b1)
	}
	if r2.StatusCode != r1.StatusCode || stripVolatile(b1, owner.Email) != stripVolatile(b2, unknown) {
		t.Errorf("throttled known %d and unknown %d emails answer differently", r1.StatusCode, r2.StatusCode)
	}
	// Another account from the same address still signs in.
	colleague, err := f.svc.Users.CreateUser(sys(t.Context(), ws.ID), cohort.UserCreate{Email: "colleague@throttle.test",
		GivenName: "Col", FamilyName: "League", Password: ownerPassword})
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := f.postSignIn(colleague.Email, ownerPassword, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("another account from the same address: %d", res.StatusCode)
	}

	// Per address: many emails from one address.
	for i := 2 * cohort.DefaultSignInPerAccount; i < cohort.DefaultSignInPerAddress; i++ {
		f.postSignIn(fmt.Sprintf("guess%d@throttle.test", i), "wrong password, long enough", nil)
	}
	if res, _ := f.postSignIn(colleague.Email, ownerPassword, nil); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("address over the limit: %d, want 429", res.StatusCode)
	}
}

// A manager of one practice can give a staff member the email of another
// practice's owner and set any password on them. Signing in with it must
// teach nothing about the other practice's account: the answer for a
// right and a wrong guess of the victim's password is the same, and a
// success in the attacker's practice never clears the victim's failure
// count.
func TestSignInAcrossPracticesLeaksNothing(t *testing.T) {
	t.Parallel()
	f := newFull(t, server.Config{})
	_, victim := f.practice("victim")
	attackerWS, _ := f.practice("attacker")
	ctx := sys(t.Context(), attackerWS.ID)
	twin, err := f.svc.Users.CreateUser(ctx, cohort.UserCreate{Email: victim.Email, GivenName: "Twin", FamilyName: "Account",
		Password: "the attacker's first guess"})
	if err != nil {
		t.Fatal(err)
	}
	answer := func(practice, password string) string {
		t.Helper()
		res, body := f.postSignInTo(practice, victim.Email, password, nil)
		if strings.Contains(body, "Practice victim") || strings.Contains(body, "type=\"radio\"") {
			t.Errorf("sign-in to %s names or offers the victim's practice:\n%s", practice, body)
		}
		return fmt.Sprint(res.StatusCode, " ", res.Header.Get("Location"), " ", sessionCookie(res, false) != nil)
	}
	// Set-password-then-sign-in: a wrong and a right guess look the same.
	wrong := answer("attacker", "the attacker's first guess")
	if err := f.svc.Users.SetPassword(ctx, twin.ID, ownerPassword); err != nil {
		t.Fatal(err)
	}
	right := answer("attacker", ownerPassword)
	if wrong != right || wrong != "303 /settings/groups true" {
		t.Errorf("wrong guess answers %q, right guess %q: the loop learns the victim's password", wrong, right)
	}
	// Guessing at the victim's account itself is throttled per account,
	// and a success on the attacker's own account under the same email
	// does not reset the count.
	for i := 1; i < cohort.DefaultSignInPerAccount; i++ {
		if got := answer("victim", fmt.Sprintf("guess number %d here", i)); !strings.HasPrefix(got, "401 ") {
			t.Fatalf("guess %d at the victim: %s", i, got)
		}
	}
	if got := answer("attacker", ownerPassword); got != "303 /settings/groups true" {
		t.Fatalf("attacker's own sign-in: %s", got)
	}
	answer("victim", "one more guess, the tenth")
	if got := answer("victim", ownerPassword); !strings.HasPrefix(got, "429 ") {
		t.Errorf("after %d failures and a success elsewhere, the victim's right password answers %s, want 429",
			cohort.DefaultSignInPerAccount, got)
	}
}

func TestSignInThrottleBehindProxy(t *testing.T) {
	t.Parallel()
	f := newFull(t, server.Config{TrustProxy: true})
	_, owner := f.practice("proxy")
	from := func(chain string) http.Header { return http.Header{"X-Forwarded-For": {chain}} }
	// The client puts a made-up address first; the proxy appends the
	// real one, which is what counts.
	for i := range cohort.DefaultSignInPerAddress {
		f.postSignIn(fmt.Sprintf("guess%d@proxy.test", i), "wrong password, long enough", from(fmt.Sprintf("10.9.9.%d, 203.0.113.7", i)))
	}
	if res, _ := f.postSignIn(owner.Email, ownerPassword, from("203.0.113.7")); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("address over the limit behind the proxy: %d, want 429", res.StatusCode)
	}
	if res, _ := f.postSignIn(owner.Email, ownerPassword, from("203.0.113.8")); res.StatusCode != http.StatusSeeOther {
		t.Errorf("another client behind the same proxy: %d, want to sign in", res.StatusCode)
	}
}

func TestCommonPasswordsRefusedEverywhere(t *testing.T) {
	t.Parallel()
	f := newFull(t, server.Config{})
	ws, owner := f.practice("passwords")
	ob := f.signIn(owner.ID, false)
	common := "correcthorsebatterystaple"
	if !cohort.IsCommonPassword(common) {
		t.Fatalf("%q is not on the shipped list", common)
	}
	// Web: Add user.
	res, body := f.do(request{method: "POST", path: "/settings/users/new", contentType: "application/x-www-form-urlencoded", cookies: []*http.Cookie{ob.cookie},
		body: form("csrf_token", ob.csrf, "email", "new@passwords.test", "given_name", "New", "family_name", "Person", "role", "practitioner", "password", common)})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "too common") {
		t.Errorf("web add user with a common password: %d", res.StatusCode)
	}
	res, body = f.do(request{method: "POST", path: "/settings/users/new", contentType: "application/x-www-form-urlencoded", cookies: []*http.Cookie{ob.cookie},
		body: form("csrf_token", ob.csrf, "email", "new@passwords.test", "given_name", "New", "family_name", "Person", "role", "practitioner", "password", "short pass")})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "at least 12 characters") {
		t.Errorf("web add user with a 10-character password: %d", res.StatusCode)
	}
	// The services, whichever edge calls them (API, CLI, import).
	ctx := sys(t.Context(), ws.ID)
	if _, err := f.svc.Users.CreateUser(ctx, cohort.UserCreate{Email: "svc@passwords.test", GivenName: "S", FamilyName: "V", Password: strings.ToUpper(common)}); cohort.ErrorCode(err) != cohort.EINVALID {
		t.Errorf("create user with a common password: %v", err)
	}
	if err := f.svc.Users.SetPassword(ctx, owner.ID, common); cohort.ErrorCode(err) != cohort.EINVALID {
		t.Errorf("set a common password: %v", err)
	}
	if err := f.svc.Users.SetPassword(ctx, owner.ID, "eleven char"); cohort.ErrorCode(err) != cohort.EINVALID {
		t.Errorf("set an 11-character password: %v", err)
	}
}

// TestLiveStreamEndsAtSignOut: through the assembled server, an open
// live-update stream ends once its browser signs out, and cannot be
// reopened with the old cookie.
func TestLiveStreamEndsAtSignOut(t *testing.T) {
	t.Parallel()
	f := newFull(t, server.Config{})
	_, owner := f.practice("stream-signout")
	b := f.signIn(owner.ID, false)

	req, _ := http.NewRequestWithContext(t.Context(), "GET", f.srv.URL+"/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.AddCookie(b.cookie)
	res, err := f.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	ended := make(chan struct{})
	opened := make(chan struct{})
	go func() {
		defer close(ended)
		sc := bufio.NewScanner(res.Body)
		once := false
		for sc.Scan() {
			if !once {
				once = true
				close(opened)
			}
		}
	}()
	select {
	case <-opened:
	case <-time.After(20 * time.Second):
		t.Fatal("the stream sent nothing")
	}

	res2, _ := f.do(request{method: "POST", path: "/signout", contentType: "application/x-www-form-urlencoded",
		body: form("csrf_token", b.csrf), cookies: []*http.Cookie{b.cookie}})
	if res2.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", res2.StatusCode)
	}
	select {
	case <-ended:
	case <-time.After(20 * time.Second):
		t.Fatal("the live stream stayed open after sign-out")
	}
	if res, _ := f.do(request{method: "GET", path: "/events", cookies: []*http.Cookie{b.cookie}}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("reopening the stream with the old cookie: %d, want 401", res.StatusCode)
	}
}
