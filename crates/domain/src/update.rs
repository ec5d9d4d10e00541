//! Agent updates: the update policy, the name a signed release gives itself, and the check an
//! agent makes with the company server.
//!
//! A release is signed by the vendor with minisign; the signature's trusted comment names the
//! release ([`ReleaseName`]), so the platform, package and version are covered by the
//! signature and a server cannot offer an old build as a new one. Plain data and its checks:
//! the agent verifies signatures, the server picks offers.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::policy_error::PolicyError;
use crate::Millis;

/// The first word of a release's trusted comment.
pub const RELEASE_TAG: &str = "worktrace-release";

/// How a release is installed: the agent takes only releases of the kind it was installed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Package {
    /// The bare `worktrace` executable, replacing the running one in place (an install
    /// unpacked into a folder the user can write, e.g. `~/.local/bin`).
    Exe,
    /// The Windows installer (`worktrace.msi`).
    Msi,
    /// The Debian package of the agent.
    Deb,
}

impl Package {
    /// The name in trusted comments, URLs and the database.
    pub fn name(self) -> &'static str {
        match self {
            Package::Exe => "exe",
            Package::Msi => "msi",
            Package::Deb => "deb",
        }
    }

    /// The package named `name`.
    pub fn parse(name: &str) -> Option<Package> {
        match name {
            "exe" => Some(Package::Exe),
            "msi" => Some(Package::Msi),
            "deb" => Some(Package::Deb),
            _ => None,
        }
    }
}

/// `os-arch` of a build, as releases name their platform: `linux-x86_64`, `windows-x86_64`.
pub fn platform(os: &str, arch: &str) -> String {
    format!("{os}-{arch}")
}

/// Checks a version: semantic versioning, `MAJOR.MINOR.PATCH` with an optional pre-release
/// (`0.2.0-beta.1`); build metadata is not allowed, since it does not order releases.
pub fn parse_version(text: &str) -> Result<semver::Version, String> {
    let version = semver::Version::parse(text).map_err(|e| {
        format!("{text:?} is not a version ({e}); write versions like 0.2.0 or 0.2.0-beta.1")
    })?;
    if !version.build.is_empty() {
        return Err(format!(
            "{text:?} has build metadata (+{}); releases are ordered by version alone, leave \
             it out",
            version.build
        ));
    }
    Ok(version)
}

/// What a signed release says it is: its trusted comment is
/// `worktrace-release <platform> <package> <version>`.
///
/// ```text
/// "worktrace-release linux-x86_64 exe 0.2.0" → linux-x86_64, Exe, 0.2.0
/// "timestamp:1633700835\tfile:worktrace"       → error: not a Worktrace release
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseName {
    pub platform: String,
    pub package: Package,
    pub version: semver::Version,
}

impl ReleaseName {
    /// The trusted comment to sign the release with.
    pub fn trusted_comment(&self) -> String {
        format!(
            "{RELEASE_TAG} {} {} {}",
            self.platform,
            self.package.name(),
            self.version
        )
    }

    /// Reads a trusted comment.
    pub fn parse(comment: &str) -> Result<ReleaseName, String> {
        let words: Vec<&str> = comment.split_whitespace().collect();
        let [tag, platform, package, version] = words[..] else {
            return Err(format!(
                "the signature's trusted comment is {comment:?}, not \
                 \"{RELEASE_TAG} <platform> <package> <version>\"; sign releases with \
                 minisign -t \"{RELEASE_TAG} linux-x86_64 exe 0.2.0\""
            ));
        };
        if tag != RELEASE_TAG {
            return Err(format!(
                "the signature's trusted comment {comment:?} does not start with {RELEASE_TAG}: \
                 it is not a signed Worktrace release"
            ));
        }
        if !is_platform(platform) {
            return Err(format!(
                "the signed platform {platform:?} is not an os-arch name like linux-x86_64"
            ));
        }
        let package = Package::parse(package)
            .ok_or_else(|| format!("the signed package {package:?} is none of exe, msi and deb"))?;
        Ok(ReleaseName {
            platform: platform.to_owned(),
            package,
            version: parse_version(version)?,
        })
    }
}

