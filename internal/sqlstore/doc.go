// Package sqlstore holds all of Cohort's SQL: it implements every service
// interface of the domain package (cohort.Services) on SQLite
// (modernc.org/sqlite) and on PostgreSQL (pgx v5 through database/sql).
//
// # One set of SQL, two engines
//
// Statements are written in PostgreSQL style ($1 placeholders, ON CONFLICT,
// RETURNING, row-value comparisons) which SQLite runs unchanged. The dialect
// seam (dialect.go) is small: row locks (FOR UPDATE / FOR SHARE), passing a
// list of IDs as one JSON parameter, and the commit-order lock plus
// pg_notify that PostgreSQL needs for the outbox.
//
// # Schema choices
//
//   - IDs are UUIDv7 strings made in Go, so both engines store the same IDs
//     and they sort roughly by creation time.
//   - Times are taken once per transaction in Go (UTC, truncated to
//     microseconds) and always passed as text in one fixed-width format,
//     2006-01-02T15:04:05.000000Z. SQLite stores that text: fixed width and
//     UTC make text order equal time order, so indexes and range conditions
//     on times are correct. PostgreSQL parses the same text into TIMESTAMPTZ.
//     Scanning accepts both (timeScan).
//   - Case-insensitive rules compare stored lower-case keys computed in Go:
//     groups.name_key = cohort.NameKey(name) (NFKC and case folding; every
//     start rekeys groups whose key an older rule computed, see rekey.go);
//     users.email is stored
//     normalised; users.given_key, family_key and full_key ("given family")
//     serve prefix search as index range scans (key >= q AND key < q+U+10FFFF).
//     On PostgreSQL these columns are COLLATE "C", so ordering and prefix
//     ranges are byte order on both engines and a cursor means the same
//     thing everywhere.
//   - Group names are unique among a workspace's active groups by a partial
//     unique index (workspace_id, name_key) WHERE status = 'active'; the
//     transaction also checks first so the refusal can name the other group.
//   - groups.member_count (active users) and archived_member_count are
//     maintained counters, updated by the delta of every member change and
//     moved between each other when a user is archived or restored. Lists
//     never count members per row, and one member in or out of a
//     50,000-member group costs the same as for a 10-member group.
//   - Every change locks the group row first (FOR UPDATE on PostgreSQL; on
//     SQLite the single writer connection with BEGIN IMMEDIATE serialises
//     all writes), so version checks are atomic and member deltas commute.
//   - Every changing method is one transaction: validate, write, audit row,
//     outbox event row, commit. Audit rows are protected by triggers against
//     UPDATE and DELETE. Event seq is strictly increasing in commit order:
//     SQLite has one writer; PostgreSQL writers take a transaction-level
//     advisory lock right before inserting events.
//   - Lists are keyset-paged: a cursor is base64url(JSON of the sort key of
//     the row), so pages stay correct while rows are inserted.
//   - Staff search (prefix of family, given, "given family" or email) is
//     three disjoint index range scans (family; "given family" but not
//     family, which covers given names; email but neither) over indexes
//     that lead with (workspace_id, status) and carry the sort key: their
//     counts add up, each yields only its first page, and the page is cut
//     from their merge. A member list of a group with 1,000 or more
//     members walks staff in list order and probes each membership; a
//     smaller group's members are collected and sorted.
//   - Totals the pages show (groups and staff per status) are counters
//     kept by triggers (group_counts, user_counts) in the changing
//     transaction, one row per workspace.
//   - Lock order on PostgreSQL: a member change locks its group, then the
//     users it counts (FOR SHARE); archiving a user locks the user's groups
//     in ID order, then the user. Engine conflicts that remain (deadlock,
//     serialization failure, a unique race) retry the whole transaction.
//   - Text PostgreSQL cannot hold (NUL, invalid UTF-8) never reaches it as
//     an ID: such lookups find nothing on both engines.
//
// # SQLite connections
//
// SQLite gets one write connection (MaxOpenConns 1, _txlock=immediate, WAL,
// synchronous FULL by default) and a separate read-only pool, so reads
// never wait behind writes and writes never fail with SQLITE_BUSY inside a
// deferred transaction. A third connection checkpoints the WAL in the
// background (PASSIVE, about once a second after writes), so no commit
// pays for copying earlier commits into the database file; temp_store
// stays at its default (MEMORY made large statements slower in this
// driver). Each SQLite connection keeps the statements it runs prepared
// (stmtcache.go). PostgreSQL uses one pool for everything, and pgx keeps
// its statements prepared itself.
package sqlstore
