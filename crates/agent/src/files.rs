//! Small JSON files beside the database (status, pause, preferences), written so that a reader
//! never sees half of one.

use std::path::Path;

use serde::Serialize;

/// Writes JSON to a temporary file and renames it over `path`, so readers never see half a file.
pub fn write_atomically<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec(value).map_err(std::io::Error::other)?,
    )?;
    std::fs::rename(&tmp, path)
}
