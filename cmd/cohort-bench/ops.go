package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// bench runs the benchmark operations (B1–B9) against one server.
type bench struct {
	ctx  context.Context
	d    *dataset
	s    *seeded
	api  *client // API key: groups and users
	scim *client // API key: scim
	web  *client // the owner's browser session
	bare *client // the ceiling
	reps reps
	// dur is B8's length; par the length of each concurrent read run.
	dur, par time.Duration
	clients  int
	prog     *progress
	rep      *report
	// all is the ID of the group of every staff member (B4's large group).
	all string
	// ceilSeq and ceilPar are the ceiling's throughput, one client and
	// clients at once.
	ceilSeq, ceilPar float64
}

// reps is how often each kind of operation is repeated.
type reps struct{ read, walk, write, b4, b6 int }

func repsFor(set string) reps {
	switch set {
	case "S":
		return reps{read: 50, walk: 5, write: 5, b4: 10, b6: 3}
	case "L":
		return reps{read: 1000, walk: 20, write: 50, b4: 100, b6: 20}
	}
	return reps{read: 1000, walk: 50, write: 50, b4: 100, b6: 20}
}

func (b *bench) add(r result) {
	b.rep.Results = append(b.rep.Results, r)
}

// sequential runs fn n times, one after the other, timing each run.
func (b *bench) sequential(id, name string, n int, fn func(i int) error) result {
	var s sampler
	for i := 0; i < n && b.ctx.Err() == nil; i++ {
		b.prog.step(id+" "+name, i, n)
		s.time(func() error { return fn(i) })
	}
	return s.result(id, name)
}

