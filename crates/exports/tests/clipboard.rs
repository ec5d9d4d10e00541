//! The X11 clipboard watcher under Xvfb with xclip: a large tabular copy is reported with its
//! shape and the owning app; a small copy is not a bulk copy.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{collect_until, quiet_policy, start_with};
use worktrace_domain::{ExportKind, ExportPolicy};
use worktrace_testkit::XSession;

fn copy(display: &str, text: &str) {
    let mut xclip = Command::new("xclip")
        .args(["-selection", "clipboard", "-loops", "1", "-quiet"])
        .env("DISPLAY", display)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("xclip is installed (apt-get install -y xclip)");
    xclip
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("feed xclip");
    // With -quiet xclip stays in the foreground and exits once the copy was requested
    // (-loops 1): its exit shows the watcher asked for it. Bounded, so a failure cannot hang.
    let until = std::time::Instant::now() + Duration::from_secs(15);
    while xclip.try_wait().expect("xclip status").is_none() {
        if std::time::Instant::now() > until {
            let _ = xclip.kill();
            let _ = xclip.wait();
            panic!("the copy was never requested from xclip within 15 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_large_tabular_copy_is_reported_by_shape_and_owner() {
    let x = XSession::start_bare().expect("a real X display (Xvfb)");
    let policy = ExportPolicy {
        clipboard: true,
        ..quiet_policy()
    };
    let w = start_with(policy, Some(x.display()));
    // A small copy first: below the thresholds, nothing is reported.
    copy(x.display(), "just a few words");
    let mut csv = String::from("id,name,email\n");
    for i in 0..3000 {
        csv.push_str(&format!("{i},Client {i},c{i}@example.com\n"));
    }
    copy(x.display(), &csv);
    let events = collect_until(&w, Duration::from_secs(15), "the bulk copy", |all| {
        all.iter().any(|e| e.kind == ExportKind::ClipboardBulk)
    });
    assert_eq!(
        events.len(),
        1,
        "only the large copy is a bulk copy: {events:#?}"
    );
    let e = &events[0];
    assert_eq!(e.size_bytes, Some(csv.len() as u64), "bytes of the copy");
    assert_eq!(e.details["lines"], 3001);
    assert_eq!(e.details["columns"], 3);
    assert_eq!(e.details["separator"], "comma");
    assert_eq!(
        e.details["source_app"], "xclip",
        "the process owning the clipboard"
    );
    w.stop();
}
