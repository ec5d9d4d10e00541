//! Uploading to the company server: enrollment, upload rounds, and the thread that runs them.
//!
//! A round resends the unanswered batch if there is one (same number, same bytes, so a lost
//! acknowledgement never doubles anything), then builds batches from the outbox until it is
//! empty. Rows leave the outbox only with the server's acknowledgement. A revoked PC stops
//! uploading and keeps its data. Never uploads anything the policy does not allow (see
//! [`batch`]), and never writes the device secret anywhere but the OS keychain.

pub mod batch;
pub mod client;
#[cfg(not(any(target_os = "macos", target_env = "msvc")))]
pub mod pin;
mod server_policy;
mod thread;

use std::time::Duration;

use worktrace_domain::wire::Presence;
use worktrace_domain::Policy;
use worktrace_store::Store;

use crate::clock::Clock;
use crate::secret::{self, DeviceSecret, SecretError};
use crate::settings::Settings;
pub use client::Client;
use server_policy::save_server_policy;
pub use server_policy::{load_server_policy, with_server_policy};
pub use thread::{backoff, retry_wait, SharedPresence, SyncHandle};

/// Most outbox rows in one batch.
pub const MAX_BATCH_ITEMS: usize = 1000;
/// About the most JSON in one batch: well under the server's body limit.
pub const MAX_BATCH_BYTES: usize = 192 * 1024;
/// Most batches in one round, so a huge backlog does not hold the thread for long.
pub const MAX_BATCHES_PER_ROUND: u32 = 200;
/// The presence is sent at least this often while the agent runs, even with nothing else.
pub const PRESENCE_EVERY: Duration = Duration::from_secs(300);
/// The first retry after a failure waits about this long; each further failure doubles it.
pub const RETRY_FIRST: Duration = Duration::from_secs(5);

/// Why a round (or an enrollment) did not complete, in words for the user.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{0:?} is not a server address; write it like https://worktrace.example.com")]
    BadUrl(String),
    #[error(
        "{0} is plain http:// to another machine: the device secret and every upload would \
         cross the network readable; use https:// (plain http:// is only for a server on this \
         PC: localhost, 127.0.0.1, ::1)"
    )]
    PlainHttp(String),
    /// `[server] ca_file` or `pin_sha256` cannot be used; the message says which and why.
    #[error("{0}")]
    Trust(String),
    #[error(
        "the server at {url} showed a certificate with SHA-256 fingerprint {seen}, not the pinned \
         {pinned} ([server] pin_sha256); nothing was sent. If IT renewed the server's \
         certificate, set the new fingerprint; otherwise the connection may be intercepted"
    )]
    PinMismatch {
        url: String,
        seen: String,
        pinned: String,
    },
    #[error(
        "this PC is not enrolled with a company server; run `worktrace enroll --server URL \
         --token TOKEN`, or set [server] url and enrollment_token in the config file"
    )]
    NotEnrolled,
    #[error("the server refused the enrollment: {0}")]
    EnrollRefused(String),
    #[error(
        "cannot reach the server at {url} ({detail}); everything stays queued on this PC and is \
         sent when the server answers"
    )]
    Unreachable { url: String, detail: String },
    #[error(
        "uploads stopped: {0}. Nothing more is sent and everything stays on this PC; to upload \
         again, ask IT for a new enrollment token and run `worktrace enroll`"
    )]
    Revoked(String),
    #[error(
        "the server does not accept this PC ({message}); ask IT for a new enrollment token and \
         run `worktrace enroll`"
    )]
    Unauthorized { code: String, message: String },
    #[error("the server refused the upload (HTTP {status}: {message}); it is retried later")]
    Rejected {
        status: u16,
        message: String,
        /// The server's `Retry-After`, in seconds (429 Too Many Requests).
        retry_after_secs: Option<u64>,
    },
    #[error("the server failed (HTTP {status}: {message}); the upload is retried later")]
    Server {
        status: u16,
        message: String,
        /// The server's `Retry-After`, in seconds (503: its database is unavailable).
        retry_after_secs: Option<u64>,
    },
    #[error("the server's answer cannot be read ({0}); the upload is retried later")]
    BadAnswer(String),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Store(#[from] worktrace_store::Error),
    #[error("cannot save a download to {path}: {source}")]
    Download {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot save the server's policy to {path}: {source}")]
    Policy {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, SyncError>;

impl SyncError {
    /// How long the server asked to be left alone (`Retry-After`), when it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SyncError::Rejected {
                retry_after_secs, ..
            }
            | SyncError::Server {
                retry_after_secs, ..
            } => retry_after_secs.map(Duration::from_secs),
            _ => None,
        }
    }
}

/// What a completed round did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoundReport {
    /// Batches acknowledged (including resent ones).
    pub batches: u32,
    /// Outbox rows they carried.
    pub items: usize,
    /// Batches the server already had (their first answer was lost).
    pub duplicates: u32,
    /// Whether the presence went out.
    pub presence_sent: bool,
    /// The policy in the last acknowledgement.
    pub policy: Option<Policy>,
}

/// A short description of this PC for the admins' device list: `host (os)`.
pub fn device_description() -> String {
    let host = ["HOSTNAME", "COMPUTERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unnamed PC".to_owned());
    let description = format!("{host} ({})", std::env::consts::OS);
    // Cut at a character boundary: a host name may be any UTF-8.
    let mut end = description.len().min(200);
    while !description.is_char_boundary(end) {
        end -= 1;
    }
    description[..end].to_owned()
}

