-- Login and sessions (issue 15): sessions remember when they were last used (the idle timeout),
-- where from (address, browser) and a public id the person's session list names them by (the
-- token's hash is never shown); failed-login counters are kept per address and per
-- (account, address) only, so the old per-account counters go; one-time password-reset tokens
-- an admin hands out, stored as hashes.
-- Never edit once landed.
ALTER TABLE login_sessions ADD COLUMN public_id TEXT;
ALTER TABLE login_sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE login_sessions ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE login_sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
UPDATE login_sessions SET last_seen_at = created_at, public_id = lower(hex(randomblob(8)));
CREATE UNIQUE INDEX login_sessions_public_id ON login_sessions(public_id);
CREATE INDEX login_sessions_user ON login_sessions(user_id);

DELETE FROM login_failures WHERE key LIKE 'account:%';

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX password_resets_user ON password_resets(user_id);
