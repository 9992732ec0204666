package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cohorthq/cohort"
)

// Paging limits of every list.
const (
	defaultLimit = 10
	maxLimit     = 100
)

// query collects the query parameters of a list and their problems, so
// one 422 names every bad parameter at once.
type query struct {
	q url.Values
	v cohort.Validation
}

func newQuery(r *http.Request) *query { return &query{q: r.URL.Query()} }

func (q *query) str(name string) string { return strings.TrimSpace(q.q.Get(name)) }

// limit reads limit (1–100, default 10).
func (q *query) limit() int {
	s := q.str("limit")
	if s == "" {
		return defaultLimit
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		q.v.Add("limit", "Use a whole number from 1 to 100 for limit.")
		return defaultLimit
	}
	return n
}

// status reads a status filter: active (the default), archived or all.
func (q *query) status() cohort.Status {
	switch s := q.str("status"); s {
	case "", string(cohort.StatusActive):
		return cohort.StatusActive
	case string(cohort.StatusArchived):
		return cohort.StatusArchived
	case "all":
		return ""
	}
	q.v.Add("status", "Use active, archived or all for status.")
	return cohort.StatusActive
}

// cursor reads the opaque cursor and returns the store cursor for either
// direction: a cursor from a "next" link pages forward (after), one from a
// "prev" link pages back (before). The API's cursor is the direction
// ("n." or "p.") followed by the store's own opaque cursor.
func (q *query) cursor() (after, before string) {
	s := q.str("cursor")
	if s == "" {
		return "", ""
	}
	dir, c, ok := strings.Cut(s, ".")
	if !ok || c == "" || (dir != "n" && dir != "p") {
		q.v.Add("cursor", "The cursor is not one Cohort made: use the links.next or links.prev URL of a previous response, or leave cursor out to start at the beginning.")
		return "", ""
	}
	if dir == "n" {
		return c, ""
	}
	return "", c
}

// time reads an RFC 3339 time.
func (q *query) time(name string) *time.Time {
	s := q.str(name)
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		q.v.Add(name, "Use an RFC 3339 time for "+name+", e.g. 2026-01-31T09:00:00Z.")
		return nil
	}
	return &t
}

func (q *query) err() error { return q.v.Err() }

// listLinks makes the prev/next links of a page: this request's path and
// query with cursor replaced. Links are root-relative.
func listLinks(r *http.Request, next, prev string) links {
	mk := func(dir, c string) *string {
		if c == "" {
			return nil
		}
		v := r.URL.Query()
		v.Set("cursor", dir+"."+c)
		u := r.URL.Path + "?" + v.Encode()
		return &u
	}
	return links{Next: mk("n", next), Prev: mk("p", prev)}
}

// etag is the strong entity tag of a version.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// ifMatch reads If-Match: the version the client read. "*" matches any
// version (0). With required set a missing header is a 428.
func ifMatch(r *http.Request, required bool) (int64, error) {
	s := strings.TrimSpace(r.Header.Get("If-Match"))
	if s == "" {
		if required {
			return 0, &cohort.Error{Code: codeIfMatchRequired, Message: "Send the If-Match header with the ETag from your last GET of this resource " +
				"(e.g. If-Match: \"7\"), so a change made by someone else in between is not overwritten."}
		}
		return 0, nil
	}
	if s == "*" {
		return 0, nil
	}
	v, ok := parseETag(s)
	if !ok {
		return 0, errBadRequest("The If-Match header is not an ETag this API made: send the ETag header of your last GET exactly, e.g. If-Match: \"7\".")
	}
	return v, nil
}

// parseETag parses "N" (and W/"N", compared weakly as RFC 9110 allows
// for If-None-Match).
func parseETag(s string) (int64, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "W/")
	if len(s) < 3 || s[0] != '"' || s[len(s)-1] != '"' {
		return 0, false
	}
	v, err := strconv.ParseInt(s[1:len(s)-1], 10, 64)
	if err != nil || v < 1 {
		return 0, false
	}
	return v, true
}

// notModified reports whether If-None-Match names version (or is "*").
func notModified(r *http.Request, version int64) bool {
	h := r.Header.Get("If-None-Match")
	if h == "" {
		return false
	}
	for _, t := range strings.Split(h, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		if v, ok := parseETag(t); ok && v == version {
			return true
		}
	}
	return false
}
