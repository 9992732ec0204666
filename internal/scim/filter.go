package scim

import (
	"encoding/json"
	"github.com/cohorthq/cohort"
	"strings"
	"time"
	"unicode/utf8"

	filter "github.com/scim2/filter-parser/v2"
)

// Filters. A SCIM filter is parsed by github.com/scim2/filter-parser and
// compiled against the resource's schema into a predicate. Compilation
// refuses (invalidFilter) any attribute or operator Cohort cannot answer
// exactly, so a filter is either answered correctly or refused; it is
// never silently approximated. The list handlers then push what maps onto
// the store's filter (see pushdown) and evaluate the whole predicate in Go
// over the candidates.

// maxFilterLen bounds the filter text; real provider filters are short.
const maxFilterLen = 4096

// kind is the type of a filterable attribute.
type kind int

const (
	kString kind = iota
	kBool
	kTime
	kEmails  // multi-valued complex: value, type, primary
	kMembers // multi-valued complex: value (a user ID)
)

// attrSpec describes one filterable attribute.
type attrSpec struct {
	key       string // key in the record
	kind      kind
	caseExact bool
	// normalize, when set, normalises a compared value the way the
	// attribute is normalised when written, so a filter compares what
	// is stored: displayName eq "Physio  Team " finds "Physio Team".
	normalize func(string) string
}

// filterSchema lists the filterable attributes of one resource type, keyed
// by lower-cased path ("username", "name.givenname", "meta.lastmodified");
// extension attributes are keyed by "urn…:attr" lower-cased.
type filterSchema struct {
	resource string
	coreURN  string
	attrs    map[string]attrSpec
}

var userFilterSchema = filterSchema{
	resource: "User",
	coreURN:  SchemaUser,
	attrs: map[string]attrSpec{
		"id":                {key: "id", caseExact: true},
		"externalid":        {key: "externalId", caseExact: true},
		"username":          {key: "userName", normalize: cohort.NormalizeUserName},
		"displayname":       {key: "displayName", normalize: cohort.NormalizeName},
		"name.givenname":    {key: "name.givenName", normalize: cohort.NormalizeName},
		"name.familyname":   {key: "name.familyName", normalize: cohort.NormalizeName},
		"name.formatted":    {key: "name.formatted", normalize: cohort.NormalizeName},
		"active":            {key: "active", kind: kBool},
		"meta.created":      {key: "meta.created", kind: kTime},
		"meta.lastmodified": {key: "meta.lastModified", kind: kTime},
		"meta.resourcetype": {key: "meta.resourceType", caseExact: true},
		"emails":            {key: "emails", kind: kEmails},
		strings.ToLower(SchemaCohortUser) + ":role": {key: "role", caseExact: true},
	},
}

var groupFilterSchema = filterSchema{
	resource: "Group",
	coreURN:  SchemaGroup,
	attrs: map[string]attrSpec{
		"id":                {key: "id", caseExact: true},
		"externalid":        {key: "externalId", caseExact: true},
		"displayname":       {key: "displayName", normalize: cohort.NormalizeName},
		"meta.created":      {key: "meta.created", kind: kTime},
		"meta.lastmodified": {key: "meta.lastModified", kind: kTime},
		"meta.resourcetype": {key: "meta.resourceType", caseExact: true},
		"members":           {key: "members", kind: kMembers},
	},
}

// emailSchema is the sub-schema of one element of "emails".
var emailSchema = map[string]attrSpec{
	"value":   {key: "value"},
	"type":    {key: "type"},
	"display": {key: "display"},
	"primary": {key: "primary", kind: kBool},
}

// record is a resource as the predicate sees it.
type record struct {
	strs   map[string]string
	bools  map[string]bool
	times  map[string]time.Time
	emails []*record
	// isMember reports whether a user belongs to the group; it asks the
	// store, so membership filters never load a group's members.
	isMember   func(userID string) (bool, error)
	hasMembers bool
}

// node is a compiled filter.
type node interface {
	eval(r *record) (bool, error)
}

type andNode struct{ l, r node }
type orNode struct{ l, r node }
type notNode struct{ x node }

func (n andNode) eval(r *record) (bool, error) {
	ok, err := n.l.eval(r)
	if err != nil || !ok {
		return false, err
	}
	return n.r.eval(r)
}

