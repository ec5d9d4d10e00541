//! The privileged applier, `worktrace update apply-spool DIR`: run as root (a systemd path
//! unit) or SYSTEM (a scheduled task), it installs the `deb` or `msi` releases that per-user
//! agents left in the spool ([`super::spool`]).
//!
//! It must never trust the spool, which every user can write: each file is first copied into
//! a folder only this process can write (so nobody changes it between the check and the
//! install), then its signature is checked again with the keys built into this executable
//! ([`super::verify`]), its trusted comment must name this platform and its package kind, and
//! its version must be newer than the installed one (this executable's, which the units run
//! from where the package installed it). Only then does `dpkg -i` or `msiexec /i … /qn
//! /norestart` run. Every spooled file is removed whatever became of it, and what became of
//! it is added to `results.json` for the agents to report. Whatever else was left there for
//! more than [`STALE_AFTER`] (the temporary file of an agent that stopped while copying, a
//! signature without its file, anything a user dropped) is removed ([`remove_stale`]). With
//! nothing spooled it does nothing and writes nothing, so running it often is safe.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use worktrace_domain::update::ReleaseName;
use worktrace_domain::{Millis, Package};

use super::download::MAX_RELEASE_BYTES;
use super::spool::{self, SpoolResult};
use super::verify;

/// How long a file that is no release may stay in the spool: far longer than any copy takes.
pub const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Largest signature file read from the spool.
const MAX_SIGNATURE_BYTES: u64 = 16 * 1024;

/// What installs a verified package file.
pub trait Installer {
    /// Installs `file`; what was done, or why it failed.
    fn install(&self, file: &Path) -> Result<String, String>;
}

/// The system's own installer: `dpkg -i` on Linux, `msiexec` on Windows.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemInstaller;

impl Installer for SystemInstaller {
    fn install(&self, file: &Path) -> Result<String, String> {
        let mut cmd = if cfg!(windows) {
            let system = std::env::var_os("SystemRoot")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(r"C:\Windows"));
            let mut cmd = Command::new(system.join("System32").join("msiexec.exe"));
            cmd.arg("/i").arg(file).args(["/qn", "/norestart"]);
            cmd
        } else {
            let mut cmd = Command::new("dpkg");
            cmd.arg("-i")
                .arg(file)
                .env("DEBIAN_FRONTEND", "noninteractive");
            cmd
        };
        let what = if cfg!(windows) {
            "msiexec /i"
        } else {
            "dpkg -i"
        };
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {what}: {e}"))?;
        // msiexec: 3010 is "installed; Windows must restart to finish" (a file was in use).
        if cfg!(windows) && out.status.code() == Some(3010) {
            return Ok(format!(
                "installed with {what}; Windows must restart to finish"
            ));
        }
        if out.status.success() {
            return Ok(format!("installed with {what}"));
        }
        let said = String::from_utf8_lossy(&out.stderr);
        let said: Vec<&str> = said.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = said[said.len().saturating_sub(3)..].join(" / ");
        Err(format!(
            "{what} ended with {}{}",
            out.status,
            if tail.is_empty() {
                String::new()
            } else {
                format!(": {tail}")
            }
        ))
    }
}

/// What the applier knows of this system: which releases it takes and what is installed.
#[derive(Debug, Clone)]
pub struct System {
    pub platform: String,
    pub package: Package,
    pub installed: semver::Version,
}

impl System {
    /// This executable's platform, the package kind its system installs, its own version.
    pub fn this() -> anyhow::Result<System> {
        let package = spool::system_package().ok_or_else(|| {
            anyhow::anyhow!("this system has no package the applier installs (deb or msi)")
        })?;
        Ok(System {
            platform: super::this_platform(),
            package,
            installed: semver::Version::parse(crate::version::current())?,
        })
    }
}

/// One spooled file and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub file: String,
    pub result: SpoolResult,
}

/// Why a spooled file was not installed.
fn refuse(
    file: &str,
    sha256: String,
    version: Option<String>,
    why: String,
    now: Millis,
) -> Applied {
    Applied {
        file: file.to_owned(),
        result: SpoolResult {
            sha256,
            version,
            ok: false,
            message: why,
            at: now,
        },
    }
}

