//! The X11 clipboard watcher under Xvfb with xclip: a large tabular copy is reported with its
//! shape and the owning app; a small copy is not a bulk copy.

mod support;

use std::time::Duration;

use support::{collect_until, quiet_policy, start_with};
use worktrace_domain::{ExportKind, ExportPolicy};
use worktrace_testkit::XSession;

#[test]
fn a_large_tabular_copy_is_reported_by_shape_and_owner() {
    let x = XSession::start_bare().expect("a real X display (Xvfb)");
    let policy = ExportPolicy {
        clipboard: true,
        ..quiet_policy()
    };
    let w = start_with(policy, Some(x.display()));
    // A small copy first: below the thresholds, nothing is reported.
    x.copy_to_clipboard("just a few words")
        .expect("xclip serves the copy to the watcher");
    let mut csv = String::from("id,name,email\n");
    for i in 0..3000 {
        csv.push_str(&format!("{i},Client {i},c{i}@example.com\n"));
    }
    x.copy_to_clipboard(&csv)
        .expect("xclip serves the copy to the watcher");
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
