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
