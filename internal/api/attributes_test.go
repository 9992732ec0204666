package api_test

import (
	"testing"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/api"
)

// Staff attributes through the REST API, checked against openapi.json:
// set on create, cleared by "" or null, kept when left out, refused by
// the domain's rule, searched and filtered by location.
func TestUserAttributesContract(t *testing.T) {
	e := newEnv(t, api.Options{RateLimit: 600})
	c := newContract(t, e)
	full, _ := e.key(t, e.sysCtx, cohort.ScopeUsersRead, cohort.ScopeUsersWrite)
	type user struct {
		ID             string
		JobTitle       string `json:"job_title"`
		Location       string `json:"location"`
		Phone          string `json:"phone"`
		EmploymentType string `json:"employment_type"`
	}
	var u user
	c.call(t, req{method: "POST", path: "/api/v1/users", token: full, body: map[string]string{
		"email": "grace@example.com", "given_name": "Grace", "family_name": "Turner",
		"job_title": " Physiotherapist ", "location": "Bondi Junction", "phone": "ext 204", "employment_type": "Part-time"}}, 201).json(t, &u)
	if u.JobTitle != "Physiotherapist" || u.Location != "Bondi Junction" || u.Phone != "ext 204" || u.EmploymentType != "Part-time" {
		t.Fatalf("created %+v", u)
	}
	var got user
	c.call(t, req{method: "PATCH", path: "/api/v1/users/" + u.ID, token: full,
		body: map[string]any{"phone": nil, "employment_type": ""}}, 200).json(t, &got)
	if got.Phone != "" || got.EmploymentType != "" || got.JobTitle != "Physiotherapist" || got.Location != "Bondi Junction" {
		t.Errorf("after clearing %+v", got)
	}
	p := c.call(t, req{method: "PATCH", path: "/api/v1/users/" + u.ID, token: full,
		body: map[string]any{"phone": "call me", "location": "Bondi\u200b"}}, 422).problem(t)
	if len(p.Errors["phone"]) != 1 || len(p.Errors["location"]) != 1 {
		t.Errorf("422 errors = %v", p.Errors)
	}
	var list listOut[user]
	c.call(t, req{method: "GET", path: "/api/v1/users?location=bondi%20junction", token: full}, 200).json(t, &list)
	if len(list.Data) != 1 || list.Data[0].ID != u.ID {
		t.Errorf("location filter = %+v", list.Data)
	}
	c.call(t, req{method: "GET", path: "/api/v1/users?q=physio", token: full}, 200).json(t, &list)
	if len(list.Data) != 1 || list.Data[0].ID != u.ID {
		t.Errorf("search by job title = %+v", list.Data)
	}
}
