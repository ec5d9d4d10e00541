-- Schema 2: per-hour and per-work-day totals, kept up to date in the transaction that appends
-- records, so that a year of history summarises without rescanning it.
-- The rows for records stored before this migration are computed by the program right after
-- this file runs (work days depend on the time zone, which SQL does not know).

CREATE TABLE rollup_hour (
    day        TEXT NOT NULL,     -- work day, YYYY-MM-DD
    hour_start INTEGER NOT NULL,  -- UTC ms at which the local hour began
    app        TEXT NOT NULL,
    category   TEXT NOT NULL,
    active_ms  INTEGER NOT NULL DEFAULT 0,
    idle_ms    INTEGER NOT NULL DEFAULT 0,
    clocked_ms INTEGER NOT NULL DEFAULT 0,
    input_ms   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, hour_start, app, category)
) STRICT, WITHOUT ROWID;

CREATE TABLE rollup_day (
    day        TEXT NOT NULL,
    app        TEXT NOT NULL,
    category   TEXT NOT NULL,
    active_ms  INTEGER NOT NULL DEFAULT 0,
    idle_ms    INTEGER NOT NULL DEFAULT 0,
    clocked_ms INTEGER NOT NULL DEFAULT 0,
    input_ms   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, app, category)
) STRICT, WITHOUT ROWID;

-- The longest record, so that "records overlapping [from, to)" is a range scan on start_ms.
INSERT INTO meta (key, value)
VALUES ('max_span_ms', (SELECT coalesce(max(end_ms - start_ms), 0) FROM records));
