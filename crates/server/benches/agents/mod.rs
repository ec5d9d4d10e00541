//! Real `worktrace` agents among the fleet's simulated PCs: the agent binary of this build,
//! each with a data folder of its own, its device secret in the real Secret Service (a private
//! session, see the testkit), tracking two real windows on a real X display (Xvfb + openbox)
//! that are brought to the front in turn, and syncing through the balancer on its own timer
//! with its own retries. They live through the run's faults like the simulated PCs; at the end
//! each must have delivered everything it recorded, once.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use worktrace_server::http::auth::now_ms;
use worktrace_server::model::{Actor, Role};
use worktrace_server::ops;
use worktrace_server::store::Store;
use worktrace_testkit::keyring::KeyringSession;
use worktrace_testkit::{TestWindow, XSession};

use crate::seed::BenchResult;

/// How long an agent may take to write its first status on a busy machine.
const START_PATIENCE: Duration = Duration::from_secs(60);
/// How long the agents may take to deliver what they hold once the run is over.
const DELIVERY_PATIENCE: Duration = Duration::from_secs(180);

/// One real PC's folder and person.
struct Folder {
    dir: tempfile::TempDir,
    user: i64,
}

impl Folder {
    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("agent.log")).unwrap_or_default()
    }
}

/// What the agents share: the binary, the keychain, the display and its windows, the folders.
/// Shared with the thread that works at the display.
struct Desk {
    bin: PathBuf,
    keyring: KeyringSession,
    x: XSession,
    windows: Vec<TestWindow>,
    folders: Vec<Folder>,
}

impl Desk {
    /// `worktrace ARGS` in PC `i`'s folder (never the machine's own settings or keychain).
    fn command(&self, i: usize, args: &[&str]) -> Command {
        let f = &self.folders[i];
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", f.dir.path())
            .env("WORKTRACE_DATA_DIR", f.data_dir())
            .env("WORKTRACE_CONFIG", f.dir.path().join("worktrace.toml"))
            .env("WORKTRACE_MACHINE_CONFIG", "")
            .env("WORKTRACE_TIME_ZONE", "UTC")
            .env("DBUS_SESSION_BUS_ADDRESS", self.keyring.address())
            .env("DISPLAY", self.x.display())
            .stdin(Stdio::null());
        cmd
    }

    /// `worktrace ARGS` on PC `i`: what it printed, or why it failed.
    fn ok(&self, i: usize, args: &[&str]) -> BenchResult<String> {
        let out = self.command(i, args).output()?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "worktrace {args:?} on real PC {i} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
            .into())
        }
    }

    /// Brings window `turn % 2` to the front and moves the pointer: the agents end a span
    /// and see input.
    fn switch(&self, turn: usize) -> BenchResult<()> {
        self.x.activate(&self.windows[turn % self.windows.len()])?;
        self.x.input()?;
        Ok(())
    }
}

/// What the agents' own status said during the run: each distinct "Last error" text
/// (without its time), with how often it was read.
type Seen = Vec<(String, u64)>;

/// The real agents of a run.
pub struct RealPcs {
    desk: Arc<Desk>,
    agents: Vec<Child>,
    seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
    worker: Option<std::thread::JoinHandle<BenchResult<()>>>,
}

/// What the agents delivered, checked.
pub struct Delivery {
    pub lines: Vec<String>,
    pub problems: Vec<String>,
}

