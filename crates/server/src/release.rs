//! Agent releases: what the server stores of one, how a signed file becomes one, and which
//! release (if any) a PC is offered.
//!
//! The server never signs and cannot: a release is the vendor's file with the vendor's
//! minisign signature, whose trusted comment names the platform, package and version
//! ([`ReleaseName`]). The server reads that name so it files and offers the release as what
//! it is signed to be; the agent verifies the signature with the key built into it. Pure: no
//! I/O.

use sha2::{Digest, Sha256};
use worktrace_domain::update::{parse_version, ReleaseName, UpdateCheck, UpdateOffer};
use worktrace_domain::{Millis, UpdatePolicy};

/// Bytes per stored chunk of a release file: a download reads one chunk at a time.
pub const CHUNK_BYTES: usize = 1024 * 1024;

/// Largest release file the server takes.
pub const MAX_RELEASE_BYTES: usize = 512 * 1024 * 1024;

/// A stored release, without its file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Release {
    pub id: i64,
    pub platform: String,
    pub package: String,
    pub version: String,
    pub channel: String,
    pub size: i64,
    pub sha256: String,
    pub signature: String,
    pub file_name: String,
    pub added_at: Millis,
}

/// A release to store: the metadata [`NewRelease::from_signed`] read off the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRelease {
    pub platform: String,
    pub package: String,
    pub version: String,
    pub channel: String,
    pub size: i64,
    pub sha256: String,
    pub signature: String,
    pub file_name: String,
}

impl NewRelease {
    /// A release of `file` signed with `signature` (a `.minisig` file's text) on `channel`.
    /// The platform, package and version are the signed ones; `expect_platform` (the
    /// `--platform` an admin gave) must agree. Says what to fix when the signature does not
    /// name a Worktrace release. Does not verify the signature: only agents hold the key.
    pub fn from_signed(
        file_name: &str,
        file: &[u8],
        signature: &str,
        channel: &str,
        expect_platform: Option<&str>,
    ) -> Result<NewRelease, String> {
        if !worktrace_domain::update::is_channel(channel) {
            return Err(format!(
                "{channel:?} is not a channel name; use 1 to 32 lower-case letters, digits and -"
            ));
        }
        if file.is_empty() {
            return Err(format!("{file_name} is empty"));
        }
        if file.len() > MAX_RELEASE_BYTES {
            return Err(format!(
                "{file_name} is {} bytes; releases may be at most {MAX_RELEASE_BYTES}",
                file.len()
            ));
        }
        let sig = minisign_verify::Signature::decode(signature).map_err(|e| {
            format!("the signature is not a minisign signature ({e}); give the .minisig file")
        })?;
        let name = ReleaseName::parse(sig.trusted_comment())?;
        if let Some(platform) = expect_platform {
            if platform != name.platform {
                return Err(format!(
                    "--platform is {platform} but the release is signed for {}",
                    name.platform
                ));
            }
        }
        Ok(NewRelease {
            platform: name.platform,
            package: name.package.name().to_owned(),
            version: name.version.to_string(),
            channel: channel.to_owned(),
            size: i64::try_from(file.len()).unwrap_or(i64::MAX),
            sha256: hex::encode(Sha256::digest(file)),
            signature: signature.to_owned(),
            file_name: file_name.to_owned(),
        })
    }
}

