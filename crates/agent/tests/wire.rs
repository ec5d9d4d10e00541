//! What crosses the wire, searched byte for byte. The agent uploads to a real server through a
//! recording proxy on loopback; titles, folders, browser domains, executable paths, USB serial
//! numbers, printer names, file hashes and download addresses carry canary strings. Under the
//! default policy no canary crosses the proxy or reaches the server's database; each
//! `[policy.upload]` switch lets through its own canaries and no other (a download's address
//! under none); `worktrace sent` shows exactly the bodies that crossed.
//!
//! Real: the X display and the window (its title is a canary), the data file written into a
//! watched folder under a canary folder and hashed by the running agent, the server, its
//! SQLite database and HTTP. Removable media, print jobs and browser domains cannot be made on
//! this machine by a test user, so their events are appended to the PC's database as the
//! detector records them (`Pc::append`), and go the same way from there.

mod common;
mod company;
mod pc;

use std::path::PathBuf;
use std::time::Duration;

use common::{export_rows, wait_for, Env};
use company::{files_containing, Company};
use pc::{Keyring, Pc};
use serde_json::{Map, Value};
use worktrace_domain::{ExportEvent, ExportKind, Millis, Record, Severity, WindowSpan};
use worktrace_testkit::proxy::{occurrences, RecordingProxy};
use worktrace_testkit::XSession;

const TITLE: &str = "canary-title-4d1c";
const FOLDER: &str = "canary-folder-93ab";
const EXE: &str = "canary-exe-2f77";
const DOMAIN: &str = "canary-domain-7e2f";
const SERIAL: &str = "canary-serial-5b0d";
const PRINTER: &str = "canary-printer-c61a";
const URL_PATH: &str = "canary-url-path-0e94";

/// The canaries that belong to each switch of `[policy.upload]` (`round` makes them unique
/// per round).
fn canaries(round: &str) -> Vec<(&'static str, String)> {
    vec![
        ("paths", format!("{FOLDER}-{round}")),
        ("domains", format!("{DOMAIN}-{round}.example")),
        ("device_serials", format!("{SERIAL}-{round}")),
        ("printer_names", format!("{PRINTER}-{round}")),
        ("hashes", format!("{:0>64}", format!("cafe{round}"))),
        // No switch sends these.
        ("never", format!("{TITLE}-{round}")),
        ("never", format!("{EXE}-{round}")),
        ("never", format!("{URL_PATH}-{round}")),
    ]
}

fn event(at: Millis, kind: ExportKind, details: &[(&str, &str)]) -> ExportEvent {
    let mut map = Map::new();
    for (k, v) in details {
        map.insert((*k).into(), Value::from(*v));
    }
    ExportEvent {
        at,
        kind,
        severity: Severity::High,
        app_before: Some("localc".into()),
        file_name: Some("clients.csv".into()),
        path: None,
        size_bytes: Some(4096),
        destination_class: Some("removable".into()),
        count: 1,
        details: map,
    }
}

/// The records of one round: a window and one export of each kind that carries a canary, as
/// the tracker and the detector record them.
fn records(at: Millis, round: &str) -> Vec<Record> {
    let c: Vec<String> = canaries(round).into_iter().map(|(_, v)| v).collect();
    let (folder, domain, serial, printer, hash, title, exe, url_path) =
        (&c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6], &c[7]);
    let origin_url = format!("https://{domain}/{url_path}/export.csv");
    let mut file = event(
        at + 1,
        ExportKind::FileToRemovable,
        &[
            ("sha256", hash),
            ("export_from", "crmapp"),
            ("export_from_domain", domain),
            ("window_title", title),
            ("origin_domain", domain),
            ("origin_url", &origin_url),
            ("client_source", "Bitrix24"),
        ],
    );
    file.path = Some(format!("/home/anna/{folder}/clients.csv"));
    let mut stick = event(
        at + 2,
        ExportKind::RemovableMounted,
        &[
            ("serial", serial),
            ("source", &format!("/dev/disk/{folder}")),
            ("label", "STICK"),
        ],
    );
    stick.path = Some(format!("/media/{folder}"));
    let print = event(
        at + 3,
        ExportKind::PrintJob,
        &[("printer", printer), ("pages", "3")],
    );
    let upload = event(
        at + 4,
        ExportKind::UploadSite,
        &[("site", "Dropbox"), ("domain", domain), ("seconds", "40")],
    );
    vec![
        Record::Window(WindowSpan {
            start: at - 60_000,
            end: at,
            app: "crmapp".into(),
            title: format!("Clients {title} — CRM"),
            exe_path: Some(format!("/opt/{exe}/crmapp")),
            domain: Some(domain.clone()),
            category: "Work > CRM".into(),
            input_ms: 30_000,
            in_session: true,
        }),
        Record::Export(file),
        Record::Export(stick),
        Record::Export(print),
        Record::Export(upload),
    ]
}

/// The folder of the server's SQLite files (database and log).
fn server_folder(company: &Company) -> PathBuf {
    let db = PathBuf::from(company.db_url.trim_start_matches("sqlite://"));
    db.parent().expect("folder").to_owned()
}

/// The batch bodies `worktrace sent` shows.
fn sent_bodies(pc: &Pc) -> Vec<String> {
    pc.ok(&["sent", "--last", "1000"])
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(str::to_owned)
        .collect()
}

fn has(bytes: &[u8], needle: &str) -> bool {
    occurrences(bytes, needle.as_bytes()) > 0
}

