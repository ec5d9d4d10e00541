-- Schema 4: the outbox of what waits for upload to the company server, the batch in flight,
-- and the log of what was sent (the employee can read it).
-- Rows are queued in the same transaction that appends the records they come from, so nothing
-- is missed; they leave the outbox only when the server acknowledges a batch that carried them.
-- What was stored before this schema existed is queued by the program right after this file
-- runs (hours of the day depend on the time zone, which SQL does not know).

-- A rollup key whose totals changed since they were last acknowledged. The totals themselves
-- are read from rollup_day / rollup_hour when a batch is built, so a key is queued once however
-- often it changes. revision comes from meta 'outbox_revision' and only ever grows, so the
-- server can tell a newer total from an older one.
CREATE TABLE outbox_rollup (
    day      TEXT NOT NULL,      -- work day, YYYY-MM-DD
    hour     INTEGER NOT NULL,   -- local hour of the day 0..23; -1 for the whole day
    app      TEXT NOT NULL,
    category TEXT NOT NULL,
    revision INTEGER NOT NULL,
    PRIMARY KEY (day, hour, app, category)
) STRICT, WITHOUT ROWID;

-- Work sessions, idle decisions and export alerts as the wire items that describe them.
CREATE TABLE outbox_item (
    kind     TEXT NOT NULL,      -- 'session' | 'decision' | 'alert'
    key      INTEGER NOT NULL,   -- session start, decision idle start, alert record seq
    body     TEXT NOT NULL,      -- the wire item as JSON
    revision INTEGER NOT NULL,
    urgent   INTEGER NOT NULL DEFAULT 0,  -- 1 for high-severity alerts: upload at once
    PRIMARY KEY (kind, key)
) STRICT, WITHOUT ROWID;

-- The batch built but not yet acknowledged. It is resent unchanged (same batch_seq, same
-- bytes) until the server answers, so a lost acknowledgement never becomes a second batch.
-- items: JSON list of the outbox rows (with their revisions) to drop once acknowledged.
CREATE TABLE sync_pending (
    batch_seq  INTEGER PRIMARY KEY,
    body       TEXT NOT NULL,
    items      TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- Every acknowledged batch exactly as it was sent.
CREATE TABLE sent (
    batch_seq INTEGER NOT NULL,
    server    TEXT NOT NULL,
    acked_at  INTEGER NOT NULL,
    duplicate INTEGER NOT NULL,  -- 1 when the server had already received it (lost answer)
    body      TEXT NOT NULL
) STRICT;

CREATE INDEX sent_acked ON sent (acked_at);
