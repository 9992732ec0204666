package cohort_test

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
)

// The event payloads are a public contract (docs/webhooks.md): these
// tests pin each one's JSON exactly, key order included. Change them only
// with the docs, knowing that receivers parse these bytes.

var (
	created = time.Date(2026, 11, 27, 9, 0, 0, 0, time.FixedZone("AEDT", 11*3600))
	updated = time.Date(2026, 11, 27, 23, 0, 0, 123456000, time.UTC)
)

func testGroup(status cohort.Status) *cohort.Group {
	g := &cohort.Group{ID: "g1", WorkspaceID: "ws1", Name: "Physiotherapists", Description: "Hands on",
		ExternalID: "ext-1", Status: status, MemberCount: 12, ArchivedMemberCount: 1, Version: 8,
		CreatedAt: created, UpdatedAt: updated, CreatedBy: "Olive", UpdatedBy: "Olive"}
	if status == cohort.StatusArchived {
		g.ArchivedAt = &updated
	}
	return g
}

func testUser(status cohort.Status) *cohort.User {
	return &cohort.User{ID: "u1", WorkspaceID: "ws1", Email: "sam@example.com", GivenName: "Sam", FamilyName: "Staff",
		Role: cohort.RolePractitioner, Status: status, ExternalID: "ext-u1", Version: 3, CreatedAt: created, UpdatedAt: updated}
}

const (
	groupJSON = `{"id":"g1","name":"Physiotherapists","description":"Hands on","status":"active","member_count":12,"version":8,` +
		`"created_at":"2026-11-26T22:00:00Z","updated_at":"2026-11-27T23:00:00.123456Z","archived_at":null}`
	archivedGroupJSON = `{"id":"g1","name":"Physiotherapists","description":"Hands on","status":"archived","member_count":12,"version":8,` +
		`"created_at":"2026-11-26T22:00:00Z","updated_at":"2026-11-27T23:00:00.123456Z","archived_at":"2026-11-27T23:00:00.123456Z"}`
	userJSON = `{"id":"u1","email":"sam@example.com","given_name":"Sam","family_name":"Staff","role":"practitioner",` +
		`"status":"active","is_owner":false,"created_at":"2026-11-26T22:00:00Z","updated_at":"2026-11-27T23:00:00.123456Z",` +
		`"job_title":"","location":"","phone":"","employment_type":""}`
	archivedUserJSON = `{"id":"u1","email":"sam@example.com","given_name":"Sam","family_name":"Staff","role":"practitioner",` +
		`"status":"archived","is_owner":false,"created_at":"2026-11-26T22:00:00Z","updated_at":"2026-11-27T23:00:00.123456Z",` +
		`"job_title":"","location":"","phone":"","employment_type":""}`
)

func TestEventDataJSON(t *testing.T) {
	active, archived := testGroup(cohort.StatusActive), testGroup(cohort.StatusArchived)
	user, archivedUser := testUser(cohort.StatusActive), testUser(cohort.StatusArchived)
	tests := []struct {
		typ  string
		data any
		want string
	}{
		{cohort.ActionGroupCreated, cohort.GroupEventData{Group: cohort.NewGroupResource(active), Added: []string{"u1", "u2"}},
			`{"added":["u1","u2"],"group":` + groupJSON + `}`},
		{cohort.ActionGroupCreated, cohort.GroupEventData{Group: cohort.NewGroupResource(active)},
			`{"group":` + groupJSON + `}`},
		{cohort.ActionGroupUpdated, cohort.GroupEventData{Group: cohort.NewGroupResource(active), Changes: &cohort.GroupChanges{
			Name: cohort.Changed("Physios", "Physiotherapists"), Description: cohort.Changed("", "Hands on"),
			ExternalID: cohort.Changed("", "ext-1")}},
			`{"changes":{"description":{"from":"","to":"Hands on"},"external_id":{"from":"","to":"ext-1"},` +
				`"name":{"from":"Physios","to":"Physiotherapists"}},"group":` + groupJSON + `}`},
		{cohort.ActionGroupMembersChanged, cohort.GroupEventData{Group: cohort.NewGroupResource(active),
			Added: []string{"u2"}, Removed: []string{}},
			`{"added":["u2"],"group":` + groupJSON + `,"removed":[]}`},
		{cohort.ActionGroupArchived, cohort.GroupEventData{Group: cohort.NewGroupResource(archived)},
			`{"group":` + archivedGroupJSON + `}`},
		{cohort.ActionGroupRestored, cohort.GroupEventData{Group: cohort.NewGroupResource(active), Changes: &cohort.GroupChanges{
			Status: cohort.Changed(cohort.StatusArchived, cohort.StatusActive), Name: cohort.Changed("Physios", "Physiotherapists")}},
			`{"changes":{"name":{"from":"Physios","to":"Physiotherapists"},"status":{"from":"archived","to":"active"}},"group":` +
				groupJSON + `}`},
		{cohort.ActionUserCreated, cohort.UserEventData{User: cohort.NewUserResource(user)},
			`{"user":` + userJSON + `}`},
		{cohort.ActionUserUpdated, cohort.UserEventData{User: cohort.NewUserResource(user), Changes: &cohort.UserChanges{
			Email: cohort.Changed("s@example.com", "sam@example.com"), GivenName: cohort.Changed("S", "Sam"),
			FamilyName: cohort.Changed("", "Staff"), Role: cohort.Changed(cohort.RoleReceptionist, cohort.RolePractitioner),
			ExternalID: cohort.Changed("", "ext-u1"), IsOwner: cohort.Changed(true, false)}},
			`{"changes":{"email":{"from":"s@example.com","to":"sam@example.com"},"external_id":{"from":"","to":"ext-u1"},` +
				`"family_name":{"from":"","to":"Staff"},"given_name":{"from":"S","to":"Sam"},"is_owner":{"from":true,"to":false},` +
				`"role":{"from":"receptionist","to":"practitioner"}},"user":` + userJSON + `}`},
		{cohort.ActionUserArchived, cohort.UserEventData{User: cohort.NewUserResource(archivedUser)},
			`{"user":` + archivedUserJSON + `}`},
		{cohort.ActionUserRestored, cohort.UserEventData{User: cohort.NewUserResource(user)},
			`{"user":` + userJSON + `}`},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.typ] = true
		got, err := json.Marshal(tt.data)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("%s data =\n%s\nwant\n%s", tt.typ, got, tt.want)
		}
		// What the live stream decodes is what was sent.
		back := reflectNew(tt.data)
		if err := json.Unmarshal(got, back); err != nil {
			t.Fatalf("%s: decoding its own JSON: %v", tt.typ, err)
		}
		if again, _ := json.Marshal(back); !bytes.Equal(again, got) {
			t.Errorf("%s: decoded and encoded again =\n%s\nwant\n%s", tt.typ, again, got)
		}
	}
	for _, typ := range cohort.EventTypes {
		if !seen[typ] {
			t.Errorf("event type %s has no pinned JSON", typ)
		}
	}
}

