//! A small file system of its own for a test to fill: an ext4 image file, sparse on the
//! machine's disk, loop-mounted in a temporary folder (root only), unmounted on drop. What a
//! full disk does to a program is then real: its writes fail with ENOSPC while the rest of the
//! machine goes on.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process::succeed as run;

/// The mounted file system.
#[derive(Debug)]
pub struct LoopDisk {
    /// Holds the image and the mount point (removed after the unmount).
    _dir: tempfile::TempDir,
    point: PathBuf,
}

/// A file taking up all the space that was free on a [`LoopDisk`]; removed on drop.
#[derive(Debug)]
pub struct Filler {
    path: PathBuf,
}

impl LoopDisk {
    /// Makes and mounts a file system of `megabytes` (no blocks kept for root, so what is free
    /// is free to every user).
    pub fn new(megabytes: u64) -> Result<LoopDisk, String> {
        if !crate::is_root() {
            return Err(
                "a loop-mounted disk needs root (mount); run the test as root (CI does)".into(),
            );
        }
        let dir = tempfile::Builder::new()
            .prefix("worktrace-disk-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        let image = dir.path().join("disk.img");
        let point = dir.path().join("mnt");
        std::fs::create_dir(&point).map_err(|e| format!("mkdir {}: {e}", point.display()))?;
        std::fs::File::create(&image)
            .and_then(|f| f.set_len(megabytes * 1024 * 1024))
            .map_err(|e| format!("make {}: {e}", image.display()))?;
        run(Command::new("mkfs.ext4")
            .args(["-q", "-m", "0", "-L", "worktrace-test"])
            .arg(&image))?;
        run(Command::new("mount")
            .arg("-o")
            .arg("loop")
            .arg(&image)
            .arg(&point))?;
        Ok(LoopDisk { _dir: dir, point })
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        &self.point
    }

    /// Bytes free to any user now.
    pub fn free(&self) -> Result<u64, String> {
        let stat = rustix::fs::statvfs(&self.point)
            .map_err(|e| format!("statvfs {}: {e}", self.point.display()))?;
        Ok(stat.f_bavail * stat.f_frsize)
    }

    /// Fills what is free with one file: allocated at once, then written to in smaller and
    /// smaller blocks until the file system says it is full.
    pub fn fill(&self) -> Result<Filler, String> {
        use std::io::Write;
        let filler = Filler {
            path: self.point.join("filler"),
        };
        // Less than what is free: the allocation needs blocks of its own for its extents, and
        // others may write meanwhile; the writes fill the rest.
        let free = self.free()?;
        if let Err(e) = run(Command::new("fallocate")
            .arg("-l")
            .arg(free.saturating_sub(free / 64).to_string())
            .arg(&filler.path))
        {
            eprintln!("{e}; filling it by writing");
        }
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&filler.path)
            .map_err(|e| format!("open {}: {e}", filler.path.display()))?;
        let full = Some(rustix::io::Errno::NOSPC.raw_os_error());
        for size in [1 << 20, 4096, 1] {
            let block = vec![0u8; size];
            loop {
                match file.write_all(&block).and_then(|()| file.sync_data()) {
                    Ok(()) => {}
                    Err(e) if e.raw_os_error() == full => break,
                    Err(e) => return Err(format!("fill {}: {e}", filler.path.display())),
                }
            }
        }
        Ok(filler)
    }
}

impl Drop for Filler {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for LoopDisk {
    fn drop(&mut self) {
        // Lazy: whatever still has a file open there (a cluster being stopped) lets go later.
        let _ = run(Command::new("umount").arg("-l").arg(&self.point));
    }
}
