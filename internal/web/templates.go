package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed templates static
var assets embed.FS

// templates holds one template set per page: the layout and partials
// cloned, plus the page's own file, which defines "content". Pages are
// looked up by file name without extension ("groups", "group_form").
type templates struct {
	pages map[string]*template.Template
	// base holds the layout and partials alone, for fragments.
	base *template.Template
}

// staticVersion maps a static file name to a short hash of its content;
// URLs carry it so browsers may cache the files for long and still get a
// new version the moment it changes.
var staticVersion = map[string]string{}

func init() {
	entries, err := fs.ReadDir(assets, "static")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		b, err := assets.ReadFile("static/" + e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		staticVersion[e.Name()] = hex.EncodeToString(sum[:6])
	}
}

var funcs = template.FuncMap{
	// static returns the versioned URL of a static file; an unknown name
	// fails the template, so a typo is caught by any test that renders.
	"static": func(name string) (string, error) {
		v, ok := staticVersion[name]
		if !ok {
			return "", fmt.Errorf("no static file %q", name)
		}
		return "/static/" + name + "?v=" + v, nil
	},
	// plural picks the singular or plural word for n.
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return one
		}
		return many
	},
	// fieldError returns the first message for a field, or "".
	"fieldError": func(errs map[string][]string, field string) string {
		if len(errs[field]) == 0 {
			return ""
		}
		return errs[field][0]
	},
}

func loadTemplates() (*templates, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: parsing layout: %w", err)
	}
	files, err := fs.Glob(assets, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	t := &templates{pages: map[string]*template.Template{}, base: base}
	for _, f := range files {
		clone, err := base.Clone()
		if err != nil {
			return nil, err
		}
		p, err := clone.ParseFS(assets, f)
		if err != nil {
			return nil, fmt.Errorf("web: parsing %s: %w", f, err)
		}
		if p.Lookup("content") == nil {
			return nil, fmt.Errorf("web: %s does not define \"content\"", f)
		}
		t.pages[strings.TrimSuffix(path.Base(f), ".html")] = p
	}
	return t, nil
}

// execute renders page name inside the layout.
func (t *templates) execute(w io.Writer, name string, data any) error {
	p, ok := t.pages[name]
	if !ok {
		return fmt.Errorf("web: no page template %q", name)
	}
	return p.ExecuteTemplate(w, "layout", data)
}

// fragment renders a partial alone (for scripts that swap part of a page).
func (t *templates) fragment(w io.Writer, name string, data any) error {
	return t.base.ExecuteTemplate(w, name, data)
}

// handleStatic serves the embedded CSS and scripts. A versioned URL may be
// cached for a year; the version changes with the content.
func (h *Handler) handleStatic(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("file")
	if _, ok := staticVersion[name]; !ok {
		return notFound("There is no such file.")
	}
	b, err := assets.ReadFile("static/" + name)
	if err != nil {
		return err
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	if r.URL.Query().Get("v") == staticVersion[name] {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	return nil
}
