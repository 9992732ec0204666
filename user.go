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
	// Email is the staff member's email as entered or sent (case kept);
	// "" when they have none.
	Email string
	// UserName is the SCIM userName as sent (case kept): the email for
	// staff added in Cohort, an email, UPN or employee ID for staff an
	// identity provider added. Unique in the workspace, case-insensitively,
	// among the staff SCIM sees.
	UserName string
	// SignsIn says the staff member signs in with Email: false when they
	// have no email, or when another staff member already signs in with
	// it (SCIM allows two users one email). They can still sign in
	// through the identity provider, never with a password.
	SignsIn bool
	// Deprovisioned says an identity provider deleted the staff member
	// through SCIM: they are archived in Cohort, and SCIM no longer sees
	// them until a POST of the same userName restores them.
	Deprovisioned bool
	GivenName     string
	FamilyName    string
	Role          Role
	Status        Status
	IsOwner       bool
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

// CleanEmail trims an email address and normalises it with NFKC, keeping
// its letter case: the form Cohort stores and shows.
func CleanEmail(s string) string {
	s = strings.TrimSpace(s)
	if utf8.ValidString(s) {
		s = norm.NFKC.String(s)
	}
	return s
}

// NormalizeUserName trims a SCIM userName and normalises it with NFKC,
// keeping its letter case: the form stored and shown. Filters normalise
// their userName values the same way.
func NormalizeUserName(s string) string { return CleanEmail(s) }

// UserNameKey is the key userNames are compared and kept unique by:
// NormalizeUserName, lower-cased.
func UserNameKey(s string) string { return strings.ToLower(NormalizeUserName(s)) }

// IsEmail reports whether s, normalised, is a valid email address.
func IsEmail(s string) bool {
	_, err := ValidateEmail(s)
	return err == nil
}

// ValidateUserName normalises and checks a SCIM userName: any non-empty
// text without control or invisible characters, at most 254 characters.
func ValidateUserName(s string) (string, error) {
	n := NormalizeUserName(s)
	if n == "" {
		return n, FieldError("user_name", "Enter a user name.")
	}
	if p := textProblem("user name", n, false); p != "" {
		return n, FieldError("user_name", p)
	}
	for _, r := range n {
		if invisible(r) {
			return n, FieldError("user_name", "The user name contains an invisible character ("+describeRune(r)+"): remove it.")
		}
	}
	if len(n) > EmailMax {
		return n, FieldError("user_name", "The user name is too long: use at most 254 characters.")
	}
	return n, nil
}

// ValidateEmail normalises and checks an email address. It returns the
// folded form (NormalizeEmail), the key emails are compared by.
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

// validateNames normalises and checks a given and a family name: either
// may be empty (some people have one name), not both.
func validateNames(given, family string) (string, string, error) {
	var v Validation
	given, family = NormalizeName(given), NormalizeName(family)
	if given == "" && family == "" {
		v.Add("given_name", "Enter the given name, the family name, or both.")
		return given, family, v.Err()
	}
	var err error
	if given != "" {
		if given, err = ValidatePersonName("given_name", "given name", given); err != nil {
			v.Add("given_name", ErrorMessage(err))
		}
	}
	if family != "" {
		if family, err = ValidatePersonName("family_name", "family name", family); err != nil {
			v.Add("family_name", ErrorMessage(err))
		}
	}
	return given, family, v.Err()
}

// CheckNames refuses an update that would leave a user with neither a
// given nor a family name.
func CheckNames(given, family string) error {
	if given == "" && family == "" {
		return FieldError("given_name", "Enter the given name, the family name, or both.")
	}
	return nil
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
	// Email is stored as given (trimmed, NFKC), compared folded. It may
	// be empty when UserName is set: the user then cannot sign in with a
	// password.
	Email string
	// UserName defaults to Email (SCIM sets it).
	UserName string
	// ShareEmail keeps an Email another staff member already signs in
	// with, instead of refusing it; this user then cannot sign in with
	// it (SCIM: emails need not be unique, RFC 7643 §4.1.2).
	ShareEmail bool
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
	if c.UserName != "" {
		if c.UserName, err = ValidateUserName(c.UserName); err != nil {
			v.Add("user_name", ErrorMessage(err))
		}
	}
	if c.Email != "" || c.UserName == "" {
		if _, err = ValidateEmail(c.Email); err != nil {
			v.Add("email", ErrorMessage(err))
		}
		c.Email = CleanEmail(c.Email)
	}
	if c.UserName == "" {
		c.UserName = c.Email
	}
	if c.GivenName, c.FamilyName, err = validateNames(c.GivenName, c.FamilyName); err != nil {
		for f, ms := range ErrorFields(err) {
			for _, m := range ms {
				v.Add(f, m)
			}
		}
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
	if c.Password != "" && c.Email == "" {
		v.Add("password", "A staff member without an email address cannot sign in with a password.")
	} else if c.Password != "" {
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
	// Email "" removes the email (allowed only with a UserName).
	Email *string
	// UserName, when nil, follows Email if it was the same address.
	UserName *string
	// ShareEmail: as in UserCreate.
	ShareEmail bool
	// Deprovisioned, when set, marks the user deleted (true) or not
	// (false) for SCIM; see User.Deprovisioned.
	Deprovisioned *bool
	GivenName     *string
	FamilyName    *string
	Role          *Role
	ExternalID    *string
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
	if u.UserName != nil {
		n, err := ValidateUserName(*u.UserName)
		if err != nil {
			v.Add("user_name", ErrorMessage(err))
		}
		u.UserName = &n
	}
	if u.Email != nil {
		e := CleanEmail(*u.Email)
		if e != "" || u.UserName == nil {
			if _, err := ValidateEmail(e); err != nil {
				v.Add("email", ErrorMessage(err))
			}
		}
		u.Email = &e
	}
	if u.GivenName != nil {
		n := NormalizeName(*u.GivenName)
		if n != "" {
			var err error
			if n, err = ValidatePersonName("given_name", "given name", n); err != nil {
				v.Add("given_name", ErrorMessage(err))
			}
		}
		u.GivenName = &n
	}
	if u.FamilyName != nil {
		n := NormalizeName(*u.FamilyName)
		if n != "" {
			var err error
			if n, err = ValidatePersonName("family_name", "family name", n); err != nil {
				v.Add("family_name", ErrorMessage(err))
			}
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
	Query string
	Email string // exact, case-insensitive
	// UserName matches the SCIM userName, exactly but case-insensitively.
	UserName string
	// Provisioned leaves out staff a SCIM DELETE deprovisioned.
	Provisioned bool
	// Deprovisioned keeps only them (a SCIM POST looking for one to
	// restore).
	Deprovisioned bool
	ExternalID    string
	IDs           []string
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
