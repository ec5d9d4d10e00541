//! Cloud-sync folders: the local folders that Yandex.Disk, Dropbox, OneDrive, Nextcloud and
//! ownCloud clients upload, found from the clients' own settings files, and the folders the
//! policy names. A data file that appears in one is on its way to that cloud.
//!
//! Reading a settings file is the only I/O here ([`discover`]); the parsers are pure.

use std::path::{Path, PathBuf};

/// A folder a cloud-sync client uploads, with the service's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudRoot {
    pub service: String,
    pub path: PathBuf,
}

/// Expands a leading `~` to `home` (the watched folders' own rule).
fn expand(path: &str, home: &Path) -> PathBuf {
    crate::runtime::expand(path, Some(home)).unwrap_or_else(|| PathBuf::from(path))
}

/// Yandex.Disk's `config.cfg`: `dir="/home/anna/Yandex.Disk"`.
pub fn yandex_disk(config: &str, home: &Path) -> Vec<PathBuf> {
    config
        .lines()
        .filter_map(|l| l.trim().strip_prefix("dir="))
        .map(|v| expand(v.trim().trim_matches('"'), home))
        .collect()
}

/// Dropbox's `info.json`: `{"personal": {"path": "/home/anna/Dropbox"}, "business": {…}}`.
pub fn dropbox(info: &str) -> Vec<PathBuf> {
    let Ok(serde_json::Value::Object(accounts)) = serde_json::from_str(info) else {
        return Vec::new();
    };
    accounts
        .values()
        .filter_map(|a| a.get("path").and_then(serde_json::Value::as_str))
        .map(PathBuf::from)
        .collect()
}

/// The Linux OneDrive client's `config`: `sync_dir = "~/OneDrive"`; without the key its
/// default `~/OneDrive`.
pub fn onedrive(config: &str, home: &Path) -> Vec<PathBuf> {
    let set = config.lines().find_map(|l| {
        let (key, value) = l.split_once('=')?;
        (key.trim() == "sync_dir").then(|| value.trim().trim_matches('"').to_owned())
    });
    vec![expand(set.as_deref().unwrap_or("~/OneDrive"), home)]
}

/// Nextcloud's `nextcloud.cfg` (and ownCloud's `owncloud.cfg`): every
/// `0\Folders\1\localPath=/home/anna/Nextcloud/`.
pub fn nextcloud(config: &str) -> Vec<PathBuf> {
    config
        .lines()
        .filter_map(|l| {
            let (key, value) = l.split_once('=')?;
            key.trim()
                .ends_with("\\localPath")
                .then(|| PathBuf::from(value.trim().trim_end_matches('/')))
        })
        .collect()
}

/// The cloud folders of the clients set up for the user whose home is `home` (Linux and
/// Windows locations), those that exist. `onedrive_env`: the `OneDrive`/`OneDriveCommercial`
/// folders Windows names in the environment.
pub fn discover(home: &Path, onedrive_env: &[PathBuf]) -> Vec<CloudRoot> {
    let read = |rel: &str| std::fs::read_to_string(home.join(rel)).ok();
    let mut found: Vec<(&str, PathBuf)> = Vec::new();
    if let Some(cfg) = read(".config/yandex-disk/config.cfg") {
        found.extend(
            yandex_disk(&cfg, home)
                .into_iter()
                .map(|p| ("Yandex.Disk", p)),
        );
    }
    for rel in [
        ".dropbox/info.json",
        "AppData/Local/Dropbox/info.json",
        "AppData/Roaming/Dropbox/info.json",
    ] {
        if let Some(info) = read(rel) {
            found.extend(dropbox(&info).into_iter().map(|p| ("Dropbox", p)));
        }
    }
    if let Some(cfg) = read(".config/onedrive/config") {
        found.extend(onedrive(&cfg, home).into_iter().map(|p| ("OneDrive", p)));
    }
    found.extend(onedrive_env.iter().cloned().map(|p| ("OneDrive", p)));
    for (service, rel) in [
        ("Nextcloud", ".config/Nextcloud/nextcloud.cfg"),
        ("Nextcloud", "AppData/Roaming/Nextcloud/nextcloud.cfg"),
        ("ownCloud", ".config/ownCloud/owncloud.cfg"),
    ] {
        if let Some(cfg) = read(rel) {
            found.extend(nextcloud(&cfg).into_iter().map(|p| (service, p)));
        }
    }
    let mut roots: Vec<CloudRoot> = Vec::new();
    for (service, path) in found {
        if path.is_dir() && !roots.iter().any(|r| r.path == path) {
            roots.push(CloudRoot {
                service: service.to_owned(),
                path,
            });
        }
    }
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_client_s_settings_name_its_folder() {
        let home = Path::new("/home/anna");
        assert_eq!(
            yandex_disk(
                "auth=\"/home/anna/.config/yandex-disk/passwd\"\ndir=\"/home/anna/Yandex.Disk\"\nproxy=\"no\"\n",
                home
            ),
            [PathBuf::from("/home/anna/Yandex.Disk")]
        );
        assert_eq!(
            dropbox(
                r#"{"personal": {"path": "/home/anna/Dropbox", "host": 1}, "business": {"path": "/home/anna/Dropbox (Acme)"}}"#
            ),
            [
                PathBuf::from("/home/anna/Dropbox (Acme)"),
                PathBuf::from("/home/anna/Dropbox")
            ]
        );
        assert!(dropbox("not json").is_empty());
        assert_eq!(
            onedrive("# comment\nsync_dir = \"~/Work OneDrive\"\n", home),
            [PathBuf::from("/home/anna/Work OneDrive")]
        );
        assert_eq!(onedrive("", home), [PathBuf::from("/home/anna/OneDrive")]);
        assert_eq!(
            nextcloud("[Accounts]\n0\\Folders\\1\\localPath=/home/anna/Nextcloud/\n0\\Folders\\1\\targetPath=/\n"),
            [PathBuf::from("/home/anna/Nextcloud")]
        );
    }

    #[test]
    fn only_folders_that_exist_are_found_once() {
        let home = tempfile::tempdir().expect("home");
        let disk = home.path().join("Yandex.Disk");
        std::fs::create_dir_all(&disk).expect("disk folder");
        std::fs::create_dir_all(home.path().join(".config/yandex-disk")).expect("config dir");
        std::fs::write(
            home.path().join(".config/yandex-disk/config.cfg"),
            format!("dir=\"{}\"\n", disk.display()),
        )
        .expect("config");
        std::fs::create_dir_all(home.path().join(".dropbox")).expect("dropbox dir");
        std::fs::write(
            home.path().join(".dropbox/info.json"),
            r#"{"personal": {"path": "/nonexistent/Dropbox"}}"#,
        )
        .expect("info");
        let roots = discover(home.path(), std::slice::from_ref(&disk));
        assert_eq!(
            roots,
            [CloudRoot {
                service: "Yandex.Disk".into(),
                path: disk
            }],
            "a folder that is not there is left out, one named twice is kept once"
        );
    }
}
