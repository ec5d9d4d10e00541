//! Export detection in the running agent, on real things: a window titled like a CRM focused
//! with xdotool on a real X display and then a CSV written → an export from the CRM; a real
//! tmpfs mounted as removable media with a burst of 200 files → one incident with the count;
//! a large tabular copy with xclip → recorded with its shape and source app, and the copied
//! text appears nowhere in the database files.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{export_rows, of_kind, wait_for, wait_for_app, Env};
use worktrace_testkit::XSession;

fn settings(downloads: &str, media: &str, clipboard: bool) -> String {
    format!(
        r#"
[agent]
poll_interval_ms = 250
checkpoint_interval_ms = 1000
pulsetime_ms = 2000

[policy.exports]
watched_folders = ["{downloads}"]
removable_paths = ["{media}"]
network = false
print = false
clipboard = {clipboard}
burst_quiet_secs = 2
"#
    )
}

/// `worktrace exports --format json` (one row per incident), as parsed JSON rows.
fn exports(env: &Env) -> Vec<serde_json::Value> {
    export_rows(&env.ok(&["exports", "--format", "json"]))
}

#[test]
fn a_csv_written_after_a_crm_window_is_an_export_from_it() {
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    let dir = tempfile::tempdir().expect("tempdir");
    let downloads = dir.path().join("Downloads");
    std::fs::create_dir(&downloads).expect("Downloads");
    let media = dir.path().join("media");
    let env = Env::new(
        &settings(
            &downloads.display().to_string(),
            &media.display().to_string(),
            false,
        ),
        Some(x.display()),
    );
    let crm = x
        .spawn_window("crmapp", "Acme CRM — Customers")
        .expect("CRM-like window");
    let calc = x
        .spawn_window("localc", "Untitled 1")
        .expect("spreadsheet window");
    env.ok(&["clock-in"]);
    x.activate(&crm).expect("focus the CRM");
    let agent = env.start_agent();
    x.input().expect("input");
    wait_for_app(&env.data_dir(), "crmapp");
    x.activate(&calc).expect("focus the spreadsheet");
    x.input().expect("input");
    wait_for_app(&env.data_dir(), "localc");
    std::fs::write(
        downloads.join("customers-export.csv"),
        "name,phone\nA,1\nB,2\n",
    )
    .expect("write the export");
    wait_for(Duration::from_secs(15), "the export to be recorded", || {
        !of_kind(&exports(&env), "data_file_created").is_empty()
    });
    let rows = exports(&env);
    let row = of_kind(&rows, "data_file_created")[0];
    assert_eq!(row["file_name"], "customers-export.csv");
    assert_eq!(
        row["details"]["export_from"], "crmapp",
        "flagged as an export from the CRM window active within 60 s: {row:#}"
    );
    assert_eq!(
        row["app_before"], "localc",
        "the app active just before the file appeared"
    );
    assert_eq!(
        row["severity"], "high",
        "exports from sensitive apps are high by default"
    );
    let status = env.ok(&["status"]);
    assert!(
        status.contains("Exports today: 1 (high 1"),
        "status counts the export: {status}"
    );
    let table = env.ok(&["exports"]);
    assert!(
        table.contains("customers-export.csv") && table.contains("(from crmapp)"),
        "the table names the file and the app it came from: {table}"
    );
    let csv = env.ok(&["exports", "--format", "csv"]);
    assert!(
        csv.lines()
            .nth(1)
            .is_some_and(|l| l.contains("data_file_created,high,1,customers-export.csv")),
        "CSV row: {csv}"
    );
    agent.stop();
}

