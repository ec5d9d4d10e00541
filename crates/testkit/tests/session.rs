//! The test display itself, on real Xvfb + openbox: windows appear, take focus, change titles,
//! close, and everything stops when the session is dropped; and the keyring session answers from
//! its unlocked daemon.

use worktrace_testkit::XSession;

#[test]
fn windows_are_created_focused_retitled_and_closed() {
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    assert!(
        x.display().starts_with(':'),
        "display name is ':n', got {}",
        x.display()
    );

    let term = x.spawn_xterm("Legacy Term").expect("xterm window");
    let own = x
        .spawn_window("kitapp", "Отчёт — Q3.xlsx")
        .expect("own window");
    assert_ne!(term.id(), own.id(), "two distinct windows");
    assert!(
        !x.has_property(&term, "_NET_WM_NAME")
            .expect("property query"),
        "xterm must set only the legacy WM_NAME, or it tests nothing legacy"
    );
    assert!(
        x.has_property(&term, "WM_NAME").expect("property query"),
        "xterm has a WM_NAME"
    );
    assert!(
        x.has_property(&own, "_NET_WM_NAME")
            .expect("property query"),
        "own window is EWMH"
    );

    x.activate(&term).expect("focus xterm");
    assert_eq!(
        x.active_window().expect("read"),
        Some(term.id()),
        "xterm is in front"
    );
    x.activate(&own).expect("focus own window");
    assert_eq!(
        x.active_window().expect("read"),
        Some(own.id()),
        "own window is in front"
    );

    x.input().expect("pointer move");
    x.input().expect("a second move to another place");
    x.set_title(&own, "Renamed").expect("retitle own window");
    x.set_title(&term, "Renamed term").expect("retitle xterm");
    assert!(
        !x.has_property(&term, "_NET_WM_NAME")
            .expect("property query"),
        "retitling an xterm keeps it legacy-only"
    );

    x.close(&own).expect("close own window");
    x.close(&term).expect("close xterm");
}

#[test]
fn dropping_the_session_stops_the_display() {
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    let display = x.display().to_owned();
    let _w = x.spawn_xterm("to be stopped").expect("xterm window");
    assert!(
        x11rb::connect(Some(&display)).is_ok(),
        "the display accepts clients while alive"
    );
    let pid = x.xvfb_pid();
    let n = display.trim_start_matches(':').to_owned();
    let lock_pid = || {
        std::fs::read_to_string(format!("/tmp/.X{n}-lock"))
            .ok()
            .and_then(|l| l.trim().parse::<u32>().ok())
    };
    drop(x);
    // Tests run in parallel: another session may take the freed display number at once, so
    // what is checked is this session's own Xvfb, not whatever answers on the number.
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "after drop the Xvfb of {display} (pid {pid}) has ended"
    );
    assert_ne!(
        lock_pid(),
        Some(pid),
        "Xvfb ended cleanly and removed its lock file (one there now is another session's)"
    );
}

#[test]
fn parallel_sessions_get_their_own_displays() {
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(XSession::start_bare);
        let b = s.spawn(XSession::start_bare);
        (a.join().expect("thread"), b.join().expect("thread"))
    });
    let (a, b) = (a.expect("first display"), b.expect("second display"));
    assert_ne!(
        a.display(),
        b.display(),
        "concurrent starts never share a display number"
    );
}

/// The Secret Service on the session's bus is the daemon that was given the password: its
/// default collection is the unlocked login keyring. A daemon started by D-Bus activation in
/// the gap before the unlocked one owns the name would answer "/" here, and every store
/// would then fail on a prompt that cannot be shown.
#[test]
fn the_keyring_session_is_served_by_the_unlocked_daemon() {
    let session = worktrace_testkit::keyring::KeyringSession::start().expect("keyring session");
    let out = std::process::Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.ReadAlias",
            "string:default",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", session.address())
        .output()
        .expect("dbus-send runs");
    let reply = String::from_utf8_lossy(&out.stdout);
    assert!(
        reply.contains("/org/freedesktop/secrets/collection/login"),
        "default collection: {reply} {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
