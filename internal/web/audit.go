package web

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/csvio"
)

// Settings → Audit log: every change in the practice, newest first, with
// filters and a CSV export of what the filters select. Audit entries are
// read-only everywhere: no page offers to change or delete one.

const (
	auditPerPage = 50
	// auditExportPage is how many entries the export reads per query.
	auditExportPage = 1000
	// auditExportMax bounds one export so a download cannot hold the
	// database for long; the page says to narrow the filters beyond it.
	auditExportMax = 100000
	// namesPerEntry is how many added or removed people a sentence names
	// before "and N others".
	namesPerEntry = 10
)

// requireAuditReader refuses (403) unless the actor may read the audit log.
func (h *Handler) requireAuditReader(r *http.Request) error {
	if ctxActor(r.Context()).CanViewAudit() {
		return nil
	}
	return forbidden("Only the account owner, practitioner admins and practice managers can read the audit log.")
}

// stamp is a moment as pages show it: words for people and an ISO form
// for <time datetime>.
type stamp struct {
	Set  bool
	Text string
	ISO  string
}

// timeLayout is how pages write a moment: "27 Nov 2026, 10:42".
const timeLayout = "2 Jan 2006, 15:04"

// stampOf formats t in the server's time zone (a practice runs Cohort
// where it works); nil is "not set".
func stampOf(t *time.Time) stamp {
	if t == nil || t.IsZero() {
		return stamp{}
	}
	l := t.Local()
	return stamp{Set: true, Text: l.Format(timeLayout), ISO: l.Format(time.RFC3339)}
}

// actionLabels name every audit action for the filter, in plain words.
var actionLabels = []struct{ Action, Label string }{
	{cohort.ActionGroupCreated, "Group created"},
	{cohort.ActionGroupUpdated, "Group renamed or changed"},
	{cohort.ActionGroupMembersChanged, "Group members changed"},
	{cohort.ActionGroupArchived, "Group archived"},
	{cohort.ActionGroupRestored, "Group restored"},
	{cohort.ActionUserCreated, "Staff member added"},
	{cohort.ActionUserUpdated, "Staff member changed"},
	{cohort.ActionUserArchived, "Staff member archived"},
	{cohort.ActionUserRestored, "Staff member restored"},
	{cohort.ActionOwnerTransferred, "Account owner changed"},
	{cohort.ActionSessionsEnded, "Sessions ended"},
	{cohort.ActionAPIKeyCreated, "API key created"},
	{cohort.ActionAPIKeyRevoked, "API key revoked"},
	{cohort.ActionWebhookCreated, "Webhook added"},
	{cohort.ActionWebhookUpdated, "Webhook changed"},
	{cohort.ActionWebhookDeleted, "Webhook deleted"},
}

// targetTypes are the kinds of record an entry can be about.
var targetTypes = []struct{ Type, Label string }{
	{"group", "Group"},
	{"user", "Staff member"},
	{"api_key", "API key"},
	{"webhook", "Webhook"},
}

func knownTargetType(typ string) bool {
	for _, t := range targetTypes {
		if t.Type == typ {
			return true
		}
	}
	return false
}

func targetLabel(typ string) string {
	for _, t := range targetTypes {
		if t.Type == typ {
			return t.Label
		}
	}
	return typ
}

// viaLabels say which interface a change came from.
var viaLabels = map[string]string{
	cohort.ViaWeb:  "Web",
	cohort.ViaAPI:  "REST API",
	cohort.ViaSCIM: "SCIM",
	cohort.ViaCLI:  "Command line",
}

func viaLabel(via string) string {
	if l, ok := viaLabels[via]; ok {
		return l
	}
	if via == "" {
		return "System"
	}
	return via
}

// auditChanges is the part of an entry's Changes that sentences read.
type auditChanges struct {
	Added   []string               `json:"added"`
	Removed []string               `json:"removed"`
	Fields  map[string]fieldChange `json:"-"`
}

// fieldChange is one field's {"from":…,"to":…}.
type fieldChange struct {
	From any `json:"from"`
	To   any `json:"to"`
}

