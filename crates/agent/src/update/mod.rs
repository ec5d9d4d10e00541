//! Agent updates from the company server.
//!
//! The upload thread asks the server at most every `update.check_interval_secs` of the policy
//! (and once at start) whether a release is offered, telling it this agent's version. An
//! offered release is downloaded in the background (resuming), checked against the vendor's
//! signature and the version rules ([`verify`]), tried, and handed to the engine, which
//! installs it at a safe moment: no export incident open, inside the policy's update window,
//! after everything is saved ([`Updater`], [`apply`]). A refused release is remembered and
//! reported, never fetched again; the running agent goes on either way.
//!
//! An agent installed by its package (`deb`, `msi`) cannot install a package itself (it runs
//! as the user): it leaves the verified release in the machine-wide spool ([`spool`]) and
//! reports that it waits for the system, whose applier ([`applier`], run as root or SYSTEM)
//! checks it again and installs it; the agent reads and reports the applier's result at its
//! next checks ([`package_step`]).

pub mod applier;
pub mod download;
pub mod install;
pub mod spool;
pub mod state;
pub mod task;
pub mod verify;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use worktrace_domain::update::{UpdateCheck, UpdateOffer};
use worktrace_domain::{Millis, Package};
use worktrace_store::Store;

use crate::clock::Clock;
use crate::settings::Settings;
use crate::sync::{self, Client, SecretCache};
use state::{Spooled, UpdateState};

/// `os-arch` of this build, as releases name their platform.
pub fn this_platform() -> String {
    worktrace_domain::update::platform(std::env::consts::OS, std::env::consts::ARCH)
}

/// How the agent at `exe` was installed: under `/usr` (Linux) or Program Files (Windows) by
/// its package, anywhere else as a bare executable it may replace itself.
pub fn installed_package(exe: &Path) -> Package {
    if cfg!(windows) {
        let program_files = std::env::var_os("ProgramFiles").map(PathBuf::from);
        if program_files.is_some_and(|p| exe.starts_with(p)) {
            return Package::Msi;
        }
    } else if exe.starts_with("/usr") {
        return Package::Deb;
    }
    Package::Exe
}

/// What a program's upload thread does about updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Updates {
    /// Checks and reports the version; installs nothing (the desktop app, the tray where no
    /// package of its own installed it, and every program with `[agent] self_update = false`).
    Report,
    /// Hands a release of the package that installed this program to the system's applier
    /// through the spool, and installs nothing itself: the tray installed by the MSI, which
    /// carries the tray too. Anywhere else this is [`Updates::Report`]: the bare and the
    /// `.deb` releases are of the `worktrace` agent alone.
    Spool,
    /// Also downloads, verifies and hands a release to the engine to install.
    Install,
}

/// A verified release the engine may install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    pub file: PathBuf,
    pub version: String,
    pub sha256: String,
    /// The system installed it already ([`Updates::Install`] of a packaged agent): `file` is
    /// the agent's own path, which holds the new version now, and the agent only starts again.
    pub installed: bool,
}

/// Where the upload thread leaves a verified release for the engine.
pub type ReadySlot = Arc<Mutex<Option<Ready>>>;

