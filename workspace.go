package cohort

import (
	"context"
	"regexp"
	"time"
)

// Workspace is one practice: a tenant. Nothing crosses workspaces.
type Workspace struct {
	ID        string
	Name      string
	Slug      string
	CreatedAt time.Time
}

var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$`)

// WorkspaceCreate is the input of CreateWorkspace: the workspace and its
// account owner.
type WorkspaceCreate struct {
	Name  string
	Slug  string
	Owner UserCreate
}

// Validate normalises c in place and returns field errors.
func (c *WorkspaceCreate) Validate() error {
	var v Validation
	n, err := ValidatePersonName("name", "practice name", c.Name)
	if err != nil {
		v.Add("name", ErrorMessage(err))
	}
	c.Name = n
	if !slugRE.MatchString(c.Slug) {
		v.Add("slug", "Use 1–48 lower-case letters, digits and hyphens for the slug, e.g. riverside-physio.")
	}
	if c.Owner.Role == "" {
		c.Owner.Role = RolePracticeManager
	}
	if err := c.Owner.Validate(); err != nil {
		for f, msgs := range ErrorFields(err) {
			for _, m := range msgs {
				v.Add("owner_"+f, m)
			}
		}
	}
	return v.Err()
}

// WorkspaceService creates and finds workspaces. It is used by trusted
// code (CLI, demo, sign-in) and does not read an actor.
type WorkspaceService interface {
	CreateWorkspace(ctx context.Context, c WorkspaceCreate) (*Workspace, *User, error)
	FindWorkspaceBySlug(ctx context.Context, slug string) (*Workspace, error)
	FindWorkspaceByID(ctx context.Context, id string) (*Workspace, error)
	// FindWorkspaces lists every workspace (CLI, demo check).
	FindWorkspaces(ctx context.Context) ([]*Workspace, error)
	// SoleWorkspace returns the installation's only workspace, or nil
	// when it has none or more than one. The sign-in page asks for the
	// practice only when there is a choice.
	SoleWorkspace(ctx context.Context) (*Workspace, error)
}