impl RealPcs {
    /// Starts `n` agents for people of their own in `team` of `org`, enrolled with one-time
    /// tokens through `base` (the balancer), syncing every `sync_secs`, and a thread that
    /// works at the display until [`RealPcs::finish`]: every second it brings the other
    /// window to the front (each switch ends a span the agents then upload) and reads each
    /// agent's status, noting the errors they report.
    pub async fn start(
        n: usize,
        store: &Store,
        org: i64,
        team: i64,
        base: &str,
        sync_secs: u64,
    ) -> BenchResult<RealPcs> {
        let bin = worktrace_testkit::server::built_binary(
            "worktrace-agent",
            "worktrace",
            &std::env::current_exe()?,
            env!("CARGO"),
            env!("CARGO_MANIFEST_DIR"),
        )?;
        let keyring = KeyringSession::start()?;
        let x = XSession::start()?;
        let windows = vec![
            x.spawn_xterm("Alpha Terminal")?,
            x.spawn_window("betaapp", "Beta Report")?,
        ];
        let mut folders = Vec::with_capacity(n);
        for i in 0..n {
            let user = ops::add_user(
                store.as_ref(),
                org,
                Actor::ServerCli,
                &format!("agent{i}@fleet.test"),
                &format!("Agent PC {i}"),
                Role::Employee,
                None,
                64,
                1,
            )
            .await?;
            ops::set_membership(
                store.as_ref(),
                org,
                Actor::ServerCli,
                team,
                user.id,
                false,
                1,
            )
            .await?;
            let (token, _) = ops::create_enrollment_token(
                store.as_ref(),
                org,
                Actor::ServerCli,
                user.id,
                1,
                now_ms(),
            )
            .await?;
            let dir = tempfile::tempdir()?;
            std::fs::write(
                dir.path().join("worktrace.toml"),
                format!(
                    "[agent]\npoll_interval_ms = 250\ncheckpoint_interval_ms = 500\n\
                     pulsetime_ms = 2000\n\n[server]\nurl = \"{base}\"\n\
                     enrollment_token = \"{token}\"\nsync_interval_secs = {sync_secs}\n"
                ),
            )?;
            folders.push(Folder { dir, user: user.id });
        }
        let desk = Arc::new(Desk {
            bin,
            keyring,
            x,
            windows,
            folders,
        });
        desk.switch(0)?;
        let mut agents = Vec::with_capacity(n);
        for i in 0..n {
            desk.ok(i, &["clock-in"])?;
            agents.push(start_agent(&desk, i)?);
        }
        let (seen, stop) = (Arc::<Mutex<Seen>>::default(), Arc::<AtomicBool>::default());
        let worker = {
            let (desk, seen, stop) = (Arc::clone(&desk), Arc::clone(&seen), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut turn = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    turn += 1;
                    desk.switch(turn)?;
                    for i in 0..desk.folders.len() {
                        let status = desk.ok(i, &["status"]).unwrap_or_default();
                        if let Some(error) = last_error(&status) {
                            let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
                            match seen.iter_mut().find(|(e, _)| *e == error) {
                                Some((_, n)) => *n += 1,
                                None => seen.push((error, 1)),
                            }
                        }
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
                Ok(())
            })
        };
        Ok(RealPcs {
            desk,
            agents,
            seen,
            stop,
            worker: Some(worker),
        })
    }