/// `os-arch`: lower-case letters, digits and `_`, one `-` between two non-empty parts.
fn is_platform(text: &str) -> bool {
    let ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 32
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    matches!(text.split_once('-'), Some((os, arch)) if ok(os) && ok(arch))
}

/// A channel name: 1 to 32 lower-case letters, digits and `-` (`stable`, `beta`, `pilot-2`).
pub fn is_channel(text: &str) -> bool {
    (1..=32).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Local times of day between which an agent may install an update, `HH:MM`. `from` after
/// `to` spans midnight (`22:00`–`06:00`); `from` equal to `to` is the whole day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct UpdateWindow {
    pub from: String,
    pub to: String,
}

impl UpdateWindow {
    /// Whether `minute` (after local midnight, 0..1440) lies in the window; `None` when a time
    /// is not `HH:MM`.
    ///
    /// ```text
    /// 12:00–14:00: 12:00 yes, 13:59 yes, 14:00 no
    /// 22:00–06:00: 23:30 yes, 05:59 yes, 06:00 no, 12:00 no
    /// ```
    pub fn contains(&self, minute: u32) -> Option<bool> {
        let from = crate::exports::parse_hhmm(&self.from)?;
        let to = crate::exports::parse_hhmm(&self.to)?;
        Some(match from.cmp(&to) {
            std::cmp::Ordering::Less => (from..to).contains(&minute),
            std::cmp::Ordering::Greater => minute >= from || minute < to,
            std::cmp::Ordering::Equal => true,
        })
    }
}

/// How the PCs of an organisation or team update their agent from the company server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
pub struct UpdatePolicy {
    /// Whether agents ask the server for updates at all.
    pub enabled: bool,
    /// The channel whose newest release the agents take.
    pub channel: String,
    /// A version every agent takes, older or newer than its own (the one way back to an
    /// older version); absent: the channel's newest.
    pub pin: Option<String>,
    /// The share of PCs (by a stable hash of the device and the version) offered a new
    /// release, 0 to 100: raise it step by step to roll a release out.
    pub rollout_percent: u8,
    /// When updates may be installed (local time of the PC); absent: any time.
    pub window: Option<UpdateWindow>,
    /// Seconds between two checks, 10 to 86400.
    pub check_interval_secs: u32,
}

impl Default for UpdatePolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            channel: "stable".to_owned(),
            pin: None,
            rollout_percent: 100,
            window: None,
            check_interval_secs: 3600,
        }
    }
}

impl UpdatePolicy {
    /// Checks names, ranges and times.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let err = |field: &str, message: String| {
            Err(PolicyError {
                field: format!("update.{field}"),
                message,
            })
        };
        if !is_channel(&self.channel) {
            return err(
                "channel",
                format!(
                    "{:?} is not a channel name; use 1 to 32 lower-case letters, digits and -",
                    self.channel
                ),
            );
        }
        if let Some(pin) = &self.pin {
            if let Err(message) = parse_version(pin) {
                return err("pin", message);
            }
        }
        if self.rollout_percent > 100 {
            return err(
                "rollout_percent",
                format!("is {}; use 0 to 100", self.rollout_percent),
            );
        }
        if let Some(window) = &self.window {
            if window.contains(0).is_none() {
                return err(
                    "window",
                    format!(
                        "{:?}–{:?} is not two times of day; write them as HH:MM, e.g. 12:00 \
                         and 14:00",
                        window.from, window.to
                    ),
                );
            }
        }
        if !(10..=86_400).contains(&self.check_interval_secs) {
            return err(
                "check_interval_secs",
                format!("is {}; use 10 to 86400 seconds", self.check_interval_secs),
            );
        }
        Ok(())
    }
}

/// Why the last update the agent tried did not happen, sent with its next check and shown to
/// admins beside the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct UpdateProblem {
    /// The version that was offered.
    pub version: String,
    /// What went wrong, in words.
    pub message: String,
    pub at: Millis,
}

