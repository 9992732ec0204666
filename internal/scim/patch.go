package scim

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/cohorthq/cohort"
	filter "github.com/scim2/filter-parser/v2"
)

// PATCH (RFC 7644 §3.5.2), as Okta and Entra ID send it. The whole
// request is applied to a draft first; only then is the draft written,
// as one GroupUpdate (one transaction, member changes as deltas) or as a
// user's field update plus (de)activation. An operation that cannot be
// applied refuses the whole request and changes nothing.

// maxOperations bounds the operations of one PATCH.
const maxOperations = 1000

type patchRequest struct {
	Schemas    []string    `json:"schemas"`
	Operations []patchOpIn `json:"Operations"`
}

type patchOpIn struct {
	Op    string          `json:"op"`
	Path  *string         `json:"path"`
	Value json.RawMessage `json:"value"`
}

// patchOp is one validated operation.
type patchOp struct {
	op    string     // "add", "remove" or "replace"
	path  *patchPath // nil: no path
	value json.RawMessage
}

// patchPath is a parsed PATCH path.
type patchPath struct {
	raw string
	// uri is the lower-cased schema URN prefix ("" for none), attr and
	// sub the lower-cased attribute and sub-attribute.
	uri, attr, sub string
	// filter is the bracketed value filter, if any.
	filter filter.Expression
}

