package web

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/cohorthq/cohort"
)

// The template half of B1 (Settings → Groups) and B7 (the picker): what
// one page costs to render once its data is loaded.

func benchGroupListView() groupListView {
	owner := cohort.Actor{WorkspaceID: "ws", UserID: "u", Name: "Olivia Owner", Role: cohort.RolePracticeManager, IsOwner: true}
	v := groupListView{
		Page:        Page{Title: "Groups", SignedIn: true, Actor: owner, CSRFToken: "token", Section: "settings", SettingsNav: settingsNavFor(owner, "groups")},
		ActiveCount: 5000, Matches: 5000, CanManage: true,
		ActiveURL: listURL(false, "", "", ""), ArchivedURL: listURL(true, "", "", ""), NextURL: listURL(false, "", "cursor", ""),
	}
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	for i := range groupsPerPage {
		v.Groups = append(v.Groups, &cohort.Group{ID: fmt.Sprintf("0192f0c4-7a3e-7c4d-9f57-3c2b1d0e%04d", i),
			Name: fmt.Sprintf("Physiotherapists %04d", i), Status: cohort.StatusActive, MemberCount: 17 * i, Version: 3,
			CreatedAt: now, UpdatedAt: now})
	}
	return v
}

func BenchmarkRenderGroupsPage(b *testing.B) {
	t, err := loadTemplates()
	if err != nil {
		b.Fatal(err)
	}
	v := benchGroupListView()
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := t.execute(&buf, "groups", v); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}

func BenchmarkRenderPicker(b *testing.B) {
	t, err := loadTemplates()
	if err != nil {
		b.Fatal(err)
	}
	v := pickerView{Query: "smi", OthersTotal: 812, Next: "cursor"}
	for i := range pickerOthers {
		v.Others = append(v.Others, pickerRow{ID: fmt.Sprintf("0192f0c4-7a3e-7c4d-9f57-3c2b1d0e%04d", i),
			Name: fmt.Sprintf("Olivia Smith %d", i), Role: cohort.RolePractitioner.Label()})
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := t.fragment(io.Discard, "picker", v); err != nil {
			b.Fatal(err)
		}
	}
}
