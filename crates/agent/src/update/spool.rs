//! The machine-wide folder where per-user agents leave verified `deb` and `msi` releases for
//! the system to install ([`super::applier`]), and where the applier leaves what became of
//! each (`results.json`).
//!
//! Any user of the PC can write this folder, so nothing in it is trusted by the applier: it is
//! only a drop box. Agents write a release's signature first (`<sha256>.<kind>.minisig`), then
//! the release under a temporary name renamed to `<sha256>.<kind>`, so a package file that
//! the applier (or the systemd path unit matching `*.deb`) sees always has its signature
//! beside it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use worktrace_domain::{Millis, Package};

/// Overrides the spool folder (tests, unusual installs).
pub const SPOOL_ENV: &str = "WORKTRACE_UPDATE_SPOOL";
/// The applier's record of what it did, in the spool.
pub const RESULTS_FILE: &str = "results.json";
/// Most results kept (the newest).
pub const MAX_RESULTS: usize = 20;

/// The spool folder: `WORKTRACE_UPDATE_SPOOL`, else `/var/lib/worktrace/updates` (Linux) or
/// `%ProgramData%\Worktrace\updates` (Windows), which the packages create.
pub fn dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(SPOOL_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if cfg!(windows) {
        let data = std::env::var_os("ProgramData")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(r"C:\ProgramData"));
        data.join("Worktrace").join("updates")
    } else {
        PathBuf::from("/var/lib/worktrace/updates")
    }
}

/// The package kind the system of this build installs from the spool (`deb` on Linux, `msi`
/// on Windows); `None` elsewhere.
pub fn system_package() -> Option<Package> {
    if cfg!(windows) {
        Some(Package::Msi)
    } else if cfg!(target_os = "linux") {
        Some(Package::Deb)
    } else {
        None
    }
}

/// The spooled file of the release with this SHA-256.
pub fn file_name(sha256: &str, package: Package) -> String {
    format!("{sha256}.{}", package.name())
}

/// Its signature beside it: `FILE.minisig`.
pub fn signature_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".minisig");
    PathBuf::from(name)
}

/// What the applier did with one spooled file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpoolResult {
    /// The SHA-256 of the file it took (agents find their release by it).
    pub sha256: String,
    /// The version the signature names, when it could be read.
    pub version: Option<String>,
    pub ok: bool,
    /// What was done, or why not.
    pub message: String,
    pub at: Millis,
}

/// Why a verified release could not be left in the spool.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error(
        "the folder {0} where the system picks up updates does not exist (the package creates \
         it; reinstall the package)"
    )]
    Missing(PathBuf),
    #[error("cannot leave the update in {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A name no other writer uses for a temporary file in the spool.
fn temporary(dir: &Path, name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    dir.join(format!("{name}.{}-{nanos}.part", std::process::id()))
}