/// Applies every release spooled in `dir` (oldest name first) and records the results there.
pub fn apply_spool(
    dir: &Path,
    system: &System,
    installer: &dyn Installer,
    now: Millis,
) -> anyhow::Result<Vec<Applied>> {
    let meta = std::fs::metadata(dir)
        .map_err(|e| anyhow::anyhow!("the spool folder {}: {e}", dir.display()))?;
    if !meta.is_dir() {
        anyhow::bail!("the spool {} is not a folder", dir.display());
    }
    let suffix = format!(".{}", system.package.name());
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot list the spool folder {}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(&suffix) && n.len() > suffix.len())
        .collect();
    names.sort();
    let mut done = Vec::new();
    for name in names {
        let applied = apply_one(dir, &name, system, installer, now);
        done.push(applied);
    }
    let results: Vec<SpoolResult> = done.iter().map(|a| a.result.clone()).collect();
    spool::record(dir, &results)?;
    Ok(done)
}

/// Removes what was left in the spool `dir` for longer than [`STALE_AFTER`] at `now` and is
/// neither a release of this system's kind (`*.deb`, `*.msi`: [`apply_spool`] takes those)
/// nor the results: a temporary `.part` file, a signature whose file never came, anything
/// else. Links are removed themselves, never followed; folders are left. Returns the names
/// removed.
pub fn remove_stale(dir: &Path, package: Package, now: std::time::SystemTime) -> Vec<String> {
    let suffix = format!(".{}", package.name());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == spool::RESULTS_FILE || name.ends_with(&suffix) {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
            continue;
        };
        let old = meta
            .modified()
            .ok()
            .and_then(|at| now.duration_since(at).ok())
            .is_some_and(|age| age > STALE_AFTER);
        if meta.is_dir() || !old {
            continue;
        }
        if std::fs::remove_file(entry.path()).is_ok() {
            removed.push(name);
        }
    }
    removed.sort();
    removed
}

/// Takes one spooled file out of the spool, checks it and installs it.
fn apply_one(
    dir: &Path,
    name: &str,
    system: &System,
    installer: &dyn Installer,
    now: Millis,
) -> Applied {
    let spooled = dir.join(name);
    let signature = spool::signature_path(&spooled);
    let private = match tempfile::Builder::new()
        .prefix("worktrace-apply-")
        .tempdir()
    {
        Ok(private) => private,
        Err(e) => {
            return refuse(
                name,
                String::new(),
                None,
                format!("cannot make a private folder to check it in: {e}"),
                now,
            )
        }
    };
    let copy = private
        .path()
        .join(format!("release.{}", system.package.name()));
    let taken = copy_in(&spooled, &copy, MAX_RELEASE_BYTES).and_then(|()| {
        let mut sig = Vec::new();
        open_regular(&signature)
            .map_err(|e| format!("its signature {}: {e}", signature.display()))?
            .take(MAX_SIGNATURE_BYTES + 1)
            .read_to_end(&mut sig)
            .map_err(|e| format!("its signature {}: {e}", signature.display()))?;
        if sig.len() as u64 > MAX_SIGNATURE_BYTES {
            return Err(format!(
                "its signature {} is over {MAX_SIGNATURE_BYTES} bytes",
                signature.display()
            ));
        }
        String::from_utf8(sig).map_err(|_| "its signature is not text".to_owned())
    });
    // Out of the spool whatever happens next: a refused file is not looked at again.
    for path in [&spooled, &signature] {
        if let Err(e) = std::fs::remove_file(path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!("cannot remove {} from the spool: {e}", path.display());
            }
        }
    }
    let sha256 = worktrace_exports::watch::sha256_of(&copy).unwrap_or_default();
    let sig = match taken {
        Ok(sig) => sig,
        Err(why) => return refuse(name, sha256, None, why, now),
    };
    let signed = match verify::signed_release(&copy, &sig, &verify::trusted_keys()) {
        Ok(signed) => signed,
        Err(e) => return refuse(name, sha256, None, e.to_string(), now),
    };
    let version = Some(signed.version.to_string());
    if let Err(why) = may_install(&signed, system) {
        return refuse(name, sha256, version, why, now);
    }
    if signed.version == system.installed {
        // What the agents wait for is there already (another copy of it was installed).
        return Applied {
            file: name.to_owned(),
            result: SpoolResult {
                sha256,
                version,
                ok: true,
                message: format!("{} is installed already", signed.version),
                at: now,
            },
        };
    }
    match installer.install(&copy) {
        Ok(what) => Applied {
            file: name.to_owned(),
            result: SpoolResult {
                sha256,
                version,
                ok: true,
                message: format!("{what} (was {})", system.installed),
                at: now,
            },
        },
        Err(why) => refuse(name, sha256, version, why, now),
    }
}

