-- group_counts keeps how many active and archived groups each workspace
-- has, so the Groups page's tabs and a listing's total read one row
-- instead of counting thousands of groups. A trigger keeps it exact
-- whichever statement creates a group or changes its status. One row per
-- workspace: a change locks one counter row only, so concurrent archives
-- and restores cannot wait on each other's counters in a cycle.
--
-- users_status_given goes: a given name is a prefix of full_key
-- ("given family"), so the full-name index answers that search.

-- +goose Up
CREATE TABLE group_counts (
    workspace_id TEXT PRIMARY KEY,
    active       BIGINT NOT NULL DEFAULT 0,
    archived     BIGINT NOT NULL DEFAULT 0
);

INSERT INTO group_counts (workspace_id, active, archived)
SELECT workspace_id, COUNT(*) FILTER (WHERE status = 'active'), COUNT(*) FILTER (WHERE status = 'archived')
FROM groups GROUP BY workspace_id;

-- +goose StatementBegin
CREATE FUNCTION groups_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    da BIGINT := 0;
    dr BIGINT := 0;
    ws TEXT;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        da := da - (OLD.status = 'active')::int;
        dr := dr - (OLD.status = 'archived')::int;
        ws := OLD.workspace_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        da := da + (NEW.status = 'active')::int;
        dr := dr + (NEW.status = 'archived')::int;
        ws := NEW.workspace_id;
    END IF;
    INSERT INTO group_counts (workspace_id, active, archived) VALUES (ws, da, dr)
    ON CONFLICT (workspace_id) DO UPDATE
        SET active = group_counts.active + EXCLUDED.active, archived = group_counts.archived + EXCLUDED.archived;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER groups_count_insert_delete AFTER INSERT OR DELETE ON groups
FOR EACH ROW EXECUTE FUNCTION groups_count();

CREATE TRIGGER groups_count_update AFTER UPDATE OF status ON groups
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
EXECUTE FUNCTION groups_count();

DROP INDEX users_status_given;

-- +goose Down
CREATE INDEX users_status_given ON users (workspace_id, status, given_key, family_key, id);
DROP TRIGGER groups_count_update ON groups;
DROP TRIGGER groups_count_insert_delete ON groups;
DROP FUNCTION groups_count();
DROP TABLE group_counts;
