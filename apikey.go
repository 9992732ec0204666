package cohort

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Scope limits what an API key may do.
type Scope string

const (
	ScopeGroupsRead  Scope = "groups:read"
	ScopeGroupsWrite Scope = "groups:write"
	ScopeUsersRead   Scope = "users:read"
	ScopeUsersWrite  Scope = "users:write"
	// ScopeSCIM allows /scim/v2 and nothing under /api/v1.
	ScopeSCIM Scope = "scim"
)

// Scopes lists every scope.
var Scopes = []Scope{ScopeGroupsRead, ScopeGroupsWrite, ScopeUsersRead, ScopeUsersWrite, ScopeSCIM}

// APIKeyPrefix starts every token, so secret scanners can find leaked ones.
const APIKeyPrefix = "cohort_"

// ParseScopes parses a comma-separated scope list.
func ParseScopes(s string) ([]Scope, error) {
	var out []Scope
	seen := map[Scope]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		sc := Scope(p)
		ok := false
		for _, k := range Scopes {
			ok = ok || sc == k
		}
		if !ok {
			return nil, FieldError("scopes", "Unknown scope "+p+": use groups:read, groups:write, users:read, users:write or scim.")
		}
		if !seen[sc] {
			seen[sc] = true
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, FieldError("scopes", "Choose at least one scope.")
	}
	return out, nil
}

// HasScope reports whether k carries s.
func (k *APIKey) HasScope(s Scope) bool {
	for _, have := range k.Scopes {
		if have == s {
			return true
		}
	}
	return false
}

// APIKey is a credential for the REST API or SCIM. Only a hash of its
// token is stored.
type APIKey struct {
	ID          string
	WorkspaceID string
	Name        string
	Scopes      []Scope
	// Prefix is the first characters of the token, shown to tell keys apart.
	Prefix     string
	CreatedAt  time.Time
	CreatedBy  string
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// APIKeyCreate is the input of CreateAPIKey.
type APIKeyCreate struct {
	Name      string
	Scopes    []Scope
	ExpiresAt *time.Time
}

// APIKeyNameMax bounds an API key's name.
const APIKeyNameMax = 100

// ValidateAPIKeyName normalises and checks an API key's name.
func ValidateAPIKeyName(name string) (string, error) {
	return ValidateName("name", "name", name, APIKeyNameMax, "Enter a name for the key, e.g. the system that will use it.")
}

// Validate normalises c in place and returns field errors. The expiry is
// checked against the time by the store, which takes it once.
func (c *APIKeyCreate) Validate() error {
	var v Validation
	var err error
	if c.Name, err = ValidateAPIKeyName(c.Name); err != nil {
		v.Add("name", ErrorMessage(err))
	}
	var scopes []Scope
	for _, s := range c.Scopes {
		if _, err := ParseScopes(string(s)); err != nil || strings.Contains(string(s), ",") {
			v.Add("scopes", "Unknown scope "+string(s)+": use groups:read, groups:write, users:read, users:write or scim.")
			continue
		}
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	if len(c.Scopes) == 0 {
		v.Add("scopes", "Choose at least one scope.")
	}
	c.Scopes = scopes
	return v.Err()
}

// Actor returns the actor for a request authenticated with k.
func (k *APIKey) Actor(via, requestID string) Actor {
	return Actor{
		WorkspaceID: k.WorkspaceID,
		APIKeyID:    k.ID,
		Name:        k.Name,
		Scopes:      k.Scopes,
		Via:         via,
		RequestID:   requestID,
	}
}

// APIKeyService manages API keys (account owner only) and authenticates
// bearer tokens.
type APIKeyService interface {
	// CreateAPIKey returns the key and its token, which is never stored.
	CreateAPIKey(ctx context.Context, c APIKeyCreate) (*APIKey, string, error)
	FindAPIKeys(ctx context.Context) ([]*APIKey, error)
	RevokeAPIKey(ctx context.Context, id string) error
	// AuthenticateAPIKey finds the live key for a raw token and records its
	// last use (at most once a minute). EUNAUTHORIZED when unknown, revoked
	// or expired. It does not read an actor.
	AuthenticateAPIKey(ctx context.Context, token string) (*APIKey, error)
}