/// A copy of what is in the slot, if anything (it stays there).
pub fn peek(slot: &ReadySlot) -> Option<Ready> {
    slot.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// The update side of the upload thread.
#[derive(Debug)]
pub struct Updater {
    mode: Updates,
    /// The offered version this program was last told it does not install (logged once).
    said_offered: Option<String>,
    platform: String,
    package: Package,
    /// Where this program was started from (a package may have replaced the file since).
    exe: PathBuf,
    current: semver::Version,
    next_check: Instant,
    ready: ReadySlot,
}

impl Updater {
    /// The updater of the running executable; `None` when it cannot tell its own path or
    /// version (then it never asks). The agent installs only with [`Updates::Install`] and
    /// `[agent] self_update` on.
    pub fn new(
        settings: &Settings,
        mode: Updates,
        ready: ReadySlot,
        now: Clock,
    ) -> Option<Updater> {
        let exe = std::env::current_exe().ok()?;
        let current = semver::Version::parse(crate::version::current()).ok()?;
        let mut state = UpdateState::load(&settings.data_dir);
        if let Some(said) = state.settle(crate::version::current(), now()) {
            tracing::warn!("{said}");
            if let Err(e) = state.save(&settings.data_dir) {
                tracing::warn!("cannot save the update state: {e}");
            }
        }
        let package = installed_package(&exe);
        let mode = match mode {
            _ if !settings.self_update => Updates::Report,
            Updates::Spool if package != Package::Msi => Updates::Report,
            mode => mode,
        };
        Some(Updater {
            mode,
            said_offered: None,
            package,
            exe,
            platform: this_platform(),
            current,
            next_check: Instant::now(),
            ready,
        })
    }

    /// Checks now if a check is due (and the policy allows updates), after an upload round
    /// that reached the server.
    pub fn poll(
        &mut self,
        store: &Store,
        settings: &Settings,
        secrets: &mut SecretCache,
        now: Clock,
    ) {
        if Instant::now() < self.next_check {
            return;
        }
        let policy = sync::load_server_policy(settings)
            .unwrap_or_else(|| settings.policy.clone())
            .update;
        self.next_check =
            Instant::now() + Duration::from_secs(u64::from(policy.check_interval_secs));
        if !policy.enabled {
            return;
        }
        let Ok(state) = store.sync_state() else {
            return;
        };
        let (Some(url), Some(device)) = (state.server_url, state.device) else {
            return;
        };
        let secret = match secrets.get(store.device_id(), &url, device) {
            Ok(secret) => secret,
            Err(e) => {
                tracing::warn!("cannot check for updates: {e}");
                return;
            }
        };
        let client = match Client::new(&url, &settings.server) {
            Ok(client) => client,
            Err(e) => {
                tracing::warn!("cannot check for updates: {e}");
                return;
            }
        };
        let mut saved = UpdateState::load(&settings.data_dir);
        let check = UpdateCheck {
            version: self.current.to_string(),
            platform: self.platform.clone(),
            package: self.package,
            problem: saved.problem.clone(),
        };
        let offer = match client.update_check(&secret, &check) {
            Ok(answer) => answer.offer,
            Err(e) => {
                tracing::warn!("cannot check for updates: {e}");
                return;
            }
        };
        let dir = download::updates_dir(&settings.data_dir);
        let Some(mut offer) = offer else {
            download::clear(&dir);
            *self.ready.lock().unwrap_or_else(PoisonError::into_inner) = None;
            return;
        };
        // One spelling of the hash for every comparison and everything remembered.
        offer.sha256.make_ascii_lowercase();
        if self.mode == Updates::Report {
            if self.said_offered.as_deref() != Some(offer.version.as_str()) {
                tracing::warn!(
                    version = %offer.version,
                    "update {} is offered; this program only reports its version ({}), update \
                     it with its package or the worktrace agent",
                    offer.version,
                    self.current
                );
                self.said_offered = Some(offer.version.clone());
            }
            return;
        }
        if peek(&self.ready).is_some_and(|r| r.sha256 == offer.sha256) {
            return;
        }
        if saved.refusal(&offer.sha256).is_some() {
            return;
        }
        let pin = policy.pin.as_deref();
        if self.package != Package::Exe {
            let spool_dir = spool::dir();
            self.poll_package(
                &client,
                &secret,
                &offer,
                (&dir, &spool_dir),
                pin,
                &mut saved,
                now,
            );
            if let Err(e) = saved.save(&settings.data_dir) {
                tracing::warn!("cannot save the update state: {e}");
            }
            return;
        }
        match self.take(&client, &secret, &offer, &dir, pin) {
            Ok(ready) => {
                tracing::warn!(
                    version = %ready.version,
                    "update {} downloaded and verified; it is installed at the next safe moment",
                    ready.version
                );
                *self.ready.lock().unwrap_or_else(PoisonError::into_inner) = Some(ready);
            }
            Err(outcome) => not_taken(outcome, &offer, &dir, &mut saved, now()),
        }
        if let Err(e) = saved.save(&settings.data_dir) {
            tracing::warn!("cannot save the update state: {e}");
        }
    }

    /// An agent installed by its package: the offered release is downloaded, verified and left
    /// in the spool for the system's applier, whose result is read at the next checks.
    #[allow(clippy::too_many_arguments)]
    fn poll_package(
        &self,
        client: &Client,
        secret: &crate::secret::DeviceSecret,
        offer: &UpdateOffer,
        (dir, spool_dir): (&Path, &Path),
        pin: Option<&str>,
        saved: &mut UpdateState,
        now: Clock,
    ) {
        let sha = offer.sha256.as_str();
        let result = spool::result_of(spool_dir, sha);
        let waiting = spool::waiting(spool_dir, sha, self.package);
        match package_step(saved, &offer.version, sha, result.as_ref(), waiting) {
            PackageStep::Nothing => {}
            PackageStep::Installed(r) => {
                saved.problem = None;
                saved.spooled = None;
                saved.installed = Some((offer.version.clone(), now()));
                download::clear(dir);
                // The agent starts the new version itself once the file it started from says
                // it is that version (on Windows a file in use is replaced at the next
                // restart of the PC: until then it still says the old one).
                let restart = self.mode == Updates::Install
                    && install::says_version(&self.exe).is_ok_and(|v| v == offer.version);
                let then = if restart {
                    "the agent starts it at the next safe moment"
                } else {
                    "it runs from this program's next start"
                };
                tracing::warn!(
                    version = %offer.version,
                    "the system installed update {}: {}; {then}",
                    offer.version,
                    r.message
                );
                if restart {
                    *self.ready.lock().unwrap_or_else(PoisonError::into_inner) = Some(Ready {
                        file: self.exe.clone(),
                        version: offer.version.clone(),
                        sha256: sha.to_owned(),
                        installed: true,
                    });
                }
            }
            PackageStep::Refused(r) => {
                let message = format!("the system refused to install it: {}", r.message);
                tracing::warn!(
                    version = %offer.version,
                    "update to {} refused: {message}; this version goes on",
                    offer.version
                );
                saved.spooled = None;
                saved.refuse(sha, &offer.version, &message, now());
                download::clear(dir);
            }
            PackageStep::Spool => match self.take(client, secret, offer, dir, pin) {
                Ok(ready) => {
                    match spool::put(spool_dir, &ready.file, &offer.signature, sha, self.package) {
                        Ok(placed) => {
                            let message = format!(
                                "downloaded and verified; waiting for the system to install it \
                                 ({})",
                                placed.display()
                            );
                            tracing::warn!(
                                version = %ready.version,
                                "update {}: {message}",
                                ready.version
                            );
                            saved.spooled = Some(Spooled {
                                sha256: sha.to_owned(),
                                version: ready.version.clone(),
                                at: now(),
                            });
                            saved.note_problem(&ready.version, &message, now());
                        }
                        Err(e) => {
                            tracing::warn!(
                                version = %ready.version,
                                "update {} is verified but not handed to the system: {e}",
                                ready.version
                            );
                            saved.note_problem(&ready.version, &e.to_string(), now());
                        }
                    }
                }
                Err(outcome) => not_taken(outcome, offer, dir, saved, now()),
            },
        }
    }

    /// Downloads, verifies and tries the offered release.
    fn take(
        &self,
        client: &Client,
        secret: &crate::secret::DeviceSecret,
        offer: &UpdateOffer,
        dir: &Path,
        pin: Option<&str>,
    ) -> Result<Ready, Outcome> {
        if self.package != Package::Exe && spool::system_package() != Some(self.package) {
            return Err(Outcome::Refused(format!(
                "this agent was installed by its {} package, which this system does not install \
                 updates of; update it with the package (see docs/deployment.md)",
                self.package.name()
            )));
        }
        let (file, bytes) = download::fetch(client, secret, offer, dir).map_err(|e| match e {
            download::FetchError::BadHash(_) | download::FetchError::TooLarge(_) => {
                Outcome::Refused(e.to_string())
            }
            other => Outcome::Later(other.to_string()),
        })?;
        if bytes > 0 {
            tracing::info!(version = %offer.version, bytes, "update downloaded");
        }
        let signed = verify::signed_release(&file, &offer.signature, &verify::trusted_keys())
            .map_err(|e| Outcome::Refused(e.to_string()))?;
        verify::allowed(
            &signed,
            offer,
            &self.current,
            (&self.platform, self.package),
            pin,
        )
        .map_err(|e| Outcome::Refused(e.to_string()))?;
        Ok(Ready {
            file,
            version: signed.version.to_string(),
            sha256: offer.sha256.to_ascii_lowercase(),
            installed: false,
        })
    }
}

/// What an agent installed by its package does with the release offered (SHA-256 `sha256`),
/// given what it remembers, the applier's newest result for that file, and whether the file
/// still waits in the spool. A result older than this agent's own spooling of the file is of
/// an earlier try (another user's agent may have spooled the same file).
///
/// ```text
/// the system installed the offered version already             → Nothing
/// a result for the file: ok / refused                           → Installed / Refused
/// spooled it, no newer result, still in the spool               → Nothing (waiting)
/// spooled it, no newer result, gone from the spool (or never)   → Spool (again)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageStep {
    Nothing,
    Spool,
    Installed(spool::SpoolResult),
    Refused(spool::SpoolResult),
}

