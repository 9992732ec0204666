package scim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// The identity providers' own SCIM test suites, replayed step by step
// with their assertions as Go checks: Okta's SCIM 2.0 spec test
// (Okta-SCIM-20-SPEC-Test.json in okta/okta-developer-docs, the gate of
// an Okta Integration Network listing) and the Endpoint, User and Group
// folders of Microsoft's validator collection (PostmanCollection.json in
// AzureAD/SCIMReferenceCode). Values the suites generate (random names,
// UUIDs) are generated here the same way.

// at reads a value by a path such as "Resources[0].name.familyName".
func at(v any, path string) any {
	for _, part := range strings.Split(path, ".") {
		name, idx, _ := strings.Cut(part, "[")
		if name != "" {
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[name]
		}
		if idx != "" {
			i, _ := strconv.Atoi(strings.TrimSuffix(idx, "]"))
			l, ok := v.([]any)
			if !ok || i >= len(l) {
				return nil
			}
			v = l[i]
		}
	}
	return v
}

// notEmpty is Runscope's not_empty: present and not "" (false counts).
func notEmpty(t *testing.T, step string, m map[string]any, path string) {
	t.Helper()
	if v := at(m, path); v == nil || v == "" {
		t.Errorf("%s: %s is empty", step, path)
	}
}

func equal(t *testing.T, step string, m map[string]any, path, want string) {
	t.Helper()
	if got := fmt.Sprint(at(m, path)); got != want {
		t.Errorf("%s: %s = %q, want %q", step, path, got, want)
	}
}

func hasValue(t *testing.T, step string, m map[string]any, path, want string) {
	t.Helper()
	if l, _ := at(m, path).([]any); !containsAny(l, want) {
		t.Errorf("%s: %s = %v lacks %q", step, path, at(m, path), want)
	}
}

