-- SCIM keeps a staff member's userName and email as the provider sent
-- them, and compares them case-insensitively (issue 14):
--   user_name    userName as sent (trimmed, NFKC); staff added elsewhere
--                have their email.
--   user_key     user_name folded to lower case: unique among the staff
--                SCIM still sees (deprovisioned_at IS NULL).
--   email_cased  the email as sent; email stays the folded sign-in key,
--                or '' when the staff member has no email to sign in with
--                (a userName that is no address and no emails, or an
--                address another staff member already signs in with).
--   deprovisioned_at  when a SCIM DELETE archived the staff member: SCIM
--                answers 404 for them and leaves them out of lists and
--                uniqueness; a later POST of the same userName restores
--                them.

-- +goose Up
ALTER TABLE users ADD COLUMN user_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN user_key TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN email_cased TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN deprovisioned_at TEXT;
UPDATE users SET user_name = email, user_key = email, email_cased = email;
DROP INDEX users_email;
CREATE UNIQUE INDEX users_email ON users (workspace_id, email) WHERE email <> '';
CREATE UNIQUE INDEX users_user_key ON users (workspace_id, user_key) WHERE deprovisioned_at IS NULL;
CREATE INDEX users_user_key_any ON users (workspace_id, user_key);

-- +goose Down
DROP INDEX users_user_key_any;
DROP INDEX users_user_key;
DROP INDEX users_email;
CREATE UNIQUE INDEX users_email ON users (workspace_id, email);
ALTER TABLE users DROP COLUMN deprovisioned_at;
ALTER TABLE users DROP COLUMN email_cased;
ALTER TABLE users DROP COLUMN user_key;
ALTER TABLE users DROP COLUMN user_name;
