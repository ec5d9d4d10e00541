//! The statements both databases run as the same text: written once with PostgreSQL's `$N`
//! placeholders, and translated to SQLite's `?N` when the program is compiled, so neither
//! store pays anything at run time for sharing them.
//!
//! Only statements whose meaning and plan are the same on both belong here; a statement tuned
//! for one database (the ingest paths, the dashboard reads by people) stays with its store.

/// One statement in both dialects.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Query {
    /// With `$1, $2, …`.
    pub postgres: &'static str,
    /// The same text with `?1, ?2, …`.
    pub sqlite: &'static str,
}

/// The SQLite spelling of a statement: every `$` before a digit becomes `?`. `N` is the
/// text's length (the translation keeps it).
///
/// ```text
/// "UPDATE orgs SET policy_json = $2 WHERE id = $1" → "UPDATE orgs SET policy_json = ?2 WHERE id = ?1"
/// ```
pub(crate) const fn sqlite_text<const N: usize>(postgres: &str) -> [u8; N] {
    let src = postgres.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = if src[i] == b'$' && i + 1 < N && src[i + 1].is_ascii_digit() {
            b'?'
        } else {
            src[i]
        };
        i += 1;
    }
    out
}

/// Defines a [`Query`] constant from its PostgreSQL text.
macro_rules! query {
    ($(#[$doc:meta])* $name:ident = $text:expr;) => {
        $(#[$doc])*
        pub(crate) const $name: Query = {
            const POSTGRES: &str = $text;
            const SQLITE: [u8; POSTGRES.len()] = sqlite_text::<{ POSTGRES.len() }>(POSTGRES);
            Query {
                postgres: POSTGRES,
                sqlite: match std::str::from_utf8(&SQLITE) {
                    Ok(text) => text,
                    Err(_) => panic!("replacing ASCII with ASCII keeps UTF-8 valid"),
                },
            }
        };
    };
}

/// The columns [`super::rows`] decodes a [`crate::model::User`] from, in order.
macro_rules! user_cols {
    () => {
        "u.id, u.org_id, u.email, u.display_name, u.role, u.deactivated_at"
    };
}

/// The columns a [`crate::model::Device`] is decoded from, in order.
macro_rules! device_cols {
    () => {
        "id, org_id, user_id, description, created_at, revoked_at, last_seen_at, chain_seq, \
         chain_hash, chain_flag, chain_flag_at, install_id, superseded_by, dropped_items, \
         dropped_at, dropped_reason, chain_detail, policy_sha256, policy_flag_at, policy_reported, \
         agent_version, agent_platform, agent_package, update_checked_at, update_problem, \
         update_problem_at"
    };
}

/// The columns a [`crate::model::AlertRow`] is decoded from, in order.
macro_rules! alert_cols {
    () => {
        "id, org_id, user_id, device_id, at, kind, severity, event_json, acknowledged_by, \
         acknowledged_at, received_at, folded"
    };
}

pub(crate) use {alert_cols, device_cols, user_cols};

// Organisation and people
query! { INSERT_ORG = "INSERT INTO orgs (name, created_at) VALUES ($1, $2) RETURNING id"; }
query! { ORG_BY_NAME = "SELECT id FROM orgs WHERE name = $1"; }
query! { LIST_ORGS = "SELECT id, name FROM orgs ORDER BY id"; }
query! { ORG_POLICY = "SELECT policy_json FROM orgs WHERE id = $1"; }
query! {
    /// Replaces the policy only if it is still the one the change was computed from (`$3`).
    SWAP_ORG_POLICY = "UPDATE orgs SET policy_json = $2 WHERE id = $1 AND policy_json = $3";
}
query! {
    INSERT_USER = "INSERT INTO users (org_id, email, display_name, role, password_hash, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
}
query! { USER_BY_ID = concat!("SELECT ", user_cols!(), " FROM users u WHERE u.id = $1"); }
query! {
    USER_BY_EMAIL =
        concat!("SELECT ", user_cols!(), ", u.password_hash FROM users u WHERE u.email = $1");
}
query! { SET_PASSWORD_HASH = "UPDATE users SET password_hash = $2 WHERE id = $1"; }
query! {
    LIST_USERS = concat!("SELECT ", user_cols!(), " FROM users u WHERE u.org_id = $1 ORDER BY u.id");
}
query! {
    INSERT_TEAM = "INSERT INTO teams (org_id, name, created_at) VALUES ($1, $2, $3)
                   RETURNING id, org_id, name";
}
query! { TEAM = "SELECT id, org_id, name FROM teams WHERE id = $1"; }
query! { LIST_TEAMS = "SELECT id, org_id, name FROM teams WHERE org_id = $1 ORDER BY id"; }
query! { TEAM_POLICY_OVERRIDE = "SELECT policy_override_json FROM teams WHERE id = $1"; }
query! {
    /// Replaces the overrides only if they are still the ones the change was computed from.
    SWAP_TEAM_POLICY_OVERRIDE = "UPDATE teams SET policy_override_json = $2
                                 WHERE id = $1 AND policy_override_json = $3";
}
query! {
    ADD_MEMBER = "INSERT INTO team_members (team_id, user_id, is_lead) VALUES ($1, $2, $3)
                  ON CONFLICT (team_id, user_id) DO UPDATE SET is_lead = excluded.is_lead";
}
query! { REMOVE_MEMBER = "DELETE FROM team_members WHERE team_id = $1 AND user_id = $2"; }
query! { DELETE_TEAM_MEMBERS = "DELETE FROM team_members WHERE team_id = $1"; }
query! { DELETE_TEAM = "DELETE FROM teams WHERE id = $1"; }
query! {
    DEACTIVATE_USER =
        "UPDATE users SET deactivated_at = $2 WHERE id = $1 AND deactivated_at IS NULL";
}
query! { DELETE_USER_SESSIONS = "DELETE FROM login_sessions WHERE user_id = $1"; }
query! {
    REVOKE_USER_DEVICES =
        "UPDATE devices SET revoked_at = COALESCE(revoked_at, $2) WHERE user_id = $1";
}
query! {
    MEMBERSHIPS_OF =
        "SELECT team_id, user_id, is_lead FROM team_members WHERE user_id = $1 ORDER BY team_id";
}
query! {
    TEAM_MEMBERS = concat!(
        "SELECT ", user_cols!(), ", m.is_lead FROM team_members m JOIN users u ON u.id = m.user_id
         WHERE m.team_id = $1 ORDER BY u.id"
    );
}

// Devices and ingest
query! {
    INSERT_ENROLLMENT_TOKEN =
        "INSERT INTO enrollment_tokens (org_id, user_id, token_hash, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id";
}
query! {
    /// Uses the token once: (org, user) of a valid token of an active person, no row otherwise.
    USE_ENROLLMENT_TOKEN = "UPDATE enrollment_tokens SET used_at = $2
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
           AND user_id IN (SELECT id FROM users WHERE deactivated_at IS NULL)
         RETURNING org_id, user_id";
}
query! {
    INSERT_FLEET_TOKEN =
        "INSERT INTO fleet_tokens (org_id, label, token_hash, expires_at, max_uses, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
}
query! {
    UPSERT_PERSON_LOGIN = "INSERT INTO person_logins (org_id, login, user_id) VALUES ($1, $2, $3)
         ON CONFLICT (org_id, login) DO UPDATE SET user_id = excluded.user_id";
}
query! {
    /// The organisation of a fleet token that can still enroll a PC.
    FLEET_TOKEN_ORG = "SELECT org_id FROM fleet_tokens
         WHERE token_hash = $1 AND expires_at > $2 AND uses < max_uses AND revoked_at IS NULL";
}
query! {
    /// Counts one use; no row when the token ran out meanwhile.
    USE_FLEET_TOKEN = "UPDATE fleet_tokens SET uses = uses + 1
         WHERE token_hash = $1 AND expires_at > $2 AND uses < max_uses AND revoked_at IS NULL
         RETURNING org_id";
}
query! {
    /// The organisation's fleet tokens (never their hashes), oldest first.
    LIST_FLEET_TOKENS = "SELECT id, label, created_at, expires_at, max_uses, uses, revoked_at
         FROM fleet_tokens WHERE org_id = $1 ORDER BY id";
}
query! {
    /// Revokes a fleet token that is not revoked yet.
    REVOKE_FLEET_TOKEN = "UPDATE fleet_tokens SET revoked_at = $3
         WHERE id = $1 AND org_id = $2 AND revoked_at IS NULL";
}
query! {
    PERSON_BY_LOGIN = "SELECT l.user_id FROM person_logins l JOIN users u ON u.id = l.user_id
         WHERE l.org_id = $1 AND l.login = $2 AND u.deactivated_at IS NULL";
}
query! {
    /// Active people whose e-mail address matches the LIKE pattern `$2` (`login@%`, escaped
    /// with a backslash); two are enough to know it is ambiguous.
    PEOPLE_BY_EMAIL_NAME = "SELECT id FROM users
         WHERE org_id = $1 AND deactivated_at IS NULL AND email LIKE $2 ESCAPE '\\'
         ORDER BY id LIMIT 2";
}
query! {
    INSERT_DEVICE = concat!(
        "INSERT INTO devices (org_id, user_id, description, secret_hash, created_at, install_id)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ", device_cols!()
    );
}
query! {
    DEVICE_BY_SECRET = concat!("SELECT ", device_cols!(), " FROM devices WHERE secret_hash = $1");
}
query! {
    LIST_DEVICES = concat!("SELECT ", device_cols!(), " FROM devices WHERE org_id = $1 ORDER BY id");
}
query! {
    /// Revokes a device that is not revoked yet (a second revocation changes nothing).
    REVOKE_DEVICE = "UPDATE devices SET revoked_at = $3
                     WHERE id = $1 AND org_id = $2 AND revoked_at IS NULL";
}
query! {
    /// The policy fingerprint `$2` sent to device `$1`, and (unless `$3` is NULL) the other
    /// fingerprint it reported applying, at `$4`.
    NOTE_DEVICE_POLICY = "UPDATE devices SET policy_sha256 = $2,
                          policy_reported = COALESCE($3, policy_reported),
                          policy_flag_at = CASE WHEN $3 IS NULL THEN policy_flag_at ELSE $4 END
                          WHERE id = $1";
}
query! {
    /// The person's older devices of one installation (`$2`), other than the new one (`$3`),
    /// newest first.
    SUPERSEDED_DEVICES = "SELECT id FROM devices WHERE user_id = $1 AND install_id = $2
           AND id <> $3 AND superseded_by IS NULL ORDER BY id DESC";
}
query! {
    MARK_SUPERSEDED = "UPDATE devices SET superseded_by = $2,
                           revoked_at = COALESCE(revoked_at, $3)
                       WHERE id = $1";
}
query! { PERSON_DAYS_OF = "SELECT day FROM person_days WHERE user_id = $1"; }

// Login and sessions
query! {
    /// Sessions past their absolute end (`$1` is now) or idle since before `$2`.
    DELETE_EXPIRED_LOGIN_SESSIONS =
        "DELETE FROM login_sessions WHERE expires_at <= $1 OR last_seen_at <= $2";
}
query! {
    INSERT_LOGIN_SESSION =
        "INSERT INTO login_sessions (token_hash, public_id, user_id, csrf_token, created_at,
                                     last_seen_at, expires_at, address, user_agent)
         VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)";
}
query! {
    /// The session of token hash `$1` if it has not ended at `$2` nor been idle since `$3`.
    LOGIN_SESSION = concat!(
        "SELECT ", user_cols!(), ", s.csrf_token, s.expires_at, s.public_id, s.last_seen_at
         FROM login_sessions s
         JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2
           AND s.last_seen_at > $3 AND u.deactivated_at IS NULL"
    );
}
query! {
    /// Notes a request at `$2`: once a minute at most (the caller checks), so reads stay reads.
    TOUCH_LOGIN_SESSION =
        "UPDATE login_sessions SET last_seen_at = $2 WHERE token_hash = $1 AND last_seen_at < $2";
}
query! { DELETE_LOGIN_SESSION = "DELETE FROM login_sessions WHERE token_hash = $1"; }
query! {
    /// The person's sessions still open at `$2` and not idle since `$3`, newest use first.
    USER_LOGIN_SESSIONS =
        "SELECT public_id, created_at, last_seen_at, expires_at, address, user_agent
         FROM login_sessions WHERE user_id = $1 AND expires_at > $2 AND last_seen_at > $3
         ORDER BY last_seen_at DESC, created_at DESC";
}
query! {
    DELETE_USER_SESSION = "DELETE FROM login_sessions WHERE user_id = $1 AND public_id = $2";
}
query! {
    /// Every session of the person but the one of token hash `$2`.
    DELETE_OTHER_USER_SESSIONS =
        "DELETE FROM login_sessions WHERE user_id = $1 AND token_hash <> $2";
}
query! {
    /// Reserves one attempt for key `$1` while it has fewer than `$4` in the window that
    /// started at or after `$2` (a window that started before starts again at `$3`). In one
    /// statement, so concurrent attempts on any node never pass the limit together: no row
    /// comes back when the limit is reached.
    RESERVE_LOGIN_ATTEMPT =
        "INSERT INTO login_failures (key, failures, window_start) VALUES ($1, 1, $3)
         ON CONFLICT (key) DO UPDATE SET
            failures = CASE WHEN login_failures.window_start < $2 THEN 1
                            ELSE login_failures.failures + 1 END,
            window_start = CASE WHEN login_failures.window_start < $2 THEN $3
                                ELSE login_failures.window_start END
         WHERE login_failures.window_start < $2 OR login_failures.failures < $4
         RETURNING failures";
}
query! {
    /// Gives one reserved attempt of key `$1` back.
    RELEASE_LOGIN_ATTEMPT =
        "UPDATE login_failures SET failures = failures - 1 WHERE key = $1 AND failures > 0";
}
query! { CLEAR_LOGIN_FAILURES = "DELETE FROM login_failures WHERE key = $1"; }
query! {
    INSERT_PASSWORD_RESET =
        "INSERT INTO password_resets (token_hash, user_id, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)";
}
query! {
    /// Uses a reset token once: its person, if the token is unused, unexpired at `$2` and the
    /// person active; no row otherwise.
    USE_PASSWORD_RESET = "UPDATE password_resets SET used_at = $2
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
           AND user_id IN (SELECT id FROM users WHERE deactivated_at IS NULL)
         RETURNING user_id";
}
query! {
    /// Earlier unused tokens of a person stop working when a new one is made.
    RETIRE_PASSWORD_RESETS =
        "UPDATE password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL";
}