func containsAny(l []any, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

func TestOktaSpecSuite(t *testing.T) {
	e := newEnv(t)
	// Runscope's initial variables, as Okta's docs give them.
	randomUsername := "Runscope432Rmzxfgnme246@atko.com"
	randomEmail := "Runscope432Rmzxfgnme246@atko.com"
	randomGivenName, randomFamilyName := "Runscope432", "Rmzxfgnme246"
	const listSchema, errSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse", "urn:ietf:params:scim:api:messages:2.0:Error"

	step := "Test Users endpoint"
	m := e.do(t, "GET", "/Users?count=1&startIndex=1", nil).want(t, http.StatusOK).obj(t)
	notEmpty(t, step, m, "Resources")
	hasValue(t, step, m, "schemas", listSchema)
	for _, p := range []string{"itemsPerPage", "startIndex", "totalResults"} {
		if _, ok := m[p].(float64); !ok {
			t.Errorf("%s: %s is not a number", step, p)
		}
	}
	for _, p := range []string{"id", "name.familyName", "name.givenName", "userName", "active", "emails[0].value"} {
		notEmpty(t, step, m, "Resources[0]."+p)
	}
	isvUserID := at(m, "Resources[0].id").(string)

	step = "Get Users/{{id}}"
	m = e.do(t, "GET", "/Users/"+isvUserID, nil).want(t, http.StatusOK).obj(t)
	for _, p := range []string{"id", "name.familyName", "name.givenName", "userName", "active", "emails[0].value"} {
		notEmpty(t, step, m, p)
	}
	equal(t, step, m, "id", isvUserID)

	step = "Test invalid User by username"
	m = e.do(t, "GET", "/Users?filter="+url.QueryEscape(`userName eq "invaliduser@okta.local"`), nil).want(t, http.StatusOK).obj(t)
	hasValue(t, step, m, "schemas", listSchema)
	equal(t, step, m, "totalResults", "0")

	step = "Test invalid User by ID"
	m = e.do(t, "GET", "/Users/010101001010101010", nil).want(t, http.StatusNotFound).obj(t)
	notEmpty(t, step, m, "detail")
	hasValue(t, step, m, "schemas", errSchema)

	step = "Make sure random user doesn't exist"
	m = e.do(t, "GET", "/Users?filter="+url.QueryEscape(`userName eq "`+randomEmail+`"`), nil).want(t, http.StatusOK).obj(t)
	equal(t, step, m, "totalResults", "0")
	hasValue(t, step, m, "schemas", listSchema)

	step = "Create Okta user with realistic values"
	create := func(email string) map[string]any {
		return map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": randomUsername,
			"name":        map[string]any{"givenName": randomGivenName, "familyName": randomFamilyName},
			"emails":      []any{map[string]any{"primary": true, "value": email, "type": "work"}},
			"displayName": randomGivenName + " " + randomFamilyName, "active": true}
	}
	m = e.do(t, "POST", "/Users", create(randomEmail)).want(t, http.StatusCreated).obj(t)
	equal(t, step, m, "active", "true")
	notEmpty(t, step, m, "id")
	equal(t, step, m, "name.familyName", randomFamilyName)
	equal(t, step, m, "name.givenName", randomGivenName)
	hasValue(t, step, m, "schemas", "urn:ietf:params:scim:schemas:core:2.0:User")
	equal(t, step, m, "userName", randomUsername)
	idUserOne := at(m, "id").(string)

	step = "Verify that user was created"
	m = e.do(t, "GET", "/Users/"+idUserOne, nil).want(t, http.StatusOK).obj(t)
	equal(t, step, m, "userName", randomUsername)
	equal(t, step, m, "name.familyName", randomFamilyName)
	equal(t, step, m, "name.givenName", randomGivenName)

	// Expect failure when recreating user with same values.
	e.do(t, "POST", "/Users", create(randomUsername)).want(t, http.StatusConflict)

	// Username Case Sensitivity Check: 200 (and, as RFC 7643 makes
	// userName case-insensitive, the user is found).
	m = e.do(t, "GET", "/Users?filter="+url.QueryEscape(`userName eq "`+strings.ToUpper(randomUsername)+`"`), nil).want(t, http.StatusOK).obj(t)
	equal(t, "Username Case Sensitivity Check", m, "Resources[0].id", idUserOne)

	// Optional Test: Verify Groups endpoint.
	e.do(t, "GET", "/Groups", nil).want(t, http.StatusOK)

	step = "Check status 401"
	r := e.doToken(t, "", "GET", "/Users?filter="+url.QueryEscape(`userName eq "`+strings.ToUpper(randomUsername)+`"`), nil).want(t, http.StatusUnauthorized)
	m = r.obj(t)
	notEmpty(t, step, m, "detail")
	equal(t, step, m, "status", "401")
	hasValue(t, step, m, "schemas", errSchema)

	step = "Check status 404"
	m = e.do(t, "GET", "/Users/00919288221112222", nil).want(t, http.StatusNotFound).obj(t)
	notEmpty(t, step, m, "detail")
	equal(t, step, m, "status", "404")
	hasValue(t, step, m, "schemas", errSchema)
}

// TestMicrosoftSuite replays the Endpoint, User and Group folders twice
// against one server, as running the collection again does: the second
// run's POSTs meet the users and groups the first run deleted.
func TestMicrosoftSuite(t *testing.T) {
	e := newEnv(t)
	for run := 1; run <= 2; run++ {
		t.Run(fmt.Sprint("run", run), func(t *testing.T) { microsoftFolders(t, e, run) })
	}
}

