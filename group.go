package cohort

import (
	"context"
	"strings"
	"time"
)

// Status of a group or a user.
type Status string

const (
	StatusActive   Status = "active"
	StatusArchived Status = "archived"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return s == StatusActive || s == StatusArchived }

// Limits on group fields.
const (
	GroupNameMax        = 100
	GroupDescriptionMax = 500
	// MaxMemberChange is the largest number of user IDs one change may name
	// (add + remove, or a replacement list); larger sets are refused with a
	// clear message so one request cannot hold the database for long.
	MaxMemberChange = 100000
)

// Group is a named set of staff in one workspace.
type Group struct {
	ID          string
	WorkspaceID string
	Name        string
	Description string
	// ExternalID is the identity provider's ID (SCIM externalId), if any.
	ExternalID string
	Status     Status
	// MemberCount counts the group's active members: the Users column.
	MemberCount int
	// ArchivedMemberCount counts members whose user is archived: they keep
	// the membership but are hidden and not counted.
	ArchivedMemberCount int
	// Version changes on every change to the group (fields or members).
	Version    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
	ArchivedAt *time.Time
	CreatedBy  string // actor name
	UpdatedBy  string // actor name
}

// Archived reports whether the group is archived.
func (g *Group) Archived() bool { return g.Status == StatusArchived }

// ValidateGroupName normalises and checks a group name (see text.go).
func ValidateGroupName(name string) (string, error) {
	return ValidateName("name", "name", name, GroupNameMax, "Enter a name for the group.")
}

// ValidateGroupDescription trims and checks a description: several lines
// of text without control characters.
func ValidateGroupDescription(d string) (string, error) {
	return ValidateText("description", "description", d, GroupDescriptionMax)
}

// GroupCreate is the input of CreateGroup.
type GroupCreate struct {
	Name        string
	Description string
	MemberIDs   []string
	ExternalID  string
}

// Validate normalises c in place and returns field errors.
func (c *GroupCreate) Validate() error {
	var v Validation
	var err error
	if c.Name, err = ValidateGroupName(c.Name); err != nil {
		v.Add("name", ErrorMessage(err))
	}
	if c.Description, err = ValidateGroupDescription(c.Description); err != nil {
		v.Add("description", ErrorMessage(err))
	}
	if c.ExternalID, err = ValidateExternalID(c.ExternalID); err != nil {
		v.Add("external_id", ErrorMessage(err))
	}
	if len(c.MemberIDs) > MaxMemberChange {
		v.Add("member_ids", "Too many members in one request: send at most 100000.")
	}
	c.MemberIDs = UniqueIDs(c.MemberIDs)
	return v.Err()
}

// GroupUpdate changes a group. Nil pointers leave a field as it is.
// Add/Remove are member deltas; ReplaceMembers (non-nil) sets the whole
// member list. IfVersion, when non-zero, must equal the group's current
// version or the update fails with ESTALE and changes nothing.
type GroupUpdate struct {
	Name           *string
	Description    *string
	ExternalID     *string
	Add            []string
	Remove         []string
	ReplaceMembers *[]string
	IfVersion      int64
}

// Validate normalises u in place and returns field errors.
func (u *GroupUpdate) Validate() error {
	var v Validation
	if u.Name != nil {
		n, err := ValidateGroupName(*u.Name)
		if err != nil {
			v.Add("name", ErrorMessage(err))
		}
		u.Name = &n
	}
	if u.Description != nil {
		d, err := ValidateGroupDescription(*u.Description)
		if err != nil {
			v.Add("description", ErrorMessage(err))
		}
		u.Description = &d
	}
	if u.ExternalID != nil {
		e, err := ValidateExternalID(*u.ExternalID)
		if err != nil {
			v.Add("external_id", ErrorMessage(err))
		}
		u.ExternalID = &e
	}
	n := len(u.Add) + len(u.Remove)
	if u.ReplaceMembers != nil {
		n += len(*u.ReplaceMembers)
		ids := UniqueIDs(*u.ReplaceMembers)
		u.ReplaceMembers = &ids
	}
	if n > MaxMemberChange {
		v.Add("members", "Too many members in one request: send at most 100000.")
	}
	u.Add = UniqueIDs(u.Add)
	u.Remove = UniqueIDs(u.Remove)
	return v.Err()
}

