package events

import (
	"context"

	"github.com/cohorthq/cohort"
)

// checkedWebhooks is a WebhookService that refuses unsafe URLs before the
// store sees them, whichever interface (web page, CLI) creates the webhook.
type checkedWebhooks struct {
	cohort.WebhookService
	allowPrivate bool
}

// CheckWebhookURLs wraps ws so that CreateWebhook first runs
// ValidateWebhookURL. cmd/cohort wires Services.Webhooks through it, so
// the SSRF rule holds for every caller; the relay checks again at connect
// time.
func CheckWebhookURLs(ws cohort.WebhookService, allowPrivate bool) cohort.WebhookService {
	return &checkedWebhooks{WebhookService: ws, allowPrivate: allowPrivate}
}

func (c *checkedWebhooks) CreateWebhook(ctx context.Context, in cohort.WebhookCreate) (*cohort.Webhook, error) {
	if err := ValidateWebhookURL(ctx, in.URL, c.allowPrivate); err != nil {
		return nil, err
	}
	return c.WebhookService.CreateWebhook(ctx, in)
}
