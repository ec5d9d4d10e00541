-- Admin changes are audited with what they changed (issue 15): the thing changed (kind, id,
-- readable name), its state before and after as JSON, and a flat diff of the two. A change made
-- on the server's command line without a named admin has no actor (shown as "server CLI").
-- Never edit once landed.
ALTER TABLE audit_log ALTER COLUMN actor_user_id DROP NOT NULL;
ALTER TABLE audit_log
    ADD COLUMN target_kind TEXT,
    ADD COLUMN target_id   BIGINT,
    ADD COLUMN target_name TEXT,
    ADD COLUMN before_json TEXT,
    ADD COLUMN after_json  TEXT,
    ADD COLUMN diff_json   TEXT;
