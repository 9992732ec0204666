package scim

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
)

// The fuzz targets run on their seed corpora (testdata/fuzz/…) as normal
// tests; `go test -fuzz=FuzzFilter ./internal/scim` explores further. No
// input may panic, and every refusal must be a SCIM 400.

func sampleUser() *cohort.User {
	now := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	return &cohort.User{ID: "u1", Email: "jane.doe@example.com", GivenName: "Jane", FamilyName: "Doe",
		Role: cohort.RolePractitioner, Status: cohort.StatusActive, ExternalID: "ext-1", Version: 3, CreatedAt: now, UpdatedAt: now}
}

func sampleGroupRecord() *record {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &record{
		strs:       map[string]string{"id": "g1", "externalId": "okta-1", "displayName": "Physiotherapists", "meta.resourceType": "Group"},
		times:      timesOf(now, now),
		hasMembers: true,
		isMember:   func(id string) (bool, error) { return id == "u1", nil },
	}
}

// checkRefusal fails unless err is nil or a SCIM 400 with a scimType.
func checkRefusal(t *testing.T, input string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var se *scimError
	if !errors.As(err, &se) || se.status != http.StatusBadRequest || se.scimType == "" || se.detail == "" {
		t.Fatalf("input %q: refusal %#v is not a SCIM 400 with scimType and detail", input, err)
	}
}

func FuzzFilter(f *testing.F) {
	f.Add(`userName eq "jane.doe@example.com"`)
	f.Add(`displayName eq "Physiotherapists"`)
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseFilter(s, userFilterSchema)
		checkRefusal(t, s, err)
		if err == nil {
			if _, err := n.eval(userRecord(sampleUser())); err != nil {
				t.Fatalf("%q: eval: %v", s, err)
			}
			userPushdown(n)
		}
		n, err = parseFilter(s, groupFilterSchema)
		checkRefusal(t, s, err)
		if err == nil {
			if _, err := n.eval(sampleGroupRecord()); err != nil {
				t.Fatalf("%q: eval: %v", s, err)
			}
			groupPushdown(n)
		}
	})
}

func FuzzPatchPath(f *testing.F) {
	f.Add("add", "members", []byte(`[{"value":"u1"}]`))
	f.Add("remove", `members[value eq "u1"]`, []byte(`null`))
	f.Fuzz(func(t *testing.T, opName, path string, value []byte) {
		in := patchOpIn{Op: opName, Path: &path, Value: json.RawMessage(value)}
		op, err := parsePatchOp(in)
		checkRefusal(t, path, err)
		if err != nil {
			return
		}
		g := &cohort.Group{ID: "g1", Name: "Physiotherapists", ExternalID: "okta-1", Status: cohort.StatusActive, Version: 1}
		d := newGroupDraft(g)
		if err := applyGroupOp(d, op); err != nil {
			checkRefusal(t, path, err)
		} else {
			upd := d.update(g, 0)
			_ = upd.Validate()
		}
		ud := draftOf(sampleUser())
		if err := applyUserOp(&ud, op); err != nil {
			checkRefusal(t, path, err)
		} else {
			checkRefusal(t, path, validateDraft(&ud))
		}
	})
}

// The filter rewrite that accepts emails[type eq "work"].value eq "x"
// means the same as the bracketed form.
func TestSubAttributeValuePathRewrite(t *testing.T) {
	for in, want := range map[string]string{
		`emails[type eq "work"].value eq "x"`:                       `emails[type eq "work" and value eq "x"]`,
		`emails[type eq "work"].value pr`:                           `emails[type eq "work" and value pr]`,
		`userName eq "a].b" or emails[type eq "work"].value co "y"`: `userName eq "a].b" or emails[type eq "work" and value co "y"]`,
		`emails[type eq "w]ork"].value eq "x" and active eq true`:   `emails[type eq "w]ork" and value eq "x"] and active eq true`,
		`userName eq "x"`: `userName eq "x"`,
	} {
		got, err := rewriteSubAttrValuePaths(in)
		if err != nil || got != want {
			t.Errorf("rewrite %q = %q, %v; want %q", in, got, err, want)
		}
	}
}
