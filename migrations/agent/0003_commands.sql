-- Schema 3: requests from other processes (the `worktrace clock-in` command line) to the
-- running agent. body and result are JSON that the store does not interpret.

CREATE TABLE commands (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    issued_at INTEGER NOT NULL,
    body      TEXT NOT NULL,
    taken     INTEGER NOT NULL DEFAULT 0,  -- 1 once the agent picked it up (at most once)
    done_at   INTEGER,
    result    TEXT
) STRICT;

CREATE INDEX commands_waiting ON commands (id) WHERE taken = 0;
