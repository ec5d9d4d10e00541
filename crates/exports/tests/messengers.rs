//! Messengers and mail clients on the real watcher (Linux): a program named like Telegram
//! Desktop (a copy of `tail`, which holds the file open) opens a data file in a watched folder
//! → "sent via Telegram", high; a file held open by a program that is no messenger is no event
//! (the detector's unit tests check that for certain; here it holds for what was collected).

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::{collect_until, quiet_policy, start};
use worktrace_domain::{ExportKind, ExportPolicy, Severity};

/// Stops the program when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn open_with(program: &std::path::Path, file: &std::path::Path) -> Running {
    Running(
        Command::new(program)
            .arg("-f")
            .arg(file)
            .stdout(Stdio::null())
            .spawn()
            .expect("the program runs"),
    )
}

#[test]
fn a_data_file_opened_by_a_messenger_is_sent_via_it() {
    let home = tempfile::tempdir().expect("home");
    let documents = home.path().join("Documents");
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&documents).expect("documents");
    std::fs::create_dir_all(&bin).expect("bin");
    let tail = which("tail");
    let telegram = bin.join("telegram-desktop");
    let viewer = bin.join("csvview");
    std::fs::copy(&tail, &telegram).expect("a program named like Telegram Desktop");
    std::fs::copy(&tail, &viewer).expect("a program that is no messenger");
    let clients = documents.join("clients.csv");
    let notes = documents.join("notes.csv");
    std::fs::write(&clients, "name,phone\nAcme,1\n").expect("csv");
    std::fs::write(&notes, "a,b\n").expect("csv");

    let policy = ExportPolicy {
        watched_folders: vec![documents.display().to_string()],
        ..quiet_policy()
    };
    let w = start(policy);
    let _viewer = open_with(&viewer, &notes);
    let _telegram = open_with(&telegram, &clients);
    let all = collect_until(
        &w,
        Duration::from_secs(30),
        "the file sent via Telegram",
        |all| all.iter().any(|e| e.kind == ExportKind::FileToApp),
    );
    let sent: Vec<_> = all
        .iter()
        .filter(|e| e.kind == ExportKind::FileToApp)
        .collect();
    assert_eq!(sent.len(), 1, "{all:#?}");
    let e = sent[0];
    assert_eq!(e.file_name.as_deref(), Some("clients.csv"));
    assert_eq!(e.details["sent_via"], "Telegram");
    assert_eq!(e.destination_class.as_deref(), Some("app"));
    assert_eq!(
        e.severity,
        Severity::High,
        "a data file sent via a messenger"
    );
    assert!(
        all.iter()
            .all(|e| e.kind != ExportKind::FileToApp || e.file_name.as_deref() != Some("notes.csv")),
        "a program that is no messenger sends nothing: {all:#?}"
    );
    w.stop();
}

fn which(program: &str) -> std::path::PathBuf {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .expect("sh runs");
    std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}
