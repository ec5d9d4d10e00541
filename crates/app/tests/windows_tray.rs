//! The Windows tray process (`worktrace-tray.exe`, built for x86_64-pc-windows-gnu) under Wine,
//! in a fresh prefix on a private X display: a GUI program (no console window at login), its
//! icon in Wine's system tray, the engine in-process, clock-in from its menu command, start on
//! login through the per-user Run key as the preference says, a second start that names the
//! first and ends, and Quit from the menu, which saves and takes the icon away.
//!
//! Wine 8 cannot open the tray menu from a click: its `Shell_NotifyIconGetRect` fails, and the
//! tray crate then shows no menu. The test delivers the menu choice as Windows does once the
//! employee picks an item: `WM_COMMAND` with the item's command id to the tray's window.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use worktrace_testkit::wine::{self, WinePrefix};
use worktrace_testkit::XSession;

/// The menu's Windows command ids. The menu library numbers its items from 1000 in the order
/// they are made, and `src/tray/menu.rs` makes them in this order: clock in/out, pause 15 min,
/// pause, resume, open the window, quit.
const TOGGLE: u32 = 1000;
const QUIT: u32 = 1005;

/// How long one Wine program may take on a busy machine.
const PATIENCE: Duration = Duration::from_secs(120);

const TRAY_ICONS_C: &str = include_str!("windows/tray_icons.c");
const POST_MENU_COMMAND_C: &str = include_str!("windows/post_menu_command.c");

const RUN_KEY: &str = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run";

struct Env {
    prefix: WinePrefix,
    tray: PathBuf,
}

impl Env {
    fn data_dir(&self) -> PathBuf {
        self.prefix.drive_c().join("worktrace").join("data")
    }

    /// `worktrace-tray.exe ARGS` with the prefix's data folder.
    fn tray_command(&self, args: &[&str]) -> Command {
        let mut cmd = self.prefix.command(&self.tray);
        cmd.args(args)
            .env("WORKTRACE_DATA_DIR", r"C:\worktrace\data")
            .env("WORKTRACE_CONFIG", r"C:\worktrace\worktrace.toml")
            .env("WORKTRACE_POLL_INTERVAL_MS", "200")
            .env("NO_COLOR", "1")
            .env("TZ", "UTC");
        cmd
    }

    fn status(&self) -> Option<serde_json::Value> {
        let bytes = std::fs::read(self.data_dir().join("agent-status.json")).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// How many icons Wine's system tray shows.
    fn tray_icons(&self) -> usize {
        let program = wine::build_c_program("tray_icons", TRAY_ICONS_C, &[])
            .unwrap_or_else(|e| panic!("{e}"));
        let out = self
            .prefix
            .run(&program, &[], PATIENCE)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(out.status.success(), "tray_icons runs: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("tray_icons prints a number, not {text:?}"))
    }

    /// Picks a tray menu item (see [`TOGGLE`]).
    fn menu(&self, command_id: u32) {
        let program = wine::build_c_program("post_menu_command", POST_MENU_COMMAND_C, &[])
            .unwrap_or_else(|e| panic!("{e}"));
        let out = self
            .prefix
            .run(&program, &[&command_id.to_string()], PATIENCE)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            out.status.success(),
            "the tray's window takes menu command {command_id} (exit 2: no tray window): {out:?}"
        );
    }

    /// The per-user start-on-login value, if any.
    fn run_value(&self) -> Option<String> {
        let mut cmd = self.prefix.command("reg");
        cmd.args(["query", RUN_KEY, "/v", "Worktrace"]);
        let out = wine::run_to_end(cmd, "reg query", PATIENCE).unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.success() && text.contains("REG_SZ")).then_some(text)
    }
}