pub fn package_step(
    saved: &UpdateState,
    version: &str,
    sha256: &str,
    result: Option<&spool::SpoolResult>,
    waiting: bool,
) -> PackageStep {
    if saved.installed.as_ref().is_some_and(|(v, _)| v == version) {
        return PackageStep::Nothing;
    }
    let ours = saved.spooled.as_ref().filter(|s| s.sha256 == sha256);
    match result {
        Some(r) if ours.is_none_or(|s| r.at >= s.at) => {
            if r.ok {
                PackageStep::Installed(r.clone())
            } else {
                PackageStep::Refused(r.clone())
            }
        }
        _ if ours.is_some() && waiting => PackageStep::Nothing,
        _ => PackageStep::Spool,
    }
}

enum Outcome {
    /// Never this file: remembered and reported.
    Refused(String),
    /// Not now: the next check tries again.
    Later(String),
}

/// Logs why the offered release was not taken and remembers it: a refused file is never
/// downloaded again (and what was downloaded of it is removed); a passing problem is reported
/// until the next check tries again.
fn not_taken(
    outcome: Outcome,
    offer: &UpdateOffer,
    dir: &Path,
    saved: &mut UpdateState,
    at: Millis,
) {
    match outcome {
        Outcome::Refused(message) => {
            tracing::warn!(
                version = %offer.version,
                "update to {} refused: {message}; this version goes on",
                offer.version
            );
            saved.refuse(&offer.sha256, &offer.version, &message, at);
            download::clear(dir);
        }
        Outcome::Later(message) => {
            tracing::warn!(
                version = %offer.version,
                "update to {} not downloaded yet: {message}",
                offer.version
            );
            saved.note_problem(&offer.version, &message, at);
        }
    }
}

