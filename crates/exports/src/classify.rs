//! Pure classification: a file's extension, whether it is a data file, and the mount table
//! parsed from `/proc/self/mountinfo` text with each mount's destination class.
//!
//! Pure: no I/O, no clock reads. Reading the files is the OS modules' job.

use std::path::{Path, PathBuf};

/// Where a file went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Destination {
    /// A watched folder on a local disk.
    Local,
    /// A USB stick, memory card, or anything mounted where the policy says removable media go.
    Removable,
    /// A network share or other remote file system.
    Network,
    /// A folder a cloud-sync client uploads (Yandex.Disk, Dropbox, …).
    Cloud,
}

impl Destination {
    /// The `destination_class` stored with an event.
    pub fn class(self) -> &'static str {
        match self {
            Destination::Local => "local",
            Destination::Removable => "removable",
            Destination::Network => "network",
            Destination::Cloud => "cloud",
        }
    }
}

/// The lower-case extension of a file name, without the dot.
///
/// `"Clients 2024.XLSX"` → `Some("xlsx")`; `"archive.tar.gz"` → `Some("gz")`;
/// `".bashrc"` → `None`; `"README"` → `None`.
pub fn extension(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_lowercase())
}

/// Whether the file's extension is on the policy's data-file list.
pub fn is_data_file(path: &Path, data_extensions: &[String]) -> bool {
    extension(path).is_some_and(|e| data_extensions.contains(&e))
}

/// One line of `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// `major:minor` of the device.
    pub dev: String,
    pub mount_point: PathBuf,
    pub fs_type: String,
    /// The mount source, e.g. `/dev/sdb1`, `//server/share`, `host:/export`.
    pub source: String,
}

/// Undoes the octal escapes of mountinfo fields: `"/media/My\040Stick"` → `"/media/My Stick"`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            let oct = &bytes[i + 1..i + 4];
            if oct.iter().all(|b| (b'0'..=b'7').contains(b)) {
                let v = oct
                    .iter()
                    .fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
                if let Ok(v) = u8::try_from(v) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses mountinfo text; malformed lines are skipped (the kernel never writes them).
///
/// `"36 35 8:17 / /media/stick rw - vfat /dev/sdb1 rw"` →
/// `Mount { dev: "8:17", mount_point: "/media/stick", fs_type: "vfat", source: "/dev/sdb1" }`
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let left: Vec<&str> = left.split(' ').collect();
            let mut right = right.split(' ');
            Some(Mount {
                dev: (*left.get(2)?).to_owned(),
                mount_point: PathBuf::from(unescape(left.get(4)?)),
                fs_type: right.next()?.to_owned(),
                source: unescape(right.next().unwrap_or("")),
            })
        })
        .collect()
}

/// Whether `fs_type` is on the policy's network list (`fuse.sshfs` also matches `sshfs`).
pub fn is_network_fs(fs_type: &str, network_fs_types: &[String]) -> bool {
    network_fs_types
        .iter()
        .any(|t| t == fs_type || fs_type.strip_prefix("fuse.") == Some(t.as_str()))
}

/// Whether the mount point lies under one of the policy's removable folders.
///
/// `/media/alice/STICK` under `["/media"]` → true; `/mediaserver` → false.
pub fn under_removable_path(mount_point: &Path, removable_paths: &[String]) -> bool {
    removable_paths
        .iter()
        .any(|p| mount_point != Path::new(p) && mount_point.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_and_data_files() {
        let data = vec!["csv".to_owned(), "xlsx".to_owned()];
        assert_eq!(
            extension(Path::new("/a/Clients 2024.XLSX")).as_deref(),
            Some("xlsx")
        );
        assert_eq!(
            extension(Path::new("/a/.bashrc")),
            None,
            "a dot file has no extension"
        );
        assert_eq!(extension(Path::new("/a/README")), None);
        assert!(
            is_data_file(Path::new("/x/leads.csv"), &data),
            "csv is data"
        );
        assert!(
            !is_data_file(Path::new("/x/notes.txt"), &data),
            "txt is not on the list"
        );
    }

    #[test]
    fn mountinfo_lines_parse_with_escapes() {
        let text = "22 27 0:21 / /proc rw,relatime - proc proc rw\n\
                    36 35 8:17 / /media/alice/My\\040Stick rw,nosuid - vfat /dev/sdb1 rw\n\
                    40 27 0:55 / /mnt/share rw shared:1 - cifs //srv/share rw\n\
                    garbage\n";
        let mounts = parse_mountinfo(text);
        assert_eq!(mounts.len(), 3, "the malformed line is skipped: {mounts:?}");
        assert_eq!(
            mounts[1].mount_point,
            PathBuf::from("/media/alice/My Stick")
        );
        assert_eq!(mounts[1].fs_type, "vfat");
        assert_eq!(mounts[1].dev, "8:17");
        assert_eq!(
            mounts[2].source, "//srv/share",
            "optional fields before '-' are skipped"
        );
    }

    #[test]
    fn network_and_removable_paths() {
        let net = vec!["sshfs".to_owned(), "cifs".to_owned()];
        assert!(
            is_network_fs("fuse.sshfs", &net),
            "fuse.sshfs matches sshfs"
        );
        assert!(is_network_fs("cifs", &net));
        assert!(!is_network_fs("ext4", &net));
        let rem = vec!["/media".to_owned()];
        assert!(under_removable_path(Path::new("/media/alice/STICK"), &rem));
        assert!(
            !under_removable_path(Path::new("/mediaserver"), &rem),
            "prefix is by component"
        );
        assert!(
            !under_removable_path(Path::new("/media"), &rem),
            "the folder itself is not media"
        );
    }
}
