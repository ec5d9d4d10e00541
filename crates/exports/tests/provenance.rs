//! Where a data file came from, on Linux: the download origin read from a real file's
//! extended attributes; a CRM export downloaded into a watched folder by a real downloader and
//! seen by the real watcher; and the same export renamed, zipped and copied to a mounted stick,
//! told as one chain.

#![cfg(target_os = "linux")]

mod support;

use std::time::Duration;

use support::{collect_until, quiet_policy, start, until_no_incident_open, Mounted};
use worktrace_domain::{ExportEvent, ExportKind, ExportPolicy, Severity};
use worktrace_exports::provenance::{read_origin, Origin};

#[test]
fn the_origin_a_browser_noted_is_read_from_the_file() {
    // In the build folder: its file system keeps user attributes (tmpfs before Linux 6.6 does
    // not).
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let p = dir.path().join("clients.csv");
    std::fs::write(&p, "a,b\n").expect("write");
    assert_eq!(read_origin(&p), Origin::default(), "no attributes yet");
    let set = |name: &str, value: &str| {
        rustix::fs::setxattr(&p, name, value.as_bytes(), rustix::fs::XattrFlags::empty())
            .expect("user extended attributes on the build folder's file system")
    };
    set(
        "user.xdg.origin.url",
        "https://acme.bitrix24.ru/export/contacts.csv",
    );
    set(
        "user.xdg.referrer.url",
        "https://acme.bitrix24.ru/crm/contact/",
    );
    let o = read_origin(&p);
    assert_eq!(
        o.url.as_deref(),
        Some("https://acme.bitrix24.ru/export/contacts.csv")
    );
    assert_eq!(
        o.referrer.as_deref(),
        Some("https://acme.bitrix24.ru/crm/contact/")
    );
    assert_eq!(o.domain().as_deref(), Some("acme.bitrix24.ru"));
    assert_eq!(read_origin(&dir.path().join("missing")), Origin::default());
}

/// Downloads `path` from `host` (served on loopback at `port`) into `out` with curl, which notes
/// the address in the file's extended attributes as a browser would.
fn download(host: &str, port: u16, path: &str, out: &std::path::Path) {
    let curl = std::process::Command::new("curl")
        .arg("--silent")
        .arg("--show-error")
        .arg("--xattr")
        .arg("--resolve")
        .arg(format!("{host}:{port}:127.0.0.1"))
        .arg("--output")
        .arg(out)
        .arg(format!("http://{host}:{port}{path}"))
        .output()
        .expect("curl runs (apt-get install curl)");
    assert!(
        curl.status.success(),
        "{}",
        String::from_utf8_lossy(&curl.stderr)
    );
}

/// The first event about `name` among those that arrive within 20 s.
fn event_of(w: &worktrace_exports::ExportWatchers, name: &str, kind: ExportKind) -> ExportEvent {
    let events = collect_until(w, Duration::from_secs(20), name, |all| {
        all.iter()
            .any(|e| e.file_name.as_deref() == Some(name) && e.kind == kind)
    });
    events
        .into_iter()
        .find(|e| e.file_name.as_deref() == Some(name) && e.kind == kind)
        .expect("found above")
}

/// Serves `body` once to whoever connects to the returned port, as an HTTP download.
fn serve_once(body: &'static str) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("local address").port();
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        // The request head ends with an empty line.
        while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
            line.clear();
        }
        let mut stream = reader.into_inner();
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        );
    });
    port
}