func parsePatch(r *http.Request) ([]patchOp, error) {
	var req patchRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if len(req.Schemas) > 0 && !slices.ContainsFunc(req.Schemas, func(s string) bool { return strings.EqualFold(s, SchemaPatchOp) }) {
		return nil, errSyntax("A PATCH body must have schemas [\"" + SchemaPatchOp + "\"].")
	}
	if len(req.Operations) == 0 {
		return nil, errSyntax("Send at least one operation in Operations.")
	}
	if len(req.Operations) > maxOperations {
		return nil, errSyntax("Send at most 1000 operations in one PATCH.")
	}
	ops := make([]patchOp, 0, len(req.Operations))
	for _, in := range req.Operations {
		op, err := parsePatchOp(in)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func parsePatchOp(in patchOpIn) (patchOp, error) {
	op := patchOp{op: strings.ToLower(strings.TrimSpace(in.Op)), value: in.Value}
	switch op.op {
	case "add", "remove", "replace":
	default:
		return op, errSyntax("Each operation's op must be add, remove or replace, not " + jsonQuote(in.Op) + ".")
	}
	if in.Path != nil && strings.TrimSpace(*in.Path) != "" {
		p, err := parsePatchPath(strings.TrimSpace(*in.Path))
		if err != nil {
			return op, err
		}
		op.path = &p
	}
	if op.path == nil && op.op == "remove" {
		return op, &scimError{status: http.StatusBadRequest, scimType: typeNoTarget, detail: "A remove operation needs a path naming what to remove."}
	}
	if op.op != "remove" && isNull(op.value) && (op.path == nil || op.path.attr != "members") {
		return op, errValue("The " + op.op + " operation needs a value.")
	}
	return op, nil
}

func isNull(v json.RawMessage) bool {
	s := strings.TrimSpace(string(v))
	return s == "" || s == "null"
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// parsePatchPath parses a PATCH path: an attribute path, optionally with
// a schema URN prefix, a [value filter] and a sub-attribute.
func parsePatchPath(raw string) (patchPath, error) {
	pp := patchPath{raw: raw}
	if len(raw) > maxFilterLen {
		return pp, errPath("The path is too long.")
	}
	// A bare extension URN names the whole extension object.
	for _, urn := range []string{SchemaCohortUser, SchemaEnterprise} {
		if strings.EqualFold(raw, urn) {
			pp.uri = strings.ToLower(urn)
			return pp, nil
		}
	}
	p, err := safeParse(func() (filter.Path, error) { return filter.ParsePath([]byte(raw)) })
	if err != nil {
		return pp, errPath("The path " + jsonQuote(raw) + " could not be parsed: use an attribute such as displayName, members, name.givenName or members[value eq \"<id>\"].")
	}
	if p.AttributePath.URIPrefix != nil {
		pp.uri = strings.ToLower(*p.AttributePath.URIPrefix)
	}
	pp.attr = strings.ToLower(p.AttributePath.AttributeName)
	if p.AttributePath.SubAttribute != nil {
		pp.sub = strings.ToLower(*p.AttributePath.SubAttribute)
	}
	if p.SubAttribute != nil {
		if pp.sub != "" {
			return pp, errPath("The path " + jsonQuote(raw) + " names two sub-attributes.")
		}
		pp.sub = strings.ToLower(*p.SubAttribute)
	}
	pp.filter = p.ValueExpression
	return pp, nil
}

// ---- Groups ----

// groupDraft accumulates a PATCH on a group.
type groupDraft struct {
	name, externalID string
	nameSet, extSet  bool
	// replace, when non-nil, is the whole new member list; otherwise add
	// and remove are deltas.
	replace []string
	add     map[string]bool
	remove  map[string]bool
}

func newGroupDraft(g *cohort.Group) *groupDraft {
	return &groupDraft{name: g.Name, externalID: g.ExternalID, add: map[string]bool{}, remove: map[string]bool{}}
}

func (d *groupDraft) addMembers(ids []string) {
	for _, id := range ids {
		if d.replace != nil {
			if !slices.Contains(d.replace, id) {
				d.replace = append(d.replace, id)
			}
			continue
		}
		delete(d.remove, id)
		d.add[id] = true
	}
}

func (d *groupDraft) removeMembers(ids []string) {
	for _, id := range ids {
		if d.replace != nil {
			d.replace = slices.DeleteFunc(d.replace, func(x string) bool { return x == id })
			continue
		}
		delete(d.add, id)
		d.remove[id] = true
	}
}

func (d *groupDraft) replaceMembers(ids []string) {
	d.replace = append([]string{}, ids...)
	clear(d.add)
	clear(d.remove)
}

// update is the draft as one GroupUpdate.
func (d *groupDraft) update(g *cohort.Group, ifVersion int64) cohort.GroupUpdate {
	upd := cohort.GroupUpdate{IfVersion: ifVersion}
	if d.nameSet && d.name != g.Name {
		upd.Name = &d.name
	}
	if d.extSet && d.externalID != g.ExternalID {
		upd.ExternalID = &d.externalID
	}
	if d.replace != nil {
		ids := d.replace
		upd.ReplaceMembers = &ids
		return upd
	}
	upd.Add = slices.Sorted(maps.Keys(d.add))
	upd.Remove = slices.Sorted(maps.Keys(d.remove))
	return upd
}

// applyGroupOp applies one operation to the draft.
func applyGroupOp(d *groupDraft, op patchOp) error {
	if op.path == nil {
		return applyGroupObject(d, op)
	}
	p := op.path
	if p.uri != "" && p.uri != strings.ToLower(SchemaGroup) {
		return errPath("Groups have no attribute " + jsonQuote(p.raw) + ": patch displayName, externalId or members.")
	}
	switch p.attr {
	case "displayname", "externalid":
		if p.filter != nil || p.sub != "" {
			return errPath(p.attr + " is a single string: use the path " + p.attr + " without brackets or sub-attributes.")
		}
		return applyGroupString(d, p.attr, op.op, op.value)
	case "members":
		return applyMembersOp(d, op)
	case "id", "meta":
		return errMutability(p.attr + " is read-only.")
	}
	return errPath("Groups have no attribute " + jsonQuote(p.raw) + ": patch displayName, externalId or members.")
}

func applyGroupString(d *groupDraft, attr, op string, value json.RawMessage) error {
	if op == "remove" {
		if attr == "displayname" {
			return errMutability("displayName is required and cannot be removed.")
		}
		d.externalID, d.extSet = "", true
		return nil
	}
	var s string
	if err := json.Unmarshal(value, &s); err != nil {
		return errValue(attrLabel(attr) + " must be a string.")
	}
	if attr == "displayname" {
		n, err := cohort.ValidateGroupName(s)
		if err != nil {
			return errValue("displayName: " + cohort.ErrorMessage(err))
		}
		d.name, d.nameSet = n, true
		return nil
	}
	ext, err := validateExternalID(s)
	if err != nil {
		return err
	}
	d.externalID, d.extSet = ext, true
	return nil
}

func attrLabel(lower string) string {
	switch lower {
	case "displayname":
		return "displayName"
	case "externalid":
		return "externalId"
	}
	return lower
}

// applyMembersOp handles every form providers use on members:
// add/replace with a list, remove with a list (only those), remove
// without a value (all), and remove with members[value eq "…"].
func applyMembersOp(d *groupDraft, op patchOp) error {
	p := op.path
	if p.sub != "" {
		return errPath("Patch members as a whole or with members[value eq \"<id>\"]; sub-attributes such as " + jsonQuote(p.raw) + " cannot be changed.")
	}
	if p.filter != nil {
		if op.op != "remove" {
			return errPath("A members[value eq \"…\"] path can only be removed; to add members use the path members with a value list.")
		}
		ids, err := memberIDs(p.filter)
		if err != nil {
			return errPath("In " + jsonQuote(p.raw) + " use members[value eq \"<user id>\"] (several joined by or).")
		}
		d.removeMembers(ids)
		return nil
	}
	if op.op == "remove" && isNull(op.value) {
		d.replaceMembers(nil)
		return nil
	}
	ids, err := memberValue(op.value)
	if err != nil {
		return err
	}
	switch op.op {
	case "add":
		d.addMembers(ids)
	case "remove":
		d.removeMembers(ids)
	default:
		d.replaceMembers(ids)
	}
	return nil
}

// memberValue reads a members value: a list of {"value": id}, a single
// such object, or null (an empty list).
func memberValue(v json.RawMessage) ([]string, error) {
	if isNull(v) {
		return []string{}, nil
	}
	var refs []memberRef
	if err := json.Unmarshal(v, &refs); err != nil {
		var one memberRef
		if err := json.Unmarshal(v, &one); err != nil {
			return nil, errValue("members must be a list of objects such as [{\"value\": \"<user id>\"}].")
		}
		refs = []memberRef{one}
	}
	return memberIDsOf(refs)
}

// applyGroupObject is add/replace without a path: the value is an object
// of attributes. Read-only attributes in it (id, meta, schemas) are
// ignored, as RFC 7643 §2.2 says; Okta sends the group's id here.
func applyGroupObject(d *groupDraft, op patchOp) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(op.value, &obj); err != nil {
		return errValue("An " + op.op + " without a path needs an object value such as {\"displayName\": \"Physiotherapists\"}.")
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		v := obj[k]
		switch strings.ToLower(k) {
		case "displayname", "externalid":
			if err := applyGroupString(d, strings.ToLower(k), op.op, v); err != nil {
				return err
			}
		case "members":
			ids, err := memberValue(v)
			if err != nil {
				return err
			}
			if op.op == "add" {
				d.addMembers(ids)
			} else {
				d.replaceMembers(ids)
			}
		case "id", "meta", "schemas":
		default:
			return errPath("Groups have no attribute " + jsonQuote(k) + ": patch displayName, externalId or members.")
		}
	}
	return nil
}

func (h *Handler) handleGroupPatch(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	ops, err := parsePatch(r)
	if err != nil {
		return err
	}
	g, err := h.findGroup(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	want, ok := ifMatch(r)
	if !ok || want != 0 && want != g.Version {
		return errPrecondition()
	}
	d := newGroupDraft(g)
	for _, op := range ops {
		if err := applyGroupOp(d, op); err != nil {
			return err
		}
	}
	upd := d.update(g, want)
	if err := upd.Validate(); err != nil {
		return err
	}
	if g, err = h.updateGroup(ctx, g, upd); err != nil {
		return err
	}
	// PATCH on a Group answers 204 (RFC 7644 §3.5.2 allows it), so that a
	// one-member change to a large group never reads the member list;
	// a request that asks for attributes gets 200 with the group.
	q := r.URL.Query()
	if q.Get("attributes") != "" || q.Get("excludedAttributes") != "" {
		return h.writeGroup(w, r, http.StatusOK, g)
	}
	w.Header().Set("ETag", etag(g.Version))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- Users ----

// ignoredUserAttrs are core User attributes Cohort does not keep. Identity
// providers send them by default; they are accepted and ignored (see
// docs/scim.md) rather than failing every provisioning run.
var ignoredUserAttrs = map[string]bool{
	"nickname": true, "profileurl": true, "title": true, "usertype": true,
	"preferredlanguage": true, "locale": true, "timezone": true, "password": true,
	"phonenumbers": true, "ims": true, "photos": true, "addresses": true,
	"entitlements": true, "roles": true, "x509certificates": true,
	// displayName is derived from name.
	"displayname": true,
}

// applyUserOp applies one operation to the user draft.
func applyUserOp(d *userDraft, op patchOp) error {
	if op.path == nil {
		return applyUserObject(d, op)
	}
	p := op.path
	switch p.uri {
	case "", strings.ToLower(SchemaUser):
	case strings.ToLower(SchemaEnterprise):
		return nil // the enterprise extension is accepted and ignored
	case strings.ToLower(SchemaCohortUser):
		if p.attr == "" {
			return applyUserExtObject(d, op.op, op.value)
		}
		if p.attr != "role" || p.sub != "" || p.filter != nil {
			return errPath(SchemaCohortUser + " has only the attribute role.")
		}
		return applyUserRole(d, op.op, op.value)
	default:
		return errPath("Users have no attribute " + jsonQuote(p.raw) + ".")
	}
	if ignoredUserAttrs[p.attr] {
		return nil
	}
	if p.attr == "emails" {
		return applyUserEmails(d, p, op.op, op.value)
	}
	if p.filter != nil {
		return errPath(jsonQuote(p.raw) + ": only multi-valued attributes take a [filter], and " + p.attr + " is not one.")
	}
	switch p.attr {
	case "username", "externalid", "active":
		if p.sub != "" {
			return errPath(p.attr + " has no sub-attributes.")
		}
		return applyUserScalar(d, p.attr, op.op, op.value)
	case "name":
		if p.sub == "" {
			return applyUserName(d, op.op, op.value)
		}
		return applyUserNamePart(d, p.sub, op.op, op.value)
	case "id", "meta", "groups", "schemas":
		return errMutability(p.attr + " is read-only.")
	}
	return errPath("Users have no attribute " + jsonQuote(p.raw) + ": patch userName, name, externalId, active or " + SchemaCohortUser + ":role.")
}

func applyUserScalar(d *userDraft, attr, op string, v json.RawMessage) error {
	switch attr {
	case "username":
		if op == "remove" {
			return errMutability("userName is required and cannot be removed.")
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return errValue("userName must be a string.")
		}
		if !d.emailSet && strings.EqualFold(d.email, d.userName) && cohort.IsEmail(s) {
			// The email was the userName: it follows.
			d.email = s
		}
		d.userName = s
	case "externalid":
		if op == "remove" {
			d.externalID = ""
			return nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return errValue("externalId must be a string.")
		}
		d.externalID = strings.TrimSpace(s)
	case "active":
		if op == "remove" {
			return errMutability("active cannot be removed: set it to true or false.")
		}
		b, err := parseFlexBool(v)
		if err != nil {
			return errValue("active must be true or false (or the strings \"True\"/\"False\").")
		}
		d.active = b
	}
	return nil
}

func applyUserName(d *userDraft, op string, v json.RawMessage) error {
	if op == "remove" {
		return errMutability("name is required: a user keeps a given name, a family name or both.")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(v, &obj); err != nil {
		return errValue("name must be an object such as {\"givenName\": \"Jane\", \"familyName\": \"Doe\"}.")
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if err := applyUserNamePart(d, strings.ToLower(k), op, obj[k]); err != nil {
			return err
		}
	}
	return nil
}

func applyUserNamePart(d *userDraft, sub, op string, v json.RawMessage) error {
	switch sub {
	case "givenname", "familyname":
	case "formatted", "middlename", "honorificprefix", "honorificsuffix":
		return nil // derived or not kept
	default:
		return errPath("name has no sub-attribute " + sub + ": use name.givenName or name.familyName.")
	}
	var s string
	if op != "remove" {
		if err := json.Unmarshal(v, &s); err != nil {
			return errValue("name." + sub + " must be a string.")
		}
	}
	// Removing one part is fine while the other remains (validateDraft
	// checks).
	if sub == "givenname" {
		d.given = s
	} else {
		d.family = s
	}
	return nil
}

// applyUserEmails sets the one email Cohort keeps: "emails" with a list
// (the primary one, else the first of type work, else the first), or
// emails[type eq "work"].value with a string, as Okta and Entra ID send
// it. Removing it leaves the user without an email.
func applyUserEmails(d *userDraft, p *patchPath, op string, v json.RawMessage) error {
	d.emailSet = true
	if op == "remove" {
		d.email = ""
		return nil
	}
	if p.sub == "" && p.filter == nil {
		var list []emailInput
		if err := json.Unmarshal(v, &list); err != nil {
			var one emailInput
			if err := json.Unmarshal(v, &one); err != nil {
				return errValue("emails must be a list such as [{\"value\": \"jane@example.com\", \"type\": \"work\", \"primary\": true}].")
			}
			list = []emailInput{one}
		}
		d.email = pickEmail(list)
		return nil
	}
	if p.sub == "value" {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return errValue("emails value must be a string.")
		}
		d.email = s
		return nil
	}
	return nil // type and primary: Cohort keeps one work address
}

func applyUserRole(d *userDraft, op string, v json.RawMessage) error {
	if op == "remove" {
		d.role = cohort.RolePractitioner
		return nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return errValue(SchemaCohortUser + ":role must be a string.")
	}
	d.role = cohort.Role(strings.TrimSpace(s))
	return nil
}

func applyUserExtObject(d *userDraft, op string, v json.RawMessage) error {
	if op == "remove" {
		d.role = cohort.RolePractitioner
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(v, &obj); err != nil {
		return errValue(SchemaCohortUser + " must be an object such as {\"role\": \"practitioner\"}.")
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		switch strings.ToLower(k) {
		case "role":
			if err := applyUserRole(d, op, obj[k]); err != nil {
				return err
			}
		case "isowner":
			// read-only; ignored
		default:
			return errPath(SchemaCohortUser + " has only the attribute role.")
		}
	}
	return nil
}

// applyUserObject is add/replace without a path. Keys may be attribute
// names or full paths ("name.givenName", "urn:…:User:role"), as Entra ID
// sends them.
func applyUserObject(d *userDraft, op patchOp) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(op.value, &obj); err != nil {
		return errValue("An " + op.op + " without a path needs an object value such as {\"active\": false}.")
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		switch strings.ToLower(k) {
		case "id", "meta", "schemas", "groups":
			continue // read-only: ignored
		}
		p, err := parsePatchPath(k)
		if err != nil {
			return err
		}
		if err := applyUserOp(d, patchOp{op: op.op, path: &p, value: obj[k]}); err != nil {
			return err
		}
	}
	return nil
}

func (h *Handler) handleUserPatch(w http.ResponseWriter, r *http.Request) error {
	ops, err := parsePatch(r)
	if err != nil {
		return err
	}
	cur, err := h.findUser(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := checkIfMatch(r, cur.Version); err != nil {
		return err
	}
	d := draftOf(cur)
	for _, op := range ops {
		if err := applyUserOp(&d, op); err != nil {
			return err
		}
	}
	if err := validateDraft(&d); err != nil {
		return err
	}
	u, err := h.commitUser(r.Context(), cur, d, r.Header.Get("If-Match") != "")
	if err != nil {
		return err
	}
	// PATCH on a User answers 200 with the user (Okta and Entra ID both
	// read it).
	return h.writeUser(w, r, http.StatusOK, u)
}
