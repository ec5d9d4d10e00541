-- Departure watches, and alerts the server raises itself (activity after a watched person's
-- last day), which may come from no PC (a login). Never edit once landed.

-- A person marked as leaving. Open while ended_at is NULL and the day is not after ends_on:
-- it ends by itself then (30 days after the last day unless extended).
CREATE TABLE watches (
    id             INTEGER PRIMARY KEY,
    org_id         INTEGER NOT NULL REFERENCES orgs(id),
    user_id        INTEGER NOT NULL REFERENCES users(id),
    last_day       TEXT NOT NULL,
    reason         TEXT NOT NULL,
    lookback_days  INTEGER NOT NULL,
    ends_on        TEXT NOT NULL,
    created_by     INTEGER REFERENCES users(id),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    ended_at       INTEGER,
    ended_by       INTEGER REFERENCES users(id),
    -- The work day an alert for activity after the last day was last raised (one a day).
    last_alert_day TEXT,
    -- When activity after the last day was first seen.
    after_last_day_at INTEGER
);
CREATE UNIQUE INDEX watches_open ON watches (user_id) WHERE ended_at IS NULL;
CREATE INDEX watches_org ON watches (org_id, created_at);

-- alerts.device_id may be NULL now: SQLite changes a column's constraints only by building
-- the table again.
CREATE TABLE alerts_new (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs(id),
    device_id       INTEGER REFERENCES devices(id),
    user_id         INTEGER NOT NULL REFERENCES users(id),
    client_id       INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    severity        TEXT NOT NULL,
    event_json      TEXT NOT NULL,
    acknowledged_by INTEGER REFERENCES users(id),
    acknowledged_at INTEGER,
    received_at     INTEGER NOT NULL DEFAULT 0,
    folded          INTEGER NOT NULL DEFAULT 0,
    UNIQUE (device_id, client_id)
);
INSERT INTO alerts_new (id, org_id, device_id, user_id, client_id, at, kind, severity,
                        event_json, acknowledged_by, acknowledged_at, received_at, folded)
SELECT id, org_id, device_id, user_id, client_id, at, kind, severity, event_json,
       acknowledged_by, acknowledged_at, received_at, folded FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_new RENAME TO alerts;
CREATE INDEX alerts_inbox ON alerts (user_id, received_at, id);
CREATE INDEX alerts_device_received ON alerts (device_id, received_at);
