package api

import (
	"net/http"

	"github.com/cohorthq/cohort"
)

// auditTargetTypes are the target types audit entries carry.
var auditTargetTypes = map[string]bool{"group": true, "user": true, "api_key": true, "webhook": true}

// handleAuditList: GET /api/v1/audit?target_type=&target_id=&action=&actor=&since=&until=&limit=&cursor=
// Entries come newest first.
func (h *Handler) handleAuditList(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	f := cohort.AuditFilter{
		TargetType: q.str("target_type"),
		TargetID:   q.str("target_id"),
		Action:     q.str("action"),
		ActorName:  q.str("actor"),
		Since:      q.time("since"),
		Until:      q.time("until"),
		Limit:      q.limit(),
	}
	if f.TargetType != "" && !auditTargetTypes[f.TargetType] {
		q.v.Add("target_type", "Use group, user, api_key or webhook for target_type.")
	}
	if f.Since != nil && f.Until != nil && f.Until.Before(*f.Since) {
		q.v.Add("until", "until is before since: swap them, or widen the range.")
	}
	f.After, f.Before = q.cursor()
	if err := q.err(); err != nil {
		return err
	}
	page, err := h.svc.Audit.FindAuditEntries(r.Context(), f)
	if err != nil {
		return err
	}
	out := listJSON[auditJSON]{Data: make([]auditJSON, 0, len(page.Entries)), Links: listLinks(r, page.Next, page.Prev)}
	for _, e := range page.Entries {
		out.Data = append(out.Data, newAuditJSON(e))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
