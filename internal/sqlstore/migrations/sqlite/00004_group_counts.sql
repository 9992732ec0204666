-- group_counts keeps how many active and archived groups each workspace
-- has, so the Groups page's tabs and a listing's total read one row
-- instead of counting thousands of groups. Triggers keep it exact
-- whichever statement creates a group or changes its status. One row per
-- workspace: a change touches one counter row only, so concurrent
-- archives and restores cannot wait on each other's counters in a cycle.
--
-- users_status_given goes: a given name is a prefix of full_key
-- ("given family"), so the full-name index answers that search.

-- +goose Up
CREATE TABLE group_counts (
    workspace_id TEXT PRIMARY KEY,
    active       INTEGER NOT NULL DEFAULT 0,
    archived     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

INSERT INTO group_counts (workspace_id, active, archived)
SELECT workspace_id, SUM(status = 'active'), SUM(status = 'archived') FROM groups GROUP BY workspace_id;

-- +goose StatementBegin
CREATE TRIGGER groups_count_insert AFTER INSERT ON groups BEGIN
    INSERT INTO group_counts (workspace_id, active, archived)
    VALUES (NEW.workspace_id, NEW.status = 'active', NEW.status = 'archived')
    ON CONFLICT (workspace_id) DO UPDATE SET active = active + excluded.active, archived = archived + excluded.archived;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER groups_count_update AFTER UPDATE OF status ON groups WHEN OLD.status <> NEW.status BEGIN
    UPDATE group_counts SET
        active = active + (NEW.status = 'active') - (OLD.status = 'active'),
        archived = archived + (NEW.status = 'archived') - (OLD.status = 'archived')
    WHERE workspace_id = NEW.workspace_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER groups_count_delete AFTER DELETE ON groups BEGIN
    UPDATE group_counts SET
        active = active - (OLD.status = 'active'),
        archived = archived - (OLD.status = 'archived')
    WHERE workspace_id = OLD.workspace_id;
END;
-- +goose StatementEnd

DROP INDEX users_status_given;

-- +goose Down
CREATE INDEX users_status_given ON users (workspace_id, status, given_key, family_key, id);
DROP TRIGGER groups_count_delete;
DROP TRIGGER groups_count_update;
DROP TRIGGER groups_count_insert;
DROP TABLE group_counts;
