package main

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/sqlstore"
)

// seed is the fixed random seed of every data set, so runs compare.
const seed = 42

// extraStaff are created in no group, so that B4 always has non-members to
// add to the largest group (the peer benchmark does the same).
const extraStaff = 10

// spec is one data set (S, M or L).
type spec struct {
	name       string
	staff      int
	groups     int
	maxMembers int
	// allStaffSeeded puts a group of every staff member into the seed (L);
	// otherwise B6 creates it through the API, as the peer's W4 does.
	allStaffSeeded bool
}

var specs = map[string]spec{
	"S": {name: "S", staff: 25, groups: 7, maxMembers: 12},
	"M": {name: "M", staff: 5000, groups: 500, maxMembers: 200},
	"L": {name: "L", staff: 50000, groups: 5000, maxMembers: 200, allStaffSeeded: true},
}

// dataset is a generated data set: the rows BulkLoad writes, and which
// groups the operations work on.
type dataset struct {
	spec   spec
	staff  []sqlstore.BulkStaff
	groups []sqlstore.BulkGroup
	// extras are indexes of staff in no group.
	extras []int
	// ten is the index of the 10-member group B4 compares with; all is the
	// all-staff group's index, -1 when B6 creates it.
	ten, all int
	// prefixes are three-letter name prefixes the picker is searched with.
	prefixes []string
}

var givenNames = strings.Fields(`Olivia Liam Charlotte Noah Amelia Oliver Isla Jack Mia William Ava Henry
	Grace Leo Chloe Thomas Sophie James Ella Lucas Zoe Ethan Ruby Mason Lily Harper Archie Evie Hudson Matilda
	Aiden Priya Arjun Mei Wei Hana Kenji Fatima Omar Layla Yusuf Sofia Mateo Lucia Diego Aroha Tane Anika Ravi
	Ngozi Kwame Ines Pierre Greta Lars Freya Nikos Eleni Dmitri Olga Siobhan Declan Mariam Tariq Leilani Keanu`)

var familyNames = strings.Fields(`Smith Jones Williams Brown Wilson Taylor Johnson White Martin Anderson
	Thompson Nguyen Thomas Walker Harris Lee Ryan Robinson Kelly King Davis Wright Evans Roberts Green Hall Wood
	Jackson Clarke Patel Khan Singh Chen Wang Li Zhang Kim Park Tanaka Sato Garcia Rodriguez Martinez Lopez
	Hernandez Rossi Russo Ferrari Muller Schmidt Schneider Fischer Dubois Moreau Laurent Novak Kowalski Nowak
	Ivanova Petrov Papadopoulos OConnor Murphy Byrne Walsh Campbell Stewart MacDonald Okafor Mensah Haddad
	Nasser Rahman Hussain Silva Santos Pereira Costa Ngata Parata Tipene Morgan Price Hughes Edwards`)

var groupWords = strings.Fields(`Physiotherapists Psychologists Paediatrics After-hours Telehealth Contractors
	Admin Reception Accounts Nursing Dietitians Podiatry Speech Occupational Exercise Hydrotherapy Rehab Sports
	Women's Men's Pelvic Vestibular Neuro Cardio Mentors Graduates Supervisors Locums Weekend Outreach`)

var roles = []cohort.Role{cohort.RolePractitioner, cohort.RolePractitioner, cohort.RolePractitioner,
	cohort.RolePractitionerAdmin, cohort.RoleReceptionist, cohort.RoleAccountant, cohort.RolePracticeManager}

// generate builds a data set. Group memberships use the peer benchmark's
// generator exactly (rand seed 42, Intn(max+1) members drawn by Perm), so
// data set M holds the same groups as slapd's.
func generate(s spec) *dataset {
	d := &dataset{spec: s, ten: -1, all: -1}
	names := rand.New(rand.NewSource(seed))
	n := s.staff + extraStaff
	for i := 0; i < n; i++ {
		given := givenNames[names.Intn(len(givenNames))]
		family := familyNames[names.Intn(len(familyNames))]
		d.staff = append(d.staff, sqlstore.BulkStaff{
			Email:     fmt.Sprintf("%s.%s.%05d@practice.example", strings.ToLower(given), strings.ToLower(family), i),
			GivenName: given, FamilyName: family, Role: roles[names.Intn(len(roles))],
		})
	}
	for i := s.staff; i < n; i++ {
		d.extras = append(d.extras, i)
	}
	members := rand.New(rand.NewSource(seed))
	for g := 0; g < s.groups; g++ {
		k := members.Intn(s.maxMembers + 1)
		perm := members.Perm(s.staff)[:k]
		sort.Ints(perm)
		d.groups = append(d.groups, sqlstore.BulkGroup{
			Name:    fmt.Sprintf("%s %04d", groupWords[g%len(groupWords)], g),
			Members: perm,
		})
	}
	d.ten = len(d.groups)
	d.groups = append(d.groups, sqlstore.BulkGroup{Name: "Ten-member group", Members: seq(0, min(10, s.staff))})
	if s.allStaffSeeded {
		d.all = len(d.groups)
		d.groups = append(d.groups, sqlstore.BulkGroup{Name: "All staff", Members: seq(0, s.staff)})
	}
	seen := map[string]bool{}
	for _, f := range familyNames {
		if p := strings.ToLower(f[:min(3, len(f))]); len(p) == 3 && !seen[p] {
			seen[p] = true
			d.prefixes = append(d.prefixes, p)
		}
	}
	return d
}

func seq(lo, hi int) []int {
	out := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

func (d *dataset) memberships() int {
	n := 0
	for _, g := range d.groups {
		n += len(g.Members)
	}
	return n
}

// batch is how many members B3 adds and removes: 100, or a quarter of the
// staff of a small data set.
func (d *dataset) batch() int { return min(100, d.spec.staff/4) }

// pickB3 returns the group B3 adds to and the one it removes from: like
// the peer, one of 50–100 members and one of at least 150 when the data set
// has them, else any groups with room for a batch.
func (d *dataset) pickB3() (add, drop int) {
	add, drop = -1, -1
	k := d.batch()
	for i := 0; i < d.spec.groups; i++ {
		n := len(d.groups[i].Members)
		if add < 0 && n >= 50 && n <= 100 {
			add = i
		}
		if drop < 0 && n >= 150 {
			drop = i
		}
	}
	for i := 0; i < d.spec.groups && (add < 0 || drop < 0); i++ {
		n := len(d.groups[i].Members)
		if add < 0 && i != drop && n <= d.spec.staff-k {
			add = i
		} else if drop < 0 && i != add && n >= k {
			drop = i
		}
	}
	return add, drop
}

// pickB5 returns the group closest to 100 members (the peer's W5 group),
// other than the B3 groups.
func (d *dataset) pickB5(not ...int) int {
	best, bd := -1, 1<<30
	for i := 0; i < d.spec.groups; i++ {
		skip := false
		for _, x := range not {
			skip = skip || x == i
		}
		dd := len(d.groups[i].Members) - 100
		if dd < 0 {
			dd = -dd
		}
		if !skip && dd < bd {
			best, bd = i, dd
		}
	}
	return best
}

// nonMembers returns up to k staff indexes (extras excluded) not in group g.
func (d *dataset) nonMembers(g, k int) []int {
	in := map[int]bool{}
	for _, m := range d.groups[g].Members {
		in[m] = true
	}
	var out []int
	for i := 0; i < d.spec.staff && len(out) < k; i++ {
		if !in[i] {
			out = append(out, i)
		}
	}
	return out
}