/// Writes `bytes` to a new temporary file (never an existing one) and renames it to `path`.
fn place(
    dir: &Path,
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<(), SpoolError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = temporary(dir, &name);
    let io = |source| SpoolError::Io {
        path: path.to_owned(),
        source,
    };
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        write(&mut file)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// Leaves the verified release `file` (SHA-256 `sha256`, signature text `signature`) in the
/// spool `dir` for the system to install. A release already there is left as it is.
/// Returns the spooled file's path.
pub fn put(
    dir: &Path,
    file: &Path,
    signature: &str,
    sha256: &str,
    package: Package,
) -> Result<PathBuf, SpoolError> {
    if !dir.is_dir() {
        return Err(SpoolError::Missing(dir.to_owned()));
    }
    let target = dir.join(file_name(sha256, package));
    if target.is_file() && signature_path(&target).is_file() {
        return Ok(target);
    }
    place(dir, &signature_path(&target), |f| {
        std::io::Write::write_all(f, signature.as_bytes())
    })?;
    place(dir, &target, |f| {
        let mut from = std::fs::File::open(file)?;
        std::io::copy(&mut from, f).map(|_| ())
    })?;
    Ok(target)
}

/// Whether the release with this SHA-256 still waits in the spool.
pub fn waiting(dir: &Path, sha256: &str, package: Package) -> bool {
    dir.join(file_name(sha256, package)).is_file()
}

/// The applier's results in `dir`, oldest first; none when the file is missing, unreadable,
/// or (on Unix) not written by root: users can write the spool, so a results file of theirs
/// says nothing.
pub fn results(dir: &Path) -> Vec<SpoolResult> {
    let path = dir.join(RESULTS_FILE);
    let Ok(meta) = std::fs::symlink_metadata(&path) else {
        return Vec::new();
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.uid() != 0 {
            tracing::warn!(
                "{} is not root's: it is ignored (users can write the spool)",
                path.display()
            );
            return Vec::new();
        }
    }
    if !meta.is_file() || meta.len() > 1024 * 1024 {
        return Vec::new();
    }
    std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// The newest result of the file with this SHA-256.
pub fn result_of(dir: &Path, sha256: &str) -> Option<SpoolResult> {
    results(dir).into_iter().rev().find(|r| r.sha256 == sha256)
}

/// Appends `new` to the results in `dir`, keeping the newest [`MAX_RESULTS`]; written to a
/// new temporary file and renamed, so the applier never writes through a name a user planted.
pub fn record(dir: &Path, new: &[SpoolResult]) -> Result<(), SpoolError> {
    if new.is_empty() {
        return Ok(());
    }
    let mut all = results(dir);
    all.extend(new.iter().cloned());
    let extra = all.len().saturating_sub(MAX_RESULTS);
    all.drain(..extra);
    let bytes = serde_json::to_vec_pretty(&all).map_err(|e| SpoolError::Io {
        path: dir.join(RESULTS_FILE),
        source: std::io::Error::other(e),
    })?;
    place(dir, &dir.join(RESULTS_FILE), |f| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(0o644))?;
        }
        std::io::Write::write_all(f, &bytes)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_is_spooled_signature_first_and_results_are_bounded() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let spool = tmp.path().join("updates");
        let release = tmp.path().join("release");
        std::fs::write(&release, b"package bytes").expect("write");
        let err = put(&spool, &release, "sig", "ab", Package::Deb).expect_err("no folder");
        assert!(matches!(err, SpoolError::Missing(_)), "{err}");

        std::fs::create_dir(&spool).expect("mkdir");
        let placed = put(&spool, &release, "sig", "ab", Package::Deb).expect("spooled");
        assert_eq!(placed, spool.join("ab.deb"));
        assert_eq!(std::fs::read(&placed).expect("read"), b"package bytes");
        assert_eq!(
            std::fs::read_to_string(spool.join("ab.deb.minisig")).expect("read"),
            "sig"
        );
        assert!(waiting(&spool, "ab", Package::Deb));
        let names: Vec<_> = std::fs::read_dir(&spool)
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 2, "no temporary file is left: {names:?}");

        let result = |i: i64| SpoolResult {
            sha256: format!("h{i}"),
            version: Some("0.2.0".into()),
            ok: i % 2 == 0,
            message: "m".into(),
            at: i,
        };
        for i in 0..30 {
            record(&spool, &[result(i)]).expect("recorded");
        }
        #[cfg(unix)]
        if !worktrace_is_root() {
            // A file written by a user is ignored; as root (CI) it is read.
            assert!(
                results(&spool).is_empty(),
                "a user's results file says nothing"
            );
            return;
        }
        let all = results(&spool);
        assert_eq!(all.len(), MAX_RESULTS, "the newest are kept");
        assert_eq!(result_of(&spool, "h29"), Some(result(29)));
        assert_eq!(result_of(&spool, "h0"), None);
    }

    #[cfg(unix)]
    fn worktrace_is_root() -> bool {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
    }
}