/// A CRM export downloaded into a watched folder by a real downloader that notes the address
/// (curl --xattr, as KDE and older Chromium do): the event names the CRM, the domain and the
/// table's size, and is rated high although no CRM window was in front.
#[test]
fn a_downloaded_crm_export_is_named_by_its_source() {
    let home = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let downloads = home.path().join("Downloads");
    std::fs::create_dir(&downloads).expect("create Downloads");
    let w = start(ExportPolicy {
        watched_folders: vec![downloads.display().to_string()],
        ..quiet_policy()
    });
    let port = serve_once("name,phone,city\nAnna,+7 900,Moscow\nBoris,+7 901,Kazan\n");
    let host = "acme.bitrix24.ru";
    // Renamed on the way, so only the address can tell where it came from.
    download(
        host,
        port,
        "/crm/contact/export/",
        &downloads.join("clients.csv"),
    );
    let e = event_of(&w, "clients.csv", ExportKind::DataFileCreated);
    assert_eq!(e.kind, ExportKind::DataFileCreated);
    assert_eq!(e.details["client_source"], "Bitrix24", "{e:#?}");
    assert_eq!(e.details["origin_domain"], host);
    assert_eq!(
        e.details["origin_url"],
        format!("http://{host}:{port}/crm/contact/export/")
    );
    assert_eq!(e.details["rows"], 3, "the header and two clients");
    assert_eq!(e.details["columns"], 3);
    assert_eq!(e.severity, Severity::High, "{e:#?}");
}

/// The story of one client base: exported from the CRM, renamed, zipped, copied to a stick.
/// The stick's event tells it all — the source, the rows, the names it went through — and is
/// high, though the name on the stick says nothing of a CRM.
#[test]
fn a_crm_export_renamed_zipped_and_copied_to_a_stick_is_one_chain() {
    let home = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let downloads = home.path().join("Downloads");
    let media = home.path().join("media");
    std::fs::create_dir(&downloads).expect("create Downloads");
    std::fs::create_dir(&media).expect("create media");
    let w = start(ExportPolicy {
        watched_folders: vec![downloads.display().to_string()],
        removable: true,
        removable_paths: vec![media.display().to_string()],
        ..quiet_policy()
    });
    let export = "CONTACT_20261201_1a2b3c_4d5e6f.csv";
    let port = serve_once("name,phone,city\nAnna,+7 900,Moscow\nBoris,+7 901,Kazan\n");
    download(
        "acme.bitrix24.ru",
        port,
        &format!("/crm/contact/export/{export}"),
        &downloads.join(export),
    );
    let first = event_of(&w, export, ExportKind::DataFileCreated);
    assert_eq!(first.details["client_source"], "Bitrix24", "{first:#?}");
    // Each step in an incident of its own: files within the quiet gap would join one.
    until_no_incident_open(&w, Duration::from_secs(20), "the download's incident");

    std::fs::rename(downloads.join(export), downloads.join("clients.csv")).expect("rename");
    let renamed = event_of(&w, "clients.csv", ExportKind::DataFileCreated);
    assert_eq!(
        renamed.details["lineage"],
        serde_json::json!([export, "clients.csv"]),
        "{renamed:#?}"
    );
    until_no_incident_open(&w, Duration::from_secs(20), "the rename's incident");

    // Zipped by a real archiver (deflated: only the directory's CRC-32 and size can match).
    let zipped = std::process::Command::new("python3")
        .current_dir(&downloads)
        .args(["-m", "zipfile", "-c", "clients.zip", "clients.csv"])
        .output()
        .expect("python3 runs");
    assert!(
        zipped.status.success(),
        "{}",
        String::from_utf8_lossy(&zipped.stderr)
    );
    let zip = event_of(&w, "clients.zip", ExportKind::DataFileCreated);
    assert_eq!(
        zip.details["lineage"],
        serde_json::json!([export, "clients.csv", "clients.zip"]),
        "{zip:#?}"
    );
    until_no_incident_open(&w, Duration::from_secs(20), "the archive's incident");

    let point = media.join("KINGSTON");
    let stick = match Mounted::tmpfs(&point) {
        Ok(m) => {
            event_of(&w, "KINGSTON", ExportKind::RemovableMounted);
            Some(m)
        }
        Err(e) => {
            println!(
                "the machine refused to mount ({e}); used: a removable root configured for \
                 the test at {}",
                point.display()
            );
            std::fs::create_dir_all(&point).expect("the stick's folder");
            w.watch_root(worktrace_exports::Root {
                path: point.clone(),
                destination: worktrace_exports::Destination::Removable,
                label: Some("KINGSTON".into()),
            })
            .expect("watch the configured root");
            None
        }
    };
    std::fs::copy(downloads.join("clients.zip"), point.join("backup.zip")).expect("copy");
    let copied = event_of(&w, "backup.zip", ExportKind::FileToRemovable);
    assert_eq!(
        copied.details["lineage"],
        serde_json::json!([export, "clients.csv", "clients.zip", "backup.zip"]),
        "{copied:#?}"
    );
    assert_eq!(copied.details["client_source"], "Bitrix24");
    assert_eq!(copied.details["origin_domain"], "acme.bitrix24.ru");
    assert_eq!(copied.details["rows"], 3);
    assert_eq!(copied.details["label"], "KINGSTON");
    assert_eq!(copied.severity, Severity::High, "{copied:#?}");
    drop(w);
    if let Some(m) = stick {
        m.unmount();
    }
}

