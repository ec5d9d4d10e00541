//! Small JSON files beside the database (status, pause, preferences, the server's policy),
//! written so that a reader never sees half of one, and readable by the user only (`0600` on
//! Unix): the status holds the current window's title.

use std::path::Path;

use serde::Serialize;

/// Writes JSON to a temporary file and renames it over `path`, so readers never see half a file.
pub fn write_atomically<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    write_private(&tmp, &bytes)?;
    std::fs::rename(&tmp, path)
}

/// Writes `bytes` to `path` (replacing it), readable by the user only (`0600` on Unix).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        // An existing file (a temporary one a crash left, one an older version wrote) keeps
        // its old mode otherwise.
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    std::io::Write::write_all(&mut options.open(path)?, bytes)
}
