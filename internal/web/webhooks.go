package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/cohorthq/cohort"
)

// Settings → Webhooks (account owner only): the URLs that receive events,
// each with its delivery log and Resend. A new webhook's signing secret
// is shown once. Services.Webhooks refuses URLs that reach private or
// loopback addresses (the events package wraps the store), and the
// message lands on the URL field.

// deliveriesShown is how many deliveries a webhook's page lists.
const deliveriesShown = 100

// eventChoices describe each event type next to its checkbox.
var eventChoices = map[string]string{
	cohort.ActionGroupCreated:        "A group was created.",
	cohort.ActionGroupUpdated:        "A group's name or description changed.",
	cohort.ActionGroupMembersChanged: "Users were added to or removed from a group.",
	cohort.ActionGroupArchived:       "A group was archived.",
	cohort.ActionGroupRestored:       "A group was restored.",
	cohort.ActionUserCreated:         "A staff member was added.",
	cohort.ActionUserUpdated:         "A staff member's email, name or role changed.",
	cohort.ActionUserArchived:        "A staff member was archived.",
	cohort.ActionUserRestored:        "A staff member was restored.",
}

type eventChoice struct {
	Type string
	Hint string
}

func eventChoiceList() []eventChoice {
	out := make([]eventChoice, len(cohort.EventTypes))
	for i, t := range cohort.EventTypes {
		out[i] = eventChoice{Type: t, Hint: eventChoices[t]}
	}
	return out
}

// webhookRow is a webhook as the pages show it.
type webhookRow struct {
	*cohort.Webhook
	Created stamp
	Paused  stamp
	// AllEvents: subscribed to every type ("*").
	AllEvents bool
}

func webhookRowOf(wh *cohort.Webhook) webhookRow {
	row := webhookRow{Webhook: wh, Created: stampOf(&wh.CreatedAt), Paused: stampOf(wh.PausedAt)}
	for _, e := range wh.Events {
		row.AllEvents = row.AllEvents || e == "*"
	}
	return row
}

// Confirmations on the webhook pages; the URL comes from the store.
var webhookDone = map[string]string{
	"resumed": "Webhook resumed. Deliveries that were waiting go out now.",
	"resent":  "The delivery is queued and will be sent again within a few seconds.",
	"deleted": "Webhook deleted. Nothing more is sent to it; its delivery log is kept in the audit log.",
	"shown":   "This webhook was already added from that form. Its signing secret was shown once and is not shown again: if you did not copy it, delete the webhook and add it again.",
}

type webhookListView struct {
	Page
	Webhooks []webhookRow
	// Paused lists the paused webhooks again, at the top, so the owner
	// notices them.
	Paused []webhookRow
}

func (h *Handler) handleWebhookList(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireOwner(r, "webhooks"); err != nil {
		return err
	}
	hooks, err := h.svc.Webhooks.FindWebhooks(r.Context())
	if err != nil {
		return err
	}
	v := webhookListView{Page: h.settingsPage(r, "webhooks", "Webhooks")}
	for _, wh := range hooks {
		row := webhookRowOf(wh)
		v.Webhooks = append(v.Webhooks, row)
		if !wh.Active {
			v.Paused = append(v.Paused, row)
		}
	}
	if d := r.URL.Query().Get("done"); d == "deleted" {
		v.Flash = webhookDone[d]
	}
	return h.render(w, r, http.StatusOK, "webhooks", v)
}

type webhookFormView struct {
	Page
	URL     string
	Events  map[string]bool
	Choices []eventChoice
	Errors  map[string][]string
	Message string
	// FormID makes a second post of this form (a reload of the secret
	// page) find the webhook the first one added (see formonce.go).
	FormID string
}

func (v *webhookFormView) fieldError(field, msg string) {
	if v.Errors == nil {
		v.Errors = map[string][]string{}
	}
	v.Errors[field] = append(v.Errors[field], msg)
}

func (h *Handler) newWebhookForm(r *http.Request) webhookFormView {
	return webhookFormView{Page: h.settingsPage(r, "webhooks", "Add webhook"), Events: map[string]bool{}, Choices: eventChoiceList(),
		FormID: newFormID()}
}

