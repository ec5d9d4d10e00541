//! Export detection in the Windows agent under Wine, on real things: `worktrace.exe run` in a
//! fresh Wine prefix on Xvfb + openbox. A drive letter configured as removable receives a
//! 200-file copy made with Wine's `cmd` → one high incident; a stick that arrives through
//! Wine's mount manager (the drive watcher's window told with the real `WM_DEVICECHANGE`) is
//! reported with its label and watched, and its removal too; a file copied to a drive letter
//! configured as a network drive → a file to the network; a CSV written to Downloads right after a window titled
//! like a CRM was in front → an export from it; a 300-row tab-separated copy made by a Wine
//! program with `SetClipboardData` → recorded by shape, its marked content found nowhere in
//! the prefix. Print jobs are not here: Wine's spooler is a stub (see docs/exports.md).

mod common;

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::windows::WinEnv;
use common::{export_rows, of_kind, wait_for, wait_for_app};
use worktrace_testkit::wine::build_c_program;
use worktrace_testkit::XSession;

fn settings(clipboard: bool) -> String {
    format!(
        r#"
[agent]
poll_interval_ms = 250
checkpoint_interval_ms = 1000
pulsetime_ms = 2000

[policy.exports]
print = false
clipboard = {clipboard}
burst_quiet_secs = 2
"#
    )
}

/// `worktrace.exe exports --format json` (one row per incident), as parsed JSON rows.
fn exports(env: &WinEnv) -> Vec<serde_json::Value> {
    export_rows(&env.ok(&["exports", "--format", "json"]))
}

/// Runs a test program of tests/windows/ in the prefix and asserts it exits 0.
fn run_tool(env: &WinEnv, name: &str, source: &str, libs: &[&str], args: &[&str], why: &str) {
    let tool = build_c_program(name, source, libs).expect("build the test program");
    let out = env
        .prefix
        .run(&tool, args, Duration::from_secs(90))
        .expect("run the test program");
    assert!(
        out.status.success(),
        "{name} {args:?}: {why} (exit {})",
        out.status
    );
}

fn write_files(dir: &Path, count: usize, prefix: &str) {
    std::fs::create_dir_all(dir).expect("source folder");
    for i in 0..count {
        std::fs::write(
            dir.join(format!("{prefix}-{i:03}.txt")),
            format!("client {i}\n"),
        )
        .expect("write a source file");
    }
}

