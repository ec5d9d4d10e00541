//! What a password attempt must pass before its hash is computed: bounded input, a free hash
//! permit (one per core by default), and an attempt reserved in the store under the client's
//! address and under (account, address).
//!
//! No limit here is per account alone: wrong passwords from one address slow and limit that
//! address, never the account, so nobody can lock another person out. The reservation is one
//! store transaction, so concurrent attempts (on any API node) evaluate at most the limit's
//! number of passwords. Must never hash before both checks passed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use worktrace_domain::Millis;

use super::error::ApiError;
use super::AppState;
use crate::secret;

/// The longest e-mail address accepted (RFC 5321's limit on a path).
pub const EMAIL_MAX_BYTES: usize = 254;
/// The longest password accepted: long enough for any passphrase or manager, short enough
/// that hashing one costs what hashing any other does.
pub const PASSWORD_MAX_BYTES: usize = 1024;

/// Bounds the password hashes computed at once and counts those computed.
#[derive(Debug)]
pub struct LoginGate {
    permits: Arc<Semaphore>,
    evaluated: AtomicU64,
}

impl LoginGate {
    pub fn new(permits: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(permits.max(1))),
            evaluated: AtomicU64::new(0),
        }
    }

    /// A hash permit, or 429 `busy` at once when every permit is taken.
    pub fn permit(&self) -> Result<OwnedSemaphorePermit, Refused> {
        self.permits
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refused::Busy)
    }

    /// Verifies `password` against `hash` off the async workers, holding `permit` meanwhile.
    pub async fn verify(
        &self,
        permit: OwnedSemaphorePermit,
        password: String,
        hash: String,
    ) -> Result<bool, ApiError> {
        self.evaluated.fetch_add(1, Ordering::SeqCst);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            secret::verify_password(&password, &hash)
        })
        .await
        .map_err(ApiError::internal)
    }

    /// Hashes a new password off the async workers, holding `permit` meanwhile.
    pub async fn hash(
        &self,
        permit: OwnedSemaphorePermit,
        password: String,
        memory_kib: u32,
    ) -> Result<String, ApiError> {
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            secret::hash_password(&password, memory_kib)
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
    }

    /// Passwords verified since the server started (logins and password changes, unknown
    /// accounts included): what the limits bound.
    pub fn evaluated(&self) -> u64 {
        self.evaluated.load(Ordering::SeqCst)
    }
}

/// Why an attempt was refused before any password was looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Every hash permit is taken: try again in a second.
    Busy,
    /// The address used up its attempts (for this account, or at all) for the window.
    TooMany { window_secs: u64 },
    /// The answer was an error of its own.
    Error(ApiError),
}

impl From<ApiError> for Refused {
    fn from(e: ApiError) -> Self {
        Refused::Error(e)
    }
}

impl From<crate::Error> for Refused {
    fn from(e: crate::Error) -> Self {
        Refused::Error(e.into())
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let (err, retry_after) = match self {
            Refused::Busy => (
                ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "busy",
                    "the server is checking other passwords right now; try again in a second",
                ),
                1,
            ),
            Refused::TooMany { window_secs } => (
                ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_attempts",
                    format!(
                        "too many failed logins from this address; wait {} minutes and try again",
                        window_secs.div_ceil(60)
                    ),
                ),
                window_secs,
            ),
            Refused::Error(e) => return e.into_response(),
        };
        let mut response = err.into_response();
        if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

/// Refuses an e-mail or password longer than the server accepts, before any other work.
pub fn check_lengths(email: Option<&str>, passwords: &[&str]) -> Result<(), ApiError> {
    if email.is_some_and(|e| e.len() > EMAIL_MAX_BYTES) {
        return Err(ApiError::unprocessable(
            "email_too_long",
            format!("the e-mail address is longer than {EMAIL_MAX_BYTES} bytes"),
        ));
    }
    if passwords.iter().any(|p| p.len() > PASSWORD_MAX_BYTES) {
        return Err(ApiError::unprocessable(
            "password_too_long",
            format!("the password is longer than {PASSWORD_MAX_BYTES} bytes; choose a shorter one"),
        ));
    }
    Ok(())
}

/// The store keys an attempt is counted under: the address, and (address, account).
///
/// ```text
/// ("203.0.113.7", "ann@acme.test") → ["address:203.0.113.7", "pair:203.0.113.7 ann@acme.test"]
/// ```
pub fn attempt_keys(address: &str, email: &str) -> [String; 2] {
    [
        format!("address:{address}"),
        format!("pair:{address} {email}"),
    ]
}

/// The window's start for an attempt at `now`.
pub fn window_start(state: &AppState, now: Millis) -> Millis {
    let window_ms =
        i64::try_from(state.config.login_window_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    now.saturating_sub(window_ms)
}

/// Takes a hash permit and reserves an attempt under `keys`; the permit to hash with.
pub async fn admit(
    state: &AppState,
    keys: &[String; 2],
    now: Millis,
) -> Result<OwnedSemaphorePermit, Refused> {
    let permit = state.login_gate.permit()?;
    let cfg = &state.config;
    let limits = [
        (keys[0].clone(), cfg.login_address_max_failures),
        (keys[1].clone(), cfg.login_max_failures),
    ];
    if !state
        .store
        .reserve_login_attempt(&limits, window_start(state, now), now)
        .await?
    {
        return Err(Refused::TooMany {
            window_secs: cfg.login_window_secs,
        });
    }
    Ok(permit)
}

/// After a right password: the attempt is given back to the address and the (address,
/// account) count forgotten.
pub async fn succeeded(state: &AppState, keys: &[String; 2]) -> Result<(), ApiError> {
    state
        .store
        .settle_login_attempt(&keys[..1], &keys[1..])
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlong_input_is_refused_with_a_code_that_says_which() {
        let long_email = format!("{}@acme.test", "a".repeat(EMAIL_MAX_BYTES));
        let long_pw = "p".repeat(PASSWORD_MAX_BYTES + 1);
        assert_eq!(
            check_lengths(Some(&long_email), &["pw"]).map_err(|e| e.code),
            Err("email_too_long")
        );
        assert_eq!(
            check_lengths(Some("a@b.test"), &[&long_pw]).map_err(|e| e.code),
            Err("password_too_long")
        );
        let at_limit = "p".repeat(PASSWORD_MAX_BYTES);
        assert!(
            check_lengths(Some("a@b.test"), &[&at_limit]).is_ok(),
            "the limit itself is fine"
        );
    }

    #[test]
    fn a_gate_hands_out_no_more_permits_than_it_has() {
        let gate = LoginGate::new(2);
        let a = gate.permit().expect("first");
        let _b = gate.permit().expect("second");
        assert_eq!(
            gate.permit().err(),
            Some(Refused::Busy),
            "the third waits for none"
        );
        drop(a);
        assert!(gate.permit().is_ok(), "a permit given back is free again");
    }
}
