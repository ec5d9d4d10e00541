//! Signing agent releases the way the vendor does, with the real `minisign` tool (Debian's
//! package, installed by `make deps`), and the test key of `keys/` that debug builds of the
//! agent trust.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The test key's secret half (unencrypted; see `keys/README.md`).
pub const TEST_KEY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/keys/release-test.key");

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: cannot run minisign ({e}); make deps installs it"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Signs `file` with the secret key `key` and the trusted comment `comment`, into
/// `FILE.minisig`; returns the signature's text.
pub fn sign(file: &Path, key: &Path, comment: &str) -> Result<String, String> {
    let sig = PathBuf::from(format!("{}.minisig", file.display()));
    run(
        Command::new("minisign")
            .arg("-S")
            .arg("-s")
            .arg(key)
            .arg("-t")
            .arg(comment)
            .arg("-m")
            .arg(file)
            .arg("-x")
            .arg(&sig),
        "minisign -S",
    )?;
    std::fs::read_to_string(&sig).map_err(|e| format!("{}: {e}", sig.display()))
}

/// A new key pair in `dir` that no build trusts; returns its secret key.
pub fn stranger_key(dir: &Path) -> Result<PathBuf, String> {
    let (public, secret) = (dir.join("stranger.pub"), dir.join("stranger.key"));
    run(
        Command::new("minisign")
            .args(["-G", "-W", "-f"])
            .arg("-p")
            .arg(&public)
            .arg("-s")
            .arg(&secret),
        "minisign -G",
    )?;
    Ok(secret)
}