/// Installs `ready` in place of the running executable once the engine saved everything, and
/// starts the agent again (the new version, or the old one when installing failed); one the
/// system installed already is only started. Returns only when no agent could be started.
pub fn apply(ready: &Ready, settings: &Settings, now: Millis) -> anyhow::Error {
    let exe = if ready.installed {
        ready.file.clone()
    } else {
        match std::env::current_exe() {
            Ok(exe) => exe,
            Err(e) => return anyhow::anyhow!("cannot tell where the agent's executable is: {e}"),
        }
    };
    let mut saved = UpdateState::load(&settings.data_dir);
    let from = crate::version::current().to_owned();
    let replaced = if ready.installed {
        Ok(())
    } else {
        install::replace_exe(&ready.file, &exe, &ready.version)
    };
    match replaced {
        Ok(()) => {
            let by = if ready.installed { "the system " } else { "" };
            tracing::warn!("{by}installed {}; starting it", ready.version);
            saved.installing = Some(state::Installing {
                version: ready.version.clone(),
                from,
                at: now,
            });
        }
        Err(e) => {
            let message = e.to_string();
            tracing::warn!(
                "update to {} failed: {message}; {from} starts again",
                ready.version
            );
            saved.refuse(&ready.sha256, &ready.version, &message, now);
        }
    }
    if let Err(e) = saved.save(&settings.data_dir) {
        tracing::warn!("cannot save the update state: {e}");
    }
    download::clear(&download::updates_dir(&settings.data_dir));
    anyhow::Error::new(install::restart(&exe)).context("cannot start the agent again")
}

#[cfg(test)]
mod tests {
    use super::*;
    use spool::SpoolResult;

    fn result(ok: bool, at: Millis) -> SpoolResult {
        SpoolResult {
            sha256: "aa".into(),
            version: Some("0.2.0".into()),
            ok,
            message: "m".into(),
            at,
        }
    }

    #[test]
    fn a_package_agent_spools_waits_and_reports_what_the_system_did() {
        let fresh = UpdateState::default();
        let spooled = UpdateState {
            spooled: Some(Spooled {
                sha256: "aa".into(),
                version: "0.2.0".into(),
                at: 10,
            }),
            ..UpdateState::default()
        };
        let step = |saved: &UpdateState, r: Option<SpoolResult>, waiting: bool| {
            package_step(saved, "0.2.0", "aa", r.as_ref(), waiting)
        };
        // An offered release goes to the spool, not into place: the agent cannot install it.
        assert_eq!(step(&fresh, None, false), PackageStep::Spool);
        assert_eq!(step(&spooled, None, true), PackageStep::Nothing, "it waits");
        assert_eq!(
            step(&spooled, None, false),
            PackageStep::Spool,
            "taken out of the spool without a result: spooled again"
        );
        assert_eq!(
            step(&spooled, Some(result(true, 11)), false),
            PackageStep::Installed(result(true, 11))
        );
        assert_eq!(
            step(&spooled, Some(result(false, 11)), false),
            PackageStep::Refused(result(false, 11))
        );
        assert_eq!(
            step(&spooled, Some(result(false, 9)), true),
            PackageStep::Nothing,
            "a result from before this agent spooled it is of an earlier try"
        );
        assert_eq!(
            step(&fresh, Some(result(true, 9)), false),
            PackageStep::Installed(result(true, 9)),
            "another user's agent spooled the same file and the system installed it"
        );
        let installed = UpdateState {
            installed: Some(("0.2.0".into(), 12)),
            ..UpdateState::default()
        };
        assert_eq!(step(&installed, None, false), PackageStep::Nothing);
    }
}