#[test]
fn copies_to_removable_and_network_drives_are_recorded_and_arrivals_and_removals_reported() {
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    let env = WinEnv::new(&settings(false), Some(x.display()));
    let media = tempfile::tempdir().expect("tempdir");
    let stick_e = media.path().join("e");
    std::fs::create_dir(&stick_e).expect("E: folder");
    env.prefix
        .add_drive('e', &stick_e, "floppy")
        .expect("E: as a removable drive");
    let share = media.path().join("share");
    std::fs::create_dir(&share).expect("N: folder");
    env.prefix
        .add_drive('n', &share, "network")
        .expect("N: as a mapped network drive");
    write_files(&env.prefix.drive_c().join("clients"), 200, "client");

    env.ok(&["clock-in"]);
    // Its first status comes after the drive watcher's first reading of the drives.
    let agent = env.start_agent();
    let out = env
        .prefix
        .run(
            Path::new("cmd"),
            &["/c", "copy", "/y", r"C:\clients\*.txt", r"E:\"],
            Duration::from_secs(120),
        )
        .expect("cmd copy");
    assert!(out.status.success(), "cmd copies the files: {out:?}");
    assert_eq!(
        std::fs::read_dir(&stick_e).expect("E:").count(),
        200,
        "the copy reached the stick"
    );
    wait_for(
        Duration::from_secs(60),
        "the copy to E: to be recorded",
        || {
            of_kind(&exports(&env), "file_to_removable")
                .iter()
                .any(|r| r["path"] == r"E:\" && r["count"] == 200)
        },
    );

    // A stick arrives while the agent runs: Wine's mount manager defines H:, and the drive
    // watcher's window is told the way Windows tells it.
    let stick_h = media.path().join("h");
    std::fs::create_dir(&stick_h).expect("H: folder");
    // Wine reads a volume's label from this file in its root.
    std::fs::write(stick_h.join(".windows-label"), "CLIENTS\n").expect("label");
    let stick_h_text = stick_h.display().to_string();
    let define = include_str!("windows/define_drive.c");
    run_tool(
        &env,
        "define_drive",
        define,
        &[],
        &["H", &stick_h_text],
        "Wine's mount manager defines H:",
    );
    run_tool(
        &env,
        "send_device_change",
        include_str!("windows/send_device_change.c"),
        &["user32"],
        &["WorktraceExportDrives", "H"],
        "the drive watcher's window (class WorktraceExportDrives) takes WM_DEVICECHANGE",
    );
    wait_for(Duration::from_secs(30), "H: to be reported", || {
        !of_kind(&exports(&env), "removable_mounted").is_empty()
    });
    write_files(&env.prefix.drive_c().join("more"), 5, "lead");
    let out = env
        .prefix
        .run(
            Path::new("cmd"),
            &["/c", "copy", "/y", r"C:\more\*.txt", r"H:\"],
            Duration::from_secs(120),
        )
        .expect("cmd copy");
    assert!(out.status.success(), "cmd copies to H: {out:?}");
    wait_for(
        Duration::from_secs(60),
        "the copy to H: to be recorded",
        || {
            of_kind(&exports(&env), "file_to_removable")
                .iter()
                .any(|r| r["path"] == r"H:\")
        },
    );

    // The stick is pulled: the mount manager drops H:, the window is told.
    run_tool(
        &env,
        "define_drive",
        define,
        &[],
        &["H"],
        "Wine's mount manager removes H:",
    );
    run_tool(
        &env,
        "send_device_change",
        include_str!("windows/send_device_change.c"),
        &["user32"],
        &["WorktraceExportDrives", "H", "remove"],
        "the drive watcher's window takes the removal",
    );
    wait_for(
        Duration::from_secs(30),
        "H:'s removal to be reported",
        || !of_kind(&exports(&env), "removable_unmounted").is_empty(),
    );

    // A mapped network drive (DRIVE_REMOTE) is watched from the start.
    let out = env
        .prefix
        .run(
            Path::new("cmd"),
            &["/c", "copy", "/y", r"C:\more\lead-000.txt", r"N:\"],
            Duration::from_secs(120),
        )
        .expect("cmd copy");
    assert!(out.status.success(), "cmd copies to N: {out:?}");
    wait_for(
        Duration::from_secs(60),
        "the copy to N: to be recorded",
        || !of_kind(&exports(&env), "file_to_network").is_empty(),
    );
    agent.stop(&env);

    let rows = exports(&env);
    let to_n = of_kind(&rows, "file_to_network");
    assert_eq!(to_n.len(), 1, "one file to the share: {rows:#?}");
    assert_eq!(to_n[0]["path"], r"N:\lead-000.txt");
    assert_eq!(to_n[0]["destination_class"], "network");
    let removed = of_kind(&rows, "removable_unmounted");
    assert_eq!(removed.len(), 1, "H: was removed once: {removed:#?}");
    assert_eq!(removed[0]["path"], r"H:\");
    assert_eq!(
        removed[0]["details"]["label"], "CLIENTS",
        "the stick that left"
    );
    let to_e: Vec<_> = of_kind(&rows, "file_to_removable")
        .into_iter()
        .filter(|r| r["path"] == r"E:\")
        .collect();
    assert_eq!(to_e.len(), 1, "one incident for the burst: {rows:#?}");
    assert_eq!(to_e[0]["count"], 200, "it counts every file");
    assert_eq!(to_e[0]["severity"], "high", "200 files to a stick is high");
    assert_eq!(to_e[0]["destination_class"], "removable");
    let mounted = of_kind(&rows, "removable_mounted");
    assert_eq!(
        mounted.len(),
        1,
        "only H: arrived; E: was there at the start: {mounted:#?}"
    );
    let h = mounted[0];
    assert_eq!(h["path"], r"H:\");
    assert_eq!(h["details"]["label"], "CLIENTS", "the volume label: {h:#}");
    assert!(
        h["details"]["serial"]
            .as_str()
            .is_some_and(|s| s.len() == 9 && s.as_bytes()[4] == b'-'),
        "the serial number as Windows shows it: {h:#}"
    );
    assert_eq!(h["details"]["removable_because"], "device");
    assert!(
        h["size_bytes"].as_u64().is_some_and(|s| s > 0),
        "the volume's size: {h:#}"
    );
    let to_h: Vec<_> = of_kind(&rows, "file_to_removable")
        .into_iter()
        .filter(|r| r["path"] == r"H:\")
        .collect();
    assert_eq!(to_h.len(), 1, "the arrived stick is watched: {rows:#?}");
    assert_eq!(to_h[0]["count"], 5);
    assert_eq!(
        to_h[0]["details"]["label"], "CLIENTS",
        "files carry the stick's label"
    );
}

#[test]
fn a_csv_written_after_a_crm_window_is_an_export_from_it() {
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    let env = WinEnv::new(&settings(false), Some(x.display()));
    let title = "Acme CRM - Customers";
    let crm_exe = build_c_program(
        "crm_window",
        include_str!("windows/crm_window.c"),
        &["user32", "gdi32"],
    )
    .expect("build the CRM stand-in");
    let mut crm_cmd = env.prefix.command(&crm_exe);
    crm_cmd.args([title, "300"]);
    let crm = x
        .spawn_program(crm_cmd, title)
        .expect("a Wine window titled like a CRM");
    let notepad = x
        .spawn_program(env.prefix.command("notepad"), "Untitled - Notepad")
        .expect("Wine's notepad");

    env.ok(&["clock-in"]);
    x.activate(&crm).expect("focus the CRM");
    let agent = env.start_agent();
    x.input_over(&crm).expect("input");
    wait_for_app(&env.data_dir(), "crm_window.exe");
    x.activate(&notepad).expect("focus notepad");
    x.input_over(&notepad).expect("input");
    wait_for_app(&env.data_dir(), "notepad.exe");
    // The default watched folders: ~/Downloads is the profile's Downloads.
    let downloads = env.prefix.user_profile().join("Downloads");
    std::fs::write(
        downloads.join("customers-export.csv"),
        "name,phone\nA,1\nB,2\n",
    )
    .expect("write the export");
    wait_for(Duration::from_secs(60), "the export to be recorded", || {
        !of_kind(&exports(&env), "data_file_created").is_empty()
    });
    agent.stop(&env);

    let rows = exports(&env);
    let row = of_kind(&rows, "data_file_created")[0];
    assert_eq!(row["file_name"], "customers-export.csv");
    assert!(
        row["path"]
            .as_str()
            .is_some_and(|p| p.ends_with(r"\Downloads\customers-export.csv")),
        "a Windows path in the profile's Downloads: {row:#}"
    );
    assert_eq!(
        row["details"]["export_from"], "crm_window.exe",
        "an export from the CRM window active within 60 s: {row:#}"
    );
    assert_eq!(
        row["app_before"], "notepad.exe",
        "the app active just before the file appeared"
    );
    assert_eq!(row["severity"], "high", "exports from a CRM are high");
    assert_eq!(row["destination_class"], "local");
}

#[test]
fn a_tabular_clipboard_copy_in_a_wine_program_is_recorded_by_shape_never_by_content() {
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    let env = WinEnv::new(&settings(true), Some(x.display()));
    env.ok(&["clock-in"]);
    let agent = env.start_agent();
    let nonce = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    // Only in the program's argument: the marker is in no file before the copy.
    let marker = format!("QZXCANARY{nonce}");
    run_tool(
        &env,
        "set_clipboard_rows",
        include_str!("windows/set_clipboard_rows.c"),
        &["user32"],
        &["300", &marker, "3000"],
        "the program puts 300 rows on the clipboard",
    );
    wait_for(
        Duration::from_secs(30),
        "the clipboard copy to be recorded",
        || !of_kind(&exports(&env), "clipboard_bulk").is_empty(),
    );
    agent.stop(&env);

    let rows = exports(&env);
    let copy = of_kind(&rows, "clipboard_bulk");
    assert_eq!(copy.len(), 1, "one copy, one event: {rows:#?}");
    let copy = copy[0];
    assert_eq!(copy["details"]["lines"], 300, "rows of the copy: {copy:#}");
    assert_eq!(copy["details"]["columns"], 4, "columns of the copy");
    assert_eq!(copy["details"]["separator"], "tab");
    assert_eq!(
        copy["details"]["source_app"], "set_clipboard_rows.exe",
        "the program that owns the clipboard"
    );
    // Each row is MARKER-i, a mail address, a phone number and a city, ending in CRLF.
    let expected: usize = (0..300)
        .map(|i| format!("{marker}-{i}\tclient{i}@example.com\t+49 30 {i:07}\tBerlin\r\n").len())
        .sum();
    assert_eq!(
        copy["size_bytes"], expected as u64,
        "the size of the copy in UTF-8"
    );

    // Merge the write-ahead log, then search every file of the prefix (the agent's data
    // folder is in it) for the marker, in UTF-8 and in UTF-16.
    let conn = rusqlite::Connection::open(env.database()).expect("open the database");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .expect("checkpoint");
    drop(conn);
    let utf8 = marker.as_bytes().to_vec();
    let utf16: Vec<u8> = marker.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let files = env.prefix.files();
    assert!(
        files.iter().any(|f| f == &env.database()),
        "the database is among the files searched"
    );
    for path in files {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        for needle in [&utf8, &utf16] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "the copied text must appear nowhere, but {} contains it",
                path.display()
            );
        }
    }
    let table = env.ok(&["exports"]);
    assert!(
        !table.contains(&marker),
        "nor in what `worktrace exports` prints"
    );
}
