//! Removable media and network shares on Linux: the mount table from /proc/self/mountinfo,
//! classified with /sys (the device's `removable` flag, a USB bus in its path), udev's data
//! files (serial, label) and the policy's removable folders and network file-system types.
//!
//! Reads only system metadata; never the files on the media.

use std::path::{Path, PathBuf};
use std::time::Duration;

use worktrace_domain::ExportPolicy;

use crate::classify::{self, Destination, Mount};
use crate::detector::Media;
use crate::error::{Error, Result};

/// The mount table of this process's namespace.
pub const MOUNTINFO: &str = "/proc/self/mountinfo";

/// Reads and parses a mountinfo file.
pub fn read_mounts(path: &Path) -> Result<Vec<Mount>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(classify::parse_mountinfo(&text))
}

/// The mount table, held open. The kernel flags the open file (POLLPRI) when the table
/// changes after the open, and every reading goes through that same file: a mount made
/// before a reading is in it, one made after it is flagged, so none falls between the two.
#[derive(Debug)]
pub struct MountTable {
    file: std::fs::File,
    path: PathBuf,
}

impl MountTable {
    /// Opens the mountinfo file at `path`; read it with [`MountTable::read`].
    pub fn open(path: &Path) -> Result<MountTable> {
        let file = std::fs::File::open(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        Ok(MountTable {
            file,
            path: path.to_path_buf(),
        })
    }

    /// The table as it is now (the kernel makes it afresh when the file is read from the
    /// start).
    pub fn read(&mut self) -> Result<Vec<Mount>> {
        use std::io::{Read, Seek, SeekFrom};
        let mut text = String::new();
        self.file
            .seek(SeekFrom::Start(0))
            .and_then(|_| self.file.read_to_string(&mut text))
            .map_err(|source| Error::Io {
                path: self.path.display().to_string(),
                source,
            })?;
        Ok(classify::parse_mountinfo(&text))
    }

    /// Waits up to `limit` for the kernel to flag a change of the table since the open or
    /// the last flag; whether it did. A file that is no mount table is never flagged.
    pub fn wait_for_change(&self, limit: Duration) -> bool {
        use rustix::event::{poll, PollFd, PollFlags, Timespec};
        let mut fds = [PollFd::new(&self.file, PollFlags::PRI | PollFlags::ERR)];
        let timeout = Timespec {
            tv_sec: i64::try_from(limit.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(limit.subsec_nanos()),
        };
        match poll(&mut fds, Some(&timeout)) {
            Ok(n) => n > 0,
            Err(_) => {
                // Interrupted, or polling fails: wait as long as a quiet table would.
                std::thread::sleep(limit);
                false
            }
        }
    }
}

fn read_trim(path: &Path) -> Option<String> {
    let s = std::fs::read_to_string(path).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// The sysfs folder of a block device `major:minor`, when it is one.
fn sys_block(dev: &str) -> Option<PathBuf> {
    std::fs::canonicalize(Path::new("/sys/dev/block").join(dev)).ok()
}

/// The whole disk's folder for a partition's folder (it holds `removable` and `device/`).
fn disk_of(part: &Path) -> PathBuf {
    if part.join("partition").exists() {
        part.parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| part.to_path_buf())
    } else {
        part.to_path_buf()
    }
}

/// One `E:KEY=value` line of udev's data file for `major:minor`.
fn udev_property(dev: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("/run/udev/data/b{dev}")).ok()?;
    let prefix = format!("E:{key}=");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(str::to_owned)
        .filter(|v| !v.is_empty())
}

fn size_of(mount_point: &Path) -> Option<u64> {
    let s = rustix::fs::statvfs(mount_point).ok()?;
    s.f_blocks.checked_mul(s.f_frsize)
}

/// Where a mount's files go, with what is known about the volume; `None` for ordinary local
/// file systems (and everything the policy switches off).
pub fn classify_mount(m: &Mount, policy: &ExportPolicy) -> Option<(Destination, Media)> {
    let media = |reason: &str| Media {
        mount_point: m.mount_point.clone(),
        fs_type: m.fs_type.clone(),
        source: m.source.clone(),
        reason: reason.to_owned(),
        ..Media::default()
    };
    if classify::is_network_fs(&m.fs_type, &policy.network_fs_types) {
        return policy
            .network
            .then(|| (Destination::Network, media("network")));
    }
    if !policy.removable {
        return None;
    }
    let sys = sys_block(&m.dev);
    let by_device = sys.as_deref().is_some_and(|part| {
        let disk = disk_of(part);
        read_trim(&disk.join("removable")).as_deref() == Some("1")
            || disk.to_string_lossy().contains("/usb")
    });
    let by_path = classify::under_removable_path(&m.mount_point, &policy.removable_paths);
    if !by_device && !by_path {
        return None;
    }
    let mut info = media(if by_device { "device" } else { "path" });
    if let Some(part) = &sys {
        let disk = disk_of(part);
        info.vendor =
            read_trim(&disk.join("device/vendor")).or_else(|| udev_property(&m.dev, "ID_VENDOR"));
        info.model =
            read_trim(&disk.join("device/model")).or_else(|| udev_property(&m.dev, "ID_MODEL"));
        info.serial = udev_property(&m.dev, "ID_SERIAL_SHORT")
            .or_else(|| read_trim(&disk.join("device/serial")));
    }
    info.label = udev_property(&m.dev, "ID_FS_LABEL").or_else(|| {
        m.mount_point
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
    });
    info.size_bytes = size_of(&m.mount_point);
    Some((Destination::Removable, info))
}

/// Mounts that appeared and disappeared between two readings of the table (by mount point
/// and device).
///
/// before `[/, /media/a]`, after `[/, /media/b]` → added `[/media/b]`, removed `[/media/a]`.
pub fn diff<'a>(before: &'a [Mount], after: &'a [Mount]) -> (Vec<&'a Mount>, Vec<&'a Mount>) {
    let same = |a: &Mount, b: &Mount| a.mount_point == b.mount_point && a.dev == b.dev;
    let added = after
        .iter()
        .filter(|a| !before.iter().any(|b| same(a, b)))
        .collect();
    let removed = before
        .iter()
        .filter(|b| !after.iter().any(|a| same(a, b)))
        .collect();
    (added, removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_names_new_and_gone_mounts() {
        let before = classify::parse_mountinfo(
            "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 8:17 / /media/a rw - vfat /dev/sdb1 rw\n",
        );
        let after = classify::parse_mountinfo(
            "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n3 1 8:33 / /media/b rw - vfat /dev/sdc1 rw\n",
        );
        let (added, removed) = diff(&before, &after);
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].mount_point, PathBuf::from("/media/b"));
        assert_eq!(removed[0].mount_point, PathBuf::from("/media/a"));
    }

    #[test]
    fn real_mount_table_classifies_without_error() {
        let mounts = read_mounts(Path::new(MOUNTINFO)).expect("this process has a mount table");
        assert!(!mounts.is_empty(), "there is at least the root file system");
        let root = mounts
            .iter()
            .find(|m| m.mount_point == Path::new("/"))
            .expect("a root mount");
        assert!(
            classify_mount(root, &ExportPolicy::default()).is_none(),
            "the root file system is neither removable nor a share"
        );
        let share = Mount {
            dev: "0:99".into(),
            mount_point: "/mnt/share".into(),
            fs_type: "cifs".into(),
            source: "//srv/x".into(),
        };
        let (dest, _) = classify_mount(&share, &ExportPolicy::default()).expect("a share");
        assert_eq!(dest, Destination::Network);
        let off = ExportPolicy {
            network: false,
            ..ExportPolicy::default()
        };
        assert!(
            classify_mount(&share, &off).is_none(),
            "shares off by policy"
        );
    }
}
