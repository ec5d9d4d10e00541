-- Worktrace server schema, PostgreSQL. Timestamps are UTC milliseconds. Never edit once landed.
CREATE TABLE orgs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    policy_json TEXT NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        BIGINT NOT NULL REFERENCES orgs(id),
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'lead', 'employee')),
    password_hash TEXT,
    created_at    BIGINT NOT NULL
);

CREATE TABLE teams (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id               BIGINT NOT NULL REFERENCES orgs(id),
    name                 TEXT NOT NULL,
    policy_override_json TEXT NOT NULL DEFAULT '{}',
    created_at           BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE team_members (
    team_id BIGINT NOT NULL REFERENCES teams(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    is_lead BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members(user_id);

CREATE TABLE enrollment_tokens (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     BIGINT NOT NULL REFERENCES orgs(id),
    user_id    BIGINT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE devices (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id           BIGINT NOT NULL REFERENCES orgs(id),
    user_id          BIGINT NOT NULL REFERENCES users(id),
    description      TEXT NOT NULL,
    secret_hash      TEXT NOT NULL UNIQUE,
    created_at       BIGINT NOT NULL,
    revoked_at       BIGINT,
    last_seen_at     BIGINT,
    last_batch_seq   BIGINT,
    chain_seq        BIGINT,
    chain_hash       TEXT,
    chain_flag       TEXT,
    chain_flag_at    BIGINT,
    presence_at      BIGINT,
    presence_clocked_in BOOLEAN,
    presence_idle    BOOLEAN,
    presence_category TEXT
);
CREATE INDEX devices_user ON devices(user_id);

CREATE TABLE batches (
    device_id   BIGINT NOT NULL REFERENCES devices(id),
    batch_seq   BIGINT NOT NULL,
    chain_seq   BIGINT NOT NULL,
    chain_hash  TEXT NOT NULL,
    ack_json    TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, batch_seq)
);
CREATE INDEX batches_chain ON batches(device_id, chain_seq);

-- hour = -1 marks a whole-day rollup; 0..23 an hour of that day.
CREATE TABLE rollups (
    device_id  BIGINT NOT NULL REFERENCES devices(id),
    user_id    BIGINT NOT NULL REFERENCES users(id),
    day        TEXT NOT NULL,
    hour       BIGINT NOT NULL,
    app        TEXT NOT NULL,
    category   TEXT NOT NULL,
    active_ms  BIGINT NOT NULL,
    idle_ms    BIGINT NOT NULL,
    clocked_ms BIGINT NOT NULL,
    input_ms   BIGINT NOT NULL,
    revision   BIGINT NOT NULL,
    PRIMARY KEY (device_id, day, hour, app, category)
);
CREATE INDEX rollups_user_day ON rollups(user_id, day, hour);

CREATE TABLE work_sessions (
    device_id        BIGINT NOT NULL REFERENCES devices(id),
    user_id          BIGINT NOT NULL REFERENCES users(id),
    day              TEXT NOT NULL,
    start_ms         BIGINT NOT NULL,
    end_ms           BIGINT,
    clock_out_reason TEXT,
    PRIMARY KEY (device_id, start_ms)
);
CREATE INDEX work_sessions_user_day ON work_sessions(user_id, day);

CREATE TABLE idle_decisions (
    device_id  BIGINT NOT NULL REFERENCES devices(id),
    user_id    BIGINT NOT NULL REFERENCES users(id),
    day        TEXT NOT NULL,
    idle_start BIGINT NOT NULL,
    idle_end   BIGINT NOT NULL,
    choice     TEXT NOT NULL,
    source     TEXT NOT NULL,
    decided_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, idle_start)
);
CREATE INDEX idle_decisions_user_day ON idle_decisions(user_id, day);

CREATE TABLE alerts (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          BIGINT NOT NULL REFERENCES orgs(id),
    device_id       BIGINT NOT NULL REFERENCES devices(id),
    user_id         BIGINT NOT NULL REFERENCES users(id),
    client_id       BIGINT NOT NULL,
    at              BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    severity        TEXT NOT NULL,
    event_json      TEXT NOT NULL,
    acknowledged_by BIGINT REFERENCES users(id),
    acknowledged_at BIGINT,
    UNIQUE (device_id, client_id)
);
CREATE INDEX alerts_user ON alerts(user_id, at);

CREATE TABLE login_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Failed logins per key ('account:<email>' or 'address:<ip>') within a window.
CREATE TABLE login_failures (
    key          TEXT PRIMARY KEY,
    failures     BIGINT NOT NULL,
    window_start BIGINT NOT NULL
);

CREATE TABLE audit_log (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          BIGINT NOT NULL REFERENCES orgs(id),
    at              BIGINT NOT NULL,
    actor_user_id   BIGINT NOT NULL REFERENCES users(id),
    subject_user_id BIGINT REFERENCES users(id),
    action          TEXT NOT NULL,
    detail          TEXT NOT NULL
);
CREATE INDEX audit_log_org_at ON audit_log(org_id, at);
