package cohort

import "context"

// GroupRef names a group beside a person in a list.
type GroupRef struct {
	ID     string
	Name   string
	Status Status
}

// MaxGroupsOfUsers bounds one GroupsOfUsers call: a page of a list.
const MaxGroupsOfUsers = 1000

// DirectoryService answers the staff lists' questions in one query per
// page instead of one per person.
type DirectoryService interface {
	// GroupsOfUsers returns the groups of each of userIDs (at most
	// MaxGroupsOfUsers) with the given status ("" for all), ordered by
	// name. Every staff member may ask (CanViewGroups).
	GroupsOfUsers(ctx context.Context, userIDs []string, status Status) (map[string][]GroupRef, error)
	// StaffLocations lists the distinct locations of the workspace's
	// active staff (compared by SearchKey), ordered, at most
	// MaxStaffLocations: the choices of a location filter. Staff who see
	// the Directory may ask.
	StaffLocations(ctx context.Context) ([]string, error)
}

// MaxStaffLocations bounds StaffLocations: a practice group has tens of
// sites, not hundreds; a longer list is searched instead of chosen from.
const MaxStaffLocations = 200
