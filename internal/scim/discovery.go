package scim

import (
	"net/http"
	"strings"
)

// Discovery endpoints (RFC 7644 §4): what this service provider supports
// and the schemas of its resources, so that a provider's schema discovery
// and attribute mapping see exactly what Cohort keeps.

func (h *Handler) handleServiceProviderConfig(w http.ResponseWriter, r *http.Request) error {
	base := h.baseURL(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":        []string{SchemaSPConfig},
		"patch":          map[string]any{"supported": true},
		"bulk":           map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":         map[string]any{"supported": true, "maxResults": MaxCount},
		"changePassword": map[string]any{"supported": false},
		"sort":           map[string]any{"supported": false},
		"etag":           map[string]any{"supported": true},
		"authenticationSchemes": []map[string]any{{
			"type":        "oauthbearertoken",
			"name":        "API key (Bearer token)",
			"description": "A Cohort API key with the scim scope, sent as Authorization: Bearer <token>. Create one with: cohort apikey create --workspace SLUG --name okta --scopes scim",
			"primary":     true,
		}},
		"meta": map[string]any{
			"resourceType": "ServiceProviderConfig",
			"location":     base + "/ServiceProviderConfig",
		},
	})
	return nil
}

func resourceTypes(base string) []map[string]any {
	return []map[string]any{
		{
			"schemas":     []string{SchemaResourceTyp},
			"id":          "User",
			"name":        "User",
			"endpoint":    "/Users",
			"description": "A staff member of the practice",
			"schema":      SchemaUser,
			"schemaExtensions": []map[string]any{
				{"schema": SchemaCohortUser, "required": false},
			},
			"meta": map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/User"},
		},
		{
			"schemas":     []string{SchemaResourceTyp},
			"id":          "Group",
			"name":        "Group",
			"endpoint":    "/Groups",
			"description": "A user group of the practice",
			"schema":      SchemaGroup,
			"meta":        map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/Group"},
		},
	}
}

func (h *Handler) handleResourceTypes(w http.ResponseWriter, r *http.Request) error {
	rts := resourceTypes(h.baseURL(r))
	writeJSON(w, http.StatusOK, listResponse(len(rts), listParams{startIndex: 1}, rts))
	return nil
}

func (h *Handler) handleResourceType(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	for _, rt := range resourceTypes(h.baseURL(r)) {
		if strings.EqualFold(rt["id"].(string), id) {
			writeJSON(w, http.StatusOK, rt)
			return nil
		}
	}
	return errNotFound("There is no resource type " + id + ": use User or Group.")
}

// attr describes one attribute of a schema (RFC 7643 §7).
func attr(name, typ, mutability, returned, uniqueness string, required, multi, caseExact bool, sub ...map[string]any) map[string]any {
	a := map[string]any{
		"name":        name,
		"type":        typ,
		"multiValued": multi,
		"required":    required,
		"caseExact":   caseExact,
		"mutability":  mutability,
		"returned":    returned,
		"uniqueness":  uniqueness,
	}
	if len(sub) > 0 {
		a["subAttributes"] = sub
	}
	if typ == "reference" {
		a["referenceTypes"] = []string{"User", "Group"}
	}
	return a
}

