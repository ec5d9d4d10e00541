//! Windows drive letters as export destinations: the drive set read by the OS module
//! (`GetLogicalDrives`, `GetDriveTypeW`, `GetVolumeInformationW`, `GetDiskFreeSpaceExW`)
//! compared between two readings, each drive classified by the policy, and UNC paths
//! (`\\server\share`) recognised as network destinations.
//!
//! Pure: no I/O, no clock reads, no Win32 calls; compiled and tested on every OS.

use worktrace_domain::ExportPolicy;

use crate::classify::Destination;
use crate::detector::Media;

/// What `GetDriveTypeW` says a drive is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriveKind {
    /// `DRIVE_REMOVABLE`: USB sticks, memory cards, floppies.
    Removable,
    /// `DRIVE_FIXED`: internal disks (and USB hard disks, which Windows counts as fixed).
    Fixed,
    /// `DRIVE_REMOTE`: a mapped network share.
    Remote,
    /// `DRIVE_CDROM`.
    CdRom,
    /// `DRIVE_RAMDISK`.
    RamDisk,
    /// `DRIVE_UNKNOWN` or `DRIVE_NO_ROOT_DIR`.
    Unknown,
}

impl DriveKind {
    /// From the `GetDriveTypeW` answer: 2 removable, 3 fixed, 4 remote, 5 CD-ROM, 6 RAM disk.
    pub fn from_drive_type(value: u32) -> DriveKind {
        match value {
            2 => DriveKind::Removable,
            3 => DriveKind::Fixed,
            4 => DriveKind::Remote,
            5 => DriveKind::CdRom,
            6 => DriveKind::RamDisk,
            _ => DriveKind::Unknown,
        }
    }

    fn name(self) -> &'static str {
        match self {
            DriveKind::Removable => "removable",
            DriveKind::Fixed => "fixed",
            DriveKind::Remote => "remote",
            DriveKind::CdRom => "cdrom",
            DriveKind::RamDisk => "ramdisk",
            DriveKind::Unknown => "unknown",
        }
    }
}

/// One drive letter as read at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Drive {
    /// Upper-case letter, `'E'`.
    pub letter: char,
    pub kind: Option<DriveKind>,
    /// Volume label, when it has one.
    pub label: Option<String>,
    /// Volume serial number (`GetVolumeInformationW`), when the volume answered.
    pub serial: Option<u32>,
    /// File system name (`FAT32`, `NTFS`, …), when known.
    pub fs_type: Option<String>,
    /// Total size in bytes (`GetDiskFreeSpaceExW`), when known.
    pub size_bytes: Option<u64>,
    /// The share a mapped drive points to (`\\server\share`), when known.
    pub remote_name: Option<String>,
}

impl Drive {
    /// The drive's root folder, `E:\`.
    pub fn root(&self) -> String {
        format!("{}:\\", self.letter)
    }

    /// Whether two readings are the same volume in the same place: same letter, type, label
    /// and serial. Another stick in the same letter is a removal and an arrival.
    pub fn same_volume(&self, other: &Drive) -> bool {
        self.letter == other.letter
            && self.kind == other.kind
            && self.label == other.label
            && self.serial == other.serial
    }
}

/// The drive letters of a `GetLogicalDrives` mask or a `DEV_BROADCAST_VOLUME` unit mask
/// (bit 0 is A:).
///
/// `0b1_0100` → `['C', 'E']`; `0` → `[]`.
pub fn letters(mask: u32) -> Vec<char> {
    (0..26u8)
        .filter(|bit| mask & (1 << bit) != 0)
        .map(|bit| char::from(b'A' + bit))
        .collect()
}

/// Drives that arrived and left between two readings (see [`Drive::same_volume`]).
///
/// before `[C: fixed, E: "STICK" 0x1234]`, after `[C: fixed, E: "OTHER" 0x9999]` →
/// added `[E: "OTHER"]`, removed `[E: "STICK"]`.
pub fn diff<'a>(before: &'a [Drive], after: &'a [Drive]) -> (Vec<&'a Drive>, Vec<&'a Drive>) {
    let added = after
        .iter()
        .filter(|a| !before.iter().any(|b| b.same_volume(a)))
        .collect();
    let removed = before
        .iter()
        .filter(|b| !after.iter().any(|a| a.same_volume(b)))
        .collect();
    (added, removed)
}