/// Enrolls this PC with `server_url` using a one-time token: the secret goes to the OS
/// keychain, the device id and server to the database, the policy to the data folder.
/// Returns the server's id for this PC.
pub fn enroll(
    store: &mut Store,
    settings: &Settings,
    server_url: &str,
    token: &str,
) -> Result<i64> {
    let client = Client::new(server_url, &settings.server)?;
    if token.trim().is_empty() {
        return Err(SyncError::EnrollRefused(
            "the enrollment token is empty; ask IT for one".into(),
        ));
    }
    // The account this agent runs as: a fleet token enrolls the PC as the person with that
    // login (a person's own token ignores it).
    let account = whoami::username().ok();
    let answer = client.enroll(
        token,
        &device_description(),
        store.device_id(),
        account.as_deref(),
    )?;
    let secret = DeviceSecret::new(answer.device_secret);
    secret::save(store.device_id(), client.url(), &secret).map_err(|e| {
        SyncError::EnrollRefused(format!(
            "the server enrolled this PC, but its secret could not be kept: {e}. The token is \
             used up: ask IT for a new one once the keychain works"
        ))
    })?;
    store.set_enrollment(client.url(), answer.device_id)?;
    save_server_policy(settings, &answer.policy)?;
    tracing::info!(device = answer.device_id, server = client.url(), "enrolled");
    Ok(answer.device_id)
}

/// The device secret for the current enrollment, read from the keychain once per enrollment.
#[derive(Debug, Default)]
pub struct SecretCache {
    held: Option<(String, i64, DeviceSecret)>,
}

impl SecretCache {
    pub(crate) fn get(
        &mut self,
        local_id: &str,
        server: &str,
        device: i64,
    ) -> Result<DeviceSecret> {
        if let Some((s, d, secret)) = &self.held {
            if s == server && *d == device {
                return Ok(secret.clone());
            }
        }
        let secret = secret::load(local_id, server)?;
        self.held = Some((server.to_owned(), device, secret.clone()));
        Ok(secret)
    }
}

/// One upload round at the times `now` gives, without noting its outcome (see [`run_round`]). Enrolls first from the
/// config file when the PC is not enrolled and the file names a server and a token.
pub fn round(
    store: &mut Store,
    settings: &Settings,
    secrets: &mut SecretCache,
    mut presence: Option<Presence>,
    now: Clock,
) -> Result<RoundReport> {
    let mut state = store.sync_state()?;
    if state.server_url.is_none() {
        match (&settings.server.url, &settings.server.enrollment_token) {
            (Some(url), Some(token)) => {
                enroll(store, settings, url, token)?;
                state = store.sync_state()?;
            }
            _ => return Err(SyncError::NotEnrolled),
        }
    }
    let (Some(url), Some(device)) = (state.server_url.clone(), state.device) else {
        return Err(SyncError::NotEnrolled);
    };
    if state.revoked_at.is_some() {
        return Err(SyncError::Revoked(
            "this PC's access was revoked by an administrator".into(),
        ));
    }
    let secret = secrets.get(store.device_id(), &url, device)?;
    let client = Client::new(&url, &settings.server)?;
    let applied = load_server_policy(settings).unwrap_or_else(|| settings.policy.clone());
    let mut fingerprint = applied.fingerprint();
    let mut upload = applied.upload;
    let mut report = RoundReport::default();
    while report.batches < MAX_BATCHES_PER_ROUND {
        let pending = match store.pending_batch()? {
            Some(pending) => pending,
            None => {
                let draft = store.outbox_draft(MAX_BATCH_ITEMS, MAX_BATCH_BYTES)?;
                if draft.is_empty() && presence.is_none() {
                    break;
                }
                let (head, proof) = store.chain_proof(&draft, &fingerprint)?;
                let with = presence.take();
                report.presence_sent |= with.is_some();
                report.items += draft.len();
                store.save_pending(&draft, now(), |seq| {
                    let mut batch = batch::build(seq, head, &draft, with, &upload);
                    batch.chain = Some(proof);
                    serde_json::to_string(&batch)
                })?
            }
        };
        let ack = match client.ingest(&secret, pending.body.clone()) {
            Ok(ack) => ack,
            Err(SyncError::Revoked(message)) => {
                let e = SyncError::Revoked(message);
                store.note_sync_revoked(now(), &e.to_string())?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        if ack.batch_seq != pending.batch_seq {
            return Err(SyncError::BadAnswer(format!(
                "batch {} was acknowledged as batch {}",
                pending.batch_seq, ack.batch_seq
            )));
        }
        store.ack_pending(pending.batch_seq, &url, ack.duplicate, now())?;
        report.batches += 1;
        report.duplicates += u32::from(ack.duplicate);
        save_server_policy(settings, &ack.policy)?;
        fingerprint = ack.policy.fingerprint();
        upload = ack.policy.upload;
        report.policy = Some(ack.policy);
    }
    Ok(report)
}

/// [`round`], with its outcome noted in the database for `worktrace status`.
pub fn run_round(
    store: &mut Store,
    settings: &Settings,
    secrets: &mut SecretCache,
    presence: Option<Presence>,
    now: Clock,
) -> Result<RoundReport> {
    let result = round(store, settings, secrets, presence, now);
    let noted = match &result {
        Ok(_) => store.note_sync_round(now(), None),
        // Not an attempt: nothing to note. A revocation was noted where it was learnt.
        Err(SyncError::NotEnrolled | SyncError::Revoked(_)) => Ok(()),
        Err(e) => store.note_sync_round(now(), Some(&e.to_string())),
    };
    if let Err(e) = noted {
        tracing::warn!("cannot note the sync round: {e}");
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_fit_the_server_limit() {
        let d = device_description();
        assert!(
            !d.is_empty() && d.len() <= 200,
            "the server takes 1 to 200 bytes: {d:?}"
        );
    }
}
