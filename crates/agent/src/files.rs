//! Small JSON files beside the database (status, pause, preferences, the server's policy),
//! written so that a reader never sees half of one, and readable by the user only (`0600` on
//! Unix): the status holds the current window's title.

use std::path::Path;

use serde::Serialize;

/// Writes JSON to a temporary file and renames it over `path`, so readers never see half a file.
pub fn write_atomically<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        // A temporary file left by a crash keeps its old mode otherwise.
        if tmp.exists() {
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    std::io::Write::write_all(&mut options.open(&tmp)?, &bytes)?;
    std::fs::rename(&tmp, path)
}
