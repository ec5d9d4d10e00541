//! A departure watch reaching a real PC: the `worktrace` agent runs on a real X display,
//! enrolled with a `worktrace-server` in this process, with its secret in a real Secret
//! Service, and a real tmpfs mounted as its USB stick. Under the company's policy a CSV copied
//! to the stick is medium; once the person is marked as leaving, the agent applies the raised
//! policy from its next upload's answer (its status says so) and the same copy is high and
//! reaches the server at once.

mod common;
mod company;
mod pc;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{wait_for, Env};
use company::Company;
use pc::{Keyring, Pc};
use serde_json::Value;
use worktrace_server::model::Actor;
use worktrace_testkit::XSession;

const SETTINGS: &str = r#"
[agent]
poll_interval_ms = 250
checkpoint_interval_ms = 1000
pulsetime_ms = 2000

[server]
sync_interval_secs = 1
"#;

/// The server's alerts of copies of `file` to removable media.
fn copies_of(company: &Company, file: &str) -> Vec<Value> {
    company
        .alerts()
        .into_iter()
        .filter(|a| a["kind"] == "file_to_removable" && a["event"]["file_name"] == file)
        .collect()
}

#[test]
fn a_watched_person_s_copy_to_a_stick_is_high_and_reaches_the_server_at_once() {
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    let keyring = Keyring::start();
    let company = Company::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let media = dir.path().join("media");
    let stick = media.join("KINGSTON");
    let documents = dir.path().join("Documents");
    std::fs::create_dir_all(&stick).expect("mount point");
    std::fs::create_dir_all(&documents).expect("documents");
    // The company rates every copy to a stick medium: only the watch makes a data file high.
    company.set_org_policy(&format!(
        r#"{{"exports": {{"removable_paths": ["{}"], "watched_folders": ["{}"],
            "network": false, "print": false, "clipboard": false, "burst_quiet_secs": 2,
            "rules": [{{"kinds": ["removable_mounted"], "severity": "low"}},
                      {{"kinds": ["file_to_removable"], "severity": "medium"}}]}}}}"#,
        media.display(),
        documents.display()
    ));
    let pc = Pc {
        env: Env::new(SETTINGS, Some(x.display())),
        bus: keyring.address(),
    };
    pc.enroll(&company.url(), &company.token());
    pc.ok(&["clock-in"]);
    let agent = pc.start_agent();
    // Once export detection runs (the status says since when), a stick mounted after it is
    // seen (its watchers read the mount table before anything else).
    wait_for(Duration::from_secs(60), "export detection to run", || {
        pc.ok(&["status"]).contains("Export detection: on since")
    });
    let clients = documents.join("clients.csv");
    std::fs::write(
        &clients,
        "name,phone\nAcme,+1 555 0100\nGlobex,+1 555 0101\n",
    )
    .expect("csv");
    let exports = || common::export_rows(&pc.ok(&["exports", "--format", "json"]));
    wait_for(
        Duration::from_secs(60),
        "the new data file to be seen",
        || !common::of_kind(&exports(), "data_file_created").is_empty(),
    );

    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=8m", "worktrace-stick"])
        .arg(&stick)
        .output()
        .expect("run mount");
    assert!(
        mounted.status.success(),
        "this test needs mount(8) to work (run as root): {}",
        String::from_utf8_lossy(&mounted.stderr)
    );
    let _unmount = common::Unmount(stick.clone());
    wait_for(Duration::from_secs(60), "the stick to be seen", || {
        !common::of_kind(&exports(), "removable_mounted").is_empty()
    });
    std::fs::copy(&clients, stick.join("clients.csv")).expect("copy to the stick");
    wait_for(
        Duration::from_secs(60),
        "the copy to reach the server",
        || !copies_of(&company, "clients.csv").is_empty(),
    );
    let usual = copies_of(&company, "clients.csv");
    assert!(
        usual.iter().all(|a| a["severity"] == "medium"),
        "without a watch the company's rule applies: {usual:?}"
    );

    // Marked as leaving: the next upload's answer carries the raised policy.
    let server = company.server.as_ref().expect("running");
    let store = server.store.as_ref();
    let employee = company.employee.clone();
    let last_day = chrono::Utc::now().date_naive() + chrono::Duration::days(14);
    company
        .rt
        .block_on(worktrace_server::ops::watch::mark_leaving(
            store,
            Actor::Admin(company.admin.id),
            &employee,
            (&last_day.to_string(), "resigned", None),
            chrono::Utc::now().timestamp_millis(),
        ))
        .expect("marked as leaving");
    // The policy comes with the answer to the PC's next upload: an idle PC uploads at least
    // every 5 minutes (its presence), a PC in use within its upload interval. Here a new data
    // file gives it something to upload now.
    std::fs::write(documents.join("notes.csv"), "a,b\n1,2\n").expect("csv");
    wait_for(
        Duration::from_secs(60),
        "the agent to apply the watch",
        || pc.ok(&["status"]).contains("Departure watch: in force"),
    );
    let policy: Value = serde_json::from_slice(
        &std::fs::read(pc.env.data_dir().join("server-policy.json")).expect("policy saved"),
    )
    .expect("JSON");
    assert_eq!(policy["watch"], true, "the employee can read it: {policy}");

    let copied = Instant::now();
    std::fs::copy(&clients, stick.join("clients-march.csv")).expect("copy to the stick again");
    wait_for(
        Duration::from_secs(60),
        "the watched copy to reach the server",
        || !copies_of(&company, "clients-march.csv").is_empty(),
    );
    println!(
        "the watched copy reached the server {} ms after it was made",
        copied.elapsed().as_millis()
    );
    let watched = copies_of(&company, "clients-march.csv");
    assert_eq!(
        watched[0]["severity"], "high",
        "under a watch a data file to a stick is high: {watched:?}"
    );
    let sent = pc.ok(&["sent"]);
    assert!(
        sent.contains("clients-march.csv"),
        "the employee sees what was sent: {sent}"
    );
    agent.stop();

    // Nothing of the file's content or where it lay on the PC reached the server.
    let db = company.db_url.trim_start_matches("sqlite://");
    let server_dir = std::path::Path::new(db)
        .parent()
        .expect("the database's folder");
    // (The folders themselves are in the company's own policy; the files' paths are not.)
    let paths = [clients.clone(), stick.join("clients-march.csv")].map(|p| p.display().to_string());
    for needle in ["555 0100", "Globex", &paths[0], &paths[1]] {
        let found = company::files_containing(server_dir, needle);
        assert!(
            found.is_empty(),
            "{needle:?} is in the server's files: {found:?}"
        );
    }
}
