//! Fetching an offered release into `updates/` beside the database, resuming a download that
//! broke off: the bytes so far stay in `<sha256>.part` and the next try asks for the rest.
//! A complete file whose size and SHA-256 match the offer becomes `<sha256>`; that says
//! nothing yet about who made it (see [`super::verify`]).

use std::path::{Path, PathBuf};

use worktrace_domain::update::UpdateOffer;

use crate::secret::DeviceSecret;
use crate::sync::{Client, SyncError};

/// Largest release the agent downloads.
pub const MAX_RELEASE_BYTES: u64 = 512 * 1024 * 1024;

/// Why a download did not give a complete file (each one passes: the next check tries again).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the offer's SHA-256 {0:?} is not 64 hex digits")]
    BadHash(String),
    #[error("the release is {0} bytes; this agent downloads at most {MAX_RELEASE_BYTES}")]
    TooLarge(u64),
    #[error("the download was cut short: {got} of {size} bytes; it resumes at the next check")]
    Short { got: u64, size: u64 },
    #[error(
        "the downloaded file does not match the offer's SHA-256 (damaged on the way); it is \
         downloaded again at the next check"
    )]
    Damaged,
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error("{0}")]
    Io(String),
}

fn io(path: &Path, e: std::io::Error) -> FetchError {
    FetchError::Io(format!("{}: {e}", path.display()))
}

/// Where offered releases are kept.
pub fn updates_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("updates")
}

/// The complete file of `offer` in `dir`: there already, or downloaded (resuming a part).
/// Returns its path and how many bytes this call downloaded.
pub fn fetch(
    client: &Client,
    secret: &DeviceSecret,
    offer: &UpdateOffer,
    dir: &Path,
) -> Result<(PathBuf, u64), FetchError> {
    let sha = &offer.sha256;
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(FetchError::BadHash(sha.clone()));
    }
    let sha = sha.to_ascii_lowercase();
    if offer.size > MAX_RELEASE_BYTES {
        return Err(FetchError::TooLarge(offer.size));
    }
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let done = dir.join(&sha);
    if std::fs::metadata(&done).is_ok_and(|m| m.len() == offer.size) {
        return Ok((done, 0));
    }
    let part = dir.join(format!("{sha}.part"));
    let mut have = std::fs::metadata(&part).map_or(0, |m| m.len());
    if have > offer.size {
        have = 0;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(&part)
        .map_err(|e| io(&part, e))?;
    let mut downloaded = 0;
    if have < offer.size {
        if have > 0 {
            tracing::info!(
                version = %offer.version,
                "resuming the update download at {have} of {} bytes",
                offer.size
            );
        }
        file.set_len(have).map_err(|e| io(&part, e))?;
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(have)).map_err(|e| io(&part, e))?;
        let left = offer.size - have;
        let (resumed, written) =
            client.download(secret, &offer.download, have, (&mut file, &part), left)?;
        if !resumed && have > 0 {
            // The server sent the file from its start: what was appended is the wrong part.
            drop(file);
            let _ = std::fs::remove_file(&part);
            return Err(FetchError::Short {
                got: 0,
                size: offer.size,
            });
        }
        downloaded = written;
        have += written;
    }
    file.sync_all().map_err(|e| io(&part, e))?;
    drop(file);
    if have < offer.size {
        return Err(FetchError::Short {
            got: have,
            size: offer.size,
        });
    }
    let read = worktrace_exports::watch::sha256_of(&part);
    if read.ok_or_else(|| FetchError::Io(format!("{}: cannot be read", part.display())))? != sha {
        let _ = std::fs::remove_file(&part);
        return Err(FetchError::Damaged);
    }
    std::fs::rename(&part, &done).map_err(|e| io(&done, e))?;
    Ok((done, downloaded))
}

/// Removes every kept release and part in `dir`: after an install, a refusal, or when
/// nothing is offered any more.
pub fn clear(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}