    /// Ends the run for the agents: stops them (SIGTERM: each saves its open span), sends what
    /// they hold (`sync --now`, again until nothing is queued), and checks against the server's
    /// database at `url` that every record of each PC's chain arrived (the device's chain head
    /// is the PC's record count) and that the PC's days `from..=to` hold on the server exactly
    /// the active time the PC recorded (nothing lost, nothing counted twice).
    pub async fn finish(&mut self, url: &str, from: &str, to: &str) -> BenchResult<Delivery> {
        self.stop.store(true, Ordering::Relaxed);
        let mut problems = Vec::new();
        if let Some(worker) = self.worker.take() {
            match worker.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => problems.push(format!("working at the real PCs' display: {e}")),
                Err(_) => problems.push("the thread at the real PCs' display panicked".into()),
            }
        }
        let desk = &self.desk;
        for (i, child) in std::mem::take(&mut self.agents).into_iter().enumerate() {
            Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()?;
            let out = child.wait_with_output()?;
            if !out.status.success() {
                problems.push(format!(
                    "the agent of real PC {i} did not exit cleanly on SIGTERM ({}): {}",
                    out.status,
                    desk.folders[i].log()
                ));
            }
        }
        let (db, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        let mut lines = Vec::new();
        for i in 0..desk.folders.len() {
            let until = Instant::now() + DELIVERY_PATIENCE;
            let status = loop {
                let _ = desk.ok(i, &["sync", "--now"]);
                let status = desk.ok(i, &["status"])?;
                if status.contains("Queued: 0 items\n") && !status.contains("Last error") {
                    break status;
                }
                if Instant::now() > until {
                    problems.push(format!(
                        "real PC {i} still holds undelivered records after {} s: {status}",
                        DELIVERY_PATIENCE.as_secs()
                    ));
                    break status;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            };
            let device: i64 = status
                .split("as device ")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|id| id.parse().ok())
                .ok_or_else(|| format!("real PC {i}'s status names no device: {status}"))?;
            let verify = desk.ok(i, &["verify"])?;
            let records: i64 = verify
                .strip_prefix("ok: ")
                .and_then(|rest| rest.split(' ').next())
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("real PC {i}'s verify counts no records: {verify}"))?;
            let args = [
                "report", "--format", "json", "--by", "day", "--from", from, "--to", to,
            ];
            let report: serde_json::Value = serde_json::from_str(&desk.ok(i, &args)?)?;
            let local_ms = report
                .as_array()
                .map(|rows| {
                    rows.iter()
                        .map(|r| r["active_seconds"].as_f64().unwrap_or(0.0))
                        .sum::<f64>()
                })
                .map(|s| (s * 1000.0).round() as i64)
                .ok_or_else(|| format!("real PC {i}'s report is not a list: {report}"))?;
            let row = db
                .query_one(
                    "SELECT (SELECT chain_seq FROM devices WHERE id = $1),
                        (SELECT count(*) FROM batches WHERE device_id = $1),
                        (SELECT coalesce(sum(active_ms), 0)::BIGINT FROM rollups
                         WHERE user_id = $2 AND hour = -1 AND day >= $3 AND day <= $4)",
                    &[&device, &desk.folders[i].user, &from, &to],
                )
                .await?;
            let (chain_seq, batches, server_ms): (Option<i64>, i64, i64) =
                (row.get(0), row.get(1), row.get(2));
            lines.push(format!(
                "real PC {i}: records={records} server_chain_head={} batches={batches} \
                 active_ms_local={local_ms} active_ms_server={server_ms}",
                chain_seq.map_or_else(|| "none".into(), |s| s.to_string())
            ));
            if chain_seq != Some(records) {
                problems.push(format!(
                    "real PC {i} recorded {records} records, the server's chain head is {chain_seq:?}"
                ));
            }
            if local_ms == 0 {
                problems.push(format!("real PC {i} recorded no active time"));
            }
            if server_ms != local_ms {
                problems.push(format!(
                    "real PC {i} recorded {local_ms} ms active, the server holds {server_ms} ms"
                ));
            }
        }
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let errors: Vec<String> = seen.iter().map(|(e, n)| format!("{n}× {e:?}")).collect();
        lines.push(format!(
            "real agents' errors read from their status during the run: {}",
            if errors.is_empty() {
                "none".to_owned()
            } else {
                errors.join(", ")
            }
        ));
        for (e, _) in seen.iter() {
            if e.contains("HTTP 500") {
                problems.push(format!("a real agent was answered: {e}"));
            }
        }
        Ok(Delivery { lines, problems })
    }

    /// The real PCs' people, to leave out of the simulated PCs' counts.
    pub fn people(&self) -> Vec<i64> {
        self.desk.folders.iter().map(|f| f.user).collect()
    }
}

/// `worktrace run --quiet` on PC `i`, its messages in `agent.log`; waits until it has
/// written its status (it holds its lock, opened its database and took a first sample).
fn start_agent(desk: &Desk, i: usize) -> BenchResult<Child> {
    let folder = &desk.folders[i];
    let log = std::fs::File::create(folder.dir.path().join("agent.log"))?;
    let mut child = desk
        .command(i, &["run", "--quiet"])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()?;
    let status = folder.data_dir().join("agent-status.json");
    let until = Instant::now() + START_PATIENCE;
    loop {
        let own = std::fs::read(&status)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .is_some_and(|s| s["pid"].as_u64() == Some(u64::from(child.id())));
        if own {
            return Ok(child);
        }
        if let Some(exit) = child.try_wait()? {
            return Err(format!(
                "the agent of real PC {i} exited at start ({exit}): {}",
                folder.log()
            )
            .into());
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "the agent of real PC {i} wrote no status within {} s",
                START_PATIENCE.as_secs()
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The error of a `worktrace status` text without its time: `Last error (…): TEXT`.
fn last_error(status: &str) -> Option<String> {
    let line = status.lines().find(|l| l.starts_with("Last error"))?;
    Some(line.split_once("): ").map_or(line, |(_, e)| e).to_owned())
}

impl Drop for RealPcs {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for mut child in self.agents.drain(..) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
