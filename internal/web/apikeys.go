package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cohorthq/cohort"
)

// Settings → API keys (account owner only): the keys other systems use
// for the REST API and SCIM. A new key's token is shown once, on the
// answer to the form that created it, and never again: the store keeps
// only its hash.

// requireOwner refuses (403) unless the actor manages integrations.
func (h *Handler) requireOwner(r *http.Request, what string) error {
	if ctxActor(r.Context()).CanManageIntegrations() {
		return nil
	}
	return forbidden("Only the account owner can manage " + what + ".")
}

// maxKeyYears bounds an expiry date: further out, "does not expire" says
// the same thing honestly.
const maxKeyYears = 10

// scopeChoices describe each scope next to its checkbox.
var scopeChoices = []struct {
	Scope cohort.Scope
	Hint  string
}{
	{cohort.ScopeGroupsRead, "Read groups and their members."},
	{cohort.ScopeGroupsWrite, "Create, change, archive and restore groups and change their members (includes reading them)."},
	{cohort.ScopeUsersRead, "Read staff."},
	{cohort.ScopeUsersWrite, "Add, change, archive and restore staff (includes reading them)."},
	{cohort.ScopeSCIM, "Provisioning from an identity provider such as Okta or Entra ID through /scim/v2 only."},
}

// apiKeyRow is one key in the list.
type apiKeyRow struct {
	*cohort.APIKey
	Created  stamp
	Expires  stamp
	LastUsed stamp
	// Status is Active, Revoked or Expired.
	Status string
}

func apiKeyRowOf(k *cohort.APIKey, now time.Time) apiKeyRow {
	row := apiKeyRow{APIKey: k, Created: stampOf(&k.CreatedAt), Expires: stampOf(k.ExpiresAt), LastUsed: stampOf(k.LastUsedAt), Status: "Active"}
	switch {
	case k.RevokedAt != nil:
		row.Status = "Revoked"
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		row.Status = "Expired"
	}
	return row
}

type apiKeyListView struct {
	Page
	Keys []apiKeyRow
}

func (h *Handler) handleAPIKeyList(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireOwner(r, "API keys"); err != nil {
		return err
	}
	keys, err := h.svc.APIKeys.FindAPIKeys(r.Context())
	if err != nil {
		return err
	}
	v := apiKeyListView{Page: h.settingsPage(r, "api-keys", "API keys")}
	now := time.Now()
	for _, k := range keys {
		v.Keys = append(v.Keys, apiKeyRowOf(k, now))
	}
	// The confirmation names the key as the store has it, never text
	// from the address.
	if q := r.URL.Query(); q.Get("done") == "revoked" || q.Get("done") == "shown" {
		for _, k := range keys {
			if k.ID != q.Get("key") {
				continue
			}
			if q.Get("done") == "revoked" {
				v.Flash = fmt.Sprintf("API key %q revoked. Requests that use it are refused from now on.", k.Name)
			} else {
				v.Flash = fmt.Sprintf("API key %q was already created from that form. Its token was shown once and is not shown again: if you did not copy it, revoke the key and create a new one.", k.Name)
			}
		}
	}
	return h.render(w, r, http.StatusOK, "apikeys", v)
}

// apiKeyFormView is the Create API key form and, once created, the page
// that shows the token.
type apiKeyFormView struct {
	Page
	Name    string
	Scopes  map[cohort.Scope]bool
	Expires string
	Choices []struct {
		Scope cohort.Scope
		Hint  string
	}
	Errors  map[string][]string
	Message string
	// Today is the earliest expiry the date field offers.
	Today string
	// FormID makes a second post of this form (a reload of the token
	// page) find the key the first one created (see formonce.go).
	FormID string
}

func (h *Handler) newAPIKeyForm(r *http.Request) apiKeyFormView {
	return apiKeyFormView{Page: h.settingsPage(r, "api-keys", "Create API key"), Scopes: map[cohort.Scope]bool{},
		Choices: scopeChoices, Today: time.Now().Format(dateLayout), FormID: newFormID()}
}

func (v *apiKeyFormView) fieldError(field, msg string) {
	if v.Errors == nil {
		v.Errors = map[string][]string{}
	}
	v.Errors[field] = append(v.Errors[field], msg)
}

func (h *Handler) handleAPIKeyNew(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireOwner(r, "API keys"); err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "apikey_form", h.newAPIKeyForm(r))
}

// apiKeyCreatedView shows a new key's token, once.
type apiKeyCreatedView struct {
	Page
	Key   apiKeyRow
	Token string
}

