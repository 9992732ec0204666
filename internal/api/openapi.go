package api

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// OpenAPI is the OpenAPI 3.1 description of the API: internal/api/openapi.json
// in the repository, served at /api/v1/openapi.json. The contract test
// checks it against the routes and the real responses.
//
//go:embed openapi.json
var OpenAPI []byte

func (h *Handler) handleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(OpenAPI)
	return nil
}

// The docs page is rendered once, at start, from the OpenAPI file, so the
// page and the file cannot disagree.
var docsPage = mustRenderDocs()

func (h *Handler) handleDocs(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(docsPage)
	return nil
}

// specDoc is the part of the OpenAPI document the docs page shows.
type specDoc struct {
	Info struct {
		Title       string `json:"title"`
		Description string `json:"description"`
	} `json:"info"`
	Paths      map[string]map[string]specOp `json:"paths"`
	Components struct {
		Parameters map[string]specParam                    `json:"parameters"`
		Responses  map[string]struct{ Description string } `json:"responses"`
		Schemas    map[string]json.RawMessage              `json:"schemas"`
	} `json:"components"`
}

type specOp struct {
	OperationID string                     `json:"operationId"`
	Summary     string                     `json:"summary"`
	Description string                     `json:"description"`
	Parameters  []specParam                `json:"parameters"`
	RequestBody *specBody                  `json:"requestBody"`
	Responses   map[string]json.RawMessage `json:"responses"`
}

type specParam struct {
	Ref         string `json:"$ref"`
	Name        string `json:"name"`
	In          string `json:"in"`
	Required    bool   `json:"required"`
	Description string `json:"description"`
}

type specBody struct {
	Required    bool   `json:"required"`
	Description string `json:"description"`
	Content     map[string]struct {
		Schema struct {
			Ref string `json:"$ref"`
		} `json:"schema"`
	} `json:"content"`
}

type docsOp struct {
	Method, Path, ID, Summary, Description string
	Params                                 []specParam
	Body                                   string
	BodyRequired                           bool
	Responses                              []docsResponse
}

type docsResponse struct{ Status, Description string }

type docsCode struct{ Code, Status, Title string }

type docsSchema struct{ Name, JSON string }

// inlineCode renders `text` spans of OpenAPI descriptions as <code>,
// escaping everything.
func inlineCode(s string) template.HTML {
	var b strings.Builder
	for i, part := range strings.Split(s, "`") {
		if i%2 == 1 {
			b.WriteString("<code>" + template.HTMLEscapeString(part) + "</code>")
		} else {
			b.WriteString(template.HTMLEscapeString(part))
		}
	}
	return template.HTML(b.String())
}

