package cohort

// Services bundles every service, as cmd/cohort wires them from one store.
// The edges (web, api, scim, events) receive this and never see SQL.
type Services struct {
	Workspaces  WorkspaceService
	Users       UserService
	Groups      GroupService
	Auth        AuthService
	APIKeys     APIKeyService
	Audit       AuditService
	Events      EventService
	Webhooks    WebhookService
	Deliveries  DeliveryQueue
	Idempotency IdempotencyService
	// Imports and Directory serve the staff pages, CSV import and export.
	Imports   ImportService
	Directory DirectoryService
}
