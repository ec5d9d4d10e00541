//! The policy the company server sent last, kept in the data folder: read at start and at
//! every round, saved when an answer brings a new one.

use worktrace_domain::Policy;

use super::{Result, SyncError};
use crate::files::write_atomically;
use crate::settings::Settings;

/// The policy the server sent last, if any (an unreadable file counts as none).
pub fn load_server_policy(settings: &Settings) -> Option<Policy> {
    let text = std::fs::read(settings.server_policy_path()).ok()?;
    let policy: Policy = serde_json::from_slice(&text).ok()?;
    policy.validate().ok()?;
    Some(policy)
}

pub(super) fn save_server_policy(settings: &Settings, policy: &Policy) -> Result<()> {
    if load_server_policy(settings).as_ref() == Some(policy) {
        return Ok(());
    }
    let path = settings.server_policy_path();
    write_atomically(&path, policy).map_err(|source| SyncError::Policy { path, source })
}

/// Settings with the server's policy in force, when the PC is enrolled and has one.
pub fn with_server_policy(mut settings: Settings) -> Settings {
    if let Some(policy) = load_server_policy(&settings) {
        settings.policy = policy;
    }
    settings
}