// Dashboard reads and audit
query! { ALERT = concat!("SELECT ", alert_cols!(), " FROM alerts WHERE id = $1"); }
query! {
    ACKNOWLEDGE_ALERT = "UPDATE alerts SET acknowledged_by = $2, acknowledged_at = $3
                         WHERE id = $1 AND acknowledged_at IS NULL";
}
query! {
    /// One admin change with what it changed (see [`crate::model::ChangeEntry`]).
    INSERT_CHANGE = "INSERT INTO audit_log (org_id, at, actor_user_id, subject_user_id, action,
                         detail, target_kind, target_id, target_name, before_json, after_json,
                         diff_json)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
}
query! {
    AUDIT_LOG = "SELECT a.id, a.at, a.actor_user_id, actor.email, a.subject_user_id,
                        subject.email, a.action, a.detail, a.target_kind, a.target_id,
                        a.target_name, a.before_json, a.after_json, a.diff_json
                 FROM audit_log a
                 LEFT JOIN users actor ON actor.id = a.actor_user_id
                 LEFT JOIN users subject ON subject.id = a.subject_user_id
                 WHERE a.org_id = $1 AND a.at >= $2 AND a.at < $3
                 ORDER BY a.at, a.id LIMIT $4";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_text_numbers_the_same_placeholders() {
        assert_eq!(
            SWAP_ORG_POLICY.sqlite,
            "UPDATE orgs SET policy_json = ?2 WHERE id = ?1 AND policy_json = ?3",
            "each $N becomes ?N, so the same parameter list binds the same values"
        );
        assert_eq!(
            RESERVE_LOGIN_ATTEMPT.sqlite.matches("?3").count(),
            RESERVE_LOGIN_ATTEMPT.postgres.matches("$3").count(),
            "every placeholder is translated"
        );
        assert!(
            !RESERVE_LOGIN_ATTEMPT.sqlite.contains('$'),
            "no PostgreSQL placeholder is left"
        );
    }
}

