package events

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
)

// TestBackoffIncreases checks the retry schedule: every attempt waits
// longer than the one before until the cap, and never beyond it.
func TestBackoffIncreases(t *testing.T) {
	t.Parallel()
	o := RelayOptions{MinBackoff: 10 * time.Second, MaxBackoff: time.Hour}
	for range 200 {
		prev := time.Duration(0)
		for n := 1; n <= 60; n++ {
			d := o.Backoff(n)
			if d <= 0 || d > time.Hour {
				t.Fatalf("Backoff(%d) = %v, want within (0, 1h]", n, d)
			}
			if base := 10 * time.Second << (n - 1); n <= 9 && (d < base/2 || d >= base) {
				t.Fatalf("Backoff(%d) = %v, want in [%v, %v)", n, d, base/2, base)
			}
			if n <= 9 && d <= prev {
				t.Fatalf("Backoff(%d) = %v, not longer than Backoff(%d) = %v", n, d, n-1, prev)
			}
			prev = d
		}
	}
}

func TestPayload(t *testing.T) {
	t.Parallel()
	ev := &cohort.Event{
		Seq: 7, ID: "evt_1", WorkspaceID: "ws_1", Type: cohort.ActionGroupCreated,
		Time: time.Date(2026, 11, 27, 10, 0, 0, 0, time.FixedZone("AEDT", 11*3600)),
		Data: json.RawMessage(`{"group":{"id":"g1","version":1}}`),
	}
	body, err := Payload(ev)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"evt_1","type":"group.created","created_at":"2026-11-26T23:00:00Z","workspace_id":"ws_1","data":{"group":{"id":"g1","version":1}}}`
	if string(body) != want {
		t.Fatalf("Payload =\n%s\nwant\n%s", body, want)
	}
}

func TestFormatChange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ, data, want string
	}{
		{cohort.ActionGroupUpdated, `{"group":{"id":"g1","version":7,"name":"A"},"changes":{}}`,
			"id: 42\nevent: change\ndata: {\"type\":\"group.updated\",\"group_id\":\"g1\",\"user_id\":\"\",\"version\":7}\n\n"},
		{cohort.ActionGroupMembersChanged, `{"group":{"id":"g1","version":8},"added":["u1"],"removed":[]}`,
			"id: 42\nevent: change\ndata: {\"type\":\"group.members_changed\",\"group_id\":\"g1\",\"user_id\":\"\",\"version\":8}\n\n"},
		// A user's payload (cohort.UserResource) has no version.
		{cohort.ActionUserArchived, `{"user":{"id":"u1","email":"a@b.example"}}`,
			"id: 42\nevent: change\ndata: {\"type\":\"user.archived\",\"group_id\":\"\",\"user_id\":\"u1\",\"version\":0}\n\n"},
		{cohort.ActionUserCreated, `not json`,
			"id: 42\nevent: change\ndata: {\"type\":\"user.created\",\"group_id\":\"\",\"user_id\":\"\",\"version\":0}\n\n"},
	}
	for _, tt := range tests {
		// The id is the workspace's own number, never the global Seq.
		got := string(formatChange(&cohort.Event{Seq: 9000, WorkspaceSeq: 42, Type: tt.typ, Data: json.RawMessage(tt.data)}))
		if got != tt.want {
			t.Errorf("formatChange(%s) =\n%q\nwant\n%q", tt.data, got, tt.want)
		}
	}
}