func schemas(base string) []map[string]any {
	user := map[string]any{
		"id":   SchemaUser,
		"name": "User",
		// RFC 7643 §8.7.1 describes the core User schema so.
		"description": "User Account",
		"attributes": []map[string]any{
			withDesc(attr("userName", "string", "readWrite", "always", "server", true, false, false),
				"The staff member's user name as the provider sent it (an email address, UPN or employee ID); unique in the workspace, compared case-insensitively."),
			withDesc(attr("name", "complex", "readWrite", "default", "none", false, false, false,
				withDesc(attr("givenName", "string", "readWrite", "default", "none", false, false, false), "Given name; a user has a given name, a family name or both"),
				withDesc(attr("familyName", "string", "readWrite", "default", "none", false, false, false), "Family name; a user has a given name, a family name or both"),
				withDesc(attr("formatted", "string", "readOnly", "default", "none", false, false, false), "Given and family name; derived, values sent are ignored"),
			), "The staff member's name: givenName, familyName or both are required"),
			withDesc(attr("displayName", "string", "readOnly", "default", "none", false, false, false),
				"Given and family name; derived from name, values sent are ignored"),
			withDesc(attr("emails", "complex", "readWrite", "default", "none", false, true, false,
				withDesc(attr("value", "string", "readWrite", "default", "none", false, false, false), "The email address; the staff member signs in with it unless another staff member already does"),
				withDesc(attr("type", "string", "readWrite", "default", "none", false, false, false), "Always work; values sent are ignored"),
				withDesc(attr("primary", "boolean", "readWrite", "default", "none", false, false, false), "Always true: Cohort keeps one email, the primary one sent (else the first of type work, else the first)"),
			), "The staff member's one email address; when none is sent it is userName if that is an email address"),
			withDesc(attr("active", "boolean", "readWrite", "default", "none", false, false, false),
				"false archives the staff member and ends their sessions; true restores them"),
			withDesc(attr("externalId", "string", "readWrite", "default", "none", false, false, true),
				"The identity provider's ID for the user"),
			withDesc(attr("groups", "complex", "readOnly", "request", "none", false, true, false,
				withDesc(attr("value", "string", "readOnly", "default", "none", false, false, false), "The id of a Group"),
				withDesc(attr("$ref", "reference", "readOnly", "default", "none", false, false, false), "The Group's URI"),
				withDesc(attr("display", "string", "readOnly", "default", "none", false, false, false), "The Group's displayName"),
				withDesc(attr("type", "string", "readOnly", "default", "none", false, false, false), "Always direct"),
			), "The active groups the user belongs to (change them through Groups). Returned on responses about one user, and in lists when attributes names groups"),
		},
		"meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + SchemaUser},
	}
	roleAttr := withDesc(attr("role", "string", "readWrite", "default", "none", false, false, true),
		"The staff member's role in Cohort; practitioner when created without one, kept when a PUT leaves it out")
	roleAttr["canonicalValues"] = []string{"practitioner_admin", "practitioner", "practice_manager", "receptionist", "accountant"}
	cohortUser := map[string]any{
		"id":          SchemaCohortUser,
		"name":        "CohortUser",
		"description": "Cohort's attributes of a staff member",
		"attributes": []map[string]any{
			roleAttr,
			withDesc(attr("isOwner", "boolean", "readOnly", "default", "none", false, false, false),
				"Whether the user is the workspace's account owner"),
		},
		"meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + SchemaCohortUser},
	}
	group := map[string]any{
		"id":   SchemaGroup,
		"name": "Group",
		// RFC 7643 §8.7.1 describes the core Group schema so.
		"description": "Group",
		"attributes": []map[string]any{
			withDesc(attr("displayName", "string", "readWrite", "always", "server", true, false, false),
				"The group's name, unique (case-insensitive) among active groups"),
			withDesc(attr("members", "complex", "readWrite", "default", "none", false, true, false,
				withDesc(attr("value", "string", "immutable", "default", "none", true, false, true), "The id of a User"),
				withDesc(attr("$ref", "reference", "immutable", "default", "none", false, false, false), "The User's URI"),
				withDesc(attr("display", "string", "readOnly", "default", "none", false, false, false), "The User's name; values sent are ignored"),
				withDesc(attr("type", "string", "immutable", "default", "none", false, false, false), "Always User"),
			), "The group's users"),
			withDesc(attr("externalId", "string", "readWrite", "default", "none", false, false, true),
				"The identity provider's ID for the group"),
		},
		"meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + SchemaGroup},
	}
	for _, s := range []map[string]any{user, cohortUser, group} {
		s["schemas"] = []string{SchemaSchema}
	}
	return []map[string]any{user, cohortUser, group}
}

func withDesc(a map[string]any, d string) map[string]any {
	a["description"] = d
	return a
}

func (h *Handler) handleSchemas(w http.ResponseWriter, r *http.Request) error {
	ss := schemas(h.baseURL(r))
	writeJSON(w, http.StatusOK, listResponse(len(ss), listParams{startIndex: 1}, ss))
	return nil
}

func (h *Handler) handleSchema(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	for _, s := range schemas(h.baseURL(r)) {
		if strings.EqualFold(s["id"].(string), id) {
			writeJSON(w, http.StatusOK, s)
			return nil
		}
	}
	return errNotFound("There is no schema " + id + ": use " + SchemaUser + ", " + SchemaGroup + " or " + SchemaCohortUser + ".")
}
