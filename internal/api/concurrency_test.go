package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/api"
)

// TestConcurrentMemberWriters: 16 clients × 50 member changes of one group
// over HTTP (on PostgreSQL in the PostgreSQL pass). No request
// may fail, and the final members must be exactly what the accepted
// changes add up to: no lost update.
func TestConcurrentMemberWriters(t *testing.T) {
	const writers, edits, per = 16, 50, 4
	e := newEnv(t, api.Options{RateLimit: -1})
	token, _ := e.key(t, e.sysCtx, cohort.ScopeGroupsRead, cohort.ScopeGroupsWrite)
	users := make([]*cohort.User, writers*per)
	for i := range users {
		users[i] = e.user(t, e.sysCtx, fmt.Sprintf("writer%03d@example.com", i))
	}
	g := e.group(t, e.sysCtx, "Busy group")
	path := "/api/v1/groups/" + g.ID + "/members"

	var wg sync.WaitGroup
	finals := make([]map[string]bool, writers)
	failures := make(chan string, writers*edits)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := users[w*per : (w+1)*per]
			in := map[string]bool{}
			r := rand.New(rand.NewPCG(uint64(w), 42))
			for range edits {
				u := mine[r.IntN(per)]
				body := map[string][]string{"add": {u.ID}}
				if in[u.ID] {
					body = map[string][]string{"remove": {u.ID}}
				}
				res, err := e.srv.Client().Do(e.newRequest(t, req{method: "POST", path: path, token: token, body: body}))
				if err != nil {
					failures <- err.Error()
					return
				}
				raw, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					failures <- fmt.Sprintf("status %d: %s", res.StatusCode, raw)
					return
				}
				var out struct{ Added, Removed []string }
				if err := json.Unmarshal(raw, &out); err != nil {
					failures <- err.Error()
					return
				}
				for _, id := range out.Added {
					in[id] = true
				}
				for _, id := range out.Removed {
					delete(in, id)
				}
			}
			finals[w] = in
		}()
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	if t.Failed() {
		return
	}

	var want []string
	for _, in := range finals {
		for id := range in {
			want = append(want, id)
		}
	}
	sort.Strings(want)
	var got []string
	next := path + "?limit=100"
	for next != "" {
		var page listOut[struct {
			ID string `json:"id"`
		}]
		e.must(t, 200, req{method: "GET", path: next, token: token}).json(t, &page)
		for _, u := range page.Data {
			got = append(got, u.ID)
		}
		next = ""
		if page.Links.Next != nil {
			next = *page.Links.Next
		}
	}
	sort.Strings(got)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("members after the race:\n got %v\nwant %v", got, want)
	}
	var final groupOut
	e.must(t, 200, req{method: "GET", path: "/api/v1/groups/" + g.ID, token: token}).json(t, &final)
	if final.MemberCount != len(want) {
		t.Errorf("member_count %d, want %d", final.MemberCount, len(want))
	}
}
