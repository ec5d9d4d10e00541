-- Schema 1: device identity, the append-only hash-chained record log, the tracker's checkpoint.
-- Never edit this file once released: add a new numbered file instead.

-- Marks the file as a Worktrace agent database ("WTRK").
PRAGMA application_id = 1465143883;

CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value ANY
) STRICT;

-- 128 random bits from SQLite's generator (seeded from the operating system).
INSERT INTO meta (key, value) VALUES ('device_id', lower(hex(randomblob(16))));

-- seq: per-device sequence 1, 2, 3 ... without gaps (the store assigns head + 1).
-- body: canonical JSON of the record; hash = SHA-256(prev_hash || body); the first prev_hash is
-- 32 zero bytes. kind/start_ms/end_ms repeat what the body says, for indexed queries.
CREATE TABLE records (
    seq       INTEGER PRIMARY KEY,
    kind      TEXT NOT NULL,
    start_ms  INTEGER NOT NULL,
    end_ms    INTEGER NOT NULL,
    body      TEXT NOT NULL,
    prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),
    hash      BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;

CREATE INDEX records_start ON records (start_ms);
-- The last clock-in/clock-out, and the latest tracked time, without a scan.
CREATE INDEX records_session ON records (seq) WHERE kind IN ('clock_in', 'clock_out');
CREATE INDEX records_tracked_end ON records (end_ms) WHERE kind IN ('window', 'idle');

CREATE TRIGGER records_no_update BEFORE UPDATE ON records
BEGIN
    SELECT RAISE(ABORT, 'records are append-only: a stored record cannot be changed');
END;

CREATE TRIGGER records_no_delete BEFORE DELETE ON records
BEGIN
    SELECT RAISE(ABORT, 'records are append-only: a stored record cannot be deleted');
END;

-- The tracker's open (not yet final) records, replaced as a whole every few seconds.
CREATE TABLE checkpoint (
    pos      INTEGER PRIMARY KEY,
    kind     TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    body     TEXT NOT NULL
) STRICT;
