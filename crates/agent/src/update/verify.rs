//! Whether a downloaded release may be installed: the vendor's signature over the file, the
//! release the signature names, and the version rules.
//!
//! The keys are built into the agent: the vendor's (`WORKTRACE_RELEASE_KEY` at build time, the
//! base64 line of its `minisign.pub`), and in debug builds the test key of
//! `crates/testkit/keys` as well. The company server cannot make a signature, so what it
//! offers is only a hint until this says yes.

use std::io::Read;
use std::path::Path;

use minisign_verify::{PublicKey, Signature};
use worktrace_domain::update::{ReleaseName, UpdateOffer};
use worktrace_domain::Package;

/// The vendor's public key, when the build was given one.
const VENDOR_KEY: Option<&str> = option_env!("WORKTRACE_RELEASE_KEY");

/// The test key, trusted by debug builds only.
#[cfg(debug_assertions)]
const TEST_KEY: Option<&str> = Some(include_str!("../../../testkit/keys/release-test.pub"));
#[cfg(not(debug_assertions))]
const TEST_KEY: Option<&str> = None;

/// The keys this build trusts; empty when it was built without a release key.
pub fn trusted_keys() -> Vec<PublicKey> {
    [VENDOR_KEY, TEST_KEY]
        .into_iter()
        .flatten()
        .filter_map(|text| {
            let text = text.trim();
            PublicKey::decode(text)
                .or_else(|_| PublicKey::from_base64(text))
                .ok()
        })
        .collect()
}

/// Why a release is not installed, in words for the log, the status and the admins.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "this build trusts no release key (it was built without WORKTRACE_RELEASE_KEY), so it \
         installs no update"
    )]
    NoKey,
    #[error("the signature cannot be read ({0})")]
    BadSignatureText(String),
    #[error(
        "the file does not match its signature (it was changed, cut short or signed with \
         another key): {0}"
    )]
    BadSignature(String),
    #[error("{0}")]
    NotARelease(String),
    #[error("the server offered {offered} but the file is signed as {signed}")]
    Relabelled { offered: String, signed: String },
    #[error("the release is for {signed}, not for this PC's {ours}")]
    OtherKind { signed: String, ours: String },
    #[error(
        "{signed} is older than the running {current}: an update never goes back unless the \
         policy pins that version"
    )]
    Downgrade { signed: String, current: String },
    #[error("{0} is the version running already")]
    Same(String),
}

/// Checks `file` against the minisign `signature` with `keys`, and returns the release the
/// signature names.
pub fn signed_release(
    file: &Path,
    signature: &str,
    keys: &[PublicKey],
) -> Result<ReleaseName, Refusal> {
    if keys.is_empty() {
        return Err(Refusal::NoKey);
    }
    let sig = Signature::decode(signature).map_err(|e| Refusal::BadSignatureText(e.to_string()))?;
    let mut last = String::new();
    for key in keys {
        match verify_file(key, &sig, file) {
            Ok(()) => {
                return ReleaseName::parse(sig.trusted_comment()).map_err(Refusal::NotARelease)
            }
            Err(e) => last = e,
        }
    }
    Err(Refusal::BadSignature(last))
}

/// Streams the file through the verifier (a release may be tens of megabytes).
fn verify_file(key: &PublicKey, sig: &Signature, file: &Path) -> Result<(), String> {
    let mut verifier = key.verify_stream(sig).map_err(|e| e.to_string())?;
    let mut f = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        verifier.update(&buf[..n]);
    }
    verifier.finalize().map_err(|e| e.to_string())
}

/// Whether the signed release may replace the running agent (`current`, installed as
/// `package` on `platform`) when the server offered it as `offer` and the policy pins `pin`.
///
/// ```text
/// running 0.1.0, signed 0.2.0, offered 0.2.0             → yes
/// running 0.1.0, signed 0.0.9, offered 0.2.0             → no: relabelled
/// running 0.1.0, signed 0.0.9, offered 0.0.9             → no: older (not pinned)
/// running 0.1.0, signed 0.0.9, offered 0.0.9, pin 0.0.9  → yes
/// ```
pub fn allowed(
    signed: &ReleaseName,
    offer: &UpdateOffer,
    current: &semver::Version,
    (platform, package): (&str, Package),
    pin: Option<&str>,
) -> Result<(), Refusal> {
    if offer.version != signed.version.to_string() {
        return Err(Refusal::Relabelled {
            offered: offer.version.clone(),
            signed: signed.version.to_string(),
        });
    }
    if signed.platform != platform || signed.package != package {
        return Err(Refusal::OtherKind {
            signed: format!("{} {}", signed.platform, signed.package.name()),
            ours: format!("{platform} {}", package.name()),
        });
    }
    if signed.version == *current {
        return Err(Refusal::Same(current.to_string()));
    }
    let pinned = offer.pinned
        && pin
            .and_then(|p| semver::Version::parse(p).ok())
            .is_some_and(|p| p == signed.version);
    if signed.version < *current && !pinned {
        return Err(Refusal::Downgrade {
            signed: signed.version.to_string(),
            current: current.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(version: &str) -> ReleaseName {
        ReleaseName::parse(&format!("worktrace-release linux-x86_64 exe {version}"))
            .expect("a release name")
    }

    fn offer(version: &str, pinned: bool) -> UpdateOffer {
        UpdateOffer {
            release_id: 1,
            version: version.into(),
            platform: "linux-x86_64".into(),
            package: Package::Exe,
            channel: "stable".into(),
            size: 1,
            sha256: String::new(),
            signature: String::new(),
            pinned,
            download: "/api/devices/releases/1".into(),
        }
    }

    #[test]
    fn only_newer_or_pinned_releases_of_this_kind_pass() {
        let current = semver::Version::parse("0.1.0").expect("a version");
        let ours = ("linux-x86_64", Package::Exe);
        let ok = |signed: &str, offered: &str, pinned: bool, pin: Option<&str>| {
            allowed(&name(signed), &offer(offered, pinned), &current, ours, pin)
        };
        assert_eq!(ok("0.2.0", "0.2.0", false, None), Ok(()));
        assert!(matches!(
            ok("0.0.9", "0.2.0", false, None),
            Err(Refusal::Relabelled { .. })
        ));
        assert!(matches!(
            ok("0.0.9", "0.0.9", false, None),
            Err(Refusal::Downgrade { .. })
        ));
        assert!(
            matches!(
                ok("0.0.9", "0.0.9", true, None),
                Err(Refusal::Downgrade { .. })
            ),
            "the offer's word alone is not a pin"
        );
        assert!(matches!(
            ok("0.0.9", "0.0.9", true, Some("0.0.8")),
            Err(Refusal::Downgrade { .. })
        ));
        assert_eq!(ok("0.0.9", "0.0.9", true, Some("0.0.9")), Ok(()));
        assert!(matches!(
            ok("0.1.0", "0.1.0", false, None),
            Err(Refusal::Same(_))
        ));
        assert!(matches!(
            allowed(
                &name("0.2.0"),
                &offer("0.2.0", false),
                &current,
                ("windows-x86_64", Package::Exe),
                None
            ),
            Err(Refusal::OtherKind { .. })
        ));
    }

    #[test]
    fn debug_builds_trust_the_test_key() {
        assert!(
            !trusted_keys().is_empty(),
            "the test key is built into debug builds"
        );
    }
}