// Departure watches.

/// The columns a [`crate::model::Watch`] is decoded from, in order (`w`: watches, `u`: users).
macro_rules! watch_cols {
    () => {
        "w.id, w.user_id, u.email, u.display_name, w.last_day, w.reason, w.lookback_days, \
         w.ends_on, w.created_by, w.created_at, w.updated_at, w.ended_at, w.ended_by, \
         w.after_last_day_at"
    };
}

query! {
    /// Closes the person's watch that ended by itself before `$3` (today), so a new one can be
    /// opened.
    CLOSE_EXPIRED_WATCH = "UPDATE watches SET ended_at = $2, updated_at = $2
                           WHERE user_id = $1 AND ended_at IS NULL AND ends_on < $3";
}
query! {
    INSERT_WATCH = "INSERT INTO watches (org_id, user_id, last_day, reason, lookback_days,
                        ends_on, created_by, created_at, updated_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id";
}
query! {
    WATCH = concat!("SELECT ", watch_cols!(),
                    " FROM watches w JOIN users u ON u.id = w.user_id WHERE w.id = $1");
}
query! {
    ORG_WATCHES = concat!("SELECT ", watch_cols!(),
                          " FROM watches w JOIN users u ON u.id = w.user_id WHERE w.org_id = $1
                           ORDER BY w.created_at DESC, w.id DESC");
}
query! {
    UPDATE_WATCH = "UPDATE watches SET last_day = $2, reason = $3, lookback_days = $4,
                        ends_on = $5, updated_at = $6
                    WHERE id = $1 AND ended_at IS NULL";
}
query! {
    END_WATCH = "UPDATE watches SET ended_at = $2, ended_by = $3, updated_at = $2
                 WHERE id = $1 AND ended_at IS NULL";
}
query! {
    /// Notes activity after the last day on work day `$2` at `$3`; no row when the watch is
    /// closed or was alerted that day already.
    NOTE_AFTER_LAST_DAY = "UPDATE watches SET last_alert_day = $2,
                               after_last_day_at = COALESCE(after_last_day_at, $3)
                           WHERE id = $1 AND ended_at IS NULL
                             AND (last_alert_day IS NULL OR last_alert_day <> $2)";
}
query! {
    INSERT_SERVER_ALERT = "INSERT INTO alerts (org_id, device_id, user_id, client_id, at, kind,
                               severity, event_json, received_at, folded)
                           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $5, FALSE)";
}

