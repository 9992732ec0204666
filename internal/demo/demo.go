// Package demo seeds the Demo Practice: a workspace with realistic staff
// in every role and the example groups of the design, so that a newcomer
// (or a script, or a browser test) can sign in as any role and try the
// groups workflow at once.
package demo

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/cohorthq/cohort"
)

// Demo workspace and sign-ins. One user per role has a predictable email
// so that scripts can sign in as that role; every demo user's password is
// the demo password.
const (
	WorkspaceName = "Demo Practice"
	WorkspaceSlug = "demo"

	OwnerEmail             = "owner@demo.test"
	PractitionerAdminEmail = "practitioner.admin@demo.test"
	PractitionerEmail      = "practitioner@demo.test"
	ManagerEmail           = "manager@demo.test"
	ReceptionistEmail      = "reception@demo.test"
	AccountantEmail        = "accounts@demo.test"
)

type person struct {
	key      string // used by the group lists below
	email    string
	given    string
	family   string
	role     cohort.Role
	archived bool
}

// The owner is created with the workspace; the rest follow. Names reflect
// an Australian allied-health practice, accents and apostrophes included,
// because real staff lists have them and the UI must show them right.
var owner = person{key: "helen", email: OwnerEmail, given: "Helen", family: "Fraser", role: cohort.RolePracticeManager}

var staff = []person{
	{key: "priya", email: PractitionerAdminEmail, given: "Priya", family: "Raman", role: cohort.RolePractitionerAdmin},
	{key: "liam", email: PractitionerEmail, given: "Liam", family: "O'Brien", role: cohort.RolePractitioner},
	{key: "sarah", email: ManagerEmail, given: "Sarah", family: "Thompson", role: cohort.RolePracticeManager},
	{key: "mia", email: ReceptionistEmail, given: "Mia", family: "Kowalski", role: cohort.RoleReceptionist},
	{key: "david", email: AccountantEmail, given: "David", family: "Chen", role: cohort.RoleAccountant},
	{key: "sienna", email: "sienna.patel@demo.test", given: "Sienna", family: "Patel", role: cohort.RolePractitionerAdmin},
	{key: "zoe", email: "zoe.oconnor@demo.test", given: "Zoë", family: "O'Connor", role: cohort.RolePractitioner},
	{key: "jose", email: "jose.nunez@demo.test", given: "José", family: "Núñez", role: cohort.RolePractitioner},
	{key: "aroha", email: "aroha.ngata@demo.test", given: "Aroha", family: "Ngata", role: cohort.RolePractitioner},
	{key: "jack", email: "jack.williams@demo.test", given: "Jack", family: "Williams", role: cohort.RolePractitioner},
	{key: "charlotte", email: "charlotte.brown@demo.test", given: "Charlotte", family: "Brown", role: cohort.RolePractitioner},
	{key: "oliver", email: "oliver.smith@demo.test", given: "Oliver", family: "Smith", role: cohort.RolePractitioner},
	{key: "amelia", email: "amelia.papadopoulos@demo.test", given: "Amelia", family: "Papadopoulos", role: cohort.RolePractitioner},
	{key: "isla", email: "isla.mackenzie@demo.test", given: "Isla", family: "MacKenzie", role: cohort.RolePractitioner},
	{key: "noah", email: "noah.tran@demo.test", given: "Noah", family: "Tran", role: cohort.RolePractitioner},
	{key: "grace", email: "grace.kim@demo.test", given: "Grace", family: "Kim", role: cohort.RolePractitioner},
	{key: "ethan", email: "ethan.walker@demo.test", given: "Ethan", family: "Walker", role: cohort.RolePractitioner},
	{key: "matilda", email: "matilda.jones@demo.test", given: "Matilda", family: "Jones", role: cohort.RolePractitioner},
	{key: "hamish", email: "hamish.campbell@demo.test", given: "Hamish", family: "Campbell", role: cohort.RolePractitioner},
	{key: "kirra", email: "kirra.watson@demo.test", given: "Kirra", family: "Watson", role: cohort.RolePractitioner},
	{key: "ruby", email: "ruby.dsouza@demo.test", given: "Ruby", family: "D'Souza", role: cohort.RolePractitioner},
	{key: "ava", email: "ava.rossi@demo.test", given: "Ava", family: "Rossi", role: cohort.RoleReceptionist},
	{key: "lucas", email: "lucas.fernandez@demo.test", given: "Lucas", family: "Fernández", role: cohort.RoleReceptionist},
	{key: "anh", email: "anh.le@demo.test", given: "Anh", family: "Lê", role: cohort.RoleAccountant},
	// A former physiotherapist: archived, so the Physiotherapists edit page
	// shows that one archived member is hidden and not counted.
	{key: "ben", email: "ben.carter@demo.test", given: "Ben", family: "Carter", role: cohort.RolePractitioner, archived: true},
}