// ChangesMembers reports whether u touches membership.
func (u *GroupUpdate) ChangesMembers() bool {
	return len(u.Add) > 0 || len(u.Remove) > 0 || u.ReplaceMembers != nil
}

// UniqueIDs returns ids without blanks and duplicates, first occurrence kept.
func UniqueIDs(ids []string) []string {
	if len(ids) == 0 {
		return ids
	}
	seen := make(map[string]struct{}, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if _, ok := seen[id]; ok {
			continue
		}
		seen[id] = struct{}{}
		out = append(out, id)
	}
	return out
}

// GroupFilter selects groups. Results are ordered by name key then ID, and
// paged by keyset: After is an opaque cursor from a previous page.
type GroupFilter struct {
	Status Status // "" means all
	// Query matches names containing it, case-insensitively.
	Query string
	// Name matches the normalised name exactly, case-insensitively.
	Name       string
	ExternalID string
	IDs        []string
	// MemberID keeps only groups that this user belongs to.
	MemberID string
	// UpdatedAfter/UpdatedBefore bound UpdatedAt (SCIM meta.lastModified).
	UpdatedAfter  *time.Time
	UpdatedBefore *time.Time
	Limit         int    // 0 means no limit
	Offset        int    // for SCIM startIndex; prefer the cursor
	After         string // cursor: return rows after this one
	Before        string // cursor: return rows before this one (previous page)
	// SkipTotal says the caller does not show GroupPage.Total (an API page
	// has links only), so the store need not count every matching group
	// for each page; Total is then 0.
	SkipTotal bool
}

// GroupPage is one page of groups.
type GroupPage struct {
	Groups []*Group
	// Total is the number of groups matching the filter, all pages (0 when
	// the filter's SkipTotal is set).
	Total int
	// Next/Prev are cursors for the neighbouring pages, "" at either end.
	Next string
	Prev string
}

// MemberChange reports what a member change actually did.
type MemberChange struct {
	Added   []string
	Removed []string
}

// GroupService stores groups. Every method works within the actor's
// workspace and checks the actor's permission.
type GroupService interface {
	FindGroupByID(ctx context.Context, id string) (*Group, error)
	FindGroups(ctx context.Context, f GroupFilter) (*GroupPage, error)
	// CountGroups returns the number of active and archived groups.
	CountGroups(ctx context.Context) (active, archived int, err error)
	// CreateGroup fails with ECONFLICT when an active group holds the name.
	CreateGroup(ctx context.Context, c GroupCreate) (*Group, error)
	// UpdateGroup fails with EARCHIVED on an archived group, ESTALE on a
	// version mismatch, ECONFLICT on a taken name, EINVALID on unknown
	// member IDs.
	UpdateGroup(ctx context.Context, id string, u GroupUpdate) (*Group, MemberChange, error)
	// ArchiveGroup is idempotent. ifVersion, when non-zero, must equal the
	// group's version when the archive is applied, or it fails with
	// ESTALE: the condition is checked inside the transaction that acts
	// on it, so no write in between is lost.
	ArchiveGroup(ctx context.Context, id string, ifVersion int64) (*Group, error)
	// RestoreGroup is idempotent; newName, when not empty, renames the group
	// as it is restored. When an active group holds the name it fails with
	// ECONFLICT and Detail{"offer":"rename"}. ifVersion is as for
	// ArchiveGroup.
	RestoreGroup(ctx context.Context, id string, newName string, ifVersion int64) (*Group, error)
	// FindMembers pages through a group's members (active and archived as
	// the filter says), ordered by family name, given name, ID.
	FindMembers(ctx context.Context, groupID string, f UserFilter) (*UserPage, error)
	// FindArchivedByName finds archived groups holding a name, so a
	// form can point them out.
	FindArchivedByName(ctx context.Context, name string) ([]*Group, error)
}