// parseChanges reads an entry's Changes; unreadable JSON reads as no
// detail, so an odd old row still gets a sentence.
func parseChanges(raw json.RawMessage) auditChanges {
	var c auditChanges
	var all map[string]json.RawMessage
	if json.Unmarshal(raw, &all) != nil {
		return c
	}
	c.Fields = map[string]fieldChange{}
	for k, v := range all {
		switch k {
		case "added":
			_ = json.Unmarshal(v, &c.Added)
		case "removed":
			_ = json.Unmarshal(v, &c.Removed)
		default:
			var fc fieldChange
			if json.Unmarshal(v, &fc) == nil && (fc.From != nil || fc.To != nil) {
				c.Fields[k] = fc
			}
		}
	}
	return c
}

// mentionedUsers returns the user IDs entries name in added/removed (at
// most namesPerEntry each), so their names come from one query.
func mentionedUsers(entries []*cohort.AuditEntry) []string {
	seen := map[string]bool{}
	var ids []string
	add := func(list []string) {
		if len(list) > namesPerEntry {
			list = list[:namesPerEntry]
		}
		for _, id := range list {
			if !seen[id] && validID(id) {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	for _, e := range entries {
		if e.TargetType != "group" {
			continue
		}
		c := parseChanges(e.Changes)
		add(c.Added)
		add(c.Removed)
	}
	return ids
}

// userNames resolves user IDs to names with one query, archived staff
// included (history names people who have since left).
func (h *Handler) userNames(r *http.Request, ids []string) (map[string]string, error) {
	names := map[string]string{}
	if len(ids) == 0 {
		return names, nil
	}
	page, err := h.svc.Users.FindUsers(r.Context(), cohort.UserFilter{IDs: ids, Limit: len(ids)})
	if err != nil {
		return nil, err
	}
	for _, u := range page.Users {
		names[u.ID] = u.Name()
	}
	return names, nil
}

// joinNames writes "A", "A and B" or "A, B and C".
func joinNames(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// people names the users of ids: at most namesPerEntry, then "N others".
// A user the store does not find (another practice's ID in an imported
// row, say) is "an unknown staff member".
func people(ids []string, names map[string]string) string {
	var out []string
	for i, id := range ids {
		if i == namesPerEntry {
			rest := len(ids) - namesPerEntry
			out = append(out, fmt.Sprintf("%d %s", rest, pluralWord(rest, "other", "others")))
			break
		}
		if n, ok := names[id]; ok {
			out = append(out, n)
		} else {
			out = append(out, "an unknown staff member")
		}
	}
	return joinNames(out)
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// quoted shows a changed value: “text”, or “(none)” for empty.
func quoted(v any) string {
	s := ""
	switch x := v.(type) {
	case string:
		s = x
	case nil:
	default:
		s = fmt.Sprint(x)
	}
	if s == "" {
		return "(none)"
	}
	return "“" + s + "”"
}

// describe says what an entry did, as a phrase that follows the actor's
// name: "added Tom Nguyen and Zoë O'Connor", "renamed the group from “A”
// to “B”".
func describe(e *cohort.AuditEntry, names map[string]string) string {
	c := parseChanges(e.Changes)
	switch e.Action {
	case cohort.ActionGroupCreated:
		s := "created the group " + quoted(e.TargetName)
		if len(c.Added) > 0 {
			s += " with " + people(c.Added, names)
		}
		return s
	case cohort.ActionGroupUpdated:
		var parts []string
		if f, ok := c.Fields["name"]; ok {
			parts = append(parts, "renamed the group from "+quoted(f.From)+" to "+quoted(f.To))
		}
		if _, ok := c.Fields["description"]; ok {
			parts = append(parts, "changed the description")
		}
		if _, ok := c.Fields["external_id"]; ok {
			parts = append(parts, "changed the identity provider's ID")
		}
		if len(parts) == 0 {
			return "changed the group"
		}
		return joinNames(parts)
	case cohort.ActionGroupMembersChanged:
		var parts []string
		if len(c.Added) > 0 {
			parts = append(parts, "added "+people(c.Added, names))
		}
		if len(c.Removed) > 0 {
			parts = append(parts, "removed "+people(c.Removed, names))
		}
		if len(parts) == 0 {
			return "changed the members"
		}
		return strings.Join(parts, " and ")
	case cohort.ActionGroupArchived:
		return "archived the group"
	case cohort.ActionGroupRestored:
		if f, ok := c.Fields["name"]; ok {
			return "restored the group as " + quoted(f.To)
		}
		return "restored the group"
	case cohort.ActionUserCreated:
		return "added " + e.TargetName + " to the staff"
	case cohort.ActionUserUpdated:
		return describeUserUpdate(e, c)
	case cohort.ActionUserArchived:
		return "archived " + e.TargetName
	case cohort.ActionUserRestored:
		return "restored " + e.TargetName
	case cohort.ActionOwnerTransferred:
		return "made " + e.TargetName + " the account owner"
	case cohort.ActionSessionsEnded:
		return "signed " + e.TargetName + " out of their other sessions"
	case cohort.ActionAPIKeyCreated:
		return "created the API key " + quoted(e.TargetName)
	case cohort.ActionAPIKeyRevoked:
		return "revoked the API key " + quoted(e.TargetName)
	case cohort.ActionWebhookCreated:
		return "added the webhook " + e.TargetName
	case cohort.ActionWebhookUpdated:
		if f, ok := c.Fields["active"]; ok && f.To == true {
			return "resumed the webhook " + e.TargetName
		}
		return "changed the webhook " + e.TargetName
	case cohort.ActionWebhookDeleted:
		return "deleted the webhook " + e.TargetName
	}
	return e.Action + " " + e.TargetName
}

// userFieldWords names the fields of a staff member in sentences.
var userFieldWords = map[string]string{
	"email":       "email",
	"given_name":  "given name",
	"family_name": "family name",
	"external_id": "identity provider's ID",
}

func describeUserUpdate(e *cohort.AuditEntry, c auditChanges) string {
	var parts []string
	if f, ok := c.Fields["role"]; ok {
		parts = append(parts, "changed the role of "+e.TargetName+" from "+roleWord(f.From)+" to "+roleWord(f.To))
	}
	var fields []string
	for _, k := range []string{"given_name", "family_name", "email", "external_id"} {
		if _, ok := c.Fields[k]; ok {
			fields = append(fields, userFieldWords[k])
		}
	}
	if len(fields) > 0 {
		parts = append(parts, "changed the "+joinNames(fields)+" of "+e.TargetName)
	}
	var raw map[string]any
	if json.Unmarshal(e.Changes, &raw) == nil && raw["password"] != nil {
		parts = append(parts, "set a new password for "+e.TargetName)
	}
	if len(parts) == 0 {
		return "changed " + e.TargetName
	}
	return joinNames(parts)
}

func roleWord(v any) string {
	s, _ := v.(string)
	if r := cohort.Role(s); r.Valid() {
		return r.Label()
	}
	return quoted(v)
}

// capitalize starts a phrase with a capital letter for a table cell.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// auditRow is one entry as the table and the history show it.
type auditRow struct {
	*cohort.AuditEntry
	When stamp
	// What is the phrase after the actor's name; Sentence is the whole
	// "<who> <what>" for the history list.
	What       string
	WhatTitle  string
	Sentence   string
	TargetKind string
	TargetURL  string
	Via        string
}

func auditRows(entries []*cohort.AuditEntry, names map[string]string) []auditRow {
	rows := make([]auditRow, len(entries))
	for i, e := range entries {
		what := describe(e, names)
		t := e.Time
		rows[i] = auditRow{
			AuditEntry: e,
			When:       stampOf(&t),
			What:       what,
			WhatTitle:  capitalize(what),
			Sentence:   actorName(e) + " " + what,
			TargetKind: targetLabel(e.TargetType),
			TargetURL:  targetURL(e),
			Via:        viaLabel(e.Via),
		}
	}
	return rows
}

func actorName(e *cohort.AuditEntry) string {
	if e.ActorName == "" {
		return "Cohort"
	}
	return e.ActorName
}

// targetURL links an entry's target when it has a page.
func targetURL(e *cohort.AuditEntry) string {
	if !validID(e.TargetID) {
		return ""
	}
	switch e.TargetType {
	case "group":
		return "/settings/groups/" + url.PathEscape(e.TargetID)
	case "user":
		return "/settings/users/" + url.PathEscape(e.TargetID)
	}
	return ""
}

// auditQuery is the audit log's filter as read from the address.
type auditQuery struct {
	Actor      string
	Action     string
	TargetType string
	TargetID   string
	From       string
	To         string
	// filter is what the store is asked; errs what the person must fix.
	filter cohort.AuditFilter
	errs   map[string][]string
}

// dateLayout is the format of the date fields (what <input type=date>
// sends).
const dateLayout = "2006-01-02"

// readAuditQuery reads and checks the filter; problems are reported per
// field and nothing is listed until they are fixed.
func readAuditQuery(q url.Values) auditQuery {
	aq := auditQuery{
		Actor:      strings.TrimSpace(cleanText(q.Get("actor"), maxQuery)),
		Action:     cleanText(q.Get("action"), 60),
		TargetType: cleanText(q.Get("target_type"), 20),
		TargetID:   strings.TrimSpace(cleanText(q.Get("target_id"), 80)),
		From:       strings.TrimSpace(cleanText(q.Get("from"), 20)),
		To:         strings.TrimSpace(cleanText(q.Get("to"), 20)),
	}
	fail := func(field, msg string) {
		if aq.errs == nil {
			aq.errs = map[string][]string{}
		}
		aq.errs[field] = append(aq.errs[field], msg)
	}
	f := cohort.AuditFilter{ActorName: aq.Actor}
	if aq.Action != "" {
		known := false
		for _, a := range actionLabels {
			known = known || a.Action == aq.Action
		}
		if known {
			f.Action = aq.Action
		} else {
			fail("action", "Choose an action from the list.")
		}
	}
	if aq.TargetType != "" {
		if knownTargetType(aq.TargetType) {
			f.TargetType = aq.TargetType
		} else {
			fail("target_type", "Choose a kind of record from the list.")
		}
	}
	if aq.TargetID != "" {
		if validID(aq.TargetID) {
			f.TargetID = aq.TargetID
		} else {
			fail("target_id", "An ID has only letters, digits, - and _: copy it from the record's address.")
		}
	}
	var from, to time.Time
	var err error
	if aq.From != "" {
		if from, err = time.ParseInLocation(dateLayout, aq.From, time.Local); err != nil {
			fail("from", "Enter the date as YYYY-MM-DD, e.g. 2026-11-27.")
		} else {
			f.Since = &from
		}
	}
	if aq.To != "" {
		if to, err = time.ParseInLocation(dateLayout, aq.To, time.Local); err != nil {
			fail("to", "Enter the date as YYYY-MM-DD, e.g. 2026-11-27.")
		} else {
			// "To" includes the whole day.
			end := to.AddDate(0, 0, 1)
			f.Until = &end
		}
	}
	if f.Since != nil && f.Until != nil && !f.Since.Before(*f.Until) {
		fail("to", "The end date is before the start date: choose a later end date.")
	}
	aq.filter = f
	return aq
}

// values is the filter as address parameters (the valid ones only).
func (aq auditQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"actor": aq.Actor, "action": aq.Action, "target_type": aq.TargetType,
		"target_id": aq.TargetID, "from": aq.From, "to": aq.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

func auditURL(path string, aq auditQuery, after, before string) string {
	v := aq.values()
	if after != "" {
		v.Set("after", after)
	}
	if before != "" {
		v.Set("before", before)
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

type auditView struct {
	Page
	Query       auditQuery
	Errors      map[string][]string
	Message     string
	Actions     []struct{ Action, Label string }
	TargetTypes []struct{ Type, Label string }
	Entries     []auditRow
	Filtered    bool
	ExportURL   string
	PrevURL     string
	NextURL     string
	Zone        string
}

func (h *Handler) newAuditView(r *http.Request, aq auditQuery) auditView {
	zone, _ := time.Now().Zone()
	return auditView{
		Page:        h.settingsPage(r, "audit", "Audit log"),
		Query:       aq,
		Errors:      aq.errs,
		Actions:     actionLabels,
		TargetTypes: targetTypes,
		Filtered:    len(aq.values()) > 0,
		Zone:        zone,
	}
}

func (h *Handler) handleAuditLog(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireAuditReader(r); err != nil {
		return err
	}
	q := r.URL.Query()
	aq := readAuditQuery(q)
	v := h.newAuditView(r, aq)
	if len(aq.errs) > 0 {
		v.Message = "Some filters need attention; fix the marked fields and select Filter again."
		return h.render(w, r, http.StatusUnprocessableEntity, "audit", v)
	}
	f := aq.filter
	f.Limit = auditPerPage
	f.After = cleanCursor(q.Get("after"))
	f.Before = cleanCursor(q.Get("before"))
	page, err := h.svc.Audit.FindAuditEntries(r.Context(), f)
	if err != nil {
		if cohort.ErrorCode(err) == cohort.EINVALID {
			// A cursor from an old link: start from the newest again.
			http.Redirect(w, r, auditURL("/settings/audit", aq, "", ""), http.StatusSeeOther)
			return nil
		}
		return err
	}
	names, err := h.userNames(r, mentionedUsers(page.Entries))
	if err != nil {
		return err
	}
	v.Entries = auditRows(page.Entries, names)
	v.ExportURL = auditURL("/settings/audit/export.csv", aq, "", "")
	if page.Prev != "" {
		v.PrevURL = auditURL("/settings/audit", aq, "", page.Prev)
	}
	if page.Next != "" {
		v.NextURL = auditURL("/settings/audit", aq, page.Next, "")
	}
	return h.render(w, r, http.StatusOK, "audit", v)
}

func (h *Handler) handleAuditExport(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireAuditReader(r); err != nil {
		return err
	}
	aq := readAuditQuery(r.URL.Query())
	if len(aq.errs) > 0 {
		v := h.newAuditView(r, aq)
		v.Message = "Some filters need attention; fix the marked fields and select Filter, then Export CSV."
		return h.render(w, r, http.StatusUnprocessableEntity, "audit", v)
	}
	return h.writeAuditCSV(w, r, aq.filter, "cohort-audit")
}

// auditCSVHeader names the export's columns.
var auditCSVHeader = []string{"time", "actor", "actor_user_id", "actor_key_id", "action", "description",
	"target_type", "target_id", "target_name", "via", "request_id", "changes"}

// writeAuditCSV exports every entry f selects, newest first. The file is
// built in memory first, so a failure half-way is an error page, not a
// truncated download.
func (h *Handler) writeAuditCSV(w http.ResponseWriter, r *http.Request, f cohort.AuditFilter, name string) error {
	var buf bytes.Buffer
	buf.WriteString("\ufeff") // spreadsheet programs then read UTF-8
	cw := csv.NewWriter(&buf)
	_ = cw.Write(auditCSVHeader)
	f.Limit = auditExportPage
	written := 0
	for {
		page, err := h.svc.Audit.FindAuditEntries(r.Context(), f)
		if err != nil {
			return err
		}
		names, err := h.userNames(r, mentionedUsers(page.Entries))
		if err != nil {
			return err
		}
		for _, e := range page.Entries {
			if written == auditExportMax {
				return &pageError{http.StatusUnprocessableEntity, "Too many entries",
					fmt.Sprintf("The filters select more than %d entries. Choose a shorter time range and export again.", auditExportMax)}
			}
			_ = cw.Write([]string{
				e.Time.UTC().Format(time.RFC3339), csvio.Guard(e.ActorName), e.ActorUserID, e.ActorKeyID, e.Action,
				csvio.Guard(capitalize(describe(e, names))), e.TargetType, csvio.Guard(e.TargetID), csvio.Guard(e.TargetName),
				e.Via, csvio.Guard(e.RequestID), csvio.Guard(string(e.Changes)),
			})
			written++
		}
		if page.Next == "" {
			break
		}
		f.After = page.Next
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	file := fmt.Sprintf("%s-%s.csv", name, time.Now().UTC().Format(time.DateOnly))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+file+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
	return nil
}
