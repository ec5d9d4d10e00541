//! Print jobs from a real CUPS server: the test starts its own cupsd (as root, with a
//! temporary configuration and a raw queue that prints to /dev/null), prints a document with
//! `lp`, and expects a print-job event with the document name and printer.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{collect_until, quiet_policy, run};
use worktrace_domain::{ExportKind, ExportPolicy};
use worktrace_exports::{ExportWatchers, WatchOptions};

/// A private cupsd, stopped on drop.
struct Cupsd {
    child: Child,
    socket: String,
}

impl Drop for Cupsd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_cupsd(dir: &Path) -> Cupsd {
    assert!(
        Path::new("/usr/sbin/cupsd").exists(),
        "cupsd is not installed: apt-get install -y cups-daemon cups-client"
    );
    for sub in ["root", "spool", "tmp", "cache", "state", "log"] {
        std::fs::create_dir_all(dir.join(sub)).expect("cups folder");
    }
    // cupsd runs its helpers as an unprivileged user: they must reach these folders.
    run("chmod", &["-R", "a+rx", &dir.to_string_lossy()]).expect("chmod");
    run("chmod", &["1777", &dir.join("tmp").to_string_lossy()]).expect("chmod tmp");
    let socket = dir.join("cups.sock").display().to_string();
    let d = dir.display();
    let conf = format!(
        "Listen {socket}\nLogLevel warn\nWebInterface No\nBrowsing No\nDefaultAuthType None\n\
         <Location />\n  Order allow,deny\n  Allow all\n</Location>\n\
         <Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n"
    );
    let files = format!(
        "ServerRoot {d}/root\nRequestRoot {d}/spool\nTempDir {d}/tmp\nCacheDir {d}/cache\n\
         StateDir {d}/state\nErrorLog {d}/log/error_log\nAccessLog {d}/log/access_log\n\
         PageLog {d}/log/page_log\nFileDevice Yes\nServerBin /usr/lib/cups\nDataDir /usr/share/cups\n"
    );
    std::fs::write(dir.join("cupsd.conf"), &conf).expect("cupsd.conf");
    std::fs::write(dir.join("root/cupsd.conf"), &conf).expect("cupsd.conf copy");
    std::fs::write(dir.join("cups-files.conf"), files).expect("cups-files.conf");
    let child = Command::new("/usr/sbin/cupsd")
        .arg("-f")
        .arg("-c")
        .arg(dir.join("cupsd.conf"))
        .arg("-s")
        .arg(dir.join("cups-files.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cupsd");
    let cupsd = Cupsd {
        child,
        socket: socket.clone(),
    };
    let until = Instant::now() + Duration::from_secs(15);
    // The socket file exists from bind(), before cupsd listens on it: wait until it answers.
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        assert!(
            Instant::now() < until,
            "cupsd did not open {socket} within 15 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    run(
        "lpadmin",
        &[
            "-h",
            &socket,
            "-p",
            "Office",
            "-E",
            "-v",
            "file:///dev/null",
            "-m",
            "raw",
        ],
    )
    .expect("create the test printer");
    cupsd
}

#[test]
fn a_printed_document_is_reported_with_its_name_and_printer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cups = start_cupsd(dir.path());
    let doc = dir.path().join("doc.txt");
    std::fs::write(&doc, "line\n".repeat(100)).expect("document");
    // A job printed before the watcher starts is history, not news.
    run(
        "lp",
        &[
            "-h",
            &cups.socket,
            "-d",
            "Office",
            "-t",
            "old.pdf",
            &doc.to_string_lossy(),
        ],
    )
    .expect("print before");
    let policy = ExportPolicy {
        print: true,
        ..quiet_policy()
    };
    let mut options = WatchOptions::new(policy, chrono_tz::UTC);
    options.print_server = Some(format!("unix:{}", cups.socket));
    options.print_poll = Duration::from_millis(200);
    let w = ExportWatchers::start(options, support::now).expect("start");
    assert!(
        w.problems().is_empty(),
        "watchers start: {:?}",
        w.problems()
    );
    // The old job must be in the watcher's first list of jobs, or it would be news.
    let until = Instant::now() + Duration::from_secs(20);
    while !w.print_jobs_listed() {
        assert!(
            Instant::now() < until,
            "the print watcher never had its first list of jobs from cupsd within 20 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    run(
        "lp",
        &[
            "-h",
            &cups.socket,
            "-d",
            "Office",
            "-t",
            "clients-2024.xlsx",
            &doc.to_string_lossy(),
        ],
    )
    .expect("print");
    let events = collect_until(&w, Duration::from_secs(20), "the print job", |all| {
        all.iter().any(|e| e.kind == ExportKind::PrintJob)
    });
    let jobs: Vec<_> = events
        .iter()
        .filter(|e| e.kind == ExportKind::PrintJob)
        .collect();
    assert_eq!(jobs.len(), 1, "only the new job: {jobs:#?}");
    assert_eq!(jobs[0].file_name.as_deref(), Some("clients-2024.xlsx"));
    assert_eq!(jobs[0].details["printer"], "Office");
    assert_eq!(jobs[0].destination_class.as_deref(), Some("printer"));
    assert!(jobs[0].size_bytes.is_some(), "CUPS gives the size in KiB");
    w.stop();
}
