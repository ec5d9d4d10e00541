//! Agent updates from the company server.
//!
//! The upload thread asks the server at most every `update.check_interval_secs` of the policy
//! (and once at start) whether a release is offered, telling it this agent's version. An
//! offered release is downloaded in the background (resuming), checked against the vendor's
//! signature and the version rules ([`verify`]), tried, and handed to the engine, which
//! installs it at a safe moment: no export incident open, inside the policy's update window,
//! after everything is saved ([`Updater`], [`apply`]). A refused release is remembered and
//! reported, never fetched again; the running agent goes on either way.

pub mod download;
pub mod install;
pub mod state;
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
use state::UpdateState;

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
    /// Checks and reports the version; installs nothing (the tray and the desktop app, and the
    /// agent with `[agent] self_update = false`).
    Report,
    /// Also downloads, verifies and hands a release to the engine to install.
    Install,
}

/// A verified release the engine may install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    pub file: PathBuf,
    pub version: String,
    pub sha256: String,
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
        let mode = if settings.self_update {
            mode
        } else {
            Updates::Report
        };
        Some(Updater {
            mode,
            said_offered: None,
            package: installed_package(&exe),
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
        let Some(offer) = offer else {
            download::clear(&dir);
            *self.ready.lock().unwrap_or_else(PoisonError::into_inner) = None;
            return;
        };
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
        match self.take(&client, &secret, &offer, &dir, pin) {
            Ok(ready) => {
                tracing::warn!(
                    version = %ready.version,
                    "update {} downloaded and verified; it is installed at the next safe moment",
                    ready.version
                );
                *self.ready.lock().unwrap_or_else(PoisonError::into_inner) = Some(ready);
            }
            Err(Outcome::Refused(message)) => {
                tracing::warn!(
                    version = %offer.version,
                    "update to {} refused: {message}; this version goes on",
                    offer.version
                );
                saved.refuse(&offer.sha256, &offer.version, &message, now());
                download::clear(&dir);
            }
            Err(Outcome::Later(message)) => {
                tracing::warn!(
                    version = %offer.version,
                    "update to {} not downloaded yet: {message}",
                    offer.version
                );
                saved.note_problem(&offer.version, &message, now());
            }
        }
        if let Err(e) = saved.save(&settings.data_dir) {
            tracing::warn!("cannot save the update state: {e}");
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
        if self.package != Package::Exe {
            return Err(Outcome::Refused(format!(
                "this agent was installed by its {} package, and installing {} updates is not \
                 built yet; update it with the package (see docs/deployment.md)",
                self.package.name(),
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
        })
    }
}

enum Outcome {
    /// Never this file: remembered and reported.
    Refused(String),
    /// Not now: the next check tries again.
    Later(String),
}

/// Installs `ready` in place of the running executable once the engine saved everything, and
/// starts the agent again (the new version, or the old one when installing failed). Returns
/// only when no agent could be started.
pub fn apply(ready: &Ready, settings: &Settings, now: Millis) -> anyhow::Error {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return anyhow::anyhow!("cannot tell where the agent's executable is: {e}"),
    };
    let mut saved = UpdateState::load(&settings.data_dir);
    let from = crate::version::current().to_owned();
    match install::replace_exe(&ready.file, &exe, &ready.version) {
        Ok(()) => {
            tracing::warn!("installed {}; starting it", ready.version);
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
