//! Footprint of the headless agent: runs the release `worktrace run` on a real X display for a
//! while at 1 Hz and prints its resident memory and CPU use.
//!
//! ```text
//! cargo build --release -p worktrace-agent --bin worktrace
//! cargo run --release -p worktrace-agent --example footprint -- 600
//! ```
//!
//! With `WORKTRACE_BIN` naming a Windows build (`….exe`), the same under Wine in a fresh
//! prefix, with a Wine window in front; it also prints the private memory of the agent's
//! process and the CPU of the prefix's `wineserver` (Wine's share of the work):
//!
//! ```text
//! cargo build --release --target x86_64-pc-windows-gnu -p worktrace-agent --bin worktrace
//! WORKTRACE_BIN=target/x86_64-pc-windows-gnu/release/worktrace.exe \
//!   cargo run --release -p worktrace-agent --example footprint -- 600
//! ```

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use worktrace_testkit::XSession;

fn proc_field(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Private memory (clean + dirty) of a process, in kB.
fn private_kb(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    Some(field("Private_Clean:")? + field("Private_Dirty:")?)
}

/// The pid of the `wineserver` of the prefix at `prefix`, if one runs.
fn wineserver_pid(prefix: &std::path::Path) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        if !String::from_utf8_lossy(&cmd).contains("wineserver") {
            return None;
        }
        let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
        let wanted = format!("WINEPREFIX={}", prefix.display());
        env.split(|&b| b == 0)
            .any(|kv| kv == wanted.as_bytes())
            .then_some(pid)
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(600);
    let binary =
        std::env::var("WORKTRACE_BIN").unwrap_or_else(|_| "target/release/worktrace".into());
    let ticks_per_s: f64 =
        String::from_utf8(Command::new("getconf").arg("CLK_TCK").output()?.stdout)?
            .trim()
            .parse()?;

    let x = XSession::start()?;
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("none.toml"), "")?;
    let windows = binary.ends_with(".exe");
    let prefix = if windows {
        Some(worktrace_testkit::wine::WinePrefix::new(Some(x.display()))?)
    } else {
        None
    };
    let mut command = match &prefix {
        Some(prefix) => {
            let notepad = x.spawn_program(prefix.command("notepad"), "Untitled - Notepad")?;
            x.activate(&notepad)?;
            prefix.command(std::path::absolute(&binary)?)
        }
        None => {
            let w = x.spawn_window("footprint", "Footprint window")?;
            x.activate(&w)?;
            Command::new(&binary)
        }
    };
    let mut agent = command
        .args(["run", "--clock-in", "--quiet"])
        .env("DISPLAY", x.display())
        .env("WORKTRACE_DATA_DIR", dir.path())
        .env("WORKTRACE_CONFIG", dir.path().join("none.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()?;
    let pid = agent.id();
    // Let start-up settle, then measure a steady window.
    std::thread::sleep(Duration::from_secs(5));
    let server = prefix.as_ref().and_then(|p| wineserver_pid(p.path()));
    let s0 = server.and_then(cpu_ticks).unwrap_or(0);
    let t0 = Instant::now();
    let c0 = cpu_ticks(pid).ok_or("agent exited")?;
    while t0.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(Duration::from_secs(1));
        if t0.elapsed().as_secs().is_multiple_of(60) {
            x.input()?;
        }
    }
    let c1 = cpu_ticks(pid).ok_or("agent exited")?;
    let s1 = server.and_then(cpu_ticks).unwrap_or(0);
    let wall = t0.elapsed().as_secs_f64();
    let rss = proc_field(pid, "VmRSS:").unwrap_or(0);
    let hwm = proc_field(pid, "VmHWM:").unwrap_or(0);
    let private = private_kb(pid).unwrap_or(0);
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let _ = agent.wait();
    let cpu = (c1 - c0) as f64 / ticks_per_s;
    println!("measured {wall:.0} s at 1 Hz polling");
    println!("CPU: {cpu:.2} s = {:.3}% of one core", 100.0 * cpu / wall);
    println!(
        "resident memory: {:.1} MB now, {:.1} MB peak; private {:.1} MB",
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0,
        private as f64 / 1024.0
    );
    if windows {
        let server_cpu = s1.saturating_sub(s0) as f64 / ticks_per_s;
        println!(
            "wineserver CPU: {server_cpu:.2} s = {:.3}% of one core (found: {})",
            100.0 * server_cpu / wall,
            server.is_some()
        );
    }
    Ok(())
}
