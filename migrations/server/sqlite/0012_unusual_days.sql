-- Unusual days: the export alerts of a person by their time, and one alert per person, day and
-- kind for a day far above the person's and their team's usual. Never edit once landed.

CREATE INDEX alerts_user_at ON alerts (user_id, at);

-- The (person, day, kind) an unusual-day alert was raised for: at most one each.
CREATE TABLE unusual_days (
    user_id INTEGER NOT NULL REFERENCES users(id),
    day     INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    PRIMARY KEY (user_id, day, kind)
);
