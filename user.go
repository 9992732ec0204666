package cohort

import (
	"context"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Role is a staff member's role, after the common practice model.
type Role string

const (
	RolePractitionerAdmin Role = "practitioner_admin"
	RolePractitioner      Role = "practitioner"
	RolePracticeManager   Role = "practice_manager"
	RoleReceptionist      Role = "receptionist"
	RoleAccountant        Role = "accountant"
)

// Roles lists every role in the order the UI shows them.
var Roles = []Role{RolePractitionerAdmin, RolePractitioner, RolePracticeManager, RoleReceptionist, RoleAccountant}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, k := range Roles {
		if r == k {
			return true
		}
	}
	return false
}

// Label is the role as people read it.
func (r Role) Label() string {
	switch r {
	case RolePractitionerAdmin:
		return "Practitioner admin"
	case RolePractitioner:
		return "Practitioner"
	case RolePracticeManager:
		return "Practice manager"
	case RoleReceptionist:
		return "Receptionist"
	case RoleAccountant:
		return "Accountant"
	}
	return string(r)
}

// Limits on user fields.
const (
	NameMax  = 100
	EmailMax = 254
	// PasswordMin is the shortest password accepted.
	PasswordMin = 12
	PasswordMax = 256
)

// User is a staff member of one workspace.
type User struct {
	ID          string
	WorkspaceID string
	Email       string
	GivenName   string
	FamilyName  string
	Role        Role
	Status      Status
	IsOwner     bool
	// ExternalID is the identity provider's ID (SCIM externalId), if any.
	ExternalID string
	// StaffAttributes are the optional job title, location, phone and
	// employment type (staff.go).
	StaffAttributes
	Version    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
	ArchivedAt *time.Time
}

// Name is "Given Family".
func (u *User) Name() string {
	return strings.TrimSpace(u.GivenName + " " + u.FamilyName)
}

// Archived reports whether the user is archived.
func (u *User) Archived() bool { return u.Status == StatusArchived }

// NormalizeEmail trims an email address, normalises it with NFKC (so a
// full-width "ａ" is an "a") and lower-cases it; emails are unique per
// workspace, case-insensitively.
func NormalizeEmail(s string) string {
	s = strings.TrimSpace(s)
	if utf8.ValidString(s) {
		s = norm.NFKC.String(s)
	}
	return strings.ToLower(s)
}

