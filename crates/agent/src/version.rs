//! The agent's version, kept in the executable as a stamp a release script can set.
//!
//! A build carries its crate version in a fixed-size slot, `worktrace-version=` followed by
//! the version and NUL padding. [`stamp`] writes another version into the slot of a built
//! executable, so the packaging scripts give the binaries the version of the package they
//! make without building again, and the update tests make a "newer" build of the same code.

/// What the slot starts with; found once in a built executable.
const MARKER: &[u8; 18] = b"worktrace-version=";
/// The slot's size: the marker and at most 46 bytes of version.
const SLOT_LEN: usize = 64;

const fn slot() -> [u8; SLOT_LEN] {
    let version = env!("CARGO_PKG_VERSION").as_bytes();
    let mut out = [0u8; SLOT_LEN];
    let mut i = 0;
    while i < MARKER.len() {
        out[i] = MARKER[i];
        i += 1;
    }
    let mut j = 0;
    while j < version.len() && MARKER.len() + j < SLOT_LEN {
        out[MARKER.len() + j] = version[j];
        j += 1;
    }
    out
}

/// The slot. Read through [`std::hint::black_box`] so the compiler cannot fold the build's
/// own version into the code that reads it: a stamped file must read back what was stamped.
#[used]
static SLOT: [u8; SLOT_LEN] = slot();

/// The version in a slot's bytes.
fn read(slot: &[u8]) -> Option<&str> {
    let rest = slot.strip_prefix(MARKER.as_slice())?;
    let end = rest.iter().position(|b| *b == 0).unwrap_or(rest.len());
    std::str::from_utf8(&rest[..end])
        .ok()
        .filter(|v| !v.is_empty())
}

/// Whether `bytes` is a whole slot: the marker, a version, NUL up to the end (the marker's
/// bare text elsewhere in an executable is not one).
fn is_slot(bytes: &[u8]) -> bool {
    read(bytes).is_some_and(|v| {
        worktrace_domain::update::parse_version(v).is_ok()
            && bytes[MARKER.len() + v.len()..].iter().all(|b| *b == 0)
    })
}

/// This executable's version: the stamped one, else the crate's.
pub fn current() -> &'static str {
    let slot: &'static [u8; SLOT_LEN] = std::hint::black_box(&SLOT);
    read(slot).unwrap_or(env!("CARGO_PKG_VERSION"))
}

/// Why an executable cannot be stamped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StampError {
    #[error("{0:?} is not a version: {1}")]
    BadVersion(String, String),
    #[error("the version {0:?} is longer than the {1} bytes the slot holds")]
    TooLong(String, usize),
    #[error("the file holds no version slot: it is not a worktrace agent executable")]
    NoSlot,
    #[error("the file holds {0} version slots; expected one")]
    Several(usize),
}

/// `exe` with its version slot set to `version`; the file is otherwise unchanged (stamp
/// before signing: the signature covers the stamped bytes).
pub fn stamp(exe: &[u8], version: &str) -> Result<Vec<u8>, StampError> {
    worktrace_domain::update::parse_version(version)
        .map_err(|e| StampError::BadVersion(version.to_owned(), e))?;
    let room = SLOT_LEN - MARKER.len();
    if version.len() > room {
        return Err(StampError::TooLong(version.to_owned(), room));
    }
    let at: Vec<usize> = exe
        .windows(MARKER.len())
        .enumerate()
        .filter(|(_, w)| *w == MARKER.as_slice())
        .map(|(i, _)| i)
        .filter(|i| exe.get(*i..i + SLOT_LEN).is_some_and(is_slot))
        .collect();
    let start = match at.as_slice() {
        [one] => *one,
        [] => return Err(StampError::NoSlot),
        many => return Err(StampError::Several(many.len())),
    };
    let mut out = exe.to_vec();
    let value = &mut out[start + MARKER.len()..start + SLOT_LEN];
    value.fill(0);
    value[..version.len()].copy_from_slice(version.as_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slot_holds_the_crate_version() {
        assert_eq!(current(), env!("CARGO_PKG_VERSION"));
        assert_eq!(read(&SLOT), Some(env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn a_stamped_slot_reads_back_and_nothing_else_changes() {
        let mut exe = b"header".to_vec();
        exe.extend_from_slice(&SLOT);
        exe.extend_from_slice(b"trailer");
        let stamped = stamp(&exe, "0.9.1-beta.2").expect("stamps");
        assert_eq!(stamped.len(), exe.len());
        assert_eq!(read(&stamped[6..6 + SLOT_LEN]), Some("0.9.1-beta.2"));
        assert_eq!(&stamped[..6], b"header");
        assert_eq!(&stamped[6 + SLOT_LEN..], b"trailer");
        let again = stamp(&stamped, "0.1.0").expect("stamps again");
        assert_eq!(read(&again[6..6 + SLOT_LEN]), Some("0.1.0"));
    }

    #[test]
    fn files_without_one_slot_and_bad_versions_are_refused() {
        assert_eq!(stamp(b"no slot here", "0.2.0"), Err(StampError::NoSlot));
        let mut bare = MARKER.to_vec();
        bare.extend_from_slice(&[7u8; SLOT_LEN]);
        assert_eq!(
            stamp(&bare, "0.2.0"),
            Err(StampError::NoSlot),
            "the marker alone"
        );
        let mut two = SLOT.to_vec();
        two.extend_from_slice(&SLOT);
        assert_eq!(stamp(&two, "0.2.0"), Err(StampError::Several(2)));
        assert!(matches!(
            stamp(&SLOT, "latest"),
            Err(StampError::BadVersion(..))
        ));
        let long = format!("1.0.0-{}", "a".repeat(60));
        assert!(matches!(stamp(&SLOT, &long), Err(StampError::TooLong(..))));
    }
}
