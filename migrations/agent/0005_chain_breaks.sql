-- Schema 5: where the record chain was broken by a damaged database that was salvaged.
-- Never edit this file once released: add a new numbered file instead.

-- One row per run of records that could not be read when a damaged database was salvaged into
-- this one. The record at resumes_seq is then checked against its own stored prev_hash (its
-- predecessor is lost), so `worktrace verify` tells a salvaged break from a tampered record.
CREATE TABLE chain_breaks (
    resumes_seq   INTEGER PRIMARY KEY, -- the first record after the break (or the next one appended)
    last_good_seq INTEGER NOT NULL,    -- the last record read before it (0: none)
    lost          INTEGER NOT NULL,    -- how many records could not be read
    noted_at      INTEGER NOT NULL,    -- when the salvage ran (UTC ms)
    damaged_file  TEXT NOT NULL        -- where the damaged database was kept
) STRICT;
