//! The X11 sensor on a real display (Xvfb + openbox from the testkit) with real windows,
//! focus switched by xdotool and real pointer input.

#![cfg(target_os = "linux")]

use std::process::Command;
use std::time::{Duration, Instant};

use worktrace_sensors::x11::X11Sensor;
use worktrace_sensors::{platform_sensor, Error, Sensor};
use worktrace_testkit::XSession;
use x11rb::connection::Connection as _;
use x11rb::protocol::xproto::{ConnectionExt as _, ScreenSaver};

fn sensor(x: &XSession) -> X11Sensor {
    X11Sensor::connect(Some(x.display())).expect("the sensor connects to the test display")
}

#[test]
fn reads_app_and_title_of_a_legacy_and_a_utf8_window() {
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    let term = x.spawn_xterm("Alpha Terminal").expect("xterm window");
    let report = x
        .spawn_window("reportapp", "Отчёт — Q3.xlsx")
        .expect("UTF-8 window");
    assert!(
        !x.has_property(&term, "_NET_WM_NAME")
            .expect("property query"),
        "the xterm must carry only WM_NAME, or the legacy path is not tested"
    );
    let mut s = sensor(&x);

    x.activate(&term).expect("focus xterm");
    let w = s
        .observe()
        .expect("reading")
        .window
        .expect("the xterm has focus");
    assert_eq!(w.title, "Alpha Terminal", "title from the legacy WM_NAME");
    assert_eq!(w.app, "XTerm", "app from the WM_CLASS class");
    assert_eq!(w.pid, Some(term.pid()), "pid from _NET_WM_PID");
    assert!(
        w.exe_path.as_deref().is_some_and(|p| p.ends_with("/xterm")),
        "executable from /proc/PID/exe: {:?}",
        w.exe_path
    );

    x.activate(&report).expect("focus the UTF-8 window");
    let w = s
        .observe()
        .expect("reading")
        .window
        .expect("the report window has focus");
    assert_eq!(
        w.title, "Отчёт — Q3.xlsx",
        "non-ASCII title from _NET_WM_NAME, exact"
    );
    assert_eq!(w.app, "reportapp", "app from WM_CLASS");
    assert_eq!(
        w.pid,
        Some(std::process::id()),
        "the window belongs to this test process"
    );
    let me = std::env::current_exe()
        .expect("own path")
        .to_string_lossy()
        .into_owned();
    assert_eq!(
        w.exe_path.as_deref(),
        Some(me.as_str()),
        "executable of the owning process"
    );
    assert_eq!(w.domain, None, "no browser domain on Linux");

    // Titles change while the window stays in front: every reading sees the current one.
    x.set_title(&report, "Счёт № 7").expect("retitle");
    let w = s
        .observe()
        .expect("reading")
        .window
        .expect("still in front");
    assert_eq!(
        w.title, "Счёт № 7",
        "a changed _NET_WM_NAME is seen at the next reading"
    );

    x.activate(&term).expect("focus xterm again");
    for title in ["Café Ä (Latin-1 STRING)", "Смета (COMPOUND_TEXT)"] {
        x.set_title(&term, title).expect("retitle xterm");
        let w = s
            .observe()
            .expect("reading")
            .window
            .expect("xterm in front");
        assert_eq!(w.title, title, "legacy WM_NAME decoded from its encoding");
    }
}

