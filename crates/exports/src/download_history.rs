//! Where a browser noted a download, for a file the OS noted no origin of: the download history
//! of Chromium-family browsers (their `History` database, see [`chromium`]) and of Firefox
//! (`places.sqlite`, see [`firefox`]), looked up by the file's full path.
//!
//! Reads only the row of that one file, from a private copy of the database (see [`copy`]); it
//! never writes, locks or keeps open a browser's own files, and keeps nothing of the history but
//! that file's origin. Its cost is bounded: the list of databases is cached for
//! [`DATABASES_TTL`], a database over [`MAX_DATABASE_BYTES`] is skipped, a database unchanged
//! since a file was last looked up in it is not read again for that file, and a copy is reused
//! while its source is unchanged. A damaged, locked or unknown database never panics and never
//! stops the watcher: the file gets no origin from it, and a debug line says why.

mod chromium;
mod copy;
mod firefox;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::provenance::Origin;

use copy::Copy;

/// How long the list of browser databases is trusted before the profile folders are listed
/// again (a browser installed or a profile made meanwhile is found after this).
pub const DATABASES_TTL: Duration = Duration::from_secs(60);

/// A history database (with its `-wal` and `-journal`) larger than this is not copied: copying
/// it would hold up the watcher. Ordinary profiles' histories are a few MB to some tens of MB.
pub const MAX_DATABASE_BYTES: u64 = 128 * 1024 * 1024;

/// How long a file waits at most for a Chromium-family browser to commit its history: twice the
/// 10 s Chromium takes, for a busy machine.
pub const CHROMIUM_WAIT: Duration = Duration::from_secs(20);

/// How long a file waits for a running Firefox to note its download.
pub const FIREFOX_WAIT: Duration = Duration::from_secs(5);

/// A download that may still come into a browser's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    /// Until the browser commits what it holds, for at most this long.
    UntilCommitted(Duration),
    /// For this long: nothing tells when the browser wrote it.
    For(Duration),
}

impl Pending {
    /// The longest this may last.
    pub fn at_most(self) -> Duration {
        match self {
            Pending::UntilCommitted(d) | Pending::For(d) => d,
        }
    }
}

/// Which kind of browser wrote a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Browser {
    Chromium,
    Firefox,
}

/// One profile's history database.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Database {
    browser: Browser,
    path: PathBuf,
}

/// The sizes and modification times of a database and of its `-wal` and `-journal`: when none
/// changed, neither did what the database holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint([Option<(u64, SystemTime)>; 3]);

impl Fingerprint {
    /// The suffixes of the files that make up a database.
    const PARTS: [&'static str; 3] = ["", "-wal", "-journal"];

    fn of(database: &Path) -> Option<Fingerprint> {
        let mut parts = [None; 3];
        for (part, suffix) in parts.iter_mut().zip(Self::PARTS) {
            let mut name = database.as_os_str().to_owned();
            name.push(suffix);
            *part = std::fs::metadata(&name)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| (m.len(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH)));
        }
        parts[0].is_some().then_some(Fingerprint(parts))
    }

    fn bytes(&self) -> u64 {
        self.0.iter().flatten().map(|(len, _)| len).sum()
    }
}

/// The versions of the databases one file was looked up in, so that a later lookup for it only
/// reads the databases that changed since.
#[derive(Debug, Clone, Default)]
pub struct Looked(HashMap<PathBuf, Fingerprint>);

/// The browsers' download history of one user.
#[derive(Debug)]
pub struct DownloadHistory {
    home: Option<PathBuf>,
    databases: Option<(Instant, Vec<Database>)>,
    copies: HashMap<PathBuf, Copy>,
    /// Numbers the private copies' folders.
    made: u64,
}

impl DownloadHistory {
    /// The history of the browsers whose profiles are under `home` (none when it is unknown).
    pub fn new(home: Option<PathBuf>) -> DownloadHistory {
        DownloadHistory {
            home,
            databases: None,
            copies: HashMap::new(),
            made: 0,
        }
    }

    /// Whether any browser keeps a download history here (the list of databases is cached).
    pub fn any(&mut self, now: Instant) -> bool {
        !self.databases(now).is_empty()
    }

