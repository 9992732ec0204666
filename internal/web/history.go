package web

import (
	"net/http"
	"net/url"

	"github.com/cohorthq/cohort"
)

// A group's History: its audit entries in plain words on its edit page
// and its read-only page, for those who may read the audit log, with a
// CSV export and a link to the whole log filtered to the group.

// historyShown is how many entries the section lists; the audit log has
// the rest.
const historyShown = 20

// historySection is the History part of a group's pages.
type historySection struct {
	Entries []auditRow
	// More says there are older entries than those listed.
	More   bool
	LogURL string
	CSVURL string
	// Unavailable explains why the history is missing when it could not
	// be read; the rest of the page still works.
	Unavailable string
}

// groupHistory loads the History section of g, or nil when the actor may
// not read the audit log (the section is then left out).
func (h *Handler) groupHistory(r *http.Request, g *cohort.Group) *historySection {
	if !ctxActor(r.Context()).CanViewAudit() {
		return nil
	}
	s := &historySection{
		LogURL: "/settings/audit?" + url.Values{"target_type": {"group"}, "target_id": {g.ID}}.Encode(),
		CSVURL: "/settings/groups/" + url.PathEscape(g.ID) + "/history.csv",
	}
	page, err := h.svc.Audit.FindAuditEntries(r.Context(), cohort.AuditFilter{TargetType: "group", TargetID: g.ID, Limit: historyShown})
	var names map[string]string
	if err == nil {
		names, err = h.userNames(r, mentionedUsers(page.Entries))
	}
	if err != nil {
		// The history is a part of a page whose main job is another; log
		// the failure and say so instead of failing the whole page.
		h.logger.ErrorContext(r.Context(), "reading group history", "err", err, "group", g.ID)
		s.Unavailable = "The history could not be read just now. Reload the page to try again."
		return s
	}
	s.Entries = auditRows(page.Entries, names)
	s.More = page.Next != ""
	return s
}

// handleGroupHistoryCSV exports every audit entry of one group.
func (h *Handler) handleGroupHistoryCSV(w http.ResponseWriter, r *http.Request) error {
	g, err := h.loadGroup(r)
	if err != nil {
		return err
	}
	if err := h.requireAuditReader(r); err != nil {
		return err
	}
	return h.writeAuditCSV(w, r, cohort.AuditFilter{TargetType: "group", TargetID: g.ID}, "cohort-group-history")
}
