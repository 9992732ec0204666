-- Staff attributes (issue 15): the optional job title, location, phone and
-- employment type a practice tells people apart and groups them by. Each
-- has a search key (cohort.SearchKey of the value) that the staff search
-- matches by prefix, as it does names, through an index that leads with
-- (workspace_id, status) and carries the sort key, like 00003's. The role
-- gets the same index: the picker filters and searches by role.

-- +goose Up
ALTER TABLE users ADD COLUMN job_title TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN location TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN employment_type TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN job_key TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN location_key TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN phone_key TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN employment_key TEXT NOT NULL DEFAULT '';
CREATE INDEX users_status_job ON users (workspace_id, status, job_key, family_key, given_key, id);
CREATE INDEX users_status_location ON users (workspace_id, status, location_key, family_key, given_key, id);
CREATE INDEX users_status_phone ON users (workspace_id, status, phone_key, family_key, given_key, id);
CREATE INDEX users_status_employment ON users (workspace_id, status, employment_key, family_key, given_key, id);
CREATE INDEX users_status_role ON users (workspace_id, status, role, family_key, given_key, id);

-- +goose Down
DROP INDEX users_status_role;
DROP INDEX users_status_employment;
DROP INDEX users_status_phone;
DROP INDEX users_status_location;
DROP INDEX users_status_job;
ALTER TABLE users DROP COLUMN employment_key;
ALTER TABLE users DROP COLUMN phone_key;
ALTER TABLE users DROP COLUMN location_key;
ALTER TABLE users DROP COLUMN job_key;
ALTER TABLE users DROP COLUMN employment_type;
ALTER TABLE users DROP COLUMN phone;
ALTER TABLE users DROP COLUMN location;
ALTER TABLE users DROP COLUMN job_title;
