package server

import (
	"encoding/json"
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

func codeFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusRequestEntityTooLarge, http.StatusRequestURITooLong:
		return "too_large"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	return "internal"
}

// writeError answers with a small HTML page, or problem JSON for the
// machine interfaces and clients that ask for JSON.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	if isMachine(r) || strings.Contains(r.Header.Get("Accept"), "json") && !strings.Contains(r.Header.Get("Accept"), "html") {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(problem{Type: "about:blank", Title: title, Status: status, Detail: msg, Code: codeFor(status)})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	_ = errorPage.Execute(w, struct{ Title, Message string }{title, msg})
}

// isMachine reports whether r was routed to a machine interface (REST API,
// SCIM), whose callers get JSON and status codes instead of pages and
// redirects.
func isMachine(r *http.Request) bool {
	li := logInfoFrom(r.Context())
	return li != nil && li.machine
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, http.StatusNotFound, "Page not found",
		"There is nothing at this address. Check the link, or go back to Cohort's start page.")
}

func slogLevelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}
