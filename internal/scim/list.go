package scim

import (
	"net/http"
	"strconv"
	"time"
)

// Evaluating a filter. The part of a filter that maps onto the store's
// UserFilter/GroupFilter (eq on userName, externalId, id, displayName,
// active, role, a member; meta.lastModified bounds) is pushed down. When
// the pushed filter says exactly what the SCIM filter says, the store
// pages and counts (one query). Otherwise the store's filter only narrows
// the candidates and the whole predicate is evaluated in Go while paging
// through them by keyset, keeping only the requested window in memory.
// That scan is bounded: when the store counts more than MaxScan
// candidates the request is refused with 400 tooMany before any is
// examined, rather than answered from a partial scan or after a long one.
// MaxScan covers a practice's every group (up to 5,000 in the largest practice Cohort is sized for) and a
// 10,000-staff practice's users; a larger practice narrows a user filter
// with an eq that the store answers.
const (
	scanPage = 500
	MaxScan  = 10000
)

func errTooMany(limit int) error {
	return &scimError{status: http.StatusBadRequest, scimType: typeTooMany,
		detail: "The filter would need more than " + strconv.Itoa(limit) + " resources examined one by one: narrow it with an eq on userName, externalId, displayName or id (or the role), which the database answers."}
}

// window collects the matches of a scan that fall into the requested
// page and counts all of them.
type window[T any] struct {
	lp    listParams
	total int
	items []T
}

func (w *window[T]) add(x T) {
	w.total++
	if w.total >= w.lp.startIndex && len(w.items) < w.lp.count {
		w.items = append(w.items, x)
	}
}

// listResponse renders a ListResponse. itemsPerPage is the number of
// resources actually returned.
func listResponse(total int, lp listParams, resources []map[string]any) map[string]any {
	if resources == nil {
		resources = []map[string]any{}
	}
	return map[string]any{
		"schemas":      []string{SchemaListResp},
		"totalResults": total,
		"itemsPerPage": len(resources),
		"startIndex":   lp.startIndex,
		"Resources":    resources,
	}
}

// fmtTime formats a timestamp as SCIM's dateTime (RFC 3339, UTC), keeping
// the stored precision so that a filter on meta.lastModified with a value
// read from a resource compares as expected.
func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// widen returns t moved one second away in the given direction: a pushed
// time bound is only a candidate narrowing (whether the store's bound is
// inclusive does not matter), and Go decides exactly.
func widen(t time.Time, later bool) *time.Time {
	if later {
		t = t.Add(time.Second)
	} else {
		t = t.Add(-time.Second)
	}
	return &t
}
