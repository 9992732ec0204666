-- Failed sign-ins per account and per client address (see throttle.go).
-- key_hash is the SHA-256 of the key, so typed emails and addresses are
-- not kept in clear text; window_start is when the key's window began.

-- +goose Up
CREATE TABLE signin_throttle (
    key_hash     TEXT PRIMARY KEY,
    window_start TEXT NOT NULL,
    failures     INTEGER NOT NULL
);
CREATE INDEX signin_throttle_window ON signin_throttle (window_start);

-- +goose Down
DROP TABLE signin_throttle;