/// A client list packed by a real 7-Zip into a solid archive beside another file, with the
/// archive's header packed too (7-Zip's defaults), is found in the archive by the CRC-32 and
/// size its header lists; an archive whose header is encrypted shows nothing and is still
/// reported.
#[test]
fn a_client_list_packed_by_7_zip_is_found_in_the_archive() {
    let sevenzip = needed("/usr/bin/7zz", "7zip");
    let home = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let downloads = home.path().join("Downloads");
    let elsewhere = home.path().join("notes");
    std::fs::create_dir(&downloads).expect("create Downloads");
    std::fs::create_dir(&elsewhere).expect("create notes");
    std::fs::write(
        elsewhere.join("notes.txt"),
        "call Anna on Monday\n".repeat(50),
    )
    .expect("write notes");
    let w = start(ExportPolicy {
        watched_folders: vec![downloads.display().to_string()],
        ..quiet_policy()
    });
    std::fs::write(downloads.join("clients.csv"), EXPORT).expect("write the list");
    let list = event_of(&w, "clients.csv", ExportKind::DataFileCreated);
    assert_eq!(list.details["rows"], 3, "{list:#?}");
    until_no_incident_open(&w, Duration::from_secs(20), "the list's incident");

    let pack = |archive: &str, extra: &[&str]| {
        let out = std::process::Command::new(sevenzip)
            .current_dir(&downloads)
            .args(["a", "-t7z", "-ms=on", "-mhc=on", archive, "clients.csv"])
            .arg(elsewhere.join("notes.txt"))
            .args(extra)
            .output()
            .expect("7zz runs");
        assert!(
            out.status.success(),
            "7zz a {archive}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        downloads.join(archive)
    };
    let packed = pack("clients.7z", &[]);
    let members = worktrace_exports::provenance::sevenz_members(&packed);
    assert_eq!(members.len(), 2, "{members:?}");
    assert!(
        members.contains(&(crc32fast::hash(EXPORT.as_bytes()), EXPORT.len() as u64)),
        "{members:?}"
    );
    let archive = event_of(&w, "clients.7z", ExportKind::DataFileCreated);
    assert_eq!(
        archive.details["lineage"],
        serde_json::json!(["clients.csv", "clients.7z"]),
        "{archive:#?}"
    );
    assert_eq!(archive.details["rows"], 3, "{archive:#?}");
    until_no_incident_open(&w, Duration::from_secs(20), "the archive's incident");

    let locked = pack("locked.7z", &["-pclients", "-mhe=on"]);
    assert_eq!(
        worktrace_exports::provenance::sevenz_members(&locked),
        Vec::new(),
        "an encrypted header lists nothing without its password"
    );
    let locked = event_of(&w, "locked.7z", ExportKind::DataFileCreated);
    assert!(locked.details.get("lineage").is_none(), "{locked:#?}");
}

/// Serves, on loopback, a CRM's contacts page that downloads its export at once (a script
/// clicks the export link, as the CRM's button would), and the export itself, named
/// `clients.csv` by its `Content-Disposition`. Answers until the test ends.
fn serve_crm(body: &'static str) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("local address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream);
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            let (kind, extra, content) = if request.starts_with("GET /crm/contact/export/") {
                (
                    "text/csv",
                    "Content-Disposition: attachment; filename=\"clients.csv\"\r\n",
                    body.to_owned(),
                )
            } else if request.starts_with("GET /crm/contact/ ") {
                (
                    "text/html",
                    "",
                    "<html><body><a id=\"export\" href=\"/crm/contact/export/\">Export</a>\
                     <script>document.getElementById('export').click()</script></body></html>"
                        .to_owned(),
                )
            } else {
                ("text/plain", "", String::new())
            };
            let status = if content.is_empty() {
                "404 Not Found"
            } else {
                "200 OK"
            };
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\n{extra}Content-Length: {}\r\n\
                 Connection: close\r\n\r\n{content}",
                content.len()
            );
        }
    });
    port
}

