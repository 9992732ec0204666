package scim

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

// projection is the "attributes" / "excludedAttributes" of a request
// (RFC 7644 §3.4.2.5), as lower-cased top-level names each with an
// optional set of lower-cased sub-attributes (nil: the whole attribute).
type projection struct {
	include map[string]map[string]bool
	exclude map[string]map[string]bool
}

// alwaysReturned attributes survive any projection (RFC 7643 "returned":
// "always").
var alwaysReturned = map[string]bool{"schemas": true, "id": true}

// extensionURNs are attribute containers named by their schema URN.
var extensionURNs = []string{SchemaCohortUser}

func parseProjection(q url.Values, coreURN string) (projection, error) {
	var p projection
	var err error
	if v := q.Get("attributes"); v != "" {
		if p.include, err = parseAttrList(v, coreURN, "attributes"); err != nil {
			return p, err
		}
	}
	if v := q.Get("excludedAttributes"); v != "" {
		if p.exclude, err = parseAttrList(v, coreURN, "excludedAttributes"); err != nil {
			return p, err
		}
	}
	return p, nil
}

func parseAttrList(v, coreURN, param string) (map[string]map[string]bool, error) {
	out := map[string]map[string]bool{}
	for _, raw := range strings.Split(v, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		lower := strings.ToLower(raw)
		isExt := false
		for _, urn := range extensionURNs {
			if lower == strings.ToLower(urn) {
				out[lower] = nil
				isExt = true
			}
		}
		if isExt {
			continue
		}
		p, err := safeParse(func() (filter.AttributePath, error) { return filter.ParseAttrPath([]byte(raw)) })
		if err != nil {
			return nil, errValue("The " + param + " parameter must be a comma-separated list of attribute names such as userName,name.givenName; " + strconv.Quote(raw) + " is not one.")
		}
		top := strings.ToLower(p.AttributeName)
		var sub string
		if p.SubAttribute != nil {
			sub = strings.ToLower(*p.SubAttribute)
		}
		if p.URIPrefix != nil && !strings.EqualFold(*p.URIPrefix, coreURN) {
			// An extension attribute: the container is the URN.
			top, sub = strings.ToLower(*p.URIPrefix), strings.ToLower(p.AttributeName)
		}
		if sub == "" {
			out[top] = nil
			continue
		}
		if subs, ok := out[top]; ok && subs == nil {
			continue // the whole attribute is already named
		}
		if out[top] == nil {
			out[top] = map[string]bool{}
		}
		out[top][sub] = true
	}
	return out, nil
}

// wants reports whether a top-level attribute that is returned by default
// appears in the response.
func (p projection) wants(top string) bool {
	top = strings.ToLower(top)
	if alwaysReturned[top] {
		return true
	}
	if p.include != nil {
		_, ok := p.include[top]
		return ok
	}
	if subs, ok := p.exclude[top]; ok && subs == nil {
		return false
	}
	return true
}

// named reports whether "attributes" names top explicitly: expensive
// attributes that lists leave out by default are returned only then.
func (p projection) named(top string) bool {
	_, ok := p.include[strings.ToLower(top)]
	return ok
}

// empty reports whether the request asked for no projection.
func (p projection) empty() bool { return p.include == nil && p.exclude == nil }

// apply returns res projected. res is built of map[string]any,
// []map[string]any and scalars.
func (p projection) apply(res map[string]any) map[string]any {
	if p.empty() {
		return res
	}
	out := make(map[string]any, len(res))
	for k, v := range res {
		lk := strings.ToLower(k)
		if alwaysReturned[lk] {
			out[k] = v
			continue
		}
		if p.include != nil {
			subs, ok := p.include[lk]
			if !ok {
				continue
			}
			if subs != nil {
				v = keepSubs(v, subs, true)
			}
		}
		if subs, ok := p.exclude[lk]; ok {
			if subs == nil {
				continue
			}
			v = keepSubs(v, subs, false)
		}
		out[k] = v
	}
	return out
}

// keepSubs keeps (keep=true) or drops (keep=false) the named
// sub-attributes of a complex value or of each element of a multi-valued
// one.
func keepSubs(v any, subs map[string]bool, keep bool) any {
	filterMap := func(m map[string]any) map[string]any {
		o := make(map[string]any, len(m))
		for k, x := range m {
			if subs[strings.ToLower(k)] == keep {
				o[k] = x
			}
		}
		return o
	}
	switch v := v.(type) {
	case map[string]any:
		return filterMap(v)
	case []map[string]any:
		o := make([]map[string]any, len(v))
		for i, m := range v {
			o[i] = filterMap(m)
		}
		return o
	}
	return v
}

// listParams are the paging parameters of a list request.
type listParams struct {
	startIndex int // 1-based
	count      int
}

func parseListParams(q url.Values) (listParams, error) {
	lp := listParams{startIndex: 1, count: DefaultCount}
	if v := q.Get("startIndex"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return lp, errValue("startIndex must be a whole number (1 is the first result).")
		}
		// RFC 7644 §3.4.2.4: a value below 1 is read as 1.
		if n > 1 {
			lp.startIndex = n
		}
	}
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return lp, errValue("count must be a whole number between 0 and 1000.")
		}
		lp.count = min(max(n, 0), MaxCount)
	}
	return lp, nil
}

// ifMatch reads If-Match. It returns the version required (0: any, when
// the header is absent or "*"), or ok=false when the header names no
// version this server could have issued (which can never match).
func ifMatch(r *http.Request) (version int64, ok bool) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, true
	}
	for _, tag := range strings.Split(h, ",") {
		if v, ok := parseETag(tag); ok {
			return v, true
		}
	}
	return 0, false
}

// etag is the entity tag of a resource version: meta.version.
func etag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

func parseETag(tag string) (int64, bool) {
	tag = strings.TrimSpace(tag)
	tag = strings.TrimPrefix(tag, "W/")
	if len(tag) < 2 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return 0, false
	}
	v, err := strconv.ParseInt(tag[1:len(tag)-1], 10, 64)
	if err != nil || v <= 0 {
		return 0, false
	}
	return v, true
}

// checkIfMatch refuses with 412 when If-Match is sent and does not name
// the current version.
// ifMatchVersion returns the version If-Match names for the store to
// check (0 when absent or "*"), or 412 for a tag this server never made.
func ifMatchVersion(r *http.Request) (int64, error) {
	want, ok := ifMatch(r)
	if !ok {
		return 0, errPrecondition()
	}
	return want, nil
}

func checkIfMatch(r *http.Request, current int64) error {
	want, ok := ifMatch(r)
	if !ok || want != 0 && want != current {
		return errPrecondition()
	}
	return nil
}

// notModified reports whether If-None-Match names the current version,
// so a GET can answer 304.
func notModified(r *http.Request, current int64) bool {
	h := r.Header.Get("If-None-Match")
	if h == "" {
		return false
	}
	for _, tag := range strings.Split(h, ",") {
		if strings.TrimSpace(tag) == "*" {
			return true
		}
		if v, ok := parseETag(tag); ok && v == current {
			return true
		}
	}
	return false
}
