-- user_counts keeps how many active and archived staff each workspace
-- has, so the Users page and the picker show their totals from one row
-- instead of counting 50,000 staff. Triggers keep it exact whichever
-- statement adds a user or changes their status (see 00004 for groups).

-- +goose Up
CREATE TABLE user_counts (
    workspace_id TEXT PRIMARY KEY,
    active       INTEGER NOT NULL DEFAULT 0,
    archived     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

INSERT INTO user_counts (workspace_id, active, archived)
SELECT workspace_id, SUM(status = 'active'), SUM(status = 'archived') FROM users GROUP BY workspace_id;

-- +goose StatementBegin
CREATE TRIGGER users_count_insert AFTER INSERT ON users BEGIN
    INSERT INTO user_counts (workspace_id, active, archived)
    VALUES (NEW.workspace_id, NEW.status = 'active', NEW.status = 'archived')
    ON CONFLICT (workspace_id) DO UPDATE SET active = active + excluded.active, archived = archived + excluded.archived;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER users_count_update AFTER UPDATE OF status ON users WHEN OLD.status <> NEW.status BEGIN
    UPDATE user_counts SET
        active = active + (NEW.status = 'active') - (OLD.status = 'active'),
        archived = archived + (NEW.status = 'archived') - (OLD.status = 'archived')
    WHERE workspace_id = NEW.workspace_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER users_count_delete AFTER DELETE ON users BEGIN
    UPDATE user_counts SET
        active = active - (OLD.status = 'active'),
        archived = archived - (OLD.status = 'archived')
    WHERE workspace_id = OLD.workspace_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER users_count_delete;
DROP TRIGGER users_count_update;
DROP TRIGGER users_count_insert;
DROP TABLE user_counts;
