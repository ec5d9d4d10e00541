-- Admin changes are audited with what they changed (issue 15): the thing changed (kind, id,
-- readable name), its state before and after as JSON, and a flat diff of the two. A change made
-- on the server's command line without a named admin has no actor (shown as "server CLI"), so
-- actor_user_id may be NULL: SQLite cannot drop a NOT NULL, so the table is rebuilt (nothing
-- refers to it).
-- Never edit once landed.
CREATE TABLE audit_log_new (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs(id),
    at              INTEGER NOT NULL,
    actor_user_id   INTEGER REFERENCES users(id),
    subject_user_id INTEGER REFERENCES users(id),
    action          TEXT NOT NULL,
    detail          TEXT NOT NULL,
    target_kind     TEXT,
    target_id       INTEGER,
    target_name     TEXT,
    before_json     TEXT,
    after_json      TEXT,
    diff_json       TEXT
);
INSERT INTO audit_log_new (id, org_id, at, actor_user_id, subject_user_id, action, detail)
    SELECT id, org_id, at, actor_user_id, subject_user_id, action, detail FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_org_at ON audit_log(org_id, at);