type group struct {
	name        string
	description string
	members     []string
	archived    bool
}

var groups = []group{
	{name: "Physiotherapists", description: "Registered physiotherapists, including the musculoskeletal and sports clinics.",
		members: []string{"priya", "liam", "jose", "jack", "oliver", "hamish", "ben"}},
	{name: "Psychologists", description: "General and clinical psychologists.",
		members: []string{"sienna", "zoe", "aroha", "amelia", "ethan", "ruby"}},
	{name: "Practitioners who treat children", description: "Practitioners with a current Working With Children Check who see paediatric clients.",
		members: []string{"charlotte", "isla", "ruby", "hamish", "zoe", "liam", "kirra"}},
	{name: "After-hours clinicians", description: "Rostered for evening and Saturday sessions.",
		members: []string{"oliver", "ethan", "jack", "amelia"}},
	{name: "Telehealth providers", description: "Offer video consultations.",
		members: []string{"amelia", "ethan", "grace", "kirra", "zoe", "sienna", "aroha", "noah"}},
	{name: "Contractors", description: "Independent contractors who bill through the practice.",
		members: []string{"noah", "grace", "matilda"}},
	{name: "Admin team", description: "Front desk, accounts and practice management.",
		members: []string{"helen", "sarah", "mia", "ava", "lucas", "david", "anh"}},
	{name: "Hydrotherapy program 2024", description: "The 2024 hydrotherapy pilot, finished and kept for the record.",
		members: []string{"priya", "jack"}, archived: true},
}

// Seed creates the Demo Practice when the database has no workspace yet
// and returns it. When any workspace exists it changes nothing and
// returns nil, nil: demo data is never mixed into a real install, and a
// second `serve --demo` keeps what the first one made.
func Seed(ctx context.Context, svc cohort.Services, password string) (*cohort.Workspace, error) {
	existing, err := svc.Workspaces.FindWorkspaces(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: list workspaces: %w", err)
	}
	if len(existing) > 0 {
		return nil, nil
	}
	if err := cohort.ValidatePassword(password, nil); err != nil {
		return nil, fmt.Errorf("demo password: %w", err)
	}

	ws, ownerUser, err := svc.Workspaces.CreateWorkspace(ctx, cohort.WorkspaceCreate{
		Name: WorkspaceName,
		Slug: WorkspaceSlug,
		Owner: cohort.UserCreate{
			Email: owner.email, GivenName: owner.given, FamilyName: owner.family,
			Role: owner.role, Password: password,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("demo: create workspace: %w", err)
	}
	ctx = cohort.NewContextWithActor(ctx, cohort.SystemActor(ws.ID, "Demo data"))

	ids := map[string]string{owner.key: ownerUser.ID}
	for _, p := range staff {
		u, err := svc.Users.CreateUser(ctx, cohort.UserCreate{
			Email: p.email, GivenName: p.given, FamilyName: p.family, Role: p.role, Password: password,
		})
		if err != nil {
			return nil, fmt.Errorf("demo: create user %s: %w", p.email, err)
		}
		ids[p.key] = u.ID
	}

	for _, g := range groups {
		members := make([]string, 0, len(g.members))
		for _, k := range g.members {
			id, ok := ids[k]
			if !ok {
				return nil, fmt.Errorf("demo: group %s names unknown member %q", g.name, k)
			}
			members = append(members, id)
		}
		created, err := svc.Groups.CreateGroup(ctx, cohort.GroupCreate{Name: g.name, Description: g.description, MemberIDs: members})
		if err != nil {
			return nil, fmt.Errorf("demo: create group %s: %w", g.name, err)
		}
		if g.archived {
			if _, err := svc.Groups.ArchiveGroup(ctx, created.ID, 0); err != nil {
				return nil, fmt.Errorf("demo: archive group %s: %w", g.name, err)
			}
		}
	}

	// Users are archived after the groups are made, as happens in a real
	// practice: they keep their memberships but are no longer counted.
	for _, p := range staff {
		if p.archived {
			if _, err := svc.Users.ArchiveUser(ctx, ids[p.key], 0); err != nil {
				return nil, fmt.Errorf("demo: archive user %s: %w", p.email, err)
			}
		}
	}
	return ws, nil
}

// GeneratePassword returns a random password for the demo users: 26
// base32 characters (130 bits), easy to copy from a terminal.
func GeneratePassword() string { return rand.Text() }