    /// How long a download not in the history yet may still come into it, counted from now;
    /// `None` when no browser is about to note one:
    /// - a Chromium-family browser holds history changes it has not committed (its
    ///   `History-journal` is not empty: SQLite writes a page's old content there before it
    ///   changes the page, and empties it at the commit). Chromium commits about 10 s after a
    ///   change, so a download it just finished may be in its history only then: at most
    ///   [`CHROMIUM_WAIT`], ended by the commit;
    /// - a Firefox runs (its `places.sqlite-wal` is there and not empty: it checkpoints and
    ///   removes it when it quits). Firefox notes a download a moment after it finished it
    ///   (measured: 0.3 s after the file was complete), and nothing tells when it did:
    ///   [`FIREFOX_WAIT`].
    pub fn pending(&mut self, now: Instant) -> Option<Pending> {
        let nonempty = |database: &Path, suffix: &str| {
            let mut part = database.as_os_str().to_owned();
            part.push(suffix);
            std::fs::metadata(part).is_ok_and(|m| m.len() > 0)
        };
        let databases = self.databases(now);
        let chromium = databases
            .iter()
            .any(|d| d.browser == Browser::Chromium && nonempty(&d.path, "-journal"));
        let firefox = databases
            .iter()
            .any(|d| d.browser == Browser::Firefox && nonempty(&d.path, "-wal"));
        match (chromium, firefox) {
            (true, _) => Some(Pending::UntilCommitted(CHROMIUM_WAIT)),
            (false, true) => Some(Pending::For(FIREFOX_WAIT)),
            (false, false) => None,
        }
    }

    fn databases(&mut self, now: Instant) -> Vec<Database> {
        let fresh = self
            .databases
            .as_ref()
            .filter(|(at, _)| now.saturating_duration_since(*at) < DATABASES_TTL);
        if let Some((_, list)) = fresh {
            return list.clone();
        }
        let list = self
            .home
            .as_deref()
            .map(databases_under)
            .unwrap_or_default();
        self.databases = Some((now, list.clone()));
        list
    }

    /// The origin the browsers' history notes for the file at `path` (matched by its full
    /// path as the browser saved it or last saw it there); `None` when no history names it.
    /// `looked` keeps which versions of the databases were read for this file: a database
    /// unchanged since is skipped.
    pub fn origin_of(&mut self, path: &Path, looked: &mut Looked, now: Instant) -> Option<Origin> {
        let Some(text) = path.to_str() else {
            tracing::debug!("{}: not UTF-8, not looked up", path.display());
            return None;
        };
        for database in self.databases(now) {
            let Some(fingerprint) = Fingerprint::of(&database.path) else {
                continue;
            };
            if looked.0.get(&database.path) == Some(&fingerprint) {
                continue;
            }
            looked.0.insert(database.path.clone(), fingerprint);
            if fingerprint.bytes() > MAX_DATABASE_BYTES {
                tracing::debug!(
                    "{}: {} bytes, over the limit of {MAX_DATABASE_BYTES}; not read",
                    database.path.display(),
                    fingerprint.bytes()
                );
                continue;
            }
            let found = match self.copy_of(&database.path, fingerprint) {
                Ok(copy) => match database.browser {
                    Browser::Chromium => chromium::origin_of(copy.connection(), text),
                    Browser::Firefox => firefox::origin_of(copy.connection(), path),
                },
                Err(e) => Err(e),
            };
            match found {
                Ok(Some(origin)) => return Some(origin),
                Ok(None) => {}
                Err(e) => {
                    tracing::debug!("{}: {e}; no origin from it", database.path.display());
                    self.copies.remove(&database.path);
                }
            }
        }
        None
    }

    /// The private copy of `source` as it is now, made again when the source changed.
    fn copy_of(&mut self, source: &Path, fingerprint: Fingerprint) -> Result<&Copy, Unreadable> {
        let stale = self
            .copies
            .get(source)
            .is_none_or(|c| c.fingerprint() != fingerprint);
        if stale {
            self.copies.remove(source);
            self.made += 1;
            let copy = Copy::make(source, fingerprint, self.made)?;
            self.copies.insert(source.to_path_buf(), copy);
        }
        self.copies.get(source).ok_or(Unreadable::Changed)
    }

    /// Deletes the private copies; called when no file waits for its origin, so no copy of a
    /// browser's history stays on the disk longer than a lookup needs it.
    pub fn release(&mut self) {
        self.copies.clear();
    }
}

