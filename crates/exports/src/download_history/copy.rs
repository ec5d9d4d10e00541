//! A private copy of a browser's history database, because the browser holds its own locked.
//!
//! Measured against a running Chromium 156 (Debian 12), which keeps `History` open with
//! `locking_mode=EXCLUSIVE` and a rollback journal: a plain read-only open of the live file
//! fails with "database is locked"; `immutable=1` reads it, but ignores the journal (and would
//! ignore a `-wal`, where Firefox keeps its latest changes), and SQLite warns it may read a page
//! the browser is rewriting; a copy of the file and its `-journal`/`-wal`, opened here, reads the last state
//! the browser committed. So the copy. Chromium commits its history about 10 s after a change
//! (its commit timer): a download is in the database only then, which is why the hashing thread
//! looks again for a while (see `watch/hashing`).
//!
//! The copy lives in a folder only this user can open, is only read (SQLite may roll back a
//! copied journal or replay a copied WAL in it, never in the browser's files), and is deleted
//! when it is dropped.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::{Fingerprint, Unreadable};

/// A private copy of one database, open.
#[derive(Debug)]
pub(super) struct Copy {
    fingerprint: Fingerprint,
    /// Declared before the folder: fields drop in order, so the database is closed before its
    /// files are deleted (Windows deletes no open file).
    connection: Connection,
    /// Held for its drop, which deletes the copy.
    _files: Folder,
}

impl Copy {
    /// Copies `source` (with its `-wal` and `-journal`, as `fingerprint` found them) into a new
    /// private folder numbered `n` and opens it. Fails when the source changed meanwhile (a
    /// copy of a database caught mid-write could be torn).
    pub(super) fn make(
        source: &Path,
        fingerprint: Fingerprint,
        n: u64,
    ) -> Result<Copy, Unreadable> {
        let folder = std::env::temp_dir().join(format!(
            "worktrace-browser-history-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&folder);
        private_folder(&folder)?;
        // Deleted on every early return below.
        let folder = Folder(folder);
        let target = folder.0.join("history.sqlite");
        for suffix in Fingerprint::PARTS {
            let mut from = source.as_os_str().to_owned();
            from.push(suffix);
            let mut to = target.as_os_str().to_owned();
            to.push(suffix);
            match std::fs::copy(&from, &to) {
                Ok(_) => {}
                // A -wal or -journal that is not there (or went away) is no part of it.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !suffix.is_empty() => {}
                Err(e) => return Err(e.into()),
            }
        }
        if Fingerprint::of(source) != Some(fingerprint) {
            return Err(Unreadable::Changed);
        }
        // Read-write, on the copy only: a copied hot journal must be rolled back and a copied WAL
        // replayed to read the committed state; `query_only` keeps every statement from writing.
        let connection = Connection::open_with_flags(
            &target,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.pragma_update(None, "query_only", true)?;
        connection.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
        Ok(Copy {
            fingerprint,
            connection,
            _files: folder,
        })
    }

    pub(super) fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    pub(super) fn connection(&self) -> &Connection {
        &self.connection
    }
}

/// A folder deleted, with what it holds, when dropped.
#[derive(Debug)]
struct Folder(PathBuf);

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Makes `folder`, readable by this user only; fails when it exists (a folder someone else
/// prepared in the shared temporary folder is not used).
fn private_folder(folder: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().mode(0o700).create(folder)
    }
    // The temporary folder is in the user's own profile on Windows.
    #[cfg(not(unix))]
    {
        std::fs::DirBuilder::new().create(folder)
    }
}