/// A serial number as Windows shows it (`vol`, Explorer): `0x1234ABCD` → `"1234-ABCD"`.
pub fn serial_text(serial: u32) -> String {
    format!("{:04X}-{:04X}", serial >> 16, serial & 0xFFFF)
}

/// Whether the drive's root is one of the policy's removable folders (`E:\`, `e:`, `E:/`).
fn listed_removable(letter: char, removable_paths: &[String]) -> bool {
    removable_paths.iter().any(|p| {
        let p = p.trim_end_matches(['\\', '/']);
        p.len() == 2
            && p.ends_with(':')
            && p.chars()
                .next()
                .is_some_and(|c| c.eq_ignore_ascii_case(&letter))
    })
}

/// Where a drive's files go, with what is known about the volume; `None` for local disks and
/// whatever the policy switches off.
///
/// `E: removable "STICK"` → `(Removable, Media { mount_point "E:\", label "STICK", reason "device" })`;
/// `Z: remote \\srv\data` → `(Network, …)`; `C: fixed` → `None`.
pub fn classify(drive: &Drive, policy: &ExportPolicy) -> Option<(Destination, Media)> {
    let media = |reason: &str| Media {
        mount_point: drive.root().into(),
        fs_type: drive.fs_type.clone().unwrap_or_default(),
        source: drive
            .remote_name
            .clone()
            .unwrap_or_else(|| format!("{}:", drive.letter)),
        label: drive.label.clone(),
        serial: drive.serial.map(serial_text),
        size_bytes: drive.size_bytes,
        reason: reason.to_owned(),
        ..Media::default()
    };
    let kind = drive.kind.unwrap_or(DriveKind::Unknown);
    if kind == DriveKind::Remote {
        return policy
            .network
            .then(|| (Destination::Network, media("network")));
    }
    if !policy.removable {
        return None;
    }
    if kind == DriveKind::Removable {
        return Some((Destination::Removable, media("device")));
    }
    listed_removable(drive.letter, &policy.removable_paths).then(|| {
        let mut m = media("path");
        m.model = Some(format!("{} drive", kind.name()));
        (Destination::Removable, m)
    })
}

/// Whether a path names a network location by UNC: `\\server\share\…` or `//server/share`,
/// and `\\?\UNC\server\share`; not the device paths `\\?\C:\…` and `\\.\…`.
pub fn is_unc(path: &str) -> bool {
    let p = path.replace('/', "\\");
    if let Some(rest) = p.strip_prefix("\\\\?\\") {
        return rest.len() > 4 && rest[..4].eq_ignore_ascii_case("UNC\\");
    }
    if p.starts_with("\\\\.\\") {
        return false;
    }
    match p.strip_prefix("\\\\") {
        Some(rest) => {
            let mut parts = rest.split('\\');
            let server = parts.next().unwrap_or_default();
            let share = parts.next().unwrap_or_default();
            !server.is_empty() && !share.is_empty()
        }
        None => false,
    }
}