fn wait_until(patience: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + patience;
    while !done() {
        assert!(
            Instant::now() < until,
            "{what} within {} s",
            patience.as_secs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits for `child` to end (killed after `patience`) and returns its output.
/// Wine's own processes may hold its pipes open, so they are read without waiting for their end.
fn wait_output(child: Child, patience: Duration, what: &str) -> Output {
    wine::collect(child, what, patience).unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// The subsystem field of a PE executable's optional header (2: GUI, 3: console).
fn pe_subsystem(exe: &Path) -> u16 {
    let bytes = std::fs::read(exe).expect("read the executable");
    let at = |i: usize, n: usize| &bytes[i..i + n];
    let pe = u32::from_le_bytes(at(0x3c, 4).try_into().expect("4 bytes")) as usize;
    assert_eq!(at(pe, 4), b"PE\0\0", "{} is a PE executable", exe.display());
    // Signature (4) + file header (20), then the subsystem at offset 68 of the optional header.
    u16::from_le_bytes(at(pe + 24 + 68, 2).try_into().expect("2 bytes"))
}

#[test]
fn windows_tray_shows_its_icon_clocks_in_from_its_menu_stays_single_and_quits() {
    let tray = wine::windows_binary(
        env!("CARGO_BIN_EXE_worktrace-tray").as_ref(),
        "worktrace-tray",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        pe_subsystem(&tray),
        2,
        "worktrace-tray.exe is a GUI program: started at login it must not open a console window"
    );
    let x = XSession::start().expect("start Xvfb and openbox (see testkit's message)");
    let env = Env {
        prefix: WinePrefix::new(Some(x.display())).expect("a fresh Wine prefix"),
        tray,
    };
    std::fs::create_dir_all(env.data_dir()).expect("C:\\worktrace\\data");
    // The employee accepted the first-start screen earlier (tracking waits for it).
    std::fs::write(
        env.data_dir().join("desktop.json"),
        r#"{"consent_given": true}"#,
    )
    .expect("write the preferences");
    std::fs::write(
        env.prefix
            .drive_c()
            .join("worktrace")
            .join("worktrace.toml"),
        "",
    )
    .expect("write settings");
    assert_eq!(env.tray_icons(), 0, "a fresh prefix shows no tray icon");
    assert!(env.run_value().is_none(), "nothing starts at login yet");

    let first = env
        .tray_command(&[])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start worktrace-tray.exe");
    let mut first = Some(first);
    wait_until(PATIENCE, "the engine in the tray process to report", || {
        if let Some(Ok(Some(status))) = first.as_mut().map(Child::try_wait) {
            let out = wait_output(first.take().expect("ran"), PATIENCE, "worktrace-tray.exe");
            panic!(
                "worktrace-tray.exe ended at start with {status}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        env.status().is_some()
    });
    let engine_pid = env.status().and_then(|s| s["pid"].as_u64()).expect("pid");
    wait_until(PATIENCE, "the Worktrace icon in Wine's system tray", || {
        env.tray_icons() == 1
    });
    assert!(
        env.status()
            .is_some_and(|s| s["clocked_in_since"].is_null()),
        "not clocked in before the menu says so"
    );

    // Clock in from the menu: the command reaches the engine running in this process.
    env.menu(TOGGLE);
    wait_until(PATIENCE, "clocked in after the menu's Clock in", || {
        env.status()
            .is_some_and(|s| s["clocked_in_since"].as_i64().is_some())
    });

    // Start on login: the per-user Run key starts the tray hidden, and follows the preference.
    wait_until(PATIENCE, "the Run key value", || env.run_value().is_some());
    let line = env.run_value().expect("set");
    assert!(
        line.contains("worktrace-tray.exe\" --hidden"),
        "quoted path, then --hidden: {line}"
    );
    std::fs::write(
        env.data_dir().join("desktop.json"),
        r#"{"consent_given": true, "autostart": false}"#,
    )
    .expect("write the preferences");
    wait_until(
        PATIENCE,
        "the Run value gone once start on login is off",
        || env.run_value().is_none(),
    );

    // A second start names the first and ends; started hidden (as at login) it opens nothing.
    let second = env
        .tray_command(&["--hidden"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start a second worktrace-tray.exe");
    let out = wait_output(second, PATIENCE, "the second tray to end");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the second start ends cleanly: {said}"
    );
    assert!(
        said.contains("already runs") && said.contains(&format!("(process {engine_pid})")),
        "the second start names the first (process {engine_pid}): {said}"
    );
    assert_eq!(env.tray_icons(), 1, "still one icon");

    // Quit from the menu: the engine saves, the process ends cleanly, the icon goes.
    env.menu(QUIT);
    let out = wait_output(first.take().expect("running"), PATIENCE, "the tray to quit");
    assert!(
        out.status.success(),
        "Quit ends the tray cleanly ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    wait_until(PATIENCE, "the icon gone after Quit", || {
        env.tray_icons() == 0
    });
}