#[test]
fn nothing_leaves_the_pc_that_the_policy_does_not_name_and_sent_shows_every_byte() {
    let keyring = Keyring::start();
    let company = Company::start();
    let proxy = RecordingProxy::start(company.addr).expect("the recording proxy");
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    let home = tempfile::tempdir().expect("home");
    let downloads = home.path().join("Downloads");
    let real_folder = downloads.join(format!("{FOLDER}-real"));
    std::fs::create_dir_all(&real_folder).expect("the canary folder");
    let settings = format!(
        "[agent]\npoll_interval_ms = 250\ncheckpoint_interval_ms = 500\npulsetime_ms = 2000\n\n\
         [server]\nurl = \"{}\"\nenrollment_token = \"{}\"\nsync_interval_secs = 1\n\n\
         [policy.exports]\nwatched_folders = [\"{}\"]\nremovable = false\nnetwork = false\n\
         print = false\nclipboard = false\n",
        proxy.url(),
        company.token(),
        downloads.display()
    );
    let pc = Pc {
        env: Env::new(&settings, Some(x.display())),
        bus: keyring.address(),
    };

    // The running agent: a real window whose title is a canary, then a data file written
    // under a canary folder (the agent hashes it).
    let crm = x
        .spawn_window("crmapp", &format!("Clients {TITLE}-real — CRM"))
        .expect("a CRM window");
    pc.ok(&["clock-in"]);
    x.activate(&crm).expect("focus the CRM window");
    // The agent reports its status once the folder watcher runs.
    let agent = pc.start_agent();
    x.input().expect("input");
    // A data file, complete when it appears (renamed into place).
    let tmp = real_folder.join(".part");
    std::fs::write(&tmp, "name,phone\nAnna,1\n".repeat(50)).expect("write");
    std::fs::rename(&tmp, real_folder.join("clients-1.csv")).expect("rename into place");
    let mut hash = String::new();
    wait_for(
        Duration::from_secs(60),
        "the data file as an export, hashed",
        || {
            let rows = export_rows(&pc.ok(&["exports", "--format", "json"]));
            let found = rows
                .iter()
                .find(|r| r["file_name"] == "clients-1.csv")
                .and_then(|r| r["details"]["sha256"].as_str());
            if let Some(h) = found {
                hash = h.to_owned();
            }
            found.is_some()
        },
    );
    wait_for(
        Duration::from_secs(60),
        "the export uploaded through the proxy",
        || has(&proxy.sent(), "clients-"),
    );
    agent.stop();
    let local = |needle: &str| !files_containing(&pc.env.data_dir(), needle).is_empty();
    assert!(
        local(&format!("{TITLE}-real")) && local(&hash),
        "the PC itself recorded the title and the hash (the canaries are real)"
    );

    // Records of every kind that carries a canary, under the default policy.
    let t0 = chrono::Utc::now().timestamp_millis() - 3_600_000;
    pc.append(&records(t0, "default"));
    pc.ok(&["sync", "--now"]);
    let wire = proxy.sent();
    let server = server_folder(&company);
    let mut all: Vec<(&str, String)> = canaries("default");
    all.push(("never", format!("{TITLE}-real")));
    all.push(("paths", format!("{FOLDER}-real")));
    all.push(("hashes", hash.clone()));
    for (switch, canary) in &all {
        assert!(
            !has(&wire, canary),
            "{canary} ({switch}) crossed the wire under the default policy"
        );
        assert!(
            files_containing(&server, canary).is_empty(),
            "{canary} ({switch}) is in the server's database under the default policy"
        );
    }
    assert!(
        has(&wire, "Dropbox") && has(&wire, "STICK") && has(&wire, "crmapp"),
        "what the default policy sends did cross: the site's label, the volume, the app"
    );

    // Each switch on its own lets its canaries through, and only those.
    let switches = [
        "paths",
        "domains",
        "device_serials",
        "printer_names",
        "hashes",
    ];
    for (i, switch) in switches.iter().enumerate() {
        company.set_org_policy(&format!(r#"{{"upload": {{"{switch}": true}}}}"#));
        // One upload brings the new policy back in its acknowledgement.
        let at = t0 + (i as Millis + 1) * 60_000;
        pc.append(&[Record::Export(event(at, ExportKind::ClipboardBulk, &[]))]);
        pc.ok(&["sync", "--now"]);
        let before = proxy.sent().len();
        pc.append(&records(at + 10_000, switch));
        pc.ok(&["sync", "--now"]);
        let wire = proxy.sent()[before..].to_vec();
        for (owner, canary) in canaries(switch) {
            assert_eq!(
                has(&wire, &canary),
                owner == *switch,
                "with only upload.{switch} on, {canary} ({owner}) {} cross",
                if owner == *switch { "must" } else { "must not" }
            );
        }
    }

    // `worktrace sent` shows exactly what crossed: every body it lists crossed the proxy,
    // and as many uploads crossed as it lists.
    let bodies = sent_bodies(&pc);
    let wire = proxy.sent();
    assert!(!bodies.is_empty(), "batches were sent");
    for body in &bodies {
        assert!(
            has(&wire, body),
            "a batch `worktrace sent` shows did not cross as shown: {body}"
        );
    }
    assert_eq!(
        occurrences(&wire, b"POST /api/ingest"),
        bodies.len(),
        "every upload that crossed is in `worktrace sent`"
    );
}