func (h *Handler) handleWebhookNew(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireOwner(r, "webhooks"); err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "webhook_form", h.newWebhookForm(r))
}

// webhookCreatedView shows a new webhook's signing secret, once.
type webhookCreatedView struct {
	Page
	Webhook webhookRow
	Secret  string
}

// maxWebhookURL bounds the URL field before it reaches the check (which
// names its own, lower limit).
const maxWebhookURL = 8192

// echoURL is how much of a typed URL the form shows again.
const echoURL = 2100

func (h *Handler) handleWebhookCreate(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireOwner(r, "webhooks"); err != nil {
		return err
	}
	if err := h.parseForm(r); err != nil {
		return err
	}
	if id := h.formCreated(r, "webhook"); id != "" {
		// A reload of the page that showed the secret: it is not shown
		// again, and no second webhook is added.
		http.Redirect(w, r, webhookURL(id)+"?done=shown", http.StatusSeeOther)
		return nil
	}
	form := r.PostForm
	v := h.newWebhookForm(r)
	raw := form.Get("url")
	v.URL = cleanText(raw, echoURL)
	c := cohort.WebhookCreate{URL: raw}
	switch {
	case strings.TrimSpace(raw) == "":
		v.fieldError("url", "Enter the URL that should receive the events, e.g. https://example.com/webhooks/cohort.")
	case len(raw) > maxWebhookURL:
		v.fieldError("url", "The URL is too long: use the address your receiver gives you, which is much shorter.")
	case hasBadControl(raw) || strings.ContainsAny(raw, "\r\n\t"):
		v.fieldError("url", "The URL contains characters that cannot be in an address: paste it again.")
	}
	for _, e := range form["event"] {
		if _, ok := eventChoices[e]; !ok {
			v.fieldError("events", "Choose event types from the list.")
			continue
		}
		if !v.Events[e] {
			v.Events[e] = true
			c.Events = append(c.Events, e)
		}
	}
	if len(c.Events) == 0 && len(v.Errors["events"]) == 0 {
		v.fieldError("events", "Choose at least one event type to send.")
	}
	if len(v.Errors) == 0 {
		wh, err := h.svc.Webhooks.CreateWebhook(r.Context(), c)
		switch cohort.ErrorCode(err) {
		case "":
			h.rememberForm(r, "webhook", wh.ID)
			w.Header().Set("Cache-Control", "no-store")
			return h.render(w, r, http.StatusCreated, "webhook_created", webhookCreatedView{
				Page: h.settingsPage(r, "webhooks", "Webhook added"), Webhook: webhookRowOf(wh), Secret: wh.Secret})
		case cohort.EINVALID:
			markFields(err, []string{"url", "events"}, "url", v.fieldError)
		default:
			return err
		}
	}
	v.Message = "The webhook was not added. Correct the marked fields and select Add webhook again."
	return h.render(w, r, http.StatusUnprocessableEntity, "webhook_form", v)
}

// loadWebhook finds the webhook named in the address; another practice's
// or a deleted one is 404.
func (h *Handler) loadWebhook(r *http.Request) (*cohort.Webhook, error) {
	id := r.PathValue("id")
	msg := "There is no such webhook. It may have been deleted, or the link is wrong."
	if !validID(id) {
		return nil, notFound(msg)
	}
	wh, err := h.svc.Webhooks.FindWebhookByID(r.Context(), id)
	if err != nil {
		if cohort.ErrorCode(err) == cohort.ENOTFOUND {
			return nil, notFound(msg)
		}
		return nil, err
	}
	return wh, nil
}

// deliveryRow is one delivery in the log.
type deliveryRow struct {
	*cohort.Delivery
	StatusText  string
	LastAttempt stamp
	NextAttempt stamp
	Delivered   stamp
}

func deliveryRowOf(d *cohort.Delivery) deliveryRow {
	row := deliveryRow{Delivery: d, LastAttempt: stampOf(d.LastAttemptAt), Delivered: stampOf(d.DeliveredAt)}
	switch d.Status {
	case "delivered":
		row.StatusText = "Delivered"
	case "failed":
		row.StatusText = "Failed"
	case "pending":
		row.StatusText = "Waiting"
		if d.Attempts > 0 {
			row.StatusText = "Retrying"
		}
		next := d.NextAttempt
		row.NextAttempt = stampOf(&next)
	default:
		row.StatusText = d.Status
	}
	return row
}