func (n orNode) eval(r *record) (bool, error) {
	ok, err := n.l.eval(r)
	if err != nil || ok {
		return ok, err
	}
	return n.r.eval(r)
}

func (n notNode) eval(r *record) (bool, error) {
	ok, err := n.x.eval(r)
	return !ok && err == nil, err
}

// cmpNode compares one single-valued attribute.
type cmpNode struct {
	spec attrSpec
	op   filter.CompareOperator
	str  string
	b    bool
	t    time.Time
}

func (n cmpNode) eval(r *record) (bool, error) {
	switch n.spec.kind {
	case kBool:
		have, ok := r.bools[n.spec.key]
		switch n.op {
		case filter.PR:
			return ok, nil
		case filter.EQ:
			return ok && have == n.b, nil
		default: // ne
			return !ok || have != n.b, nil
		}
	case kTime:
		have, ok := r.times[n.spec.key]
		if n.op == filter.PR {
			return ok, nil
		}
		if !ok {
			return n.op == filter.NE, nil
		}
		switch n.op {
		case filter.EQ:
			return have.Equal(n.t), nil
		case filter.NE:
			return !have.Equal(n.t), nil
		case filter.GT:
			return have.After(n.t), nil
		case filter.GE:
			return !have.Before(n.t), nil
		case filter.LT:
			return have.Before(n.t), nil
		default: // le
			return !have.After(n.t), nil
		}
	}
	have := r.strs[n.spec.key]
	if n.op == filter.PR {
		return have != "", nil
	}
	if have == "" {
		return n.op == filter.NE, nil
	}
	want := n.str
	if !n.spec.caseExact {
		have, want = strings.ToLower(have), strings.ToLower(want)
	}
	switch n.op {
	case filter.EQ:
		return have == want, nil
	case filter.NE:
		return have != want, nil
	case filter.CO:
		return strings.Contains(have, want), nil
	case filter.SW:
		return strings.HasPrefix(have, want), nil
	case filter.EW:
		return strings.HasSuffix(have, want), nil
	case filter.GT:
		return have > want, nil
	case filter.GE:
		return have >= want, nil
	case filter.LT:
		return have < want, nil
	default: // le
		return have <= want, nil
	}
}

// emailsNode is true when some element of emails satisfies sub (nil sub:
// when there is any email).
type emailsNode struct{ sub node }

