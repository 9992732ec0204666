// Package events carries committed changes out of the database: the relay
// turns outbox events into signed webhook deliveries (retried with backoff,
// in commit order per webhook), and Live streams them to open pages as
// server-sent events. Both start after commit and read only the outbox, so
// nothing is published for a change that rolled back.
package events