#[test]
fn a_burst_of_200_files_to_a_mounted_stick_is_one_incident() {
    // The agent tracks the window in front, so it needs a display even for this test.
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    let dir = tempfile::tempdir().expect("tempdir");
    let media = dir.path().join("media");
    let stick = media.join("STICK");
    std::fs::create_dir_all(&stick).expect("mount point");
    let env = Env::new(
        &settings(
            &dir.path().join("none").display().to_string(),
            &media.display().to_string(),
            false,
        ),
        Some(x.display()),
    );
    env.ok(&["clock-in"]);
    // Its status comes after export detection has read the mount table: the stick is new.
    let agent = env.start_agent();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=32m", "worktrace-stick"])
        .arg(&stick)
        .output()
        .expect("run mount");
    let used_mount = mounted.status.success();
    if used_mount {
        println!("used: tmpfs mounted at {}", stick.display());
    } else {
        println!(
            "the machine refused to mount ({}); the agent test cannot fall back (the agent learns \
             of removable media only from the mount table): see crates/exports/tests/mounts.rs",
            String::from_utf8_lossy(&mounted.stderr).trim()
        );
    }
    assert!(used_mount, "this test needs mount(8) to work (run as root)");
    let unmount = common::Unmount(stick.clone());
    wait_for(Duration::from_secs(10), "the mount to be recorded", || {
        !of_kind(&exports(&env), "removable_mounted").is_empty()
    });
    for i in 0..200 {
        std::fs::write(stick.join(format!("client-{i:03}.csv")), format!("{i},x\n")).expect("copy");
    }
    wait_for(
        Duration::from_secs(20),
        "the incident to close with 200 files",
        || {
            of_kind(&exports(&env), "file_to_removable")
                .first()
                .is_some_and(|r| r["count"] == 200)
        },
    );
    let rows = exports(&env);
    let files = of_kind(&rows, "file_to_removable");
    assert_eq!(
        files.len(),
        1,
        "200 files are one incident, not 200 alerts: {rows:#?}"
    );
    assert_eq!(
        files[0]["severity"], "high",
        "data files to a stick are high"
    );
    assert_eq!(
        files[0]["details"]["files"].as_array().map(Vec::len),
        Some(20)
    );
    let records = env.ok(&["exports", "--records", "--format", "json"]);
    let records: serde_json::Value = serde_json::from_str(&records).expect("json");
    let n = records
        .as_array()
        .expect("array")
        .iter()
        .filter(|r| r["export_kind"] == "file_to_removable")
        .count();
    assert!(
        (1..=3).contains(&n),
        "the incident is recorded as its first record, an escalation at most, and its close: {n}"
    );
    drop(unmount);
    agent.stop();
}

#[test]
fn a_tabular_clipboard_copy_is_recorded_by_shape_never_by_content() {
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    let dir = tempfile::tempdir().expect("tempdir");
    let env = Env::new(
        &settings(
            &dir.path().join("none").display().to_string(),
            &dir.path().join("media").display().to_string(),
            true,
        ),
        Some(x.display()),
    );
    env.ok(&["clock-in"]);
    // Its status comes after the clipboard watcher's subscription is confirmed.
    let agent = env.start_agent();
    let marker = "ZQXJ-SECRET-CLIENT";
    let mut text = String::new();
    for i in 0..500 {
        text.push_str(&format!(
            "{marker}-{i}\tAcme Ltd\t+44 20 7946 0{i:03}\tx{i}@example.com\tLondon\n"
        ));
    }
    x.copy_to_clipboard(&text)
        .expect("the agent's clipboard watcher requests the copy from xclip");
    wait_for(
        Duration::from_secs(15),
        "the clipboard copy to be recorded",
        || !of_kind(&exports(&env), "clipboard_bulk").is_empty(),
    );
    agent.stop();
    let rows = exports(&env);
    let copy = of_kind(&rows, "clipboard_bulk")[0];
    assert_eq!(copy["details"]["lines"], 500, "rows of the copy: {copy:#}");
    assert_eq!(copy["details"]["columns"], 5, "columns of the copy");
    assert_eq!(copy["details"]["separator"], "tab");
    assert_eq!(copy["size_bytes"], text.len() as u64, "size of the copy");
    assert_eq!(copy["details"]["source_app"], "xclip", "the owning process");

    // Merge the write-ahead log into the file, then search every byte the agent keeps.
    let conn = rusqlite::Connection::open(env.database()).expect("open the database");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .expect("checkpoint");
    drop(conn);
    let mut searched = 0;
    for entry in std::fs::read_dir(env.data_dir()).expect("data dir") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            let bytes = std::fs::read(&path).expect("read");
            searched += 1;
            assert!(
                !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
                "the copied text must appear nowhere, but {} contains it",
                path.display()
            );
        }
    }
    assert!(searched >= 1, "the database file was searched");
    let table = env.ok(&["exports"]);
    assert!(
        !table.contains(marker),
        "nor in what `worktrace exports` prints"
    );
}
