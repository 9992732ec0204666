package web_test

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// A small HTML tree and CSS-selector matcher for tests: enough of
// "tag#id.class[attr=value]" with descendant combinators to check pages
// by structure instead of by string search. It parses with encoding/xml
// in its lenient HTML mode; our own pages are well formed.

type node struct {
	tag      string
	attrs    map[string]string
	children []*node
	parent   *node
	text     string // for text nodes (tag == "")
}

func parseHTML(t testing.TB, s string) *node {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	root := &node{tag: "#root"}
	cur := root
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("parsing HTML: %v\n%s", err, s)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			n := &node{tag: strings.ToLower(tk.Name.Local), attrs: map[string]string{}, parent: cur}
			for _, a := range tk.Attr {
				name := strings.ToLower(a.Name.Local)
				if a.Name.Space != "" {
					name = strings.ToLower(a.Name.Space) + ":" + name
				}
				n.attrs[name] = a.Value
			}
			cur.children = append(cur.children, n)
			cur = n
		case xml.EndElement:
			for p := cur; p != nil; p = p.parent {
				if p.tag == strings.ToLower(tk.Name.Local) {
					cur = p.parent
					break
				}
			}
			if cur == nil {
				cur = root
			}
		case xml.CharData:
			cur.children = append(cur.children, &node{text: string(tk), parent: cur})
		}
	}
	return root
}

// Text returns the node's text with white space collapsed.
func (n *node) Text() string {
	var b strings.Builder
	var walk func(*node)
	walk = func(m *node) {
		if m.tag == "" {
			b.WriteString(m.text)
			b.WriteByte(' ')
		}
		for _, c := range m.children {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func (n *node) Attr(name string) string { return n.attrs[name] }

func (n *node) Has(name string) bool { _, ok := n.attrs[name]; return ok }

type simple struct {
	tag     string
	id      string
	classes []string
	attrs   [][2]string // name, value ("\x00" means: present)
}

func parseSimple(s string) simple {
	var sel simple
	for len(s) > 0 {
		switch s[0] {
		case '#', '.':
			end := strings.IndexAny(s[1:], "#.[")
			if end < 0 {
				end = len(s) - 1
			}
			v := s[1 : end+1]
			if s[0] == '#' {
				sel.id = v
			} else {
				sel.classes = append(sel.classes, v)
			}
			s = s[end+1:]
		case '[':
			end := strings.IndexByte(s, ']')
			inner := s[1:end]
			if k, v, ok := strings.Cut(inner, "="); ok {
				sel.attrs = append(sel.attrs, [2]string{k, strings.Trim(v, `"'`)})
			} else {
				sel.attrs = append(sel.attrs, [2]string{inner, "\x00"})
			}
			s = s[end+1:]
		default:
			end := strings.IndexAny(s, "#.[")
			if end < 0 {
				end = len(s)
			}
			sel.tag = s[:end]
			s = s[end:]
		}
	}
	return sel
}

func (sel simple) match(n *node) bool {
	if n.tag == "" || n.tag == "#root" {
		return false
	}
	if sel.tag != "" && sel.tag != n.tag {
		return false
	}
	if sel.id != "" && n.attrs["id"] != sel.id {
		return false
	}
	for _, c := range sel.classes {
		if !contains(strings.Fields(n.attrs["class"]), c) {
			return false
		}
	}
	for _, a := range sel.attrs {
		v, ok := n.attrs[a[0]]
		if !ok || a[1] != "\x00" && v != a[1] {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// All returns every descendant matching selector, in document order.
func (n *node) All(selector string) []*node {
	var parts []simple
	for _, p := range strings.Fields(selector) {
		parts = append(parts, parseSimple(p))
	}
	var out []*node
	var walk func(*node)
	walk = func(m *node) {
		for _, c := range m.children {
			if matchChain(c, parts, n) {
				out = append(out, c)
			}
			walk(c)
		}
	}
	walk(n)
	return out
}

// matchChain checks the last simple selector against m and the others
// against its ancestors (descendant combinator), below scope.
func matchChain(m *node, parts []simple, scope *node) bool {
	if len(parts) == 0 || !parts[len(parts)-1].match(m) {
		return false
	}
	rest := parts[:len(parts)-1]
	for p := m.parent; len(rest) > 0 && p != nil && p != scope; p = p.parent {
		if rest[len(rest)-1].match(p) {
			rest = rest[:len(rest)-1]
		}
	}
	return len(rest) == 0
}

// One returns the single match of selector, failing the test otherwise.
func (n *node) One(t testing.TB, selector string) *node {
	t.Helper()
	all := n.All(selector)
	if len(all) != 1 {
		t.Fatalf("selector %q: want 1 match, got %d", selector, len(all))
	}
	return all[0]
}

func TestHTMLCheck(t *testing.T) {
	doc := parseHTML(t, `<!doctype html><html lang="en"><body><main id="main"><p class="a b">Hi <b>there</b></p>
<input type="checkbox" name="member" value="1" checked><label for="x">X</label></main></body></html>`)
	if got := doc.One(t, "main p.b").Text(); got != "Hi there" {
		t.Errorf("text = %q", got)
	}
	if !doc.One(t, "input[name=member][value=1]").Has("checked") {
		t.Error("checked attribute not seen")
	}
	if n := len(doc.All("html[lang=en] label")); n != 1 {
		t.Errorf("labels = %d", n)
	}
	if n := len(doc.All("p.c")); n != 0 {
		t.Errorf("p.c matched %d", n)
	}
}
