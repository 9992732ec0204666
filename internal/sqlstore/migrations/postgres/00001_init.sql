-- Cohort schema for PostgreSQL: the same tables, columns and version
-- numbers as SQLite's. Times are TIMESTAMPTZ; the key columns used for
-- sorting and prefix search are COLLATE "C" so that order and prefix ranges
-- are byte order, exactly as on SQLite.

-- +goose Up
CREATE TABLE workspaces (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    slug       TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    email         TEXT COLLATE "C" NOT NULL,
    given_name    TEXT NOT NULL,
    family_name   TEXT NOT NULL,
    given_key     TEXT COLLATE "C" NOT NULL,
    family_key    TEXT COLLATE "C" NOT NULL,
    full_key      TEXT COLLATE "C" NOT NULL,
    role          TEXT NOT NULL,
    status        TEXT NOT NULL,
    is_owner      BOOLEAN NOT NULL DEFAULT FALSE,
    external_id   TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    version       BIGINT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    archived_at   TIMESTAMPTZ
);
CREATE UNIQUE INDEX users_email ON users (workspace_id, email);
CREATE INDEX users_email_any ON users (email);
CREATE UNIQUE INDEX users_one_owner ON users (workspace_id) WHERE is_owner;
CREATE INDEX users_sort ON users (workspace_id, family_key, given_key, id);
CREATE INDEX users_status_sort ON users (workspace_id, status, family_key, given_key, id);
CREATE INDEX users_given ON users (workspace_id, given_key);
CREATE INDEX users_full ON users (workspace_id, full_key);
CREATE INDEX users_external ON users (workspace_id, external_id) WHERE external_id <> '';

CREATE TABLE groups (
    id                    TEXT COLLATE "C" PRIMARY KEY,
    workspace_id          TEXT NOT NULL REFERENCES workspaces (id),
    name                  TEXT NOT NULL,
    name_key              TEXT COLLATE "C" NOT NULL,
    description           TEXT NOT NULL DEFAULT '',
    external_id           TEXT NOT NULL DEFAULT '',
    status                TEXT NOT NULL,
    member_count          INTEGER NOT NULL DEFAULT 0,
    archived_member_count INTEGER NOT NULL DEFAULT 0,
    version               BIGINT NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    archived_at           TIMESTAMPTZ,
    created_by            TEXT NOT NULL DEFAULT '',
    updated_by            TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX groups_active_name ON groups (workspace_id, name_key) WHERE status = 'active';
CREATE INDEX groups_status_sort ON groups (workspace_id, status, name_key, id);
CREATE INDEX groups_sort ON groups (workspace_id, name_key, id);
CREATE INDEX groups_external ON groups (workspace_id, external_id) WHERE external_id <> '';

CREATE TABLE memberships (
    group_id     TEXT COLLATE "C" NOT NULL REFERENCES groups (id),
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    workspace_id TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id, group_id);

CREATE TABLE audit_entries (
    id            TEXT COLLATE "C" PRIMARY KEY,
    workspace_id  TEXT NOT NULL,
    time          TIMESTAMPTZ NOT NULL,
    actor_name    TEXT NOT NULL,
    actor_user_id TEXT NOT NULL,
    actor_key_id  TEXT NOT NULL,
    action        TEXT NOT NULL,
    target_type   TEXT NOT NULL,
    target_id     TEXT NOT NULL,
    target_name   TEXT NOT NULL,
    changes       JSON NOT NULL,
    via           TEXT NOT NULL,
    request_id    TEXT NOT NULL
);
CREATE INDEX audit_time ON audit_entries (workspace_id, time, id);
CREATE INDEX audit_target ON audit_entries (workspace_id, target_id, time, id);

-- Audit entries are evidence: the database itself refuses to change them.
-- +goose StatementBegin
CREATE FUNCTION audit_entries_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are never changed or deleted';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_entries_no_change BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries_immutable();

-- Events get their seq inside the writers' commit-order lock (see
-- events.go), so the relay never sees a later seq before an earlier one.
CREATE TABLE events (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    workspace_id TEXT NOT NULL,
    type         TEXT NOT NULL,
    time         TIMESTAMPTZ NOT NULL,
    data         JSON NOT NULL
);
CREATE INDEX events_workspace ON events (workspace_id, seq);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    user_id      TEXT NOT NULL REFERENCES users (id),
    csrf_token   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    created_by   TEXT NOT NULL,
    expires_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id, created_at);

CREATE TABLE webhooks (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    url           TEXT NOT NULL,
    events        TEXT NOT NULL,
    secret        TEXT NOT NULL,
    active        BOOLEAN NOT NULL,
    paused_at     TIMESTAMPTZ,
    paused_reason TEXT NOT NULL DEFAULT '',
    failure_count INTEGER NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL,
    deleted_at    TIMESTAMPTZ
);
CREATE INDEX webhooks_workspace ON webhooks (workspace_id);

CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id),
    workspace_id    TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    event_seq       BIGINT NOT NULL,
    event_type      TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_code       INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    next_attempt    TIMESTAMPTZ NOT NULL,
    lease_until     TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    delivered_at    TIMESTAMPTZ,
    last_attempt_at TIMESTAMPTZ,
    UNIQUE (webhook_id, event_seq)
);
CREATE INDEX deliveries_pending ON deliveries (status, next_attempt);
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, status, event_seq);

-- The relay's position in the outbox: one row, shared by every instance.
CREATE TABLE relay_position (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);
INSERT INTO relay_position (id, seq) VALUES (1, 0);

CREATE TABLE idempotency (
    workspace_id TEXT NOT NULL,
    principal    TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code  INTEGER NOT NULL,
    body         BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, principal, key)
);
CREATE INDEX idempotency_created ON idempotency (created_at);

-- +goose Down
DROP TABLE idempotency;
DROP TABLE relay_position;
DROP TABLE deliveries;
DROP TABLE webhooks;
DROP TABLE api_keys;
DROP TABLE sessions;
DROP TABLE events;
DROP TABLE audit_entries;
DROP FUNCTION audit_entries_immutable;
DROP TABLE memberships;
DROP TABLE groups;
DROP TABLE users;
DROP TABLE workspaces;