func microsoftFolders(t *testing.T, e *env, run int) {
	uuid := func(n int) string { return fmt.Sprintf("0a21f0f2-8d2a-4f8e-bf98-%04d%08d", run, n) }
	includes := func(step string, r *resp, s string, want bool) {
		t.Helper()
		if strings.Contains(string(r.body), s) != want {
			t.Errorf("%s: body contains %q is %v, want %v: %s", step, s, !want, want, r.body)
		}
	}

	// Endpoint tests.
	e.do(t, "GET", "/Users", nil).want(t, http.StatusOK)
	e.do(t, "GET", "/Groups", nil).want(t, http.StatusOK)
	m := e.do(t, "GET", "/ResourceTypes", nil).want(t, http.StatusOK).obj(t)
	equal(t, "User endpoint exists", m, "Resources[0].endpoint", "/Users")
	// "Get ServiceProviderConfig" asks /serviceConfiguration, which RFC
	// 7644 §4 does not define: the endpoint is /ServiceProviderConfig.
	m = e.do(t, "GET", "/ServiceProviderConfig", nil).want(t, http.StatusOK).obj(t)
	equal(t, "Patch supported is true", m, "patch.supported", "true")
	includes("Body contains User Account", e.do(t, "GET", "/Schemas", nil).want(t, http.StatusOK), "User Account", true)

	// User tests.
	user := func(userName, display, formatted, given, family, work, home, ext string, enterprise bool) map[string]any {
		u := map[string]any{"userName": userName, "active": true, "displayName": display,
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "externalId": ext,
			"name": map[string]any{"formatted": formatted, "familyName": family, "givenName": given},
			"emails": []any{map[string]any{"Primary": true, "type": "work", "value": work},
				map[string]any{"Primary": false, "type": "home", "value": home}}}
		if enterprise {
			u["schemas"] = []string{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "urn:ietf:params:scim:schemas:core:2.0:User"}
			u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = map[string]any{"Department": "bob", "Manager": map[string]any{"Value": "SuzzyQ"}}
		}
		return u
	}
	id1 := e.do(t, "POST", "/Users", user("UserName123", "BobIsAmazing", "Ryan Leenay", "Ryan", "Leenay", "testing@bob.com", "testinghome@bob.com", uuid(1), false)).want(t, http.StatusCreated).obj(t)["id"].(string)
	id2 := e.do(t, "POST", "/Users", user("UserName222", "lennay", "Adrew Ryan", "Andrew", "Ryan", "testing@bob2.com", "testinghome@bob3.com", uuid(2), true)).want(t, http.StatusCreated).obj(t)["id"].(string)
	equal(t, "Get user1", e.do(t, "GET", "/Users/"+id1, nil).want(t, http.StatusOK).obj(t), "id", id1)
	equal(t, "Get user2", e.do(t, "GET", "/Users/"+id2, nil).want(t, http.StatusOK).obj(t), "id", id2)
	includes("Get User Attributes", e.do(t, "GET", "/Users?attributes=userName,emails", nil).want(t, http.StatusOK), id1, true)
	// "Get User Filters" (displayName eq "BobIsAmazing") is not replayed:
	// Cohort derives displayName from name (RFC 7644 §3.3: the server
	// is free to alter or ignore POSTed content); see docs/scim.md.
	e.do(t, "PATCH", "/Users/"+id1, patchOp(op("replace", "userName", "ryan3"))).want(t, http.StatusOK)
	m = e.do(t, "GET", "/Users/"+id1, nil).want(t, http.StatusOK).obj(t)
	equal(t, "Get User1 Check Patch", m, "id", id1)
	equal(t, "Username is changed", m, "userName", "ryan3")
	put := user("UserNameReplace2", "BobIsAmazing", "NewName", "Ryan", "Leenay", "testing@bobREPLACE.com", "testinghome@bob.com", uuid(3), true)
	put["id"] = id2
	e.do(t, "PUT", "/Users/"+id2, put).want(t, http.StatusOK)
	// "Name is updated" wants name.formatted "NewName" back; Cohort
	// derives it (readOnly in its /Schemas): RFC 7644 §3.3 as above.
	equal(t, "Get user2 Check replace", e.do(t, "GET", "/Users/"+id2, nil).want(t, http.StatusOK).obj(t), "userName", "UserNameReplace2")
	e.do(t, "DELETE", "/Users/"+id1, nil).want(t, http.StatusNoContent)
	e.do(t, "DELETE", "/Users/"+id2, nil).want(t, http.StatusNoContent)

	// Group tests.
	groupid := e.do(t, "POST", "/Groups", map[string]any{"externalId": uuid(4), "schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"displayName": "Group1DisplayName", "members": []any{}}).want(t, http.StatusCreated).obj(t)["id"].(string)
	// Both users share one work email (and testing@bob2.com was user2's):
	// SCIM emails are not unique.
	id3 := e.do(t, "POST", "/Users", user("UserName333", "lennay", "Adrew Ryan", "Andrew", "Ryan", "testing@bob2.com", "testinghome@bob3.com", uuid(5), true)).want(t, http.StatusCreated).obj(t)["id"].(string)
	id4 := e.do(t, "POST", "/Users", user("UserName444", "lennay", "Adrew Ryan", "Andrew", "Ryan", "testing@bob2.com", "testinghome@bob3.com", uuid(6), true)).want(t, http.StatusCreated).obj(t)["id"].(string)
	groupid2 := e.do(t, "POST", "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "externalId": uuid(7),
		"displayName": "GroupDisplayName2", "members": []any{map[string]any{"value": id3, "display": "VP"}}}).want(t, http.StatusCreated).obj(t)["id"].(string)
	e.do(t, "GET", "/Groups", nil).want(t, http.StatusOK)
	groupid3 := e.do(t, "POST", "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "externalId": uuid(8),
		"displayName": "GroupDisplayName3", "members": []any{}}).want(t, http.StatusCreated).obj(t)["id"].(string)
	e.do(t, "PUT", "/Groups/"+groupid3, map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "id": groupid3,
		"displayName": "putName", "members": []any{map[string]any{"value": id3, "display": "VP"}, map[string]any{"value": id4, "display": "SenorVP"}}}).want(t, http.StatusOK)
	r := e.do(t, "GET", "/Groups/"+groupid3, nil).want(t, http.StatusOK)
	equal(t, "Validate group 3", r.obj(t), "id", groupid3)
	includes("Body contains user id3", r, id3, true)
	addUser4 := patchOp(map[string]any{"name": "addMember", "op": "add", "path": "members", "value": []any{map[string]any{"displayName": "new User", "value": id4}}})
	e.do(t, "PATCH", "/Groups/"+groupid, addUser4).want(t, http.StatusNoContent)
	e.do(t, "PATCH", "/Groups/"+groupid, patchOp(map[string]any{"op": "remove", "path": `members[value eq "` + id4 + `"]`})).want(t, http.StatusNoContent)
	e.do(t, "PATCH", "/Groups/"+groupid, addUser4).want(t, http.StatusNoContent)
	r = e.do(t, "GET", "/Groups/"+groupid, nil).want(t, http.StatusOK)
	equal(t, "Get group by id", r.obj(t), "id", groupid)
	// "Body contains user" wants the text "new User", a displayName the
	// PATCH sent inside a member: RFC 7643 §4.2 makes members.display
	// readOnly, so Cohort answers with the user's name. The member
	// itself is checked instead.
	includes("Body contains user", r, id4, true)
	e.do(t, "PATCH", "/Groups/"+groupid, patchOp(map[string]any{"op": "remove", "path": "members"})).want(t, http.StatusNoContent)
	r = e.do(t, "GET", "/Groups/"+groupid, nil).want(t, http.StatusOK)
	equal(t, "Get group by id", r.obj(t), "id", groupid)
	includes("Body does not contain user", r, id4, false)
	for _, p := range []string{"/Users/" + id3, "/Users/" + id4, "/Groups/" + groupid, "/Groups/" + groupid2, "/Groups/" + groupid3} {
		e.do(t, "DELETE", p, nil).want(t, http.StatusNoContent)
	}
}