/// Why a database gave no answer.
#[derive(Debug, thiserror::Error)]
enum Unreadable {
    #[error("cannot copy it: {0}")]
    Copy(#[from] std::io::Error),
    #[error("it changed while it was copied")]
    Changed,
    #[error("cannot read it: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// The folders, under the home folder, where Chromium-family browsers keep their profiles (each
/// holding `History`, or profiles that do), and where Firefox keeps its profiles.
fn roots(home: &Path) -> [(Browser, Vec<PathBuf>); 2] {
    let (chromium, firefox): (&[&str], &[&str]) = if cfg!(windows) {
        (
            &[
                "AppData/Local/Chromium/User Data",
                "AppData/Local/Google/Chrome/User Data",
                "AppData/Local/Google/Chrome Beta/User Data",
                "AppData/Local/Microsoft/Edge/User Data",
                "AppData/Local/BraveSoftware/Brave-Browser/User Data",
                "AppData/Local/Yandex/YandexBrowser/User Data",
                "AppData/Local/Vivaldi/User Data",
                "AppData/Roaming/Opera Software/Opera Stable",
            ],
            &["AppData/Roaming/Mozilla/Firefox/Profiles"],
        )
    } else {
        (
            &[
                ".config/chromium",
                ".config/google-chrome",
                ".config/google-chrome-beta",
                ".config/google-chrome-unstable",
                ".config/microsoft-edge",
                ".config/microsoft-edge-beta",
                ".config/BraveSoftware/Brave-Browser",
                ".config/yandex-browser",
                ".config/yandex-browser-beta",
                ".config/vivaldi",
                ".config/opera",
                "snap/chromium/common/chromium",
            ],
            &[
                ".mozilla/firefox",
                "snap/firefox/common/.mozilla/firefox",
                ".var/app/org.mozilla.firefox/.mozilla/firefox",
            ],
        )
    };
    let under = |names: &[&str]| names.iter().map(|n| home.join(n)).collect();
    [
        (Browser::Chromium, under(chromium)),
        (Browser::Firefox, under(firefox)),
    ]
}

/// Profiles listed in one browser folder at most: a folder this full is not a browser's.
const MAX_PROFILES: usize = 100;

/// Every history database of the known browsers under `home`: `History` in a Chromium-family
/// folder or one of its profiles (`Default`, `Profile 1`, …), `places.sqlite` in a Firefox
/// profile.
///
/// ```text
/// ~/.config/chromium/Default/History           → Chromium
/// ~/.config/google-chrome/Profile 2/History    → Chromium
/// ~/.mozilla/firefox/k3x9.default-esr/places.sqlite → Firefox
/// ```
fn databases_under(home: &Path) -> Vec<Database> {
    let mut found = Vec::new();
    let mut look = |root: &Path, file: &str, browser: Browser| {
        let at_root = root.join(file);
        if at_root.is_file() {
            found.push(Database {
                browser,
                path: at_root,
            });
        }
        let Ok(entries) = std::fs::read_dir(root) else {
            return;
        };
        let mut profiles: Vec<PathBuf> = entries
            .flatten()
            .take(MAX_PROFILES)
            .map(|e| e.path().join(file))
            .filter(|p| p.is_file())
            .collect();
        profiles.sort();
        found.extend(profiles.into_iter().map(|path| Database { browser, path }));
    };
    for (browser, folders) in roots(home) {
        let file = match browser {
            Browser::Chromium => "History",
            Browser::Firefox => "places.sqlite",
        };
        for folder in folders {
            look(&folder, file, browser);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profiles_of_the_known_browsers_are_found_under_the_home_folder() {
        let home = tempfile::tempdir().expect("tempdir");
        let (chromium, firefox) = if cfg!(windows) {
            (
                "AppData/Local/Google/Chrome/User Data",
                "AppData/Roaming/Mozilla/Firefox/Profiles",
            )
        } else {
            (".config/google-chrome", ".mozilla/firefox")
        };
        for (folder, file) in [
            (format!("{chromium}/Default"), "History"),
            (format!("{chromium}/Profile 2"), "History"),
            (format!("{chromium}/Crashpad"), "settings.dat"),
            (format!("{firefox}/k3x9.default-esr"), "places.sqlite"),
        ] {
            let folder = home.path().join(folder);
            std::fs::create_dir_all(&folder).expect("profile folder");
            std::fs::write(folder.join(file), b"").expect("database file");
        }
        let found: Vec<(Browser, String)> = databases_under(home.path())
            .into_iter()
            .map(|d| {
                let profile = d.path.parent().and_then(Path::file_name);
                let name = profile.map(|n| n.to_string_lossy().into_owned());
                (d.browser, name.unwrap_or_default())
            })
            .collect();
        assert_eq!(
            found,
            [
                (Browser::Chromium, "Default".to_owned()),
                (Browser::Chromium, "Profile 2".to_owned()),
                (Browser::Firefox, "k3x9.default-esr".to_owned()),
            ],
            "each profile with a history, nothing else"
        );
    }

    #[test]
    fn a_home_without_browsers_has_no_history_and_a_damaged_one_gives_no_origin() {
        let home = tempfile::tempdir().expect("tempdir");
        let mut history = DownloadHistory::new(Some(home.path().to_path_buf()));
        assert!(!history.any(Instant::now()), "no browser profiles yet");
        // A profile appears; the list is trusted for a while, then listed again.
        let profile = home.path().join(".config/chromium/Default");
        std::fs::create_dir_all(&profile).expect("profile");
        std::fs::write(profile.join("History"), b"not a database at all").expect("write");
        assert!(!history.any(Instant::now()), "the list is cached");
        let later = Instant::now() + DATABASES_TTL;
        assert!(history.any(later), "listed again after the cache's time");
        let mut looked = Looked::default();
        let file = home.path().join("Downloads/clients.csv");
        assert_eq!(
            history.origin_of(&file, &mut looked, later),
            None,
            "a damaged database gives no origin, and no panic"
        );
        assert_eq!(looked.0.len(), 1, "it was looked at once");
    }
}
