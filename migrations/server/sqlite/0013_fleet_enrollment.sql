-- Fleet enrollment: one token that enrolls many PCs of an organisation (an installer's
-- ENROLLMENT_TOKEN), each PC as the person whose login is the PC's account name, else whose
-- e-mail address starts with it. Never edit once landed.

CREATE TABLE fleet_tokens (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES orgs(id),
    label      TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at INTEGER NOT NULL,
    max_uses   INTEGER NOT NULL,
    uses       INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

-- A person's account names on the organisation's PCs (lower case, without a domain).
CREATE TABLE person_logins (
    org_id  INTEGER NOT NULL REFERENCES orgs(id),
    login   TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (org_id, login)
);
CREATE INDEX person_logins_user ON person_logins(user_id);
