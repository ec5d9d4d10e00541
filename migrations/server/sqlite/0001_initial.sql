-- Worktrace server schema, SQLite. Timestamps are UTC milliseconds. Never edit once landed.
CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    policy_json TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES orgs(id),
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'lead', 'employee')),
    password_hash TEXT,
    created_at    INTEGER NOT NULL
);

CREATE TABLE teams (
    id                   INTEGER PRIMARY KEY,
    org_id               INTEGER NOT NULL REFERENCES orgs(id),
    name                 TEXT NOT NULL,
    policy_override_json TEXT NOT NULL DEFAULT '{}',
    created_at           INTEGER NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE team_members (
    team_id INTEGER NOT NULL REFERENCES teams(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    is_lead INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members(user_id);

CREATE TABLE enrollment_tokens (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES orgs(id),
    user_id    INTEGER NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    created_at INTEGER NOT NULL
);

CREATE TABLE devices (
    id               INTEGER PRIMARY KEY,
    org_id           INTEGER NOT NULL REFERENCES orgs(id),
    user_id          INTEGER NOT NULL REFERENCES users(id),
    description      TEXT NOT NULL,
    secret_hash      TEXT NOT NULL UNIQUE,
    created_at       INTEGER NOT NULL,
    revoked_at       INTEGER,
    last_seen_at     INTEGER,
    last_batch_seq   INTEGER,
    chain_seq        INTEGER,
    chain_hash       TEXT,
    chain_flag       TEXT,
    chain_flag_at    INTEGER,
    presence_at      INTEGER,
    presence_clocked_in INTEGER,
    presence_idle    INTEGER,
    presence_category TEXT
);
CREATE INDEX devices_user ON devices(user_id);

CREATE TABLE batches (
    device_id   INTEGER NOT NULL REFERENCES devices(id),
    batch_seq   INTEGER NOT NULL,
    chain_seq   INTEGER NOT NULL,
    chain_hash  TEXT NOT NULL,
    ack_json    TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, batch_seq)
);
CREATE INDEX batches_chain ON batches(device_id, chain_seq);

-- hour = -1 marks a whole-day rollup; 0..23 an hour of that day.
CREATE TABLE rollups (
    device_id  INTEGER NOT NULL REFERENCES devices(id),
    user_id    INTEGER NOT NULL REFERENCES users(id),
    day        TEXT NOT NULL,
    hour       INTEGER NOT NULL,
    app        TEXT NOT NULL,
    category   TEXT NOT NULL,
    active_ms  INTEGER NOT NULL,
    idle_ms    INTEGER NOT NULL,
    clocked_ms INTEGER NOT NULL,
    input_ms   INTEGER NOT NULL,
    revision   INTEGER NOT NULL,
    PRIMARY KEY (device_id, day, hour, app, category)
);
CREATE INDEX rollups_user_day ON rollups(user_id, day, hour);

CREATE TABLE work_sessions (
    device_id        INTEGER NOT NULL REFERENCES devices(id),
    user_id          INTEGER NOT NULL REFERENCES users(id),
    day              TEXT NOT NULL,
    start_ms         INTEGER NOT NULL,
    end_ms           INTEGER,
    clock_out_reason TEXT,
    PRIMARY KEY (device_id, start_ms)
);
CREATE INDEX work_sessions_user_day ON work_sessions(user_id, day);

CREATE TABLE idle_decisions (
    device_id  INTEGER NOT NULL REFERENCES devices(id),
    user_id    INTEGER NOT NULL REFERENCES users(id),
    day        TEXT NOT NULL,
    idle_start INTEGER NOT NULL,
    idle_end   INTEGER NOT NULL,
    choice     TEXT NOT NULL,
    source     TEXT NOT NULL,
    decided_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, idle_start)
);
CREATE INDEX idle_decisions_user_day ON idle_decisions(user_id, day);

CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs(id),
    device_id       INTEGER NOT NULL REFERENCES devices(id),
    user_id         INTEGER NOT NULL REFERENCES users(id),
    client_id       INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    severity        TEXT NOT NULL,
    event_json      TEXT NOT NULL,
    acknowledged_by INTEGER REFERENCES users(id),
    acknowledged_at INTEGER,
    UNIQUE (device_id, client_id)
);
CREATE INDEX alerts_user ON alerts(user_id, at);

CREATE TABLE login_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

-- Failed logins per key ('account:<email>' or 'address:<ip>') within a window.
CREATE TABLE login_failures (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    window_start INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs(id),
    at              INTEGER NOT NULL,
    actor_user_id   INTEGER NOT NULL REFERENCES users(id),
    subject_user_id INTEGER REFERENCES users(id),
    action          TEXT NOT NULL,
    detail          TEXT NOT NULL
);
CREATE INDEX audit_log_org_at ON audit_log(org_id, at);
