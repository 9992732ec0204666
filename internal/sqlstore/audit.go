package sqlstore

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/cohorthq/cohort"
)

// audit writes one audit row for a change made in t.
func (t *tx) audit(action, targetType, targetID, targetName string, changes any) error {
	a := t.actor
	if changes == nil {
		changes = map[string]any{}
	}
	_, err := t.exec(`INSERT INTO audit_entries (id, workspace_id, time, actor_name, actor_user_id, actor_key_id,
		action, target_type, target_id, target_name, changes, via, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		newID(), a.WorkspaceID, ts(t.now), a.Name, a.UserID, a.APIKeyID,
		action, targetType, targetID, targetName, mustJSON(changes), a.Via, a.RequestID)
	return err
}

// FindAuditEntries lists the workspace's audit entries, newest first.
func (db *DB) FindAuditEntries(ctx context.Context, f cohort.AuditFilter) (*cohort.AuditPage, error) {
	a, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.CanViewAudit() {
		return nil, cohort.ErrForbidden("view the audit log")
	}
	var p args
	where := []string{"workspace_id = " + p.add(a.WorkspaceID)}
	if types := a.AuditTargets(); types != nil {
		if len(types) == 0 {
			return nil, cohort.ErrForbidden("view the audit log")
		}
		if f.TargetType != "" && !slices.Contains(types, f.TargetType) {
			return nil, cohort.Errorf(cohort.EFORBIDDEN, "This API key may not read the audit entries of %ss: a key reads group entries with a groups scope and user entries with a users scope.", strings.ReplaceAll(f.TargetType, "_", " "))
		}
		in := make([]string, len(types))
		for i, t := range types {
			in[i] = p.add(t)
		}
		where = append(where, "target_type IN ("+strings.Join(in, ", ")+")")
	}
	if f.TargetType != "" {
		where = append(where, "target_type = "+p.add(f.TargetType))
	}
	if f.TargetID != "" {
		where = append(where, "target_id = "+p.add(f.TargetID))
	}
	if f.Action != "" {
		where = append(where, "action = "+p.add(f.Action))
	}
	if f.ActorName != "" {
		where = append(where, `LOWER(actor_name) LIKE `+p.add(likeContains(strings.ToLower(f.ActorName)))+` ESCAPE '\'`)
	}
	if f.Since != nil {
		where = append(where, "time >= "+p.add(ts(*f.Since)))
	}
	if f.Until != nil {
		where = append(where, "time < "+p.add(ts(*f.Until)))
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	// Newest first: "after" walks towards older entries.
	order, backwards := "time DESC, id DESC", false
	switch {
	case f.After != "":
		k, err := decodeCursor("after", f.After, 2)
		if err != nil {
			return nil, err
		}
		where = append(where, "(time, id) < ("+p.add(k[0])+", "+p.add(k[1])+")")
	case f.Before != "":
		k, err := decodeCursor("before", f.Before, 2)
		if err != nil {
			return nil, err
		}
		where = append(where, "(time, id) > ("+p.add(k[0])+", "+p.add(k[1])+")")
		order, backwards = "time, id", true
	}
	q := `SELECT id, workspace_id, time, actor_name, actor_user_id, actor_key_id, action, target_type,
		target_id, target_name, changes, via, request_id FROM audit_entries
		WHERE ` + strings.Join(where, " AND ") + " ORDER BY " + order + " LIMIT " + p.add(limit+1)
	rows, err := db.read.QueryContext(ctx, q, p...)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var out []*cohort.AuditEntry
	for rows.Next() {
		e := &cohort.AuditEntry{}
		var changes string
		if err := rows.Scan(&e.ID, &e.WorkspaceID, timeScan{&e.Time}, &e.ActorName, &e.ActorUserID, &e.ActorKeyID,
			&e.Action, &e.TargetType, &e.TargetID, &e.TargetName, &changes, &e.Via, &e.RequestID); err != nil {
			return nil, mapError(err)
		}
		e.Changes = json.RawMessage(changes)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	if backwards {
		reverse(out)
	}
	page := &cohort.AuditPage{Entries: out}
	if len(out) > 0 {
		first, last := out[0], out[len(out)-1]
		if more && !backwards || f.Before != "" {
			page.Next = encodeCursor(ts(last.Time), last.ID)
		}
		if more && backwards || f.After != "" {
			page.Prev = encodeCursor(ts(first.Time), first.ID)
		}
	}
	return page, nil
}

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}
