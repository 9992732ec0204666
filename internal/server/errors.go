package server

import (
	"encoding/json"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/httpx"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
)

// errorPage is the server's own minimal page for refusals that happen
// before any edge package runs (CSRF, body limit, unknown path, panic).
var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · Cohort</title>
<link rel="stylesheet" href="/static/app.css">
</head>
<body>
<header class="site-header"><a class="brand" href="/">Cohort</a></header>
<main id="main" class="page">
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
<p><a href="/">Go to Cohort</a></p>
</main>
</body>
</html>
`))

// problem is an RFC 9457 problem document, as the REST API answers.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
}

// writeError answers a refusal in the matched route's protocol (its
// Refuse renderer), else with a small HTML page, or problem JSON for a
// client that asks for JSON.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, f httpx.Refusal) {
	if li := logInfoFrom(r.Context()); li != nil && li.refuse != nil {
		li.refuse(w, r, f)
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "json") && !strings.Contains(r.Header.Get("Accept"), "html") {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(f.Status)
		_ = json.NewEncoder(w).Encode(problem{Type: "about:blank", Title: f.Title, Status: f.Status, Detail: f.Message, Code: f.Code})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(f.Status)
	if r.Method == http.MethodHead {
		return
	}
	_ = errorPage.Execute(w, struct{ Title, Message string }{f.Title, f.Message})
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, httpx.Refusal{Status: http.StatusNotFound, Code: cohort.ENOTFOUND, Title: "Page not found",
		Message: "There is nothing at this address. Check the link, or go back to Cohort's start page."})
}

func slogLevelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}
