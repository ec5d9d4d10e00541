//! The screen-lock state from D-Bus, against a real private `dbus-daemon` and a real
//! `org.freedesktop.ScreenSaver` service served by this test.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use dbus::channel::Channel;
use dbus::message::MessageType;
use dbus::Message;
use worktrace_sensors::x11::{Buses, X11Sensor};
use worktrace_sensors::Sensor;
use worktrace_testkit::XSession;

/// A private session bus, stopped on drop.
struct Bus {
    daemon: Child,
    address: String,
}

impl Bus {
    fn start() -> Bus {
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon runs (package dbus-daemon / dbus)");
        let mut line = String::new();
        BufReader::new(daemon.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("the daemon prints its address");
        Bus {
            daemon,
            address: line.trim().to_owned(),
        }
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// How the fake screensaver answers `GetActive`.
#[derive(Clone, Copy)]
enum Answer {
    Reply,
    Never,
}

/// Serves `org.freedesktop.ScreenSaver.GetActive` on the bus until stopped.
struct ScreenSaver {
    active: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ScreenSaver {
    fn serve(bus: &Bus, answer: Answer) -> ScreenSaver {
        let mut channel = Channel::open_private(&bus.address).expect("connect to the bus");
        channel.register().expect("hello");
        let request = Message::new_method_call(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "RequestName",
        )
        .expect("message")
        .append2("org.freedesktop.ScreenSaver", 4u32);
        let reply = channel
            .send_with_reply_and_block(request, Duration::from_secs(5))
            .expect("own the name");
        assert_eq!(
            reply.read1::<u32>().ok(),
            Some(1),
            "we are the primary owner"
        );
        let active = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, s) = (active.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                let _ = channel.read_write(Some(Duration::from_millis(20)));
                while let Some(msg) = channel.pop_message() {
                    let get_active = msg.msg_type() == MessageType::MethodCall
                        && msg.member().as_deref() == Some("GetActive");
                    if get_active && matches!(answer, Answer::Reply) {
                        let _ = channel.send(msg.method_return().append1(a.load(Ordering::SeqCst)));
                    }
                }
                channel.flush();
            }
        });
        ScreenSaver {
            active,
            stop,
            thread: Some(thread),
        }
    }

    fn set_active(&self, on: bool) {
        self.active.store(on, Ordering::SeqCst);
    }
}

impl Drop for ScreenSaver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn sensor(x: &XSession, bus: &Bus) -> X11Sensor {
    let buses = Buses {
        session: Some(bus.address.clone()),
        // No system bus: logind's answer must not mix into this test.
        system: Some("unix:path=/nonexistent/worktrace-test-system-bus".into()),
    };
    X11Sensor::connect_with(Some(x.display()), buses).expect("sensor on the test display")
}

#[test]
fn the_session_screensaver_service_reports_the_lock() {
    let x = XSession::start_bare().expect("a bare X display (Xvfb only)");
    let bus = Bus::start();
    let saver = ScreenSaver::serve(&bus, Answer::Reply);
    let mut s = sensor(&x, &bus);

    assert!(
        !s.observe().expect("reading").locked,
        "the service says inactive"
    );
    assert_eq!(
        s.lock_service(),
        Some("org.freedesktop.ScreenSaver"),
        "the answering service is found and remembered"
    );
    saver.set_active(true);
    assert!(
        s.observe().expect("reading").locked,
        "the service says the screen is locked"
    );
    saver.set_active(false);
    assert!(!s.observe().expect("reading").locked, "unlocked again");

    drop(saver);
    let o = s.observe().expect("a vanished service is not an error");
    assert!(!o.locked, "no service: not locked");
    assert_eq!(s.lock_service(), None, "the vanished service is forgotten");
}

#[test]
fn a_bus_without_a_lock_service_means_unlocked() {
    let x = XSession::start_bare().expect("a bare X display (Xvfb only)");
    let bus = Bus::start();
    let mut s = sensor(&x, &bus);
    for _ in 0..3 {
        assert!(
            !s.observe().expect("reading").locked,
            "nothing reports a lock"
        );
    }
    assert_eq!(s.lock_service(), None, "no service answered");
}

#[test]
fn a_hung_service_does_not_stall_or_lock() {
    let x = XSession::start_bare().expect("a bare X display (Xvfb only)");
    let bus = Bus::start();
    let _saver = ScreenSaver::serve(&bus, Answer::Never);
    let mut s = sensor(&x, &bus);
    // Each unanswered call gives up after its timeout; the reading still arrives.
    let o = s.observe().expect("a reading despite the silent service");
    assert!(!o.locked, "an unanswered question is not a lock");
    assert_eq!(
        s.lock_service(),
        None,
        "a silent service is not remembered as answering"
    );
}