/// Whether a release signed as `signed` may be installed on `system`.
///
/// ```text
/// installed 0.1.0 (linux-x86_64, deb), signed linux-x86_64 deb 0.1.1  → yes
/// installed 0.1.0, signed linux-x86_64 exe 0.1.1                       → no: another kind
/// installed 0.1.1, signed linux-x86_64 deb 0.1.0                       → no: older
/// installed 0.1.1, signed linux-x86_64 deb 0.1.1                       → yes (nothing to do)
/// ```
pub fn may_install(signed: &ReleaseName, system: &System) -> Result<(), String> {
    if signed.platform != system.platform || signed.package != system.package {
        return Err(format!(
            "it is signed for {} {}, not for this system's {} {}",
            signed.platform,
            signed.package.name(),
            system.platform,
            system.package.name()
        ));
    }
    if signed.version < system.installed {
        return Err(format!(
            "{} is older than the installed {}: the applier never goes back",
            signed.version, system.installed
        ));
    }
    Ok(())
}

/// Opens `path` only if it is a regular file (never through a symbolic link, a FIFO or a
/// device a user put in the spool).
fn open_regular(path: &Path) -> Result<std::fs::File, String> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    if !meta.file_type().is_file() {
        return Err("not a regular file".to_owned());
    }
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // Replaced between the look and the open: not the file that was looked at.
        let opened = file.metadata().map_err(|e| e.to_string())?;
        if opened.dev() != meta.dev() || opened.ino() != meta.ino() || !opened.is_file() {
            return Err("it changed while it was opened".to_owned());
        }
    }
    Ok(file)
}

