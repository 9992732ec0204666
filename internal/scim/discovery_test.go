package scim_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/cohorthq/cohort/internal/scim"
)

func TestServiceProviderConfig(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, "GET", "/ServiceProviderConfig", nil).want(t, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != scim.ContentType {
		t.Fatalf("Content-Type %q", ct)
	}
	m := r.obj(t)
	for feature, want := range map[string]bool{"patch": true, "bulk": false, "filter": true, "changePassword": false, "sort": false, "etag": true} {
		f, _ := m[feature].(map[string]any)
		if f["supported"] != want {
			t.Errorf("%s.supported = %v, want %v", feature, f["supported"], want)
		}
	}
	if mr := m["filter"].(map[string]any)["maxResults"]; mr != float64(scim.MaxCount) {
		t.Errorf("filter.maxResults = %v", mr)
	}
	schemes, _ := m["authenticationSchemes"].([]any)
	if len(schemes) != 1 || schemes[0].(map[string]any)["type"] != "oauthbearertoken" {
		t.Errorf("authenticationSchemes = %v", m["authenticationSchemes"])
	}
	if loc := m["meta"].(map[string]any)["location"]; loc != e.base+"/ServiceProviderConfig" {
		t.Errorf("meta.location = %v", loc)
	}
}

func TestResourceTypes(t *testing.T) {
	e := newEnv(t)
	res := e.do(t, "GET", "/ResourceTypes", nil).resources(t)
	if len(res) != 2 {
		t.Fatalf("%d resource types", len(res))
	}
	want := map[string][2]string{"User": {"/Users", scim.SchemaUser}, "Group": {"/Groups", scim.SchemaGroup}}
	for _, rt := range res {
		w, ok := want[rt["id"].(string)]
		if !ok || rt["endpoint"] != w[0] || rt["schema"] != w[1] {
			t.Errorf("resource type %v", rt)
		}
	}
	one := e.do(t, "GET", "/ResourceTypes/User", nil).want(t, http.StatusOK).obj(t)
	ext := one["schemaExtensions"].([]any)[0].(map[string]any)
	if ext["schema"] != scim.SchemaCohortUser || ext["required"] != false {
		t.Errorf("User schemaExtensions = %v", one["schemaExtensions"])
	}
	e.do(t, "GET", "/ResourceTypes/Group", nil).want(t, http.StatusOK)
	e.do(t, "GET", "/ResourceTypes/Widget", nil).scimError(t, http.StatusNotFound, "")
}

func TestSchemas(t *testing.T) {
	e := newEnv(t)
	res := e.do(t, "GET", "/Schemas", nil).resources(t)
	attrs := map[string]map[string]map[string]any{}
	for _, s := range res {
		m := map[string]map[string]any{}
		for _, a := range s["attributes"].([]any) {
			am := a.(map[string]any)
			m[am["name"].(string)] = am
		}
		attrs[s["id"].(string)] = m
	}
	user := attrs[scim.SchemaUser]
	for _, name := range []string{"userName", "name", "displayName", "emails", "active", "externalId", "groups"} {
		if user[name] == nil {
			t.Errorf("User schema lacks %s", name)
		}
	}
	if user["userName"]["caseExact"] != false || user["userName"]["uniqueness"] != "server" || user["userName"]["required"] != true {
		t.Errorf("userName = %v", user["userName"])
	}
	if user["groups"]["mutability"] != "readOnly" {
		t.Errorf("groups must be readOnly: %v", user["groups"])
	}
	group := attrs[scim.SchemaGroup]
	for _, name := range []string{"displayName", "members", "externalId"} {
		if group[name] == nil {
			t.Errorf("Group schema lacks %s", name)
		}
	}
	if group["displayName"]["caseExact"] != false {
		t.Errorf("displayName = %v", group["displayName"])
	}
	role := attrs[scim.SchemaCohortUser]["role"]
	if role == nil || len(role["canonicalValues"].([]any)) != 5 {
		t.Errorf("role extension attribute = %v", role)
	}
	for _, id := range []string{scim.SchemaUser, scim.SchemaGroup, scim.SchemaCohortUser} {
		one := e.do(t, "GET", "/Schemas/"+url.PathEscape(id), nil).want(t, http.StatusOK).obj(t)
		if one["id"] != id {
			t.Errorf("GET /Schemas/%s: id %v", id, one["id"])
		}
	}
	e.do(t, "GET", "/Schemas/urn:nope", nil).scimError(t, http.StatusNotFound, "")
}

func TestUnknownEndpointIsSCIM404(t *testing.T) {
	e := newEnv(t)
	e.do(t, "GET", "/Userz", nil).scimError(t, http.StatusNotFound, "")
	e.do(t, "POST", "/Users/.search", `{}`).scimError(t, http.StatusNotFound, "")
}

// RFC 7644: /Bulk and /Me are SCIM endpoints Cohort does not serve (501
// with the SCIM error schema), and discovery endpoints refuse a filter
// with 403 (§4).
func TestUnsupportedEndpointsAndDiscoveryFilter(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ method, path string }{{"POST", "/Bulk"}, {"GET", "/Bulk"}, {"GET", "/Me"}, {"PATCH", "/Me"}, {"GET", "/Me/x"}} {
		e.do(t, c.method, c.path, nil).scimError(t, http.StatusNotImplemented, "")
	}
	for _, p := range []string{"/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/User", "/Schemas", "/Schemas/" + url.PathEscape(scim.SchemaUser)} {
		e.do(t, "GET", p+"?filter="+url.QueryEscape(`id eq "x"`), nil).scimError(t, http.StatusForbidden, "")
	}
	// Every attribute and sub-attribute is described; the core schemas
	// carry RFC 7643's descriptions.
	var walk func(where string, attrs []any)
	walk = func(where string, attrs []any) {
		for _, a := range attrs {
			m := a.(map[string]any)
			if d, _ := m["description"].(string); d == "" {
				t.Errorf("%s.%v has no description", where, m["name"])
			}
			if sub, ok := m["subAttributes"].([]any); ok {
				walk(where+"."+m["name"].(string), sub)
			}
		}
	}
	for _, s := range e.do(t, "GET", "/Schemas", nil).want(t, http.StatusOK).obj(t)["Resources"].([]any) {
		m := s.(map[string]any)
		walk(m["name"].(string), m["attributes"].([]any))
		if m["id"] == scim.SchemaUser && m["description"] != "User Account" {
			t.Errorf("User schema description %v", m["description"])
		}
	}
}
