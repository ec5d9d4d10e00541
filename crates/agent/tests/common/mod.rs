//! Shared helpers for the agent's integration tests: the real `worktrace` binary, a temporary
//! data directory and settings file, and a running agent that is stopped on drop.

#![allow(dead_code)]

pub mod windows;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Env {
    pub dir: tempfile::TempDir,
    pub display: Option<String>,
}

impl Env {
    /// A fresh data directory with a settings file containing `settings` (TOML).
    pub fn new(settings: &str, display: Option<&str>) -> Env {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::write(dir.path().join("worktrace.toml"), settings).expect("write settings");
        Env {
            dir,
            display: display.map(str::to_owned),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn database(&self) -> PathBuf {
        self.data_dir().join("worktrace.db")
    }

    /// `worktrace ARGS` with this environment (never the caller's HOME, DISPLAY or config).
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_of(Path::new(env!("CARGO_BIN_EXE_worktrace")), args)
    }

    /// [`Env::command`] with the agent executable at `program` (a copy that may update
    /// itself).
    pub fn command_of(&self, program: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("WORKTRACE_DATA_DIR", self.data_dir())
            .env("WORKTRACE_CONFIG", self.dir.path().join("worktrace.toml"))
            // Never this machine's /etc/worktrace (an installed Worktrace): none unless named.
            .env("WORKTRACE_MACHINE_CONFIG", "")
            .env("WORKTRACE_TIME_ZONE", "UTC")
            .stdin(Stdio::null());
        if let Some(display) = &self.display {
            cmd.env("DISPLAY", display);
        }
        cmd
    }

    /// Runs `worktrace ARGS` to completion; panics with its output when it fails.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.output(args);
        assert!(
            out.status.success(),
            "worktrace {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn output(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("start worktrace")
    }

    /// Starts `worktrace run --quiet` and waits until it tracks (see [`wait_for_status`]).
    pub fn start_agent(&self) -> Agent {
        self.start_agent_with(self.command(&["run", "--quiet"]))
    }

    /// Starts the agent with `run` (`worktrace run` from [`Env::command`], perhaps with more
    /// environment) and waits until it tracks (see [`wait_for_status`]).
    pub fn start_agent_with(&self, mut run: Command) -> Agent {
        let child = run
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the agent");
        let mut agent = Agent { child: Some(child) };
        wait_for_status(&self.data_dir(), &mut agent);
        agent
    }

    /// `report` as parsed JSON.
    pub fn report_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["report", "--format", "json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).expect("report prints JSON")
    }
}

/// How long an agent may take to start on a busy machine (open and check the database,
/// start export detection, take the first sample).
pub const START_PATIENCE: Duration = Duration::from_secs(60);

/// `agent-status.json` in `data_dir`, parsed; `None` while there is none (or it is being
/// replaced).
pub fn agent_status(data_dir: &Path) -> Option<serde_json::Value> {
    let bytes = std::fs::read(data_dir.join("agent-status.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Waits until the status file in `data_dir` names `agent`'s own process: the agent writes it
/// after its first sample, once it holds the lock, has opened the database and started export
/// detection. A status an earlier agent left behind (killed, it could not remove it) names
/// another process and does not count. Panics with the agent's messages if it exits first.
pub fn wait_for_status(data_dir: &Path, agent: &mut Agent) -> serde_json::Value {
    let until = Instant::now() + START_PATIENCE;
    let child = agent.child.as_mut().expect("a running agent");
    let pid = u64::from(child.id());
    loop {
        if let Some(status) = agent_status(data_dir).filter(|s| s["pid"].as_u64() == Some(pid)) {
            return status;
        }
        if let Ok(Some(_)) = child.try_wait() {
            let out = agent
                .child
                .take()
                .expect("a running agent")
                .wait_with_output()
                .expect("collect the agent's output");
            panic!(
                "the agent exited at start ({}) before writing its status: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(
            Instant::now() < until,
            "the agent (pid {pid}) wrote no status within {} s",
            START_PATIENCE.as_secs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the agent's status in `data_dir` names `app` as the window in front: the
/// agent has taken a sample of it (and export detection has been told).
pub fn wait_for_app(data_dir: &Path, app: &str) {
    wait_for(
        START_PATIENCE,
        &format!("the agent to see {app} in front"),
        || agent_status(data_dir).is_some_and(|s| s["app"] == app),
    );
}

#[derive(Debug)]
pub struct Agent {
    pub child: Option<Child>,
}

impl Agent {
    /// SIGTERM and wait: the agent saves its open records and exits 0.
    pub fn stop(mut self) -> Output {
        let child = self.child.take().expect("running");
        signal(&child, "TERM");
        let out = child.wait_with_output().expect("wait for the agent");
        assert!(
            out.status.success(),
            "the agent exits cleanly on SIGTERM: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// SIGKILL: no chance to save anything.
    pub fn kill(mut self) {
        let mut child = self.child.take().expect("running");
        signal(&child, "KILL");
        let _ = child.wait();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([format!("-{name}"), child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} {}", child.id());
}

/// The SHA-256 of the file at `path`, lowercase hex (the name a release is spooled under).
pub fn sha256_of(path: &Path) -> String {
    use sha2::Digest;
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Polls `ready` every 50 ms until it holds; panics after `limit` naming what it waited for.
pub fn wait_for(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let until = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sum of a numeric field over a JSON report array.
pub fn total(report: &serde_json::Value, field: &str) -> f64 {
    report
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r[field].as_f64().unwrap_or(0.0))
        .sum()
}

/// The row whose key field equals `key`.
pub fn row<'a>(
    report: &'a serde_json::Value,
    key_field: &str,
    key: &str,
) -> Option<&'a serde_json::Value> {
    report
        .as_array()
        .expect("array")
        .iter()
        .find(|r| r[key_field] == key)
}

/// Keeps the user "active" on the display for `d` by moving the pointer; returns the measured
/// duration.
pub fn work_for(x: &worktrace_testkit::XSession, d: Duration) -> Duration {
    let start = Instant::now();
    while start.elapsed() < d {
        x.input().expect("inject input");
        std::thread::sleep(Duration::from_millis(300));
    }
    start.elapsed()
}

/// Runs `f` while the user is "active" on the display (pointer moves every 300 ms on another
/// thread), so that however long `f` takes, the user is never idle meanwhile.
pub fn with_input<T>(x: &worktrace_testkit::XSession, f: impl FnOnce() -> T) -> T {
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                x.input().expect("inject input");
                std::thread::sleep(Duration::from_millis(300));
            }
        });
        let _done = SetOnDrop(&done);
        f()
    })
}

/// Sets the flag when dropped, also when a panic unwinds: a thread that waits for the flag
/// ends, and the test fails instead of hanging.
pub struct SetOnDrop<'a>(pub &'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The idle period `status` asks a decision for (`worktrace decide START …`): its START.
pub fn idle_to_decide(status: &str) -> String {
    status
        .lines()
        .find_map(|l| l.split("worktrace decide ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("status names the idle period to decide: {status}"))
        .to_owned()
}

/// `exports --format json` output (one row per incident) as rows.
pub fn export_rows(json: &str) -> Vec<serde_json::Value> {
    serde_json::from_str::<serde_json::Value>(json)
        .expect("exports prints JSON")
        .as_array()
        .cloned()
        .expect("an array")
}

/// The rows of one export kind.
pub fn of_kind<'a>(rows: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    rows.iter().filter(|r| r["export_kind"] == kind).collect()
}

/// Milliseconds since 1970 by the wall clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}

/// A small deterministic generator so a failing run can be repeated with its seed.
pub struct Lcg(pub u64);

impl Lcg {
    /// The seed from `WORKTRACE_CRASH_SEED`, else the clock; printed so a run can be repeated.
    pub fn from_env() -> Lcg {
        let seed = std::env::var("WORKTRACE_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| now_ms() as u64);
        println!("crash test seed {seed} (repeat with WORKTRACE_CRASH_SEED={seed})");
        Lcg(seed)
    }

    pub fn next_ms(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        lo + (self.0 >> 33) % (hi - lo)
    }
}

/// The latest instant of window time `started` or later that the agent's database at `path`
/// holds committed, as final records or in its checkpoint of open spans; `started` when none.
/// Read by another connection, as a second process would: what a crash can no longer lose.
pub fn saved_until(path: &Path, started: i64) -> i64 {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .expect("open the agent's database read-only");
    conn.busy_timeout(Duration::from_secs(30))
        .expect("busy timeout");
    let in_records: Option<i64> = conn
        .query_row(
            "SELECT MAX(end_ms) FROM records WHERE kind = 'window' AND end_ms > ?1",
            [started],
            |r| r.get(0),
        )
        .expect("read the records");
    let mut stmt = conn
        .prepare("SELECT body FROM checkpoint WHERE kind = 'window'")
        .expect("read the checkpoint");
    let in_checkpoint = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .expect("read the checkpoint")
        .filter_map(|body| {
            match serde_json::from_str::<worktrace_domain::Record>(&body.ok()?).ok()? {
                worktrace_domain::Record::Window(s) if s.end > started => Some(s.end),
                _ => None,
            }
        })
        .max();
    in_records.max(in_checkpoint).unwrap_or(started)
}

/// The latest recorded instant of the run `started..=killed`: the end of any window span
/// ending inside it (a span may start a little before: at the clock-in, or at the previous
/// run's end when the restart came within pulsetime); `started` when none.
fn recorded_until(records: &[worktrace_domain::Record], started: i64, killed: i64) -> i64 {
    records
        .iter()
        .filter_map(|r| match r {
            worktrace_domain::Record::Window(s) if s.end > started && s.end <= killed => {
                Some(s.end)
            }
            _ => None,
        })
        .max()
        .unwrap_or(started)
}

/// Checks each killed run `(started, committed, killed)` against the window spans recorded:
/// after recovery the database holds the run's window time up to at least `committed` (what
/// it held committed just before the kill), so a kill loses nothing the agent had saved.
/// Returns, per run, how much window time before the kill was lost (what the checkpoint
/// interval and the machine's load decide; reported, never asserted).
pub fn assert_each_kill_kept_what_was_saved(
    records: &[worktrace_domain::Record],
    runs: &[(i64, i64, i64)],
) -> Vec<i64> {
    let mut lost = Vec::with_capacity(runs.len());
    for (i, (started, committed, killed)) in runs.iter().enumerate() {
        let saved_until = recorded_until(records, *started, *killed);
        assert!(
            saved_until >= (*committed).min(*killed),
            "kill {i}: the database held window time up to {committed} before the kill, but \
             after recovery only up to {saved_until} (run {started}..{killed}): a kill lost \
             saved time"
        );
        lost.push(killed - saved_until);
    }
    lost
}

/// Checks each killed run `(started, killed)` against the window spans recorded: the latest
/// span end inside the run is at most `limit_ms` before the kill. A bound in time, which a
/// loaded machine can break: only the Windows agent's test still uses it (its database is
/// written through Wine's locks, which a Linux reader does not take, so
/// [`saved_until`] cannot read it safely while the agent runs).
pub fn assert_each_kill_lost_at_most(
    records: &[worktrace_domain::Record],
    runs: &[(i64, i64)],
    limit_ms: i64,
) {
    for (i, (started, killed)) in runs.iter().enumerate() {
        let saved_until = recorded_until(records, *started, *killed);
        let lost = killed - saved_until;
        assert!(
            lost <= limit_ms,
            "kill {i}: lost {lost} ms of recorded time (run {started}..{killed}); at most \
             {limit_ms} ms (the checkpoint interval + one poll + slack) may be lost"
        );
    }
}

/// The database at `path` (read in UTC with midnight day starts) and every record in it.
pub fn all_records(path: &Path) -> (worktrace_store::Store, Vec<worktrace_domain::Record>) {
    let clock = worktrace_store::DayClock {
        tz: chrono_tz::UTC,
        day_start: chrono::NaiveTime::MIN,
    };
    let store = worktrace_store::Store::open(path, clock).expect("open the database");
    let records = store
        .records_between(0, i64::MAX)
        .expect("records")
        .into_iter()
        .map(|r| r.record)
        .collect();
    (store, records)
}

/// Unmounts the mount point when dropped (lazily, so a test that fails still cleans up).
pub struct Unmount(pub PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Runs `cmd` (named `what` in the message) to its end; panics with all it printed unless it
/// succeeded.
pub fn succeeds(cmd: &mut Command, what: &str) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