query! {
    /// Notes the unusual day; no row when it was noted before.
    NOTE_UNUSUAL_DAY = "INSERT INTO unusual_days (user_id, day, kind) VALUES ($1, $2, $3)
                        ON CONFLICT DO NOTHING";
}

/// The columns [`super::rows`] decodes a [`crate::release::Release`] from, in order.
macro_rules! release_cols {
    () => {
        "id, platform, package, version, channel, size, sha256, signature, file_name, added_at"
    };
}

query! {
    /// Stores a release's metadata; no row when the same platform, package and version is
    /// stored already.
    INSERT_RELEASE = "INSERT INTO releases (platform, package, version, channel, size, sha256,
                          signature, file_name, added_at)
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                      ON CONFLICT (platform, package, version) DO NOTHING
                      RETURNING id";
}
query! {
    INSERT_RELEASE_CHUNK = "INSERT INTO release_chunks (release_id, idx, bytes) VALUES ($1, $2, $3)";
}
query! {
    LIST_RELEASES = concat!("SELECT ", release_cols!(), " FROM releases ORDER BY id");
}
query! {
    RELEASE_BY_ID = concat!("SELECT ", release_cols!(), " FROM releases WHERE id = $1");
}
query! {
    RELEASE_CHUNK = "SELECT bytes FROM release_chunks WHERE release_id = $1 AND idx = $2";
}
query! {
    /// Moves a release to another channel.
    SET_RELEASE_CHANNEL = "UPDATE releases SET channel = $2 WHERE id = $1";
}
query! {
    /// Removes a release (its chunks go with it).
    DELETE_RELEASE_CHUNKS = "DELETE FROM release_chunks WHERE release_id = $1";
}
query! {
    DELETE_RELEASE = "DELETE FROM releases WHERE id = $1";
}
query! {
    /// Notes an update check: the agent's version, and its last problem (`$6` NULL: none;
    /// a problem already noted keeps its first time).
    NOTE_UPDATE_CHECK = "UPDATE devices SET agent_version = $2, agent_platform = $3,
                             agent_package = $4, update_checked_at = $5,
                             update_problem_at = CASE WHEN CAST($6 AS TEXT) IS NULL THEN NULL
                                 WHEN update_problem = CAST($6 AS TEXT) THEN update_problem_at
                                 ELSE CAST($7 AS BIGINT) END,
                             update_problem = CAST($6 AS TEXT)
                         WHERE id = $1";
}
