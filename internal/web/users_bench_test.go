package web_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/server"
	"github.com/cohorthq/cohort/internal/sqlstore"
	"github.com/cohorthq/cohort/internal/sqlstore/sqltest"
	"github.com/cohorthq/cohort/internal/web"
)

// BenchmarkStaffPages measures Settings → Users and the Directory over a
// real server and store holding 50,000 staff and 5,000 groups (data set L
// of the benchmark's data sets, with smaller groups besides the one of
// everyone): each page is one query for the page of staff and one grouped
// query for their groups, whatever the practice's size.
//
//	go test ./internal/web -run '^$' -bench StaffPages -benchtime 50x
func BenchmarkStaffPages(b *testing.B) {
	const staffN, groupsN = 50000, 5000
	db := sqltest.Open(b)
	svc := db.Services()
	ctx := b.Context()
	ws, owner, err := svc.Workspaces.CreateWorkspace(ctx, cohort.WorkspaceCreate{Name: "Large", Slug: "large",
		Owner: cohort.UserCreate{Email: "owner@large.test", GivenName: "Olive", FamilyName: "Owner", Password: testPassword}})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(42, 42))
	families := []string{"Smith", "Nguyen", "Williams", "Brown", "Wilson", "Taylor", "Johnson", "White", "Martin", "Anderson", "Thompson", "Kim"}
	staff := make([]sqlstore.BulkStaff, staffN)
	for i := range staff {
		staff[i] = sqlstore.BulkStaff{Email: fmt.Sprintf("p%05d@large.test", i), GivenName: fmt.Sprint("Given", i),
			FamilyName: families[rng.IntN(len(families))] + fmt.Sprint(i), Role: cohort.Roles[rng.IntN(len(cohort.Roles))]}
	}
	groups := make([]sqlstore.BulkGroup, groupsN)
	everyone := make([]int, staffN)
	for i := range everyone {
		everyone[i] = i
	}
	groups[0] = sqlstore.BulkGroup{Name: "Everyone", Members: everyone}
	for i := 1; i < groupsN; i++ {
		n := rng.IntN(21)
		m := make([]int, 0, n)
		seen := map[int]bool{}
		for len(m) < n {
			if k := rng.IntN(staffN); !seen[k] {
				seen[k] = true
				m = append(m, k)
			}
		}
		groups[i] = sqlstore.BulkGroup{Name: fmt.Sprintf("Group %04d", i), Members: m}
	}
	_, gids, err := db.BulkLoad(cohort.NewContextWithActor(ctx, cohort.SystemActor(ws.ID, "bench")), staff, groups, nil)
	if err != nil {
		b.Fatal(err)
	}
	h, err := web.New(svc, nil, web.Options{})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{}, svc, nil, h.Routes()))
	b.Cleanup(srv.Close)
	client := signInClient(b, srv.URL, owner.Email)

	for _, c := range []struct{ name, path string }{
		{"users", "/settings/users"},
		{"users-search", "/settings/users?q=smi"},
		{"users-everyone-group", "/settings/users?group=" + gids[0]},
		{"directory", "/directory"},
		{"directory-small-group", "/directory?group=" + gids[1]},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				res, err := client.Get(srv.URL + c.path)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("GET %s: %d", c.path, res.StatusCode)
				}
			}
		})
	}
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// signInClient returns an HTTP client signed in as email.
func signInClient(b *testing.B, base, email string) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, err := c.Get(base + "/signin")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfRE.FindSubmatch(body)
	if m == nil {
		b.Fatal("no CSRF token on the sign-in page")
	}
	res, err = c.PostForm(base+"/signin", url.Values{"csrf_token": {string(m[1])}, "email": {email}, "password": {testPassword}})
	if err != nil {
		b.Fatal(err)
	}
	res.Body.Close()
	if strings.Contains(res.Request.URL.Path, "/signin") {
		b.Fatal("sign-in failed")
	}
	return c
}