// reflectNew returns a pointer to a new zero value of v's type.
func reflectNew(v any) any {
	switch v.(type) {
	case cohort.GroupEventData:
		return new(cohort.GroupEventData)
	case cohort.UserEventData:
		return new(cohort.UserEventData)
	}
	panic("unknown event data")
}

// Initial values have no "from": null, as when a resource is created.
func TestChangeInitial(t *testing.T) {
	got, _ := json.Marshal(cohort.UserChanges{IsOwner: cohort.Initial(true), Status: cohort.Initial(cohort.StatusActive)})
	if want := `{"is_owner":{"from":null,"to":true},"status":{"from":null,"to":"active"}}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if !(cohort.GroupChanges{}).Empty() || (cohort.GroupChanges{Name: cohort.Initial("a")}).Empty() {
		t.Error("GroupChanges.Empty is wrong")
	}
}

// TestDocsWebhookExample checks the example request body and the example
// changes in docs/webhooks.md against the typed payloads: the same keys,
// nested the same way, with the same kinds of values, so the docs cannot
// drift from what is sent.
func TestDocsWebhookExample(t *testing.T) {
	doc, err := os.ReadFile("docs/webhooks.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## The request\n\n```\nPOST [^\n]*\n.*?\n\n(\\{.*?\\n\\})\n```").FindSubmatch(doc)
	if m == nil {
		t.Fatal(`docs/webhooks.md has no example request body under "## The request"`)
	}
	var example struct {
		ID          string          `json:"id"`
		Type        string          `json:"type"`
		CreatedAt   string          `json:"created_at"`
		WorkspaceID string          `json:"workspace_id"`
		Data        json.RawMessage `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(m[1]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&example); err != nil {
		t.Fatalf("the example body: %v\n%s", err, m[1])
	}
	if example.Type != cohort.ActionGroupMembersChanged {
		t.Fatalf("the example is a %s event; this test compares a %s", example.Type, cohort.ActionGroupMembersChanged)
	}
	sent, _ := json.Marshal(cohort.GroupEventData{Group: cohort.NewGroupResource(testGroup(cohort.StatusActive)),
		Added: []string{"u2"}, Removed: []string{}})
	if got, want := shapeOf(t, example.Data), shapeOf(t, sent); !slices.Equal(got, want) {
		t.Errorf("the docs' example data has the shape\n%v\nwhat is sent has\n%v", got, want)
	}

	// The example of "changes".
	m = regexp.MustCompile("`(\\{\"name\": \\{\"from\": [^`]*\\})`").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/webhooks.md has no example of changes")
	}
	var changes cohort.GroupChanges
	dec = json.NewDecoder(bytes.NewReader(m[1]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&changes); err != nil {
		t.Fatalf("the example changes %s: %v", m[1], err)
	}
	var compact bytes.Buffer
	json.Compact(&compact, m[1])
	if got, _ := json.Marshal(changes); !bytes.Equal(got, compact.Bytes()) {
		t.Errorf("the example changes are sent as %s, the docs show %s", got, m[1])
	}
}

// shapeOf lists every key path of a JSON document with the kind of its
// value, sorted: {"a":{"b":1}} is ["a: object", "a.b: number"].
func shapeOf(t *testing.T, doc []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		kind := "null"
		switch v := v.(type) {
		case map[string]any:
			kind = "object"
			for k, e := range v {
				walk(path+"."+k, e)
			}
		case []any:
			kind = "array"
			for _, e := range v {
				walk(path+"[]", e)
			}
		case string:
			kind = "string"
		case float64:
			kind = "number"
		case bool:
			kind = "bool"
		}
		out = append(out, path+": "+kind)
	}
	walk("", v)
	slices.Sort(out)
	return slices.Compact(out)
}