/// A headless browser, killed when dropped.
struct Browser(std::process::Child);

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The export the CRM serves.
const EXPORT: &str = "name,phone,city\nAnna,+7 900,Moscow\nBoris,+7 901,Kazan\n";

/// The path of a browser that a test needs, or a failure naming the package to install.
fn needed<'a>(path: &'a str, package: &str) -> &'a std::path::Path {
    let path = std::path::Path::new(path);
    assert!(
        path.exists(),
        "{package} is needed for this test (apt-get install {package}; scripts/deps.sh does)"
    );
    path
}

/// A home folder with a `~/Downloads` that the export watchers watch, and a CRM on loopback
/// that serves [`EXPORT`] for a browser to download there.
struct DownloadSetup {
    home: tempfile::TempDir,
    downloads: std::path::PathBuf,
    watchers: worktrace_exports::ExportWatchers,
    port: u16,
}

impl DownloadSetup {
    fn new() -> DownloadSetup {
        let home = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
        let downloads = home.path().join("Downloads");
        std::fs::create_dir(&downloads).expect("create Downloads");
        let watchers = support::start_in_home(
            ExportPolicy {
                watched_folders: vec!["~/Downloads".into()],
                ..quiet_policy()
            },
            home.path(),
        );
        DownloadSetup {
            home,
            downloads,
            watchers,
            port: serve_crm(EXPORT),
        }
    }

    /// Waits for the event of the complete `clients.csv` in `~/Downloads` and checks what it
    /// says: the host from the browser's history (the file itself carries no origin), the
    /// address, the CRM named by that host alone (`source`), and the table's size. `browser`
    /// must still run: it holds its history locked while it was read.
    fn check(&self, host: &str, source: &str, browser: &mut Browser, log: &std::path::Path) {
        let (w, downloads, port) = (&self.watchers, &self.downloads, self.port);
        let complete = |e: &ExportEvent| e.file_name.as_deref() == Some("clients.csv");
        let events = collect_until(
            w,
            Duration::from_secs(90),
            "the browser's download",
            |all| all.iter().any(complete),
        );
        let e = events.iter().find(|e| complete(e)).expect("found above");
        let browser_log = || std::fs::read_to_string(log).unwrap_or_default();
        assert_eq!(
            read_origin(&downloads.join("clients.csv")),
            Origin::default(),
            "the browser noted no origin on the file: its history alone gave it"
        );
        assert_eq!(
            e.details.get("origin_domain").and_then(|v| v.as_str()),
            Some(host),
            "the host from the browser's history; {events:#?}\n{}",
            browser_log()
        );
        assert_eq!(
            e.details["origin_url"],
            format!("http://{host}:{port}/crm/contact/export/"),
            "the address the file was downloaded from (kept on the PC)"
        );
        assert_eq!(
            e.details["client_source"], source,
            "matched by the host only: the name clients.csv names no CRM"
        );
        assert_eq!(
            e.details["rows"], 3,
            "the header and two clients: {events:#?}"
        );
        assert_eq!(e.details["columns"], 3);
        assert_eq!(
            e.severity,
            Severity::High,
            "an export from a CRM is rated as one from a sensitive app: {e:#?}"
        );
        assert!(
            browser.0.try_wait().is_ok_and(|status| status.is_none()),
            "the browser still runs, holding its history locked, while it was read"
        );
    }
}