/// The drive letter a path starts with (`e:\x` → `'E'`), if any.
pub fn drive_letter(path: &str) -> Option<char> {
    let mut chars = path.chars();
    let letter = chars.next()?;
    (letter.is_ascii_alphabetic() && chars.next() == Some(':')).then(|| letter.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drive(letter: char, kind: DriveKind, label: Option<&str>, serial: Option<u32>) -> Drive {
        Drive {
            letter,
            kind: Some(kind),
            label: label.map(str::to_owned),
            serial,
            ..Drive::default()
        }
    }

    #[test]
    fn letters_from_masks() {
        assert_eq!(letters(0b1_0100), vec!['C', 'E']);
        assert_eq!(letters(0), Vec::<char>::new());
        assert_eq!(letters(1 << 25), vec!['Z']);
        assert_eq!(letters(u32::MAX).len(), 26, "bits above Z are ignored");
    }

    #[test]
    fn diff_names_arrivals_removals_and_swapped_sticks() {
        let c = drive('C', DriveKind::Fixed, None, Some(1));
        let stick = drive('E', DriveKind::Removable, Some("STICK"), Some(0x1234));
        let other = drive('E', DriveKind::Removable, Some("OTHER"), Some(0x9999));
        let only_c = vec![c.clone()];
        let with_stick = vec![c.clone(), stick.clone()];
        let with_other = vec![c.clone(), other.clone()];
        let (added, removed) = diff(&only_c, &with_stick);
        assert_eq!(added, vec![&stick], "a stick arrived");
        assert!(removed.is_empty());
        let (added, removed) = diff(&with_stick, &with_other);
        assert_eq!(
            added,
            vec![&other],
            "another stick in the same letter is new"
        );
        assert_eq!(removed, vec![&stick], "and the first one left");
        let (added, removed) = diff(&with_stick, &with_stick);
        assert!(added.is_empty() && removed.is_empty(), "nothing changed");
        let mut bigger = stick.clone();
        bigger.size_bytes = Some(5);
        let (added, _) = diff(std::slice::from_ref(&stick), std::slice::from_ref(&bigger));
        assert!(added.is_empty(), "the size is not the volume's identity");
    }

    #[test]
    fn drives_classify_by_type_and_policy() {
        let policy = ExportPolicy::default();
        let mut stick = drive('E', DriveKind::Removable, Some("STICK"), Some(0x1234_ABCD));
        stick.fs_type = Some("FAT32".into());
        stick.size_bytes = Some(8 << 30);
        let (dest, media) = classify(&stick, &policy).expect("a removable drive");
        assert_eq!(dest, Destination::Removable);
        assert_eq!(media.mount_point, std::path::PathBuf::from("E:\\"));
        assert_eq!(media.label.as_deref(), Some("STICK"));
        assert_eq!(
            media.serial.as_deref(),
            Some("1234-ABCD"),
            "as Windows shows it"
        );
        assert_eq!(media.fs_type, "FAT32");
        assert_eq!(media.size_bytes, Some(8 << 30));
        assert_eq!(media.reason, "device");
        let mut share = drive('Z', DriveKind::Remote, None, None);
        share.remote_name = Some("\\\\srv\\data".into());
        let (dest, media) = classify(&share, &policy).expect("a mapped share");
        assert_eq!(dest, Destination::Network);
        assert_eq!(media.source, "\\\\srv\\data");
        let c = drive('C', DriveKind::Fixed, None, None);
        assert!(
            classify(&c, &policy).is_none(),
            "a local disk is not a destination"
        );
        let listed = ExportPolicy {
            removable_paths: vec!["d:\\".into()],
            ..ExportPolicy::default()
        };
        let usb_disk = drive('D', DriveKind::Fixed, Some("BACKUP"), None);
        let (dest, media) = classify(&usb_disk, &listed).expect("listed as removable");
        assert_eq!(dest, Destination::Removable);
        assert_eq!(
            media.reason, "path",
            "removable because the policy lists it"
        );
        let off = ExportPolicy {
            removable: false,
            network: false,
            ..ExportPolicy::default()
        };
        assert!(
            classify(&stick, &off).is_none(),
            "removable media off by policy"
        );
        assert!(classify(&share, &off).is_none(), "shares off by policy");
    }

    #[test]
    fn unc_paths_and_drive_letters() {
        assert!(is_unc("\\\\srv\\share"));
        assert!(is_unc("\\\\srv\\share\\exports\\a.csv"));
        assert!(is_unc("//srv/share"), "forward slashes too");
        assert!(
            is_unc("\\\\?\\UNC\\srv\\share\\a.csv"),
            "long-path UNC form"
        );
        assert!(!is_unc("\\\\?\\C:\\Users"), "a long local path is local");
        assert!(
            !is_unc("\\\\.\\PhysicalDrive0"),
            "a device path is not a share"
        );
        assert!(
            !is_unc("\\\\srv"),
            "a server without a share names no folder"
        );
        assert!(!is_unc("C:\\Users\\a"));
        assert!(!is_unc("/home/a"));
        assert_eq!(drive_letter("e:\\x"), Some('E'));
        assert_eq!(drive_letter("\\\\srv\\s"), None);
        assert_eq!(drive_letter("/home"), None);
    }
}
