-- Each workspace numbers its own events (workspace_seq: 1, 2, 3, … with
-- no gaps), so the positions pages and live streams show (last_event_id,
-- the stream's "id:" lines) reveal nothing about other practices'
-- activity. The global seq stays the relay's and the live watcher's
-- internal order. A new event takes MAX + 1 of its workspace inside the
-- writers' commit-order lock (see sqlstore/events.go); the unique index
-- makes that lookup an index probe and refuses a duplicate outright.

-- +goose Up
ALTER TABLE events ADD COLUMN workspace_seq BIGINT NOT NULL DEFAULT 0;

UPDATE events SET workspace_seq = r.n
FROM (SELECT seq, ROW_NUMBER() OVER (PARTITION BY workspace_id ORDER BY seq) AS n FROM events) AS r
WHERE events.seq = r.seq;

CREATE UNIQUE INDEX events_workspace_seq ON events (workspace_id, workspace_seq);

-- +goose Down
DROP INDEX events_workspace_seq;
ALTER TABLE events DROP COLUMN workspace_seq;