var docsTemplate = template.Must(template.New("docs").Funcs(template.FuncMap{"code": inlineCode}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · Cohort</title>
<link rel="stylesheet" href="/static/app.css">
</head>
<body>
<header class="site-header"><a class="brand" href="/">Cohort</a></header>
<main id="main" class="page api-docs">
<h1>{{.Title}}</h1>
<p>{{code .Description}}</p>
<p>The machine-readable description is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI 3.1).</p>
<nav aria-label="Routes"><h2>Routes</h2><ul>
{{range .Ops}}<li><a href="#{{.ID}}"><code>{{.Method}} {{.Path}}</code></a> — {{.Summary}}</li>
{{end}}</ul></nav>
{{range .Ops}}<section id="{{.ID}}">
<h2><code>{{.Method}} {{.Path}}</code></h2>
<p><strong>{{.Summary}}.</strong> {{code .Description}}</p>
{{if .Params}}<h3>Parameters</h3>
<table><thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Required</th><th scope="col">Description</th></tr></thead><tbody>
{{range .Params}}<tr><td><code>{{.Name}}</code></td><td>{{.In}}</td><td>{{if .Required}}yes{{else}}no{{end}}</td><td>{{code .Description}}</td></tr>
{{end}}</tbody></table>{{end}}
{{if .Body}}<h3>Request body</h3><p>JSON: <a href="#schema-{{.Body}}">{{.Body}}</a>{{if not .BodyRequired}} (optional){{end}}.</p>{{end}}
<h3>Responses</h3>
<table><thead><tr><th scope="col">Status</th><th scope="col">Meaning</th></tr></thead><tbody>
{{range .Responses}}<tr><td>{{.Status}}</td><td>{{code .Description}}</td></tr>
{{end}}</tbody></table>
</section>
{{end}}
<section id="errors"><h2>Error codes</h2>
<p>Errors are <code>application/problem+json</code> (RFC 9457) with <code>type</code>, <code>title</code>, <code>status</code>, <code>detail</code> (what to fix), the stable <code>code</code> below, and on 422 <code>errors</code> mapping each field to its messages.</p>
<table><thead><tr><th scope="col">Code</th><th scope="col">Status</th><th scope="col">Title</th></tr></thead><tbody>
{{range .Codes}}<tr id="error-{{.Code}}"><td><code>{{.Code}}</code></td><td>{{.Status}}</td><td>{{.Title}}</td></tr>
{{end}}</tbody></table>
</section>
<section id="schemas"><h2>Schemas</h2>
{{range .Schemas}}<h3 id="schema-{{.Name}}">{{.Name}}</h3>
<pre><code>{{.JSON}}</code></pre>
{{end}}</section>
</main>
</body>
</html>
`))

var methodOrder = map[string]int{"get": 0, "post": 1, "put": 2, "patch": 3, "delete": 4}

func mustRenderDocs() []byte {
	var spec specDoc
	if err := json.Unmarshal(OpenAPI, &spec); err != nil {
		panic("api: openapi.json does not parse: " + err.Error())
	}
	resolve := func(p specParam) specParam {
		if p.Ref != "" {
			return spec.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
		}
		return p
	}
	var ops []docsOp
	for path, methods := range spec.Paths {
		for method, op := range methods {
			d := docsOp{Method: strings.ToUpper(method), Path: path, ID: op.OperationID, Summary: op.Summary, Description: op.Description}
			for _, p := range op.Parameters {
				d.Params = append(d.Params, resolve(p))
			}
			if op.RequestBody != nil {
				d.BodyRequired = op.RequestBody.Required
				for _, c := range op.RequestBody.Content {
					d.Body = strings.TrimPrefix(c.Schema.Ref, "#/components/schemas/")
				}
			}
			for status, raw := range op.Responses {
				var resp struct {
					Ref         string `json:"$ref"`
					Description string `json:"description"`
				}
				_ = json.Unmarshal(raw, &resp)
				if resp.Ref != "" {
					resp.Description = spec.Components.Responses[strings.TrimPrefix(resp.Ref, "#/components/responses/")].Description
				}
				d.Responses = append(d.Responses, docsResponse{status, resp.Description})
			}
			sort.Slice(d.Responses, func(i, j int) bool { return d.Responses[i].Status < d.Responses[j].Status })
			ops = append(ops, d)
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return methodOrder[strings.ToLower(ops[i].Method)] < methodOrder[strings.ToLower(ops[j].Method)]
	})
	var codes []docsCode
	for code, k := range problemKinds {
		codes = append(codes, docsCode{code, strconv.Itoa(k.status) + " " + http.StatusText(k.status), k.title})
	}
	sort.Slice(codes, func(i, j int) bool { return codes[i].Code < codes[j].Code })
	var schemas []docsSchema
	for name, raw := range spec.Components.Schemas {
		var buf bytes.Buffer
		_ = json.Indent(&buf, raw, "", "  ")
		schemas = append(schemas, docsSchema{name, buf.String()})
	}
	sort.Slice(schemas, func(i, j int) bool { return schemas[i].Name < schemas[j].Name })

	var buf bytes.Buffer
	err := docsTemplate.Execute(&buf, map[string]any{
		"Title": spec.Info.Title, "Description": spec.Info.Description,
		"Ops": ops, "Codes": codes, "Schemas": schemas,
	})
	if err != nil {
		panic("api: docs page: " + err.Error())
	}
	return buf.Bytes()
}
