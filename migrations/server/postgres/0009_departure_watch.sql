-- Departure watches, and alerts the server raises itself (activity after a watched person's
-- last day), which may come from no PC (a login). Never edit once landed.

-- A person marked as leaving. Open while ended_at is NULL and the day is not after ends_on:
-- it ends by itself then (30 days after the last day unless extended).
CREATE TABLE watches (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id         BIGINT NOT NULL REFERENCES orgs(id),
    user_id        BIGINT NOT NULL REFERENCES users(id),
    last_day       TEXT NOT NULL,
    reason         TEXT NOT NULL,
    lookback_days  INTEGER NOT NULL,
    ends_on        TEXT NOT NULL,
    created_by     BIGINT REFERENCES users(id),
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    ended_at       BIGINT,
    ended_by       BIGINT REFERENCES users(id),
    -- The work day an alert for activity after the last day was last raised (one a day).
    last_alert_day TEXT,
    -- When activity after the last day was first seen.
    after_last_day_at BIGINT
);
CREATE UNIQUE INDEX watches_open ON watches (user_id) WHERE ended_at IS NULL;
CREATE INDEX watches_org ON watches (org_id, created_at);

ALTER TABLE alerts ALTER COLUMN device_id DROP NOT NULL;