func (h *Handler) handleAPIKeyCreate(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireOwner(r, "API keys"); err != nil {
		return err
	}
	if err := h.parseForm(r); err != nil {
		return err
	}
	if id := h.formCreated(r, "apikey"); id != "" {
		// A reload of the page that showed the token: it is not shown
		// again, and no second key is made.
		http.Redirect(w, r, "/settings/api-keys?"+url.Values{"done": {"shown"}, "key": {id}}.Encode(), http.StatusSeeOther)
		return nil
	}
	form := r.PostForm
	v := h.newAPIKeyForm(r)
	v.Name = cleanText(form.Get("name"), 400)
	v.Expires = strings.TrimSpace(cleanText(form.Get("expires_at"), 20))
	c := cohort.APIKeyCreate{Name: form.Get("name")}
	if _, err := cohort.ValidateAPIKeyName(c.Name); err != nil {
		v.fieldError("name", cohort.ErrorMessage(err))
	}
	for _, s := range form["scope"] {
		known := false
		for _, k := range cohort.Scopes {
			if string(k) == s {
				known = true
				if !v.Scopes[k] {
					v.Scopes[k] = true
					c.Scopes = append(c.Scopes, k)
				}
			}
		}
		if !known {
			v.fieldError("scopes", "Choose scopes from the list.")
		}
	}
	if len(c.Scopes) == 0 && len(v.Errors["scopes"]) == 0 {
		v.fieldError("scopes", "Choose at least one scope: what the system using this key may do.")
	}
	if v.Expires != "" {
		d, err := time.ParseInLocation(dateLayout, v.Expires, time.Local)
		switch {
		case err != nil:
			v.fieldError("expires_at", "Enter the expiry date as YYYY-MM-DD, e.g. 2027-06-30, or leave it empty for a key that does not expire.")
		case !d.After(time.Now()):
			v.fieldError("expires_at", "Choose an expiry date after today.")
		case d.After(time.Now().AddDate(maxKeyYears, 0, 0)):
			v.fieldError("expires_at", fmt.Sprintf("Choose an expiry date within %d years, or leave it empty for a key that does not expire.", maxKeyYears))
		default:
			// The key works until the end of the chosen day, and the list
			// shows that day ("27 Dec 2026, 23:59"), not the next.
			end := d.AddDate(0, 0, 1).Add(-time.Second)
			c.ExpiresAt = &end
		}
	}
	if len(v.Errors) == 0 {
		k, token, err := h.svc.APIKeys.CreateAPIKey(r.Context(), c)
		switch cohort.ErrorCode(err) {
		case "":
			h.rememberForm(r, "apikey", k.ID)
			// The token is in this answer only: keep it out of every cache.
			w.Header().Set("Cache-Control", "no-store")
			return h.render(w, r, http.StatusCreated, "apikey_created", apiKeyCreatedView{
				Page: h.settingsPage(r, "api-keys", "API key created"), Key: apiKeyRowOf(k, time.Now()), Token: token})
		case cohort.EINVALID:
			markFields(err, []string{"name", "scopes", "expires_at"}, "name", v.fieldError)
		default:
			return err
		}
	}
	v.Message = "The API key was not created. Correct the marked fields and select Create API key again."
	return h.render(w, r, http.StatusUnprocessableEntity, "apikey_form", v)
}

// loadAPIKey finds the key named in the address among the practice's
// keys; another practice's key or a made-up ID is 404.
func (h *Handler) loadAPIKey(r *http.Request) (*cohort.APIKey, error) {
	id := r.PathValue("id")
	keys, err := h.svc.APIKeys.FindAPIKeys(r.Context())
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.ID == id {
			return k, nil
		}
	}
	return nil, notFound("There is no such API key. It may belong to another practice, or the link is wrong.")
}

type apiKeyRevokeView struct {
	Page
	Key apiKeyRow
}

func (h *Handler) handleAPIKeyRevokeConfirm(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireOwner(r, "API keys"); err != nil {
		return err
	}
	k, err := h.loadAPIKey(r)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "apikey_revoke", apiKeyRevokeView{
		Page: h.settingsPage(r, "api-keys", "Revoke API key"), Key: apiKeyRowOf(k, time.Now())})
}

func (h *Handler) handleAPIKeyRevoke(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireOwner(r, "API keys"); err != nil {
		return err
	}
	k, err := h.loadAPIKey(r)
	if err != nil {
		return err
	}
	if err := h.svc.APIKeys.RevokeAPIKey(r.Context(), k.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/settings/api-keys?"+url.Values{"done": {"revoked"}, "key": {k.ID}}.Encode(), http.StatusSeeOther)
	return nil
}