/// `POST /api/devices/update`: the agent's version, and whether an update is offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct UpdateCheck {
    /// The running agent's version.
    pub version: String,
    /// [`platform`] of the running agent.
    pub platform: String,
    /// How the running agent was installed.
    pub package: Package,
    /// The last update that failed, until one succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub problem: Option<UpdateProblem>,
}

/// A release the server offers. Everything here is the server's word; the agent trusts the
/// file only once its signature verifies with the key built into the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UpdateOffer {
    pub release_id: i64,
    pub version: String,
    pub platform: String,
    pub package: Package,
    pub channel: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
    /// The minisign signature, as the `.minisig` file holds it.
    pub signature: String,
    /// The policy pins this version (the agent then takes it even when it is older).
    pub pinned: bool,
    /// Where to download the file (a path on the same server; `Range` requests resume).
    pub download: String,
}

/// The answer to an [`UpdateCheck`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UpdateAnswer {
    /// The release to install; absent when the agent is up to date, updates are off or this
    /// PC is not in the rollout yet.
    #[serde(default)]
    pub offer: Option<UpdateOffer>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_names_round_trip_and_refuse_other_comments() {
        let name = ReleaseName::parse("worktrace-release linux-x86_64 exe 0.2.0-beta.1")
            .expect("a release name");
        assert_eq!(name.platform, "linux-x86_64");
        assert_eq!(name.package, Package::Exe);
        assert_eq!(name.version.to_string(), "0.2.0-beta.1");
        assert_eq!(
            ReleaseName::parse(&name.trusted_comment()).expect("round trip"),
            name
        );
        for bad in [
            "timestamp:1633700835\tfile:worktrace",
            "worktrace-release linux-x86_64 exe",
            "other-release linux-x86_64 exe 0.2.0",
            "worktrace-release Linux-x86_64 exe 0.2.0",
            "worktrace-release linux exe 0.2.0",
            "worktrace-release linux-x86_64 zip 0.2.0",
            "worktrace-release linux-x86_64 exe 0.2",
            "worktrace-release linux-x86_64 exe 0.2.0+git5",
            "worktrace-release linux-x86_64 exe 0.2.0 extra",
        ] {
            let e = ReleaseName::parse(bad).expect_err(bad);
            assert!(!e.is_empty(), "{bad}: says why");
        }
    }

    #[test]
    fn windows_span_midnight_and_a_whole_day() {
        let w = |from: &str, to: &str| UpdateWindow {
            from: from.into(),
            to: to.into(),
        };
        let m = |h: u32, min: u32| h * 60 + min;
        let lunch = w("12:00", "14:00");
        assert_eq!(lunch.contains(m(12, 0)), Some(true));
        assert_eq!(lunch.contains(m(13, 59)), Some(true));
        assert_eq!(lunch.contains(m(14, 0)), Some(false));
        assert_eq!(lunch.contains(m(11, 59)), Some(false));
        let night = w("22:00", "06:00");
        assert_eq!(night.contains(m(23, 30)), Some(true));
        assert_eq!(night.contains(m(5, 59)), Some(true));
        assert_eq!(night.contains(m(6, 0)), Some(false));
        assert_eq!(night.contains(m(12, 0)), Some(false));
        assert_eq!(w("09:00", "09:00").contains(m(3, 0)), Some(true));
        assert_eq!(w("9", "10:00").contains(0), None);
    }

    #[test]
    fn update_policies_are_checked() {
        assert!(UpdatePolicy::default().validate().is_ok());
        let bad = [
            UpdatePolicy {
                channel: "Stable".into(),
                ..UpdatePolicy::default()
            },
            UpdatePolicy {
                pin: Some("latest".into()),
                ..UpdatePolicy::default()
            },
            UpdatePolicy {
                rollout_percent: 101,
                ..UpdatePolicy::default()
            },
            UpdatePolicy {
                window: Some(UpdateWindow {
                    from: "25:00".into(),
                    to: "06:00".into(),
                }),
                ..UpdatePolicy::default()
            },
            UpdatePolicy {
                check_interval_secs: 5,
                ..UpdatePolicy::default()
            },
        ];
        for policy in bad {
            let e = policy.validate().expect_err("refused");
            assert!(e.field.starts_with("update."), "{e}");
        }
    }
}
