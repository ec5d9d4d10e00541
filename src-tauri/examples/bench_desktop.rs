//! Measures the desktop app on a private X display (Xvfb + openbox), with a fresh data
//! directory: launch of the window binary (`worktrace-desktop`, which starts the tray process
//! `worktrace-tray`) → first sample recorded (the status file written by the engine after its
//! first sensor reading), launch → main window shown (mapped and visible), and the memory (PSS)
//! of all the app's processes with the window open and after it is closed (the window process
//! ends; the tray process and its engine stay).
//!
//! Run on a release build:
//! `cargo build --release -p worktrace-desktop -p worktrace-app && cargo run --release -p worktrace-desktop --example bench_desktop`
//! (or pass the binary's path as the first argument).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use worktrace_testkit::XSession;

fn main() -> Result<(), String> {
    let binary = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/worktrace-desktop")
        });
    if !binary.exists() {
        return Err(format!(
            "{} does not exist: build it with `cargo build --release -p worktrace-desktop -p worktrace-app`",
            binary.display()
        ));
    }
    let x = XSession::start().map_err(|e| e.to_string())?;
    let data = tempfile::tempdir().map_err(|e| e.to_string())?;
    let home = tempfile::tempdir().map_err(|e| e.to_string())?;
    let status_file = data.path().join("agent-status.json");

    let started = Instant::now();
    let mut app = Command::new(&binary)
        .env("DISPLAY", x.display())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env("WORKTRACE_DATA_DIR", data.path())
        .env("LANG", "C.UTF-8")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let pid = app.id();

    let first_sample = wait(Duration::from_secs(20), || status_file.exists())
        .ok_or("no first sample within 20 s")?;
    let window_id = std::cell::RefCell::new(String::new());
    let window_shown = wait(Duration::from_secs(20), || {
        let id = visible_window(x.display(), "^Worktrace$");
        let found = id.is_some();
        *window_id.borrow_mut() = id.unwrap_or_default();
        found
    })
    .ok_or("the window was not shown within 20 s")?;
    let first_sample = first_sample.duration_since(started);
    let window_shown = window_shown.duration_since(started);

    std::thread::sleep(Duration::from_secs(5));
    // The window process started the tray process, so it is among its descendants.
    let open = pss_kb(pid);
    let tray_pid = engine_pid(&status_file).ok_or("the status file names no engine process")?;

    // Close the window as a user does (the window manager's close: Alt+F4).
    let id = window_id.borrow().clone();
    run(x.display(), &["windowactivate", "--sync", &id])?;
    run(x.display(), &["key", "--clearmodifiers", "alt+F4"])?;
    wait(Duration::from_secs(10), || {
        visible_window(x.display(), "^Worktrace$").is_none()
    })
    .ok_or("the window did not close")?;
    std::thread::sleep(Duration::from_secs(8));
    let window_ended = wait(Duration::from_secs(10), || {
        matches!(app.try_wait(), Ok(Some(_)))
    })
    .is_some();
    // Everything of the app that is left: the tray process and anything it started.
    let closed = pss_kb(tray_pid);
    let still_running = Path::new(&format!("/proc/{tray_pid}")).exists();
    let before = std::fs::metadata(&status_file)
        .and_then(|m| m.modified())
        .ok();
    std::thread::sleep(Duration::from_secs(6));
    let after = std::fs::metadata(&status_file)
        .and_then(|m| m.modified())
        .ok();

    println!(
        "launch → first sample recorded: {} ms",
        first_sample.as_millis()
    );
    println!(
        "launch → window shown:          {} ms",
        window_shown.as_millis()
    );
    print_memory("window open", &open);
    print_memory("window closed (tray only)", &closed);
    println!("window process ended after close: {window_ended}");
    println!("tray process (pid {tray_pid}) still running after close: {still_running}");
    println!(
        "tracking continues after close (status file updated): {}",
        before != after
    );

    let _ = app.kill();
    let _ = app.wait();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(tray_pid.to_string())
        .status();
    let _ = wait(Duration::from_secs(10), || {
        !Path::new(&format!("/proc/{tray_pid}")).exists()
    });
    Ok(())
}

/// The pid of the process running the engine, from its status file.
fn engine_pid(status_file: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(status_file).ok()?;
    let status: serde_json::Value = serde_json::from_str(&text).ok()?;
    u32::try_from(status["pid"].as_u64()?).ok()
}

fn print_memory(label: &str, procs: &[(u32, String, u64)]) {
    let total: u64 = procs.iter().map(|(_, _, kb)| kb).sum();
    println!(
        "memory, {label}: {:.1} MB PSS in {} processes",
        total as f64 / 1024.0,
        procs.len()
    );
    for (pid, name, kb) in procs {
        println!("    {pid:>7} {name:<24} {:>7.1} MB", *kb as f64 / 1024.0);
    }
}

/// Polls `f` every 10 ms until it holds; the instant it first held.
fn wait(limit: Duration, mut f: impl FnMut() -> bool) -> Option<Instant> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if f() {
            return Some(Instant::now());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

fn visible_window(display: &str, name: &str) -> Option<String> {
    let out = Command::new("xdotool")
        .args(["search", "--onlyvisible", "--name", name])
        .env("DISPLAY", display)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .map(str::to_owned)
}

fn run(display: &str, args: &[&str]) -> Result<(), String> {
    let status = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .status()
        .map_err(|e| format!("xdotool: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("xdotool {args:?} failed"))
}

/// PSS of `pid` and all its descendants: (pid, name, kB).
fn pss_kb(pid: u32) -> Vec<(u32, String, u64)> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let dir = PathBuf::from(format!("/proc/{p}"));
        let name = std::fs::read_to_string(dir.join("comm"))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        out.push((p, name, read_pss(&dir)));
        todo.extend(children(p));
    }
    out
}

fn read_pss(dir: &Path) -> u64 {
    std::fs::read_to_string(dir.join("smaps_rollup"))
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("Pss:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| {
                    // The name field may hold spaces; the parent id follows the closing ')'.
                    let rest = &s[s.rfind(')')? + 2..];
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}