/// Copies the spooled `from` into the private `to`, at most `max` bytes.
fn copy_in(from: &Path, to: &Path, max: u64) -> Result<(), String> {
    let source = open_regular(from)?;
    let mut target = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(|e| format!("{}: {e}", to.display()))?;
    let copied = std::io::copy(&mut source.take(max + 1), &mut target)
        .map_err(|e| format!("cannot copy it: {e}"))?;
    if copied > max {
        return Err(format!("it is over {max} bytes"));
    }
    target.sync_all().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    struct Recording {
        installed: RefCell<Vec<Vec<u8>>>,
        answer: Result<String, String>,
    }

    impl Installer for Recording {
        fn install(&self, file: &Path) -> Result<String, String> {
            self.installed
                .borrow_mut()
                .push(std::fs::read(file).expect("the private copy"));
            self.answer.clone()
        }
    }

    fn system(installed: &str) -> System {
        System {
            platform: "linux-x86_64".into(),
            package: Package::Deb,
            installed: semver::Version::parse(installed).expect("version"),
        }
    }

    fn name(comment: &str) -> ReleaseName {
        ReleaseName::parse(comment).expect("a release name")
    }

    #[test]
    fn only_newer_releases_of_this_systems_kind_may_be_installed() {
        let s = system("0.1.0");
        assert_eq!(
            may_install(&name("worktrace-release linux-x86_64 deb 0.1.1"), &s),
            Ok(())
        );
        for (comment, says) in [
            (
                "worktrace-release linux-x86_64 exe 0.1.1",
                "not for this system's",
            ),
            (
                "worktrace-release windows-x86_64 deb 0.1.1",
                "not for this system's",
            ),
            (
                "worktrace-release linux-x86_64 deb 0.0.9",
                "never goes back",
            ),
        ] {
            let why = may_install(&name(comment), &s).expect_err(comment);
            assert!(why.contains(says), "{comment}: {why}");
        }
    }

    #[test]
    fn a_signed_newer_release_is_installed_from_the_private_copy_and_a_failing_install_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let spool = tmp.path().join("spool");
        std::fs::create_dir(&spool).expect("mkdir");
        let key = Path::new(worktrace_testkit::minisign::TEST_KEY);
        let signed = |name: &str, version: &str| {
            let path = spool.join(name);
            std::fs::write(&path, format!("package {version}")).expect("write");
            worktrace_testkit::minisign::sign(
                &path,
                key,
                &format!("worktrace-release linux-x86_64 deb {version}"),
            )
            .expect("signed");
        };
        signed("a.deb", "0.2.0");
        signed("b.deb", "0.0.9");
        let works = Recording {
            installed: RefCell::new(Vec::new()),
            answer: Ok("installed with the test".into()),
        };
        let done = apply_spool(&spool, &system("0.1.0"), &works, 1).expect("applied");
        assert_eq!(
            *works.installed.borrow(),
            [b"package 0.2.0".to_vec()],
            "only the newer one is installed, from its copy"
        );
        assert!(done[0].result.ok, "{:?}", done[0]);
        assert_eq!(done[0].result.version.as_deref(), Some("0.2.0"));
        assert!(
            !done[1].result.ok && done[1].result.message.contains("never goes back"),
            "{:?}",
            done[1]
        );

        signed("c.deb", "0.3.0");
        let fails = Recording {
            installed: RefCell::new(Vec::new()),
            answer: Err("dpkg -i ended with exit status: 1".into()),
        };
        let done = apply_spool(&spool, &system("0.2.0"), &fails, 2).expect("applied");
        assert!(
            !done[0].result.ok && done[0].result.message.contains("exit status: 1"),
            "an installer that fails refuses the release: {:?}",
            done[0]
        );
        signed("d.deb", "0.2.0");
        let done = apply_spool(&spool, &system("0.2.0"), &fails, 3).expect("applied");
        assert!(
            done[0].result.ok && fails.installed.borrow().len() == 1,
            "the installed version counts as installed, without installing: {:?}",
            done[0]
        );
    }

    #[test]
    fn what_is_no_release_is_removed_once_it_is_stale() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in [
            "a.deb.123-456.part",
            "b.deb.minisig",
            "junk",
            "c.deb",
            spool::RESULTS_FILE,
        ] {
            std::fs::write(dir.path().join(name), b"x").expect("write");
        }
        std::fs::create_dir(dir.path().join("folder")).expect("mkdir");
        let now = std::time::SystemTime::now();
        assert!(
            remove_stale(dir.path(), Package::Deb, now).is_empty(),
            "nothing fresh is removed"
        );
        let later = now + STALE_AFTER + std::time::Duration::from_secs(60);
        assert_eq!(
            remove_stale(dir.path(), Package::Deb, later),
            ["a.deb.123-456.part", "b.deb.minisig", "junk"]
        );
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["c.deb", "folder", spool::RESULTS_FILE]);
    }

    #[test]
    fn unsigned_or_odd_files_are_refused_removed_and_recorded_without_installing() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let spool = tmp.path();
        // No signature, a signature that is not one, and a symbolic link to another file.
        std::fs::write(spool.join("a.deb"), b"x").expect("write");
        std::fs::write(spool.join("b.deb"), b"y").expect("write");
        std::fs::write(spool.join("b.deb.minisig"), b"not a signature").expect("write");
        std::fs::write(spool.join("other.txt"), b"left alone").expect("write");
        #[cfg(unix)]
        std::os::unix::fs::symlink(spool.join("other.txt"), spool.join("c.deb")).expect("link");
        let installer = Recording {
            installed: RefCell::new(Vec::new()),
            answer: Ok("installed".into()),
        };
        let done = apply_spool(spool, &system("0.1.0"), &installer, 7).expect("applied");
        assert!(
            installer.installed.borrow().is_empty(),
            "nothing is installed"
        );
        assert!(done.iter().all(|a| !a.result.ok), "{done:?}");
        assert!(
            done[0].result.message.contains("its signature"),
            "{:?}",
            done[0]
        );
        assert!(
            done[1].result.message.contains("signature cannot be read"),
            "{:?}",
            done[1]
        );
        #[cfg(unix)]
        assert!(
            done[2].result.message.contains("not a regular file"),
            "{:?}",
            done[2]
        );
        for n in ["a.deb", "b.deb", "b.deb.minisig", "c.deb"] {
            assert!(
                std::fs::symlink_metadata(spool.join(n)).is_err(),
                "{n} is out of the spool"
            );
        }
        assert_eq!(
            std::fs::read(spool.join("other.txt")).expect("read"),
            b"left alone",
            "what a link pointed at is untouched, and other files stay"
        );

        // Nothing spooled: nothing is done and nothing written.
        let before = std::fs::read(spool.join(spool::RESULTS_FILE)).expect("results");
        let again = apply_spool(spool, &system("0.1.0"), &installer, 8).expect("applied");
        assert!(again.is_empty());
        assert_eq!(
            std::fs::read(spool.join(spool::RESULTS_FILE)).expect("results"),
            before,
            "an idle run writes nothing"
        );
    }
}