// ValidateEmail normalises and checks an email address.
func ValidateEmail(s string) (string, error) {
	e := NormalizeEmail(s)
	if e == "" {
		return e, FieldError("email", "Enter an email address.")
	}
	if p := textProblem("email address", e, false); p != "" {
		return e, FieldError("email", p)
	}
	for _, r := range e {
		if invisible(r) {
			return e, FieldError("email", "The email address contains an invisible character ("+describeRune(r)+"): remove it.")
		}
	}
	if len(e) > EmailMax {
		return e, FieldError("email", "The email address is too long: use at most 254 characters.")
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || !strings.Contains(e[strings.LastIndex(e, "@")+1:], ".") && !strings.HasSuffix(e, "@localhost") {
		return e, FieldError("email", "Enter an email address like name@example.com.")
	}
	return e, nil
}

// ValidatePersonName normalises and checks a given or family name (or a
// practice's name): field names it for the message, label says it in
// words.
func ValidatePersonName(field, label, s string) (string, error) {
	return ValidateName(field, label, s, NameMax, "Enter the "+label+".")
}

// ErrArchiveSelf refuses a staff member archiving themselves, through any
// interface (the page, an import, the API with a browser session): it
// would end their sessions at once, with no way back in.
func ErrArchiveSelf() error {
	return Errorf(ECONFLICT, "You cannot archive yourself: ask another manager to do it.")
}

// ErrArchiveOwner refuses archiving the account owner, through any
// interface: a practice always has an active owner.
func ErrArchiveOwner(u *User) error {
	return Errorf(ECONFLICT, "%s is the account owner, so they cannot be archived. Make another active staff member the account owner first (only the owner can do that).", u.Name())
}

// ValidatePassword checks a new password's length and that it is not on
// the list of common passwords given (may be nil).
func ValidatePassword(p string, common func(string) bool) error {
	n := utf8.RuneCountInString(p)
	switch {
	case n < PasswordMin:
		return FieldError("password", "Use a password of at least 12 characters.")
	case n > PasswordMax:
		return FieldError("password", "Use a password of at most 256 characters.")
	case common != nil && common(p):
		return FieldError("password", "That password is too common: choose another.")
	}
	return nil
}

// UserCreate is the input of CreateUser.
type UserCreate struct {
	Email      string
	GivenName  string
	FamilyName string
	Role       Role
	ExternalID string
	// Password, when set, is hashed and stored; otherwise the user cannot
	// sign in until a password is set.
	Password string
	// Active=false creates the user archived (SCIM can do this).
	Archived bool
	StaffAttributes
}

// Validate normalises c in place and returns field errors.
func (c *UserCreate) Validate() error {
	var v Validation
	var err error
	if c.Email, err = ValidateEmail(c.Email); err != nil {
		v.Add("email", ErrorMessage(err))
	}
	if c.GivenName, err = ValidatePersonName("given_name", "given name", c.GivenName); err != nil {
		v.Add("given_name", ErrorMessage(err))
	}
	if c.FamilyName, err = ValidatePersonName("family_name", "family name", c.FamilyName); err != nil {
		v.Add("family_name", ErrorMessage(err))
	}
	if c.ExternalID, err = ValidateExternalID(c.ExternalID); err != nil {
		v.Add("external_id", ErrorMessage(err))
	}
	if c.Role == "" {
		c.Role = RolePractitioner
	}
	if !c.Role.Valid() {
		v.Add("role", "Choose a role: practitioner_admin, practitioner, practice_manager, receptionist or accountant.")
	}
	if c.Password != "" {
		if err := ValidatePassword(c.Password, IsCommonPassword); err != nil {
			v.Add("password", ErrorMessage(err))
		}
	}
	c.StaffAttributes.Validate(&v)
	return v.Err()
}

// UserUpdate changes a user. Nil pointers leave a field as it is.
// IfVersion, when non-zero, must equal the user's current version or the
// update fails with ESTALE and changes nothing.
type UserUpdate struct {
	Email      *string
	GivenName  *string
	FamilyName *string
	Role       *Role
	ExternalID *string
	// Status, when set, archives (StatusArchived) or restores
	// (StatusActive) the user in the same transaction as the field
	// changes, with the effects of ArchiveUser or RestoreUser: the whole
	// update is refused, and nothing changes, if it would archive the
	// account owner.
	Status    *Status
	IfVersion int64
	// StaffAttributesUpdate: nil fields are left as they are.
	StaffAttributesUpdate
}

// Validate normalises u in place and returns field errors.
func (u *UserUpdate) Validate() error {
	var v Validation
	if u.Email != nil {
		e, err := ValidateEmail(*u.Email)
		if err != nil {
			v.Add("email", ErrorMessage(err))
		}
		u.Email = &e
	}
	if u.GivenName != nil {
		n, err := ValidatePersonName("given_name", "given name", *u.GivenName)
		if err != nil {
			v.Add("given_name", ErrorMessage(err))
		}
		u.GivenName = &n
	}
	if u.FamilyName != nil {
		n, err := ValidatePersonName("family_name", "family name", *u.FamilyName)
		if err != nil {
			v.Add("family_name", ErrorMessage(err))
		}
		u.FamilyName = &n
	}
	if u.ExternalID != nil {
		e, err := ValidateExternalID(*u.ExternalID)
		if err != nil {
			v.Add("external_id", ErrorMessage(err))
		}
		u.ExternalID = &e
	}
	if u.Role != nil && !u.Role.Valid() {
		v.Add("role", "Choose a role: practitioner_admin, practitioner, practice_manager, receptionist or accountant.")
	}
	if u.Status != nil && !u.Status.Valid() {
		v.Add("status", "Choose a status: active or archived.")
	}
	u.StaffAttributesUpdate.Validate(&v)
	return v.Err()
}

// UserFilter selects users, ordered by family name, given name, then ID.
type UserFilter struct {
	Status Status // "" means all
	Role   Role
	// GroupIDs keeps users in any of these groups.
	GroupIDs []string
	// Query matches, case-insensitively, the start of the family name,
	// the full name ("Given Family"), the email, the job title, the
	// location, the employment type or the phone, or a word of the role's
	// label (RolesMatching).
	Query      string
	Email      string // exact, case-insensitive
	ExternalID string
	IDs        []string
	// UpdatedAfter/UpdatedBefore bound UpdatedAt (SCIM meta.lastModified).
	UpdatedAfter  *time.Time
	UpdatedBefore *time.Time
	// ExcludeGroupID leaves out members of this group (the picker's "add").
	ExcludeGroupID string
	// Location keeps staff whose location is this one (compared as
	// SearchKey: case and spacing aside).
	Location string
	Limit    int
	Offset   int
	After    string
	Before   string
	// SkipTotal says the caller does not show UserPage.Total (an API page
	// has links only), so the store need not count every match; Total is
	// then 0.
	SkipTotal bool
}

// UserPage is one page of users.
type UserPage struct {
	Users []*User
	// Total is the number of users matching the filter, all pages (0 when
	// the filter's SkipTotal is set).
	Total int
	Next  string
	Prev  string
}

// UserService stores staff. Every method works within the actor's
// workspace and checks the actor's permission.
type UserService interface {
	FindUserByID(ctx context.Context, id string) (*User, error)
	FindUsers(ctx context.Context, f UserFilter) (*UserPage, error)
	CreateUser(ctx context.Context, c UserCreate) (*User, error)
	UpdateUser(ctx context.Context, id string, u UserUpdate) (*User, error)
	// ArchiveUser ends the user's sessions in the same transaction. The
	// account owner cannot be archived. ifVersion, when non-zero, must
	// equal the user's version when the change is applied, or it fails
	// with ESTALE (checked inside the transaction).
	ArchiveUser(ctx context.Context, id string, ifVersion int64) (*User, error)
	RestoreUser(ctx context.Context, id string, ifVersion int64) (*User, error)
	// TransferOwnership makes the given active user the account owner; the
	// old owner keeps their role.
	TransferOwnership(ctx context.Context, toUserID string) error
	// FindUserGroups lists the groups a user belongs to.
	FindUserGroups(ctx context.Context, userID string, f GroupFilter) (*GroupPage, error)
	// SetPassword sets a user's password (the user themselves, a manager,
	// or the system).
	SetPassword(ctx context.Context, userID, password string) error
}
