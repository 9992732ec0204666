-- user_counts keeps how many active and archived staff each workspace
-- has, so the Users page and the picker show their totals from one row
-- instead of counting 50,000 staff. A trigger keeps it exact whichever
-- statement adds a user or changes their status (see 00004 for groups).

-- +goose Up
CREATE TABLE user_counts (
    workspace_id TEXT PRIMARY KEY,
    active       BIGINT NOT NULL DEFAULT 0,
    archived     BIGINT NOT NULL DEFAULT 0
);

INSERT INTO user_counts (workspace_id, active, archived)
SELECT workspace_id, COUNT(*) FILTER (WHERE status = 'active'), COUNT(*) FILTER (WHERE status = 'archived')
FROM users GROUP BY workspace_id;

-- +goose StatementBegin
CREATE FUNCTION users_count() RETURNS trigger LANGUAGE plpgsql AS $$
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
    INSERT INTO user_counts (workspace_id, active, archived) VALUES (ws, da, dr)
    ON CONFLICT (workspace_id) DO UPDATE
        SET active = user_counts.active + EXCLUDED.active, archived = user_counts.archived + EXCLUDED.archived;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER users_count_insert_delete AFTER INSERT OR DELETE ON users
FOR EACH ROW EXECUTE FUNCTION users_count();

CREATE TRIGGER users_count_update AFTER UPDATE OF status ON users
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
EXECUTE FUNCTION users_count();

-- +goose Down
DROP TRIGGER users_count_update ON users;
DROP TRIGGER users_count_insert_delete ON users;
DROP FUNCTION users_count();
DROP TABLE user_counts;
