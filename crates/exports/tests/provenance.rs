//! Where a data file came from, on Linux: the download origin read from a real file's
//! extended attributes, and a CRM export downloaded into a watched folder by a real downloader
//! and seen by the real watcher.

#![cfg(target_os = "linux")]

mod support;

use std::time::Duration;

use support::{collect_until, quiet_policy, start};
use worktrace_domain::{ExportKind, ExportPolicy, Severity};
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
    let out = downloads.join("clients.csv");
    let curl = std::process::Command::new("curl")
        .arg("--silent")
        .arg("--show-error")
        .arg("--xattr")
        .arg("--resolve")
        .arg(format!("{host}:{port}:127.0.0.1"))
        .arg("--output")
        .arg(&out)
        .arg(format!("http://{host}:{port}/crm/contact/export/"))
        .output()
        .expect("curl runs (apt-get install curl)");
    assert!(
        curl.status.success(),
        "{}",
        String::from_utf8_lossy(&curl.stderr)
    );
    let events = collect_until(&w, Duration::from_secs(20), "the download", |all| {
        all.iter()
            .any(|e| e.file_name.as_deref() == Some("clients.csv"))
    });
    let e = events
        .iter()
        .find(|e| e.file_name.as_deref() == Some("clients.csv"))
        .expect("found above");
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