// concurrently runs fn from b.clients goroutines for d and returns the
// samples with the throughput of all of them together.
func (b *bench) concurrently(id, name string, d time.Duration, fn func(worker int, rnd *rand.Rand, s *sampler)) result {
	var s sampler
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	t0 := time.Now()
	var ticks atomic.Int64
	for w := 0; w < b.clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewSource(seed + int64(w)))
			for ctx.Err() == nil {
				fn(w, rnd, &s)
				if w == 0 && ticks.Add(1)%20 == 0 {
					b.prog.step(id+" "+name, int(time.Since(t0)/time.Millisecond), int(d/time.Millisecond))
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(t0)
	r := s.result(id, name)
	r.OpsSec = float64(r.N) / wall.Seconds()
	r.parallel = true
	return r
}

func (b *bench) read(r result) result {
	r.read = true
	base := b.ceilSeq
	if r.parallel {
		base = b.ceilPar
	}
	if base > 0 {
		r.Ceiling = r.OpsSec / base
	}
	return r
}

func (b *bench) groupID(i int) string { return b.s.groupIDs[i] }

// runCeiling measures the bare handler, one client and many.
func (b *bench) runCeiling() {
	b.prog.phase("ceiling: bare net/http handler")
	r := b.sequential("C0", "bare handler, 1 client", b.reps.read*2, func(int) error {
		_, err := b.bare.do(b.ctx, "GET", "/", nil, nil, http.StatusOK)
		return err
	})
	b.ceilSeq = r.OpsSec
	b.add(r)
	r = b.concurrently("C0", fmt.Sprintf("bare handler, %d clients", b.clients), b.par, func(_ int, _ *rand.Rand, s *sampler) {
		s.time(func() error {
			_, err := b.bare.do(b.ctx, "GET", "/", nil, nil, http.StatusOK)
			return err
		})
	})
	b.ceilPar = r.OpsSec
	b.add(r)
}

// runR1 is the single-group GET the ceiling target names.
func (b *bench) runR1() {
	b.prog.phase("R1: GET one group")
	rnd := rand.New(rand.NewSource(seed))
	get := func(rnd *rand.Rand) error {
		_, err := b.api.do(b.ctx, "GET", "/api/v1/groups/"+b.groupID(rnd.Intn(b.d.spec.groups)), nil, nil, http.StatusOK)
		return err
	}
	b.add(b.read(b.sequential("R1", "GET /api/v1/groups/{id}, 1 client", b.reps.read, func(int) error { return get(rnd) })))
	b.add(b.read(b.concurrently("R1", fmt.Sprintf("GET /api/v1/groups/{id}, %d clients", b.clients), b.par,
		func(_ int, rnd *rand.Rand, s *sampler) { s.time(func() error { return get(rnd) }) })))
}

func (b *bench) runB1() {
	b.prog.phase("B1: Settings → Groups page")
	b.add(b.read(b.sequential("B1", "Groups page (HTML, session)", b.reps.read/2, func(int) error {
		_, err := b.web.do(b.ctx, "GET", "/settings/groups", nil, nil, http.StatusOK)
		return err
	})))
}

type groupListJSON struct {
	Data []struct {
		ID          string `json:"id"`
		MemberCount int    `json:"member_count"`
	} `json:"data"`
	Links struct {
		Next *string `json:"next"`
	} `json:"links"`
}

// walkGroups lists every active group page by page; it returns how many.
func (b *bench) walkGroups(c *client) (int, error) {
	next := "/api/v1/groups?status=active&limit=100"
	n := 0
	for next != "" {
		r, err := c.do(b.ctx, "GET", next, nil, nil, http.StatusOK)
		if err != nil {
			return n, err
		}
		var page groupListJSON
		if err := json.Unmarshal(r.body, &page); err != nil {
			return n, fmt.Errorf("group list: %w", err)
		}
		n += len(page.Data)
		next = ""
		if page.Links.Next != nil {
			next = *page.Links.Next
		}
	}
	return n, nil
}

func (b *bench) runB2() {
	b.prog.phase("B2: walk all active groups with counts")
	active := 0
	r := b.sequential("B2", "", b.reps.walk, func(int) error {
		n, err := b.walkGroups(b.api)
		active = n
		return err
	})
	r.Name = fmt.Sprintf("API walk of %d groups, limit 100", active)
	b.add(b.read(r))
}

func (b *bench) runB7() {
	b.prog.phase("B7: user picker search")
	pre := b.d.prefixes
	b.add(b.read(b.sequential("B7", "picker search, 3 letters (HTML)", b.reps.read/2, func(i int) error {
		_, err := b.web.do(b.ctx, "GET", "/settings/groups/picker?q="+pre[i%len(pre)], nil, nil, http.StatusOK)
		return err
	})))
	b.add(b.read(b.sequential("B7", "user search, 3 letters, limit 20 (API)", b.reps.read/2, func(i int) error {
		_, err := b.api.do(b.ctx, "GET", "/api/v1/users?status=active&limit=20&q="+pre[i%len(pre)], nil, nil, http.StatusOK)
		return err
	})))
}

func (b *bench) runB9() {
	b.prog.phase("B9: SCIM groups without members")
	pages := (b.d.spec.groups + 99) / 100
	b.add(b.read(b.sequential("B9", "SCIM Groups page, excludedAttributes=members, count 100", b.reps.read/4, func(i int) error {
		start := 1 + (i%pages)*100
		_, err := b.scim.do(b.ctx, "GET", fmt.Sprintf("/scim/v2/Groups?excludedAttributes=members&startIndex=%d&count=100", start),
			nil, nil, http.StatusOK)
		return err
	})))
}

type groupJSON struct {
	ID          string `json:"id"`
	MemberCount int    `json:"member_count"`
	Version     int64  `json:"version"`
}

func (b *bench) createGroup(c *client, name string, members []string) (*groupJSON, error) {
	r, err := c.do(b.ctx, "POST", "/api/v1/groups", map[string]any{"name": name, "member_ids": nonNil(members)}, nil, http.StatusCreated)
	if err != nil {
		return nil, err
	}
	var g groupJSON
	if err := json.Unmarshal(r.body, &g); err != nil {
		return nil, err
	}
	if g.MemberCount != len(members) {
		return nil, fmt.Errorf("created %q with %d members, want %d", name, g.MemberCount, len(members))
	}
	return &g, nil
}

func (b *bench) ids(idx []int) []string {
	out := make([]string, len(idx))
	for i, x := range idx {
		out[i] = b.s.userIDs[x]
	}
	return out
}

// runB6 creates groups of 1,000 members and, when the data set has none,
// the all-staff group B4 uses (the peer's W4 creates the same).
func (b *bench) runB6(timed bool) {
	if timed {
		b.prog.phase("B6: create a group with members")
		k := min(1000, b.d.spec.staff)
		rnd := rand.New(rand.NewSource(seed))
		b.add(b.sequential("B6", fmt.Sprintf("create a group with %d members", k), b.reps.b6, func(i int) error {
			members := b.ids(rnd.Perm(b.d.spec.staff)[:k])
			_, err := b.createGroup(b.api, fmt.Sprintf("Created %04d", i), members)
			return err
		}))
	}
	if b.d.all >= 0 {
		b.all = b.groupID(b.d.all)
		return
	}
	all := b.ids(seq(0, b.d.spec.staff))
	var s sampler
	s.time(func() error {
		g, err := b.createGroup(b.api, "All staff", all)
		if err == nil {
			b.all = g.ID
		}
		return err
	})
	if timed {
		b.add(s.result("B6", fmt.Sprintf("create the all-staff group, %d members (once)", len(all))))
	}
}

func (b *bench) memberDelta(group string, add, remove []string) error {
	_, err := b.api.do(b.ctx, "POST", "/api/v1/groups/"+group+"/members",
		map[string]any{"add": nonNil(add), "remove": nonNil(remove)}, nil, http.StatusOK)
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (b *bench) runB3() {
	b.prog.phase("B3: add and remove a batch of members")
	ga, gd := b.d.pickB3()
	k := b.d.batch()
	addSet := b.ids(b.d.nonMembers(ga, k))
	dropSet := b.ids(b.d.groups[gd].Members[:k])
	var add, drop sampler
	for i := 0; i < b.reps.write && b.ctx.Err() == nil; i++ {
		b.prog.step("B3", i, b.reps.write)
		add.time(func() error { return b.memberDelta(b.groupID(ga), addSet, nil) })
		add.untimed(func() error { return b.memberDelta(b.groupID(ga), nil, addSet) })
		drop.time(func() error { return b.memberDelta(b.groupID(gd), nil, dropSet) })
		drop.untimed(func() error { return b.memberDelta(b.groupID(gd), dropSet, nil) })
	}
	b.add(add.result("B3", fmt.Sprintf("add %d members (group of %d)", k, len(b.d.groups[ga].Members))))
	b.add(drop.result("B3", fmt.Sprintf("remove %d members (group of %d)", k, len(b.d.groups[gd].Members))))
}

const scimPatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// runB4 adds and removes one member of the all-staff group and of the
// ten-member group, through the REST API and as a SCIM PATCH, and reports
// how the large group compares with the small one.
func (b *bench) runB4() {
	b.prog.phase("B4: one member in and out of a large and a small group")
	extras := b.ids(b.d.extras)
	type variant struct {
		name  string
		group string
		size  int
	}
	groups := []variant{
		{"all-staff group", b.all, b.d.spec.staff},
		{"10-member group", b.groupID(b.d.ten), len(b.d.groups[b.d.ten].Members)},
	}
	results := map[string]result{}
	for _, via := range []string{"API", "SCIM"} {
		for _, g := range groups {
			var in, out sampler
			for i := 0; i < b.reps.b4 && b.ctx.Err() == nil; i++ {
				b.prog.step("B4 "+via+" "+g.name, i, b.reps.b4)
				u := extras[i%len(extras)]
				if via == "API" {
					in.time(func() error {
						_, err := b.api.do(b.ctx, "PUT", "/api/v1/groups/"+g.group+"/members/"+u, nil, nil, http.StatusOK)
						return err
					})
					out.time(func() error {
						_, err := b.api.do(b.ctx, "DELETE", "/api/v1/groups/"+g.group+"/members/"+u, nil, nil, http.StatusOK)
						return err
					})
					continue
				}
				in.time(func() error {
					_, err := b.scim.do(b.ctx, "PATCH", "/scim/v2/Groups/"+g.group, map[string]any{"schemas": []string{scimPatchOp},
						"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]string{"value": u}}}}},
						nil, http.StatusNoContent)
					return err
				})
				out.time(func() error {
					_, err := b.scim.do(b.ctx, "PATCH", "/scim/v2/Groups/"+g.group, map[string]any{"schemas": []string{scimPatchOp},
						"Operations": []any{map[string]any{"op": "remove", "path": `members[value eq "` + u + `"]`}}},
						nil, http.StatusNoContent)
					return err
				})
			}
			for dir, s := range map[string]*sampler{"in": &in, "out": &out} {
				verb := "add one member to"
				if dir == "out" {
					verb = "remove one member from"
				}
				name := fmt.Sprintf("%s: %s the %s (%d)", via, verb, g.name, g.size)
				if g.name == "10-member group" {
					name = fmt.Sprintf("%s: %s the 10-member group", via, verb)
				}
				r := s.result("B4", name)
				results[via+dir+g.name] = r
			}
			b.add(results[via+"in"+g.name])
			b.add(results[via+"out"+g.name])
		}
		for _, dir := range []string{"in", "out"} {
			big, small := results[via+dir+groups[0].name], results[via+dir+groups[1].name]
			if small.Median > 0 {
				b.rep.Ratios = append(b.rep.Ratios, ratio{
					Name:  fmt.Sprintf("B4 %s one member %s: all-staff group (%d) ÷ 10-member group, median", via, dir, b.d.spec.staff),
					Value: big.Median / small.Median,
				})
			}
		}
	}
}

func (b *bench) runB5() {
	b.prog.phase("B5: rename, archive, restore")
	ga, gd := b.d.pickB3()
	g := b.d.pickB5(ga, gd)
	id := b.groupID(g)
	base := b.d.groups[g].Name
	var rename, archive, restore sampler
	etag := ""
	rename.untimed(func() error {
		r, err := b.api.do(b.ctx, "GET", "/api/v1/groups/"+id, nil, nil, http.StatusOK)
		if err == nil {
			etag = etagOf(r)
		}
		return err
	})
	for i := 0; i < b.reps.write && b.ctx.Err() == nil; i++ {
		b.prog.step("B5", i, b.reps.write)
		step := func(s *sampler, method, path string, body any) {
			s.time(func() error {
				r, err := b.api.do(b.ctx, method, path, body, map[string]string{"If-Match": etag}, http.StatusOK)
				if err == nil {
					etag = etagOf(r)
				}
				return err
			})
		}
		step(&rename, "PATCH", "/api/v1/groups/"+id, map[string]string{"name": fmt.Sprintf("%s r%03d", base, i)})
		step(&archive, "POST", "/api/v1/groups/"+id+"/archive", nil)
		step(&restore, "POST", "/api/v1/groups/"+id+"/restore", map[string]string{})
	}
	rename.untimed(func() error {
		_, err := b.api.do(b.ctx, "PATCH", "/api/v1/groups/"+id, map[string]string{"name": base}, map[string]string{"If-Match": etag}, http.StatusOK)
		return err
	})
	size := len(b.d.groups[g].Members)
	b.add(rename.result("B5", fmt.Sprintf("rename a group of %d", size)))
	b.add(archive.result("B5", fmt.Sprintf("archive a group of %d", size)))
	b.add(restore.result("B5", fmt.Sprintf("restore a group of %d", size)))
}

// loadClient is one B8 client's own groups, so its writes never conflict
// with another client's version checks.
type loadClient struct {
	delta   string   // group B3-style deltas toggle members of
	members []string // the batch added and removed
	added   bool
	cycle   string // group renamed, archived and restored in turn
	etag    string
	step    int
	cursor  string // B2: the next page of this client's walk
}

// runB8 is the mixed load: 90% reads (B1, a B2 page, B7), 10% writes
// (B3 delta, a B5 step) from b.clients clients for b.dur.
func (b *bench) runB8() {
	b.prog.phase("B8: mixed load, %d clients, %s", b.clients, b.dur)
	k := b.d.batch()
	lcs := make([]*loadClient, b.clients)
	var setup sampler
	for w := range lcs {
		lc := &loadClient{members: b.ids(seq(0, k))}
		setup.untimed(func() error {
			g, err := b.createGroup(b.api, fmt.Sprintf("Load %02d delta", w), nil)
			if err != nil {
				return err
			}
			lc.delta = g.ID
			g, err = b.createGroup(b.api, fmt.Sprintf("Load %02d cycle", w), nil)
			if err != nil {
				return err
			}
			lc.cycle, lc.etag = g.ID, fmt.Sprintf(`"%d"`, g.Version)
			return nil
		})
		lcs[w] = lc
	}
	if setup.errs > 0 {
		b.add(setup.result("B8", "setup"))
		return
	}
	var reads, writes sampler
	pre := b.d.prefixes
	all := b.concurrently("B8", fmt.Sprintf("mixed 90/10, %d clients, all requests", b.clients), b.dur,
		func(w int, rnd *rand.Rand, s *sampler) {
			lc := lcs[w]
			x := rnd.Float64()
			var err error
			t0 := time.Now()
			switch {
			case x < 0.30:
				_, err = b.web.do(b.ctx, "GET", "/settings/groups", nil, nil, http.StatusOK)
			case x < 0.60:
				err = lc.page(b)
			case x < 0.90:
				_, err = b.web.do(b.ctx, "GET", "/settings/groups/picker?q="+pre[rnd.Intn(len(pre))], nil, nil, http.StatusOK)
			case x < 0.95:
				if lc.added {
					err = b.memberDelta(lc.delta, nil, lc.members)
				} else {
					err = b.memberDelta(lc.delta, lc.members, nil)
				}
				lc.added = !lc.added
			default:
				err = lc.cycleStep(b)
			}
			d := time.Since(t0)
			if b.ctx.Err() != nil {
				// Interrupted by the person running it: not a failure.
				return
			}
			s.add(d, err)
			if x < 0.90 {
				reads.add(d, err)
			} else {
				writes.add(d, err)
			}
		})
	b.add(all)
	r := reads.result("B8", "mixed: reads (B1, B2 page, B7)")
	r.OpsSec = all.OpsSec * float64(r.N) / float64(max(all.N, 1))
	b.add(r)
	r = writes.result("B8", "mixed: writes (B3 delta, B5 step)")
	r.OpsSec = all.OpsSec * float64(r.N) / float64(max(all.N, 1))
	b.add(r)
}

// page fetches the next page of this client's walk over the groups.
func (lc *loadClient) page(b *bench) error {
	path := lc.cursor
	if path == "" {
		path = "/api/v1/groups?status=active&limit=100"
	}
	r, err := b.api.do(b.ctx, "GET", path, nil, nil, http.StatusOK)
	if err != nil {
		lc.cursor = ""
		return err
	}
	var page groupListJSON
	if err := json.Unmarshal(r.body, &page); err != nil {
		return err
	}
	lc.cursor = ""
	if page.Links.Next != nil {
		lc.cursor = *page.Links.Next
	}
	return nil
}

// cycleStep renames, archives or restores the client's cycle group, in
// turn, sending the version it last saw.
func (lc *loadClient) cycleStep(b *bench) error {
	var r *reply
	var err error
	h := map[string]string{"If-Match": lc.etag}
	switch lc.step % 3 {
	case 0:
		r, err = b.api.do(b.ctx, "PATCH", "/api/v1/groups/"+lc.cycle, map[string]string{"name": fmt.Sprintf("Load cycle %s %d", lc.cycle[len(lc.cycle)-6:], lc.step)}, h, http.StatusOK)
	case 1:
		r, err = b.api.do(b.ctx, "POST", "/api/v1/groups/"+lc.cycle+"/archive", nil, h, http.StatusOK)
	default:
		r, err = b.api.do(b.ctx, "POST", "/api/v1/groups/"+lc.cycle+"/restore", map[string]string{}, h, http.StatusOK)
	}
	if err != nil {
		return err
	}
	lc.step++
	lc.etag = etagOf(r)
	return nil
}