#[test]
fn idle_grows_without_input_and_drops_after_input() {
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    let mut s = sensor(&x);
    x.input().expect("pointer move");
    let hands_off = Instant::now();
    let first = s.observe().expect("reading").idle_ms;
    // Hands off until the sensor reads at least 1 s of idle, which must be so once 1.5 s have
    // passed (the time is taken before each reading, so a slow reading only adds idle).
    let later = loop {
        let passed = hands_off.elapsed();
        let idle = s.observe().expect("reading").idle_ms;
        if idle >= 1000 {
            break idle;
        }
        assert!(
            passed < Duration::from_millis(1500),
            "after 1.5 s hands off, idle is at least 1 s: {idle} ms after {passed:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        later > first,
        "idle must grow while nothing happens: {first} ms then {later} ms"
    );
    x.input().expect("pointer move");
    let after = s.observe().expect("reading").idle_ms;
    assert!(after < 1000, "input resets idle below 1 s: {after} ms");
}

#[test]
fn the_x_screensaver_counts_as_locked() {
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    let mut s = sensor(&x);
    x.input().expect("pointer move");
    assert!(
        !s.observe().expect("reading").locked,
        "no screensaver, no lock service: unlocked"
    );

    let (conn, _) = x11rb::connect(Some(x.display())).expect("own connection");
    conn.force_screen_saver(ScreenSaver::ACTIVE)
        .expect("request");
    conn.get_input_focus()
        .expect("request")
        .reply()
        .expect("round trip");
    assert!(
        s.observe().expect("reading").locked,
        "an active X screensaver means locked"
    );

    conn.force_screen_saver(ScreenSaver::RESET)
        .expect("request");
    conn.get_input_focus()
        .expect("request")
        .reply()
        .expect("round trip");
    x.input().expect("pointer move");
    assert!(
        !s.observe().expect("reading").locked,
        "screensaver off again: unlocked"
    );
    drop(conn.flush());
}

#[test]
fn no_window_manager_means_no_window_not_an_error() {
    let x = XSession::start_bare().expect("a bare X display (Xvfb only)");
    let _w = x.spawn_window("bareapp", "Bare window").expect("window");
    let o = sensor(&x)
        .observe()
        .expect("a bare server still gives a reading");
    assert_eq!(
        o.window, None,
        "without _NET_ACTIVE_WINDOW no window is reported: {o:?}"
    );
}

#[test]
fn a_closed_window_is_not_reported_and_does_not_break_the_sensor() {
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    let keep = x.spawn_window("keepapp", "Stays").expect("window");
    let gone = x.spawn_window("goneapp", "Goes away").expect("window");
    let mut s = sensor(&x);
    x.activate(&gone).expect("focus");
    assert_eq!(
        s.observe()
            .expect("reading")
            .window
            .map(|w| w.app)
            .as_deref(),
        Some("goneapp")
    );
    x.close(&gone).expect("close");
    let o = s.observe().expect("a vanished window is not an error");
    assert_ne!(
        o.window.map(|w| w.app).as_deref(),
        Some("goneapp"),
        "the closed window is gone"
    );
    x.activate(&keep).expect("focus the other window");
    let o = s.observe().expect("reading");
    assert_eq!(
        o.window.map(|w| w.app).as_deref(),
        Some("keepapp"),
        "sensor keeps working"
    );
}

#[test]
fn a_display_that_goes_away_gives_errors_not_panics() {
    let x = XSession::start_bare().expect("a bare X display (Xvfb only)");
    let display = x.display().to_owned();
    let mut s = sensor(&x);
    assert!(s.observe().is_ok(), "reading while the display is up");
    drop(x);
    for _ in 0..3 {
        let err = s.observe().expect_err("no display, no reading");
        assert!(
            matches!(err, Error::ConnectionLost { .. } | Error::Connect { .. }),
            "a lost or refused connection: {err}"
        );
        assert!(
            err.to_string().contains(&display),
            "the message names the display: {err}"
        );
    }
}

#[test]
fn an_unreachable_display_is_a_clear_error() {
    let err = X11Sensor::connect(Some(":4987")).expect_err("nothing listens on :4987");
    let msg = err.to_string();
    assert!(
        matches!(err, Error::Connect { .. }),
        "a connection error: {msg}"
    );
    assert!(
        msg.contains(":4987") && msg.contains("DISPLAY"),
        "says which and what to check: {msg}"
    );
}

const CHILD: &str = "WORKTRACE_SENSORS_NO_DISPLAY_CHILD";

/// Runs itself again in a child process without `DISPLAY` (the test process's own
/// environment is never changed): there `platform_sensor()` must fail with `NoDisplay`.
#[test]
fn without_display_the_platform_sensor_says_what_to_do() {
    if std::env::var_os(CHILD).is_some() {
        match platform_sensor() {
            Err(e @ Error::NoDisplay) => println!("child-saw: {e}"),
            Err(e) => panic!("expected NoDisplay, got {e:?}"),
            Ok(_) => panic!("a sensor without any display"),
        }
        return;
    }
    let out = Command::new(std::env::current_exe().expect("own path"))
        .args([
            "without_display_the_platform_sensor_says_what_to_do",
            "--exact",
            "--nocapture",
        ])
        .env_remove("DISPLAY")
        .env(CHILD, "1")
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the child must not panic: {stdout}");
    assert!(
        stdout.contains(
            "child-saw: no graphical display: DISPLAY is not set (Worktrace needs an X11 \
             session; Wayland sessions need XWayland)"
        ),
        "the child saw NoDisplay with its full message: {stdout}"
    );
}
