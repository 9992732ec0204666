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
}