/// A CRM export downloaded by a real, headless Chromium into a watched folder. Debian's
/// Chromium notes no origin on the file (no extended attributes), so the origin comes from the
/// browser's own download history, read while the browser runs and holds it locked, and
/// committed only some seconds after the download (the watcher waits for it).
#[test]
fn a_crm_export_downloaded_by_chromium_is_named_by_the_host_in_its_history() {
    let chromium = needed("/usr/bin/chromium", "chromium");
    let setup = DownloadSetup::new();
    let (home, downloads) = (setup.home.path(), &setup.downloads);
    // The browser's profile where the agent looks for it: ~/.config/chromium.
    let profiles = home.join(".config/chromium");
    std::fs::create_dir_all(profiles.join("Default")).expect("create the profile");
    let preferences = serde_json::json!({
        "download": {
            "default_directory": downloads,
            "prompt_for_download": false,
            "directory_upgrade": true,
        },
    });
    std::fs::write(
        profiles.join("Default/Preferences"),
        preferences.to_string(),
    )
    .expect("write the profile's preferences");
    let host = "acme.bitrix24.test";
    let port = setup.port;
    let log = home.join("chromium.log");
    let mut command = std::process::Command::new(chromium);
    command
        .arg("--headless")
        .arg("--disable-gpu")
        .arg("--no-first-run")
        .arg("--no-default-browser-check")
        .arg(format!("--user-data-dir={}", profiles.display()))
        .arg(format!("--host-resolver-rules=MAP {host} 127.0.0.1"))
        .arg(format!("http://{host}:{port}/crm/contact/"))
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"));
    // Chromium refuses to run as root with its sandbox.
    if rustix::process::geteuid().is_root() {
        command.arg("--no-sandbox");
    }
    let mut browser = Browser(command.spawn().expect("start Chromium"));
    setup.check(host, "Bitrix24", &mut browser, &log);
}

/// The same with a real, headless Firefox ESR, which keeps its downloads in `places.sqlite`
/// (in its WAL while it runs) and notes no origin on the file either.
#[test]
fn a_crm_export_downloaded_by_firefox_is_named_by_the_host_in_its_history() {
    let firefox = needed("/usr/bin/firefox-esr", "firefox-esr");
    let setup = DownloadSetup::new();
    let (home, downloads) = (setup.home.path(), &setup.downloads);
    // The profile where the agent looks for it: ~/.mozilla/firefox/<profile>.
    let profile = home.join(".mozilla/firefox/test.default");
    std::fs::create_dir_all(&profile).expect("create the profile");
    let host = "acme.amocrm.ru";
    let prefs = [
        ("browser.download.dir", serde_json::json!(downloads)),
        ("browser.download.folderList", serde_json::json!(2)),
        ("browser.download.useDownloadDir", serde_json::json!(true)),
        (
            "browser.download.always_ask_before_handling_new_types",
            serde_json::json!(false),
        ),
        (
            "browser.helperApps.neverAsk.saveToDisk",
            serde_json::json!("text/csv"),
        ),
        // Resolves the CRM's host to loopback.
        ("network.dns.localDomains", serde_json::json!(host)),
        (
            "browser.shell.checkDefaultBrowser",
            serde_json::json!(false),
        ),
    ];
    let user_js: String = prefs
        .iter()
        .map(|(name, value)| format!("user_pref(\"{name}\", {value});\n"))
        .collect();
    std::fs::write(profile.join("user.js"), user_js).expect("write the profile's preferences");
    let port = setup.port;
    let log = home.join("firefox.log");
    let mut browser = Browser(
        std::process::Command::new(firefox)
            .env("HOME", home)
            .arg("--headless")
            .arg("--no-remote")
            .arg("--profile")
            .arg(&profile)
            .arg(format!("http://{host}:{port}/crm/contact/"))
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("start Firefox"),
    );
    setup.check(host, "amoCRM", &mut browser, &log);
}
