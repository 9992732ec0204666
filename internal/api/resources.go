package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/cohorthq/cohort"
)

// The JSON shapes of the API (docs/api.md): snake_case, RFC 3339 times in
// UTC, opaque string IDs, null for absent times.

// A group and a staff member's full record have the shapes their events
// carry: cohort.GroupResource and cohort.UserResource.

// attributesJSON are the staff attributes, "" when not set.
type attributesJSON struct {
	JobTitle       string `json:"job_title"`
	Location       string `json:"location"`
	Phone          string `json:"phone"`
	EmploymentType string `json:"employment_type"`
}

func newAttributesJSON(a cohort.StaffAttributes) attributesJSON {
	return attributesJSON{JobTitle: a.JobTitle, Location: a.Location, Phone: a.Phone, EmploymentType: a.EmploymentType}
}

// staffDirectoryJSON is a staff member as staff who do not manage users
// see them: what the Directory shows.
type staffDirectoryJSON struct {
	ID         string `json:"id"`
	Email      string `json:"email"`
	GivenName  string `json:"given_name"`
	FamilyName string `json:"family_name"`
	Role       string `json:"role"`
	Status     string `json:"status"`
	attributesJSON
}

// memberRefJSON is a group member as a key without a users scope sees
// them: enough to tell who they are.
type memberRefJSON struct {
	ID         string `json:"id"`
	GivenName  string `json:"given_name"`
	FamilyName string `json:"family_name"`
}

// staffJSON is u in the shape the caller's cohort.StaffView allows: the
// full record, the Directory's fields, or an ID and a name. The store has
// already left out the rows and cleared the fields the view does not
// include; the shape leaves the cleared fields out of the JSON rather
// than sending them empty.
func staffJSON(view cohort.StaffView, u *cohort.User) any {
	switch {
	case view.SeesRecord():
		return cohort.NewUserResource(u)
	case view.SeesContact():
		return staffDirectoryJSON{ID: u.ID, Email: u.Email, GivenName: u.GivenName, FamilyName: u.FamilyName,
			Role: string(u.Role), Status: string(u.Status), attributesJSON: newAttributesJSON(u.StaffAttributes)}
	}
	return memberRefJSON{ID: u.ID, GivenName: u.GivenName, FamilyName: u.FamilyName}
}

// staffViewOf is the staff view of the request's actor.
func staffViewOf(r *http.Request) cohort.StaffView {
	a, _ := cohort.ActorFromContext(r.Context())
	return a.StaffView()
}

type auditJSON struct {
	ID            string          `json:"id"`
	Time          time.Time       `json:"time"`
	Action        string          `json:"action"`
	TargetType    string          `json:"target_type"`
	TargetID      string          `json:"target_id"`
	TargetName    string          `json:"target_name"`
	ActorName     string          `json:"actor_name"`
	ActorUserID   *string         `json:"actor_user_id"`
	ActorAPIKeyID *string         `json:"actor_api_key_id"`
	Changes       json.RawMessage `json:"changes"`
	Via           string          `json:"via"`
	RequestID     string          `json:"request_id"`
}

func newAuditJSON(e *cohort.AuditEntry) auditJSON {
	changes := e.Changes
	if len(changes) == 0 || !json.Valid(changes) {
		changes = json.RawMessage("null")
	}
	return auditJSON{
		ID: e.ID, Time: e.Time.UTC(), Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID,
		TargetName: e.TargetName, ActorName: e.ActorName, ActorUserID: strPtr(e.ActorUserID),
		ActorAPIKeyID: strPtr(e.ActorKeyID), Changes: changes, Via: e.Via, RequestID: e.RequestID,
	}
}

// memberChangeJSON answers a member change: what it actually did and the
// group after it.
type memberChangeJSON struct {
	Added   []string             `json:"added"`
	Removed []string             `json:"removed"`
	Group   cohort.GroupResource `json:"group"`
}

type links struct {
	Prev *string `json:"prev"`
	Next *string `json:"next"`
}

type listJSON[T any] struct {
	Data  []T   `json:"data"`
	Links links `json:"links"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nonNil(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}
