-- Staff search reads one index per searched key. Leading with
-- (workspace_id, status) and carrying the sort key (family_key, given_key,
-- id) lets each range scan answer the picker's "active staff whose name
-- starts with…" without reading the rows it skips.

-- +goose Up
DROP INDEX users_given;
DROP INDEX users_full;
CREATE INDEX users_status_given ON users (workspace_id, status, given_key, family_key, id);
CREATE INDEX users_status_full ON users (workspace_id, status, full_key, family_key, given_key, id);
CREATE INDEX users_status_email ON users (workspace_id, status, email, family_key, given_key, id);

-- +goose Down
DROP INDEX users_status_email;
DROP INDEX users_status_full;
DROP INDEX users_status_given;
CREATE INDEX users_given ON users (workspace_id, given_key);
CREATE INDEX users_full ON users (workspace_id, full_key);