/// Whether a PC is in the first `percent` of a release's rollout: a stable hash of the device
/// and the version, so a PC stays in as the percentage grows and each release picks its own
/// first PCs.
pub fn in_rollout(device: i64, version: &str, percent: u8) -> bool {
    let digest = Sha256::digest(format!("{device}:{version}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % 100 < u64::from(percent)
}

/// The release to offer a PC that sent `check`, under `policy`, among `releases` (all that
/// are stored), and whether it is the pinned one.
///
/// ```text
/// updates off                         → none
/// pin 0.1.0, PC on 0.2.0              → 0.1.0 (pinned: the one way back)
/// stable has 0.1.0, 0.3.0; PC on 0.2.0 → 0.3.0, if the PC is in the rollout
/// stable's newest is the PC's version  → none
/// ```
pub fn choose<'a>(
    releases: &'a [Release],
    policy: &UpdatePolicy,
    check: &UpdateCheck,
    device: i64,
) -> Option<(&'a Release, bool)> {
    if !policy.enabled {
        return None;
    }
    let current = parse_version(&check.version).ok()?;
    let fits = |r: &&Release| r.platform == check.platform && r.package == check.package.name();
    if let Some(pin) = &policy.pin {
        let pin = parse_version(pin).ok()?;
        return releases
            .iter()
            .filter(fits)
            .find(|r| parse_version(&r.version).is_ok_and(|v| v == pin))
            .filter(|_| pin != current)
            .map(|r| (r, true));
    }
    let newest = releases
        .iter()
        .filter(fits)
        .filter(|r| r.channel == policy.channel)
        .filter_map(|r| Some((parse_version(&r.version).ok()?, r)))
        .max_by(|a, b| a.0.cmp(&b.0))?;
    (newest.0 > current && in_rollout(device, &newest.1.version, policy.rollout_percent))
        .then_some((newest.1, false))
}

/// The offer of `release` as the agent receives it.
pub fn offer(release: &Release, pinned: bool) -> UpdateOffer {
    UpdateOffer {
        release_id: release.id,
        version: release.version.clone(),
        platform: release.platform.clone(),
        package: worktrace_domain::Package::parse(&release.package)
            .unwrap_or(worktrace_domain::Package::Exe),
        channel: release.channel.clone(),
        size: u64::try_from(release.size).unwrap_or_default(),
        sha256: release.sha256.clone(),
        signature: release.signature.clone(),
        pinned,
        download: format!("/api/devices/releases/{}", release.id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use worktrace_domain::Package;

    fn release(id: i64, version: &str, channel: &str) -> Release {
        Release {
            id,
            platform: "linux-x86_64".into(),
            package: "exe".into(),
            version: version.into(),
            channel: channel.into(),
            size: 10,
            sha256: String::new(),
            signature: String::new(),
            file_name: "worktrace".into(),
            added_at: 0,
        }
    }

    fn check(version: &str) -> UpdateCheck {
        UpdateCheck {
            version: version.into(),
            platform: "linux-x86_64".into(),
            package: Package::Exe,
            problem: None,
        }
    }

    #[test]
    fn the_newest_of_the_channel_is_offered_when_newer() {
        let releases = [
            release(1, "0.1.0", "stable"),
            release(2, "0.3.0", "stable"),
            release(3, "0.10.0-beta.1", "beta"),
            release(4, "0.2.5", "stable"),
        ];
        let policy = UpdatePolicy::default();
        let (r, pinned) = choose(&releases, &policy, &check("0.2.0"), 7).expect("an offer");
        assert_eq!((r.id, pinned), (2, false), "0.3.0 > 0.2.5 > 0.1.0");
        assert!(choose(&releases, &policy, &check("0.3.0"), 7).is_none());
        assert!(
            choose(&releases, &policy, &check("0.4.0"), 7).is_none(),
            "never an older one unpinned"
        );
        let beta = UpdatePolicy {
            channel: "beta".into(),
            ..UpdatePolicy::default()
        };
        assert_eq!(
            choose(&releases, &beta, &check("0.3.0"), 7).map(|(r, _)| r.id),
            Some(3)
        );
        let off = UpdatePolicy {
            enabled: false,
            ..UpdatePolicy::default()
        };
        assert!(choose(&releases, &off, &check("0.1.0"), 7).is_none());
        let windows = UpdateCheck {
            platform: "windows-x86_64".into(),
            ..check("0.1.0")
        };
        assert!(choose(&releases, &policy, &windows, 7).is_none());
        let msi = UpdateCheck {
            package: Package::Msi,
            ..check("0.1.0")
        };
        assert!(choose(&releases, &policy, &msi, 7).is_none());
    }

    #[test]
    fn a_pin_goes_back_and_forth_and_needs_the_exact_release() {
        let releases = [release(1, "0.1.0", "stable"), release(2, "0.3.0", "beta")];
        let pin = |v: &str| UpdatePolicy {
            pin: Some(v.into()),
            ..UpdatePolicy::default()
        };
        assert_eq!(
            choose(&releases, &pin("0.1.0"), &check("0.2.0"), 1).map(|(r, p)| (r.id, p)),
            Some((1, true))
        );
        assert_eq!(
            choose(&releases, &pin("0.3.0"), &check("0.2.0"), 1).map(|(r, _)| r.id),
            Some(2),
            "a pin ignores the channel"
        );
        assert!(choose(&releases, &pin("0.1.0"), &check("0.1.0"), 1).is_none());
        assert!(choose(&releases, &pin("0.2.9"), &check("0.2.0"), 1).is_none());
    }

    #[test]
    fn a_rollout_takes_about_its_share_and_keeps_pcs_in_as_it_grows() {
        let share = |percent: u8| {
            (0..10_000)
                .filter(|d| in_rollout(*d, "0.3.0", percent))
                .count()
        };
        assert_eq!(share(0), 0);
        assert_eq!(share(100), 10_000);
        let ten = share(10);
        assert!((800..1200).contains(&ten), "about 10 %: {ten}");
        for d in 0..1000 {
            if in_rollout(d, "0.3.0", 10) {
                assert!(
                    in_rollout(d, "0.3.0", 50),
                    "a PC in at 10 % stays in at 50 %"
                );
            }
        }
    }

    #[test]
    fn a_signed_file_is_filed_as_what_its_signature_names() {
        let unsigned = "untrusted comment: x\nRUQf6LRCGA9i559r3g7V1qNyJDApGip8MfqcadIgT9CuhV3EMhHoN1mGTkUidF/z7SrlQgXdy8ofjb7bNJJylDOocrCo8KLzZwo=\ntrusted comment: timestamp:1633700835\tfile:test\tprehashed\nwLMDjy9FLAuxZ3q4NlEvkgtyhrr0gtTu6KC4KBJdITbbOeAi1zBIYo0v4iTgt8jJpIidRJnp94ABQkJAgAooBQ==\n";
        let e = NewRelease::from_signed("worktrace", b"x", unsigned, "stable", None)
            .expect_err("not a Worktrace release");
        assert!(e.contains("worktrace-release"), "{e}");
        let e = NewRelease::from_signed("worktrace", b"x", "not a signature", "stable", None)
            .expect_err("not minisign");
        assert!(e.contains(".minisig"), "{e}");
        let e = NewRelease::from_signed("worktrace", b"x", unsigned, "Stable!", None)
            .expect_err("bad channel");
        assert!(e.contains("channel"), "{e}");
        let e =
            NewRelease::from_signed("worktrace", b"", unsigned, "stable", None).expect_err("empty");
        assert!(e.contains("empty"), "{e}");
    }
}