type webhookView struct {
	Page
	Webhook    webhookRow
	Deliveries []deliveryRow
	Message    string
}

func webhookURL(id string) string { return "/settings/webhooks/" + url.PathEscape(id) }

func (h *Handler) handleWebhookView(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireOwner(r, "webhooks"); err != nil {
		return err
	}
	wh, err := h.loadWebhook(r)
	if err != nil {
		return err
	}
	return h.renderWebhook(w, r, http.StatusOK, wh, "")
}

func (h *Handler) renderWebhook(w http.ResponseWriter, r *http.Request, status int, wh *cohort.Webhook, msg string) error {
	ds, err := h.svc.Webhooks.FindDeliveries(r.Context(), wh.ID, deliveriesShown)
	if err != nil {
		return err
	}
	v := webhookView{Page: h.settingsPage(r, "webhooks", "Webhook"), Webhook: webhookRowOf(wh), Message: msg}
	for _, d := range ds {
		v.Deliveries = append(v.Deliveries, deliveryRowOf(d))
	}
	if d := r.URL.Query().Get("done"); d == "resumed" || d == "resent" || d == "shown" {
		v.Flash = webhookDone[d]
	}
	return h.render(w, r, status, "webhook", v)
}

func (h *Handler) handleWebhookResume(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireOwner(r, "webhooks"); err != nil {
		return err
	}
	wh, err := h.loadWebhook(r)
	if err != nil {
		return err
	}
	if err := h.svc.Webhooks.ResumeWebhook(r.Context(), wh.ID); err != nil {
		return err
	}
	http.Redirect(w, r, webhookURL(wh.ID)+"?done=resumed", http.StatusSeeOther)
	return nil
}

// handleWebhookResend queues one delivery of this webhook again. The
// delivery must be in this webhook's log, so a form cannot resend
// another webhook's deliveries through this page.
func (h *Handler) handleWebhookResend(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireOwner(r, "webhooks"); err != nil {
		return err
	}
	wh, err := h.loadWebhook(r)
	if err != nil {
		return err
	}
	if err := h.parseForm(r); err != nil {
		return err
	}
	id := r.PostForm.Get("delivery")
	ds, err := h.svc.Webhooks.FindDeliveries(r.Context(), wh.ID, 1000)
	if err != nil {
		return err
	}
	found := false
	for _, d := range ds {
		found = found || d.ID == id
	}
	if !found {
		return h.renderWebhook(w, r, http.StatusUnprocessableEntity, wh,
			"That delivery is not in this webhook's log, so nothing was sent. Choose Resend next to a delivery below.")
	}
	switch err := h.svc.Webhooks.ResendDelivery(r.Context(), id); cohort.ErrorCode(err) {
	case "":
		http.Redirect(w, r, webhookURL(wh.ID)+"?done=resent", http.StatusSeeOther)
		return nil
	case cohort.EINVALID:
		return h.renderWebhook(w, r, errorStatus(err), wh, cohort.ErrorMessage(err))
	default:
		return err
	}
}

type webhookDeleteView struct {
	Page
	Webhook webhookRow
}

func (h *Handler) handleWebhookDeleteConfirm(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireOwner(r, "webhooks"); err != nil {
		return err
	}
	wh, err := h.loadWebhook(r)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "webhook_delete", webhookDeleteView{Page: h.settingsPage(r, "webhooks", "Delete webhook"), Webhook: webhookRowOf(wh)})
}

func (h *Handler) handleWebhookDelete(w http.ResponseWriter, r *http.Request) error {
	if err := h.requireOwner(r, "webhooks"); err != nil {
		return err
	}
	wh, err := h.loadWebhook(r)
	if err != nil {
		return err
	}
	if err := h.svc.Webhooks.DeleteWebhook(r.Context(), wh.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/settings/webhooks?done=deleted", http.StatusSeeOther)
	return nil
}
