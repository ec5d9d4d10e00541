//! The Windows agent (`worktrace.exe`, built for x86_64-pc-windows-gnu) under Wine, in a fresh
//! Wine prefix per test: its data folder and settings file live in the prefix's `C:\worktrace`.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use worktrace_testkit::wine::{self, WinePrefix};

use super::wait_for;

/// How long one `worktrace.exe` command may take under Wine on a busy machine.
const COMMAND_PATIENCE: Duration = Duration::from_secs(120);

#[derive(Debug)]
pub struct WinEnv {
    pub prefix: WinePrefix,
    pub exe: PathBuf,
    /// Extra environment for every `worktrace.exe` (e.g. `TZ`, which Wine turns into the
    /// Windows time zone).
    pub env: Vec<(String, String)>,
}

impl WinEnv {
    /// A fresh prefix with `settings` (TOML) as `C:\worktrace\worktrace.toml`; Windows
    /// programs use `display`.
    pub fn new(settings: &str, display: Option<&str>) -> WinEnv {
        let exe = wine::windows_binary(env!("CARGO_BIN_EXE_worktrace").as_ref(), "worktrace")
            .expect("the Windows build of worktrace");
        let prefix = WinePrefix::new(display).expect("a fresh Wine prefix");
        let env = WinEnv {
            prefix,
            exe,
            env: vec![("TZ".into(), "UTC".into())],
        };
        std::fs::create_dir_all(env.root()).expect("C:\\worktrace");
        std::fs::write(env.root().join("worktrace.toml"), settings).expect("write settings");
        env
    }

    /// `C:\worktrace` as a Linux path.
    pub fn root(&self) -> PathBuf {
        self.prefix.drive_c().join("worktrace")
    }

    /// The data folder as a Linux path.
    pub fn data_dir(&self) -> PathBuf {
        self.root().join("data")
    }

    pub fn database(&self) -> PathBuf {
        self.data_dir().join("worktrace.db")
    }

    /// `worktrace.exe ARGS` under Wine with this environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.prefix.command(&self.exe);
        cmd.args(args)
            .env("WORKTRACE_DATA_DIR", r"C:\worktrace\data")
            .env("WORKTRACE_CONFIG", r"C:\worktrace\worktrace.toml")
            // Plain log lines: the Windows console has no ANSI colours by default.
            .env("NO_COLOR", "1");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn output(&self, args: &[&str]) -> Output {
        let shown = format!("worktrace.exe {args:?}");
        wine::run_to_end(self.command(args), &shown, COMMAND_PATIENCE)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs `worktrace.exe ARGS`; panics with its output when it fails.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.output(args);
        assert!(
            out.status.success(),
            "worktrace.exe {args:?} failed: {}",
            how_it_ended(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `report` as parsed JSON.
    pub fn report_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["report", "--format", "json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).expect("report prints JSON")
    }

    /// Starts `worktrace.exe run --quiet` and waits until it reports its status (it has taken
    /// the lock, opened the database and read the first sample).
    pub fn start_agent(&self) -> WinAgent {
        let status = self.data_dir().join("agent-status.json");
        let _ = std::fs::remove_file(&status);
        let child = self
            .command(&["run", "--quiet"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start worktrace.exe run");
        let mut agent = WinAgent { child: Some(child) };
        wait_for(
            Duration::from_secs(120),
            "the Windows agent's first status",
            || {
                if let Some(Ok(Some(status))) = agent.child.as_mut().map(Child::try_wait) {
                    panic!("the Windows agent exited at start with {status}");
                }
                std::fs::read(&status)
                    .ok()
                    .is_some_and(|b| serde_json::from_slice::<serde_json::Value>(&b).is_ok())
            },
        );
        agent
    }

    /// Asks every `worktrace.exe` of the prefix to end as Windows would (`taskkill` without
    /// `/F` posts `WM_CLOSE` to their windows).
    pub fn taskkill(&self, force: bool) -> Output {
        let mut cmd = self.prefix.command("taskkill");
        cmd.args(["/IM", "worktrace.exe"]);
        if force {
            cmd.arg("/F");
        }
        wine::run_to_end(cmd, "taskkill", COMMAND_PATIENCE).unwrap_or_else(|e| panic!("{e}"))
    }
}

/// A running `worktrace.exe run`; killed on drop.
#[derive(Debug)]
pub struct WinAgent {
    pub child: Option<Child>,
}

impl WinAgent {
    /// Stops the agent the way Windows asks a program to end (`taskkill /IM worktrace.exe`,
    /// i.e. `WM_CLOSE` to its hidden window) and waits: it saves its open records and exits 0.
    pub fn stop(mut self, env: &WinEnv) -> Output {
        let child = self.child.take().expect("running");
        let asked = env.taskkill(false);
        assert!(
            asked.status.success(),
            "taskkill finds the agent: {}{}",
            String::from_utf8_lossy(&asked.stdout),
            String::from_utf8_lossy(&asked.stderr)
        );
        let out = wait_output(child, COMMAND_PATIENCE, "the agent to stop after WM_CLOSE");
        assert!(
            out.status.success(),
            "the agent exits cleanly on WM_CLOSE ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// SIGKILL to the Wine process: like `taskkill /F`, no chance to save anything.
    pub fn kill(mut self) {
        let mut child = self.child.take().expect("running");
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for WinAgent {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits for `child` to end (killing it after `patience`) and collects its output (without
/// waiting for pipes that Wine's own processes may hold open).
fn wait_output(child: Child, patience: Duration, what: &str) -> Output {
    wine::collect(child, what, patience).unwrap_or_else(|e| panic!("waiting for {what}: {e}"))
}

/// How a `worktrace.exe` command ended, for an assertion message: its status and all it
/// printed. The program's own errors always print `worktrace: …` and exit with 1, so a
/// silent end or a Unix signal means Wine ended it; the message then says how to see why.
pub fn how_it_ended(out: &Output) -> String {
    let wine_ended_it = out.status.code().is_none()
        || (out.stdout.is_empty() && out.stderr.is_empty() && !out.status.success());
    format!(
        "{}\nstdout: {}\nstderr: {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        if wine_ended_it {
            "\n(Wine ended it: run again with WORKTRACE_WINEDEBUG=err+all to see Wine's message)"
        } else {
            ""
        }
    )
}