func (n emailsNode) eval(r *record) (bool, error) {
	if n.sub == nil {
		return len(r.emails) > 0, nil
	}
	for _, e := range r.emails {
		if ok, err := n.sub.eval(e); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// memberNode is true when any of ids is a member (no ids: when the group
// has any member).
type memberNode struct{ ids []string }

func (n memberNode) eval(r *record) (bool, error) {
	if n.ids == nil {
		return r.hasMembers, nil
	}
	for _, id := range n.ids {
		if r.isMember == nil {
			return false, nil
		}
		if ok, err := r.isMember(id); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// parseFilter parses and compiles a filter for a resource type.
func parseFilter(s string, fs filterSchema) (node, error) {
	if len(s) > maxFilterLen {
		return nil, errFilter("The filter is too long: use at most 4096 characters.")
	}
	if strings.TrimSpace(s) == "" {
		return nil, errFilter("The filter is empty: leave it out, or write one such as userName eq \"jane@example.com\".")
	}
	s, err := rewriteSubAttrValuePaths(s)
	if err != nil {
		return nil, err
	}
	expr, err := safeParse(func() (filter.Expression, error) { return filter.ParseFilter([]byte(s)) })
	if err != nil {
		return nil, errFilter("The filter could not be parsed: write it as RFC 7644 §3.4.2.2 describes, e.g. userName eq \"jane@example.com\" or displayName sw \"Phys\".")
	}
	return compile(expr, fs, 0)
}

// safeParse runs a parser from a third-party library, turning a panic on
// hostile input into a parse error: no filter may crash a request.
func safeParse[T any](parse func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errFilter("The filter could not be parsed.")
		}
	}()
	return parse()
}

// maxFilterDepth bounds nesting so that a hostile filter cannot exhaust
// the stack.
const maxFilterDepth = 64

func compile(e filter.Expression, fs filterSchema, depth int) (node, error) {
	if depth > maxFilterDepth {
		return nil, errFilter("The filter is nested too deeply: simplify it.")
	}
	switch e := e.(type) {
	case *filter.LogicalExpression:
		l, err := compile(e.Left, fs, depth+1)
		if err != nil {
			return nil, err
		}
		r, err := compile(e.Right, fs, depth+1)
		if err != nil {
			return nil, err
		}
		if strings.EqualFold(string(e.Operator), "or") {
			return orNode{l, r}, nil
		}
		return andNode{l, r}, nil
	case *filter.NotExpression:
		x, err := compile(e.Expression, fs, depth+1)
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	case *filter.AttributeExpression:
		return compileAttrExp(e, fs)
	case *filter.ValuePath:
		return compileValuePath(e, fs, depth)
	}
	return nil, errFilter("The filter could not be understood: simplify it.")
}

// lookupAttr resolves an attribute path (with optional URN prefix) in fs.
func lookupAttr(p filter.AttributePath, fs filterSchema) (attrSpec, string, error) {
	name := strings.ToLower(p.AttributeName)
	if p.URIPrefix != nil {
		uri := strings.ToLower(*p.URIPrefix)
		if uri != strings.ToLower(fs.coreURN) {
			name = uri + ":" + name
		}
	}
	full := name
	if p.SubAttribute != nil {
		full = name + "." + strings.ToLower(*p.SubAttribute)
	}
	if spec, ok := fs.attrs[full]; ok {
		return spec, "", nil
	}
	// A sub-attribute of a multi-valued attribute ("emails.value").
	if spec, ok := fs.attrs[name]; ok && (spec.kind == kEmails || spec.kind == kMembers) && p.SubAttribute != nil {
		return spec, strings.ToLower(*p.SubAttribute), nil
	}
	return attrSpec{}, "", errFilter("Cohort cannot filter " + fs.resource + "s by " + p.String() + ": " + filterableList(fs) + ".")
}

func filterableList(fs filterSchema) string {
	if fs.resource == "User" {
		return "filter by userName, displayName, name.givenName, name.familyName, externalId, id, active, emails (value, type, primary), meta.created, meta.lastModified or " + SchemaCohortUser + ":role"
	}
	return "filter by displayName, externalId, id, members (value eq), meta.created or meta.lastModified"
}

func compileAttrExp(e *filter.AttributeExpression, fs filterSchema) (node, error) {
	spec, sub, err := lookupAttr(e.AttributePath, fs)
	if err != nil {
		return nil, err
	}
	switch spec.kind {
	case kEmails:
		if e.Operator == filter.PR && sub == "" {
			return emailsNode{}, nil
		}
		if sub == "" {
			sub = "value"
		}
		es, ok := emailSchema[sub]
		if !ok {
			return nil, errFilter("emails has no sub-attribute " + sub + ": use emails.value, emails.type or emails.primary.")
		}
		n, err := compileCompare(es, e, e.AttributePath.String())
		if err != nil {
			return nil, err
		}
		return emailsNode{sub: n}, nil
	case kMembers:
		if e.Operator == filter.PR && sub == "" {
			return memberNode{}, nil
		}
		if (sub == "" || sub == "value") && e.Operator == filter.EQ {
			id, ok := e.CompareValue.(string)
			if ok {
				id, err := unquote(id)
				if err != nil {
					return nil, err
				}
				return memberNode{ids: []string{id}}, nil
			}
		}
		return nil, errFilter("Filter members only with members.value eq \"<user id>\" or members[value eq \"<user id>\"].")
	}
	return compileCompare(spec, e, e.AttributePath.String())
}

// compileCompare checks that the operator and the value fit the
// attribute's type.
func compileCompare(spec attrSpec, e *filter.AttributeExpression, name string) (node, error) {
	op := filter.CompareOperator(strings.ToLower(string(e.Operator)))
	n := cmpNode{spec: spec, op: op}
	if op == filter.PR {
		return n, nil
	}
	switch spec.kind {
	case kBool:
		if op != filter.EQ && op != filter.NE {
			return nil, errFilter(name + " is true or false: compare it only with eq, ne or pr.")
		}
		switch v := e.CompareValue.(type) {
		case bool:
			n.b = v
		case string:
			switch strings.ToLower(v) {
			case "true":
				n.b = true
			case "false":
				n.b = false
			default:
				return nil, errFilter(name + " is true or false: compare it with true or false.")
			}
		default:
			return nil, errFilter(name + " is true or false: compare it with true or false.")
		}
		return n, nil
	case kTime:
		switch op {
		case filter.CO, filter.SW, filter.EW:
			return nil, errFilter(name + " is a date-time: compare it with eq, ne, gt, ge, lt, le or pr.")
		}
		v, ok := e.CompareValue.(string)
		if !ok {
			return nil, errFilter(name + " is a date-time: compare it with a quoted RFC 3339 time such as \"2026-01-31T09:00:00Z\".")
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, errFilter(name + " is a date-time: compare it with a quoted RFC 3339 time such as \"2026-01-31T09:00:00Z\".")
		}
		n.t = t
		return n, nil
	}
	v, ok := e.CompareValue.(string)
	if !ok {
		return nil, errFilter(name + " is a string: compare it with a quoted value such as \"jane@example.com\".")
	}
	s, err := unquote(v)
	if err != nil {
		return nil, err
	}
	if spec.normalize != nil && op != filter.GT && op != filter.GE && op != filter.LT && op != filter.LE {
		s = spec.normalize(s)
	}
	n.str = s
	return n, nil
}

func compileValuePath(e *filter.ValuePath, fs filterSchema, depth int) (node, error) {
	spec, sub, err := lookupAttr(e.AttributePath, fs)
	if err != nil {
		return nil, err
	}
	if sub != "" || e.AttributePath.SubAttribute != nil {
		return nil, errFilter("Put the sub-attribute inside the brackets, e.g. emails[type eq \"work\" and value eq \"jane@example.com\"].")
	}
	switch spec.kind {
	case kEmails:
		n, err := compileSub(e.ValueFilter, emailSchema, depth+1)
		if err != nil {
			return nil, err
		}
		return emailsNode{sub: n}, nil
	case kMembers:
		ids, err := memberIDs(e.ValueFilter)
		if err != nil {
			return nil, errFilter("Filter members only with members[value eq \"<user id>\"] (several joined by or).")
		}
		return memberNode{ids: ids}, nil
	}
	return nil, errFilter(e.AttributePath.String() + " is not multi-valued: filter it without brackets.")
}

// compileSub compiles the filter inside emails[…] against the element's
// sub-attributes.
func compileSub(e filter.Expression, sub map[string]attrSpec, depth int) (node, error) {
	if depth > maxFilterDepth {
		return nil, errFilter("The filter is nested too deeply: simplify it.")
	}
	switch e := e.(type) {
	case *filter.LogicalExpression:
		l, err := compileSub(e.Left, sub, depth+1)
		if err != nil {
			return nil, err
		}
		r, err := compileSub(e.Right, sub, depth+1)
		if err != nil {
			return nil, err
		}
		if strings.EqualFold(string(e.Operator), "or") {
			return orNode{l, r}, nil
		}
		return andNode{l, r}, nil
	case *filter.NotExpression:
		x, err := compileSub(e.Expression, sub, depth+1)
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	case *filter.AttributeExpression:
		p := e.AttributePath
		if p.URIPrefix != nil || p.SubAttribute != nil {
			return nil, errFilter("Inside emails[…] use value, type, display or primary.")
		}
		spec, ok := sub[strings.ToLower(p.AttributeName)]
		if !ok {
			return nil, errFilter("emails has no sub-attribute " + p.AttributeName + ": use value, type, display or primary.")
		}
		return compileCompare(spec, e, "emails."+p.AttributeName)
	}
	return nil, errFilter("emails[…] cannot contain another bracketed filter.")
}

// memberIDs reads `value eq "a" or value eq "b"` (the form providers use
// in members[…]) into the list of IDs.
func memberIDs(e filter.Expression) ([]string, error) {
	switch e := e.(type) {
	case *filter.LogicalExpression:
		if !strings.EqualFold(string(e.Operator), "or") {
			return nil, errFilter("and")
		}
		l, err := memberIDs(e.Left)
		if err != nil {
			return nil, err
		}
		r, err := memberIDs(e.Right)
		if err != nil {
			return nil, err
		}
		return append(l, r...), nil
	case *filter.AttributeExpression:
		p := e.AttributePath
		v, ok := e.CompareValue.(string)
		if p.URIPrefix != nil || p.SubAttribute != nil || !strings.EqualFold(p.AttributeName, "value") ||
			!strings.EqualFold(string(e.Operator), "eq") || !ok {
			return nil, errFilter("value eq")
		}
		id, err := unquote(v)
		if err != nil {
			return nil, err
		}
		return []string{id}, nil
	}
	return nil, errFilter("value eq")
}

// unquote decodes the JSON escapes the parser leaves in a string value.
func unquote(s string) (string, error) {
	out := s
	if strings.Contains(s, `\`) {
		if err := json.Unmarshal([]byte(`"`+s+`"`), &out); err != nil {
			return "", errFilter("A quoted value in the filter has a bad escape sequence: use JSON escapes such as \\\" and \\\\.")
		}
	}
	if !storable(out) {
		return "", errFilter("A quoted value in the filter contains a NUL character or invalid UTF-8, which no attribute can hold: remove it.")
	}
	return out, nil
}

// storable reports whether s can be stored and compared by both database
// engines (PostgreSQL text holds neither NUL nor invalid UTF-8), so such
// input is refused at the edge instead of failing in the database.
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// rewriteSubAttrValuePaths accepts the form identity providers send,
// `emails[type eq "work"].value eq "x"`, which RFC 7644's filter grammar
// does not allow, by moving the comparison into the brackets:
// `emails[type eq "work" and value eq "x"]`. That is only equivalent when
// the bracketed filter has no top-level "or" (and binds tighter), so such
// a filter is refused with a message saying how to write it.
func rewriteSubAttrValuePaths(s string) (string, error) {
	if !strings.Contains(s, "].") {
		return s, nil
	}
	var b strings.Builder
	inQuote := false
	open := -1
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inQuote {
			if c == '\\' {
				i++
			} else if c == '"' {
				inQuote = false
			}
			continue
		}
		switch c {
		case '"':
			inQuote = true
		case '[':
			open = i
		case ']':
			start := open
			open = -1
			if start < 0 || i+1 >= len(s) || s[i+1] != '.' {
				continue
			}
			j := i + 2
			for j < len(s) && isNameChar(s[j]) {
				j++
			}
			k := j
			for k < len(s) && s[k] == ' ' {
				k++
			}
			o := k
			for o < len(s) && isAlpha(s[o]) {
				o++
			}
			if j == i+2 || k == j || o-k != 2 {
				continue
			}
			end := o
			if !strings.EqualFold(s[k:o], "pr") {
				v := o
				for v < len(s) && s[v] == ' ' {
					v++
				}
				end = scanValue(s, v)
				if v == o || end == v {
					continue
				}
			}
			inner := s[start+1 : i]
			vp, err := safeParse(func() (filter.ValuePath, error) { return filter.ParseValuePath([]byte("x[" + inner + "]")) })
			if err != nil {
				continue
			}
			if le, ok := vp.ValueFilter.(*filter.LogicalExpression); ok && strings.EqualFold(string(le.Operator), "or") {
				return "", errFilter("Write a sub-attribute filter over several alternatives inside the brackets, e.g. emails[type eq \"work\" and value eq \"x\"] or emails[type eq \"home\" and value eq \"x\"].")
			}
			b.WriteString(s[last:i])
			b.WriteString(" and ")
			b.WriteString(s[i+2 : end])
			b.WriteString("]")
			last = end
			i = end - 1
		}
	}
	b.WriteString(s[last:])
	return b.String(), nil
}

// scanValue returns the index just after the compare value starting at i
// (a quoted string or a bare token), or i when there is none.
func scanValue(s string, i int) int {
	if i >= len(s) {
		return i
	}
	if s[i] == '"' {
		for j := i + 1; j < len(s); j++ {
			switch s[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return i
	}
	j := i
	for j < len(s) && s[j] != ' ' && s[j] != ')' && s[j] != ']' && s[j] != '[' {
		j++
	}
	return j
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isNameChar(c byte) bool {
	return isAlpha(c) || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '$'
}

// conjuncts returns the top-level AND terms of n.
func conjuncts(n node) []node {
	if a, ok := n.(andNode); ok {
		return append(conjuncts(a.l), conjuncts(a.r)...)
	}
	return []node{n}
}
