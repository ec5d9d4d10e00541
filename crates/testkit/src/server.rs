//! The real `worktrace-server` binary as a child process for tests: `admin` commands on a data
//! directory, and `serve` started, waited for until it prints its address, restarted on the
//! same port, signalled and killed. Stopped on drop.
//!
//! The launcher waits for what the server says (the address line it prints once it listens),
//! never for a fixed time, and keeps everything the server logs for the test's messages.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long a start may take on a busy machine before the test fails with the server's log.
const PATIENCE: Duration = Duration::from_secs(120);

/// The binary `bin` of the workspace package `package` in this build, built through cargo
/// first (a no-op when it is up to date): `cargo test` builds only the tested package's
/// binaries, so a test of another crate calls this (the agent's tests for `worktrace-server`,
/// the server's fleet bench for the agent's `worktrace`); a package's own tests use
/// `env!("CARGO_BIN_EXE_…")`.
///
/// `test_exe` is the running test (`std::env::current_exe()`), which lives in
/// `<target>/<profile>/deps`; `cargo` and `manifest_dir` are the caller's `env!("CARGO")` and
/// `env!("CARGO_MANIFEST_DIR")`.
pub fn built_binary(
    package: &str,
    bin: &str,
    test_exe: &Path,
    cargo: &str,
    manifest_dir: &str,
) -> Result<PathBuf, String> {
    let profile_dir = test_exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| format!("{} is not in <target>/<profile>/deps", test_exe.display()))?;
    let target = profile_dir
        .parent()
        .ok_or_else(|| format!("{} has no target directory", profile_dir.display()))?;
    let mut build = Command::new(cargo);
    build
        .args(["build", "--quiet", "-p", package, "--bin", bin])
        .env("CARGO_TARGET_DIR", target)
        .current_dir(manifest_dir);
    if profile_dir.file_name().is_some_and(|p| p == "release") {
        build.arg("--release");
    }
    let status = build
        .status()
        .map_err(|e| format!("cannot run cargo to build {bin}: {e}"))?;
    if !status.success() {
        return Err(format!("building {bin} failed: {status}"));
    }
    let path = profile_dir.join(bin);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!("{} was not built", path.display()))
    }
}

/// Runs `bin --data-dir DIR admin ARGS…` with `stdin` as its standard input (closed when
/// `None`) and returns what it printed and how it ended.
pub fn admin(bin: &Path, data_dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(bin)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("admin")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input.as_bytes())
            .expect("the admin command reads its standard input");
    }
    child.wait_with_output().expect("the admin command ends")
}

/// `admin` that must succeed: its standard output, trimmed; fails the test with both streams
/// otherwise.
pub fn admin_ok(bin: &Path, data_dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let out = admin(bin, data_dir, args, stdin);
    assert!(
        out.status.success(),
        "admin {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// `admin` that must fail: its standard error.
pub fn admin_fails(bin: &Path, data_dir: &Path, args: &[&str]) -> String {
    let out = admin(bin, data_dir, args, None);
    assert!(
        !out.status.success(),
        "admin {args:?} must fail; it printed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Everything the server wrote to its standard error (and to its standard output after the
/// address line), with a signal for whoever waits for a line.
#[derive(Debug, Default)]
struct Log {
    text: Mutex<String>,
    grew: Condvar,
}

impl Log {
    fn push(&self, line: &str) {
        let mut text = self.text.lock().unwrap_or_else(|p| p.into_inner());
        text.push_str(line);
        text.push('\n');
        self.grew.notify_all();
    }

    fn text(&self) -> String {
        self.text.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

fn drain(
    stream: impl Read + Send + 'static,
    log: Arc<Log>,
    first: Option<mpsc::Sender<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut first = first;
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            match first.take() {
                Some(tx) => {
                    let _ = tx.send(line);
                }
                None => log.push(&line),
            }
        }
    })
}

/// `worktrace-server serve` over one data directory, on one address for its whole life (so a
/// restart keeps the URL the agents know).
#[derive(Debug)]
pub struct ServerProcess {
    bin: PathBuf,
    data: PathBuf,
    _dir: Option<tempfile::TempDir>,
    listen: String,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    child: Option<Child>,
    log: Arc<Log>,
    /// What the earlier starts logged (a node killed and started again).
    earlier: String,
    printed: String,
}

impl ServerProcess {
    /// A server of `bin` over a fresh temporary data directory, to listen on a free loopback
    /// port. Nothing runs until `start`.
    pub fn new(bin: impl Into<PathBuf>) -> ServerProcess {
        let dir = tempfile::tempdir().expect("a temporary data directory");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        ServerProcess {
            bin: bin.into(),
            data: dir.path().to_owned(),
            _dir: Some(dir),
            listen: format!("127.0.0.1:{port}"),
            args: Vec::new(),
            envs: Vec::new(),
            child: None,
            log: Arc::default(),
            earlier: String::new(),
            printed: String::new(),
        }
    }

    /// Uses this data directory (kept after the server) instead of a temporary one.
    pub fn data_dir_at(mut self, dir: &Path) -> ServerProcess {
        self.data = dir.to_owned();
        self._dir = None;
        self
    }

    /// Listens on `addr` (`--listen`), e.g. `0.0.0.0:0`; the URL is then read from what the
    /// server prints.
    pub fn listen(mut self, addr: &str) -> ServerProcess {
        addr.clone_into(&mut self.listen);
        self
    }

    /// More `serve` arguments.
    pub fn args<I, S>(mut self, args: I) -> ServerProcess
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// An environment variable for the server (e.g. `RUST_LOG`).
    pub fn env(mut self, key: &str, value: &str) -> ServerProcess {
        self.envs.push((key.into(), value.into()));
        self
    }

    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// `admin ARGS…` on this server's data directory; must succeed (see [`admin_ok`]).
    pub fn admin(&self, args: &[&str], stdin: Option<&str>) -> String {
        admin_ok(&self.bin, &self.data, args, stdin)
    }

    /// Starts `serve` and returns once it printed the address it serves on. When it exits
    /// because the address is still held (by the process killed before), it is started again
    /// once the address is free. A server that fails otherwise, or does not answer within
    /// two minutes, is an error carrying its log.
    pub fn start(&mut self) -> Result<(), String> {
        assert!(self.child.is_none(), "the server is already running");
        let until = Instant::now() + PATIENCE;
        loop {
            self.earlier.push_str(&self.log.text());
            self.log = Arc::default();
            let mut child = Command::new(&self.bin)
                .arg("--data-dir")
                .arg(&self.data)
                .args(["serve", "--listen", &self.listen])
                .args(&self.args)
                .envs(self.envs.iter().map(|(k, v)| (k, v)))
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", self.bin.display()))?;
            let (tx, rx) = mpsc::channel();
            if let Some(out) = child.stdout.take() {
                drain(out, Arc::clone(&self.log), Some(tx));
            }
            let errors = child
                .stderr
                .take()
                .map(|err| drain(err, Arc::clone(&self.log), None));
            let left = until.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    self.printed = line;
                    self.child = Some(child);
                    return Ok(());
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "worktrace-server did not print its address within {} s; its log:\n{}",
                        PATIENCE.as_secs(),
                        self.log.text()
                    ));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().map_err(|e| e.to_string())?;
                    // The process has ended, so its standard error reaches its end.
                    if let Some(reader) = errors {
                        let _ = reader.join();
                    }
                    let log = self.log.text();
                    let held = log.contains("cannot listen on") && log.contains("in use");
                    if !held || Instant::now() >= until {
                        return Err(format!(
                            "worktrace-server exited ({status}) before serving; its log:\n{log}"
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    /// The line the server printed when it started listening.
    pub fn printed(&self) -> &str {
        &self.printed
    }

    /// The base URL the server printed (`http://…` or `https://…`).
    pub fn url(&self) -> String {
        self.printed
            .split_whitespace()
            .find(|w| w.starts_with("http://") || w.starts_with("https://"))
            .unwrap_or_else(|| panic!("no URL in the server's line {:?}", self.printed))
            .to_owned()
    }

    /// The address the server listens on, from the URL it printed.
    pub fn addr(&self) -> std::net::SocketAddr {
        let url = self.url();
        let host = url
            .split("://")
            .nth(1)
            .unwrap_or(&url)
            .trim_end_matches('/');
        host.parse()
            .unwrap_or_else(|e| panic!("the server's URL {url} has no address: {e}"))
    }

    /// What the server has logged since its last start.
    pub fn log(&self) -> String {
        self.log.text()
    }

    /// What every start of this server logged, the earlier ones first.
    pub fn log_of_all_starts(&self) -> String {
        format!("{}{}", self.earlier, self.log.text())
    }

    /// Waits until the log holds `needle`; the whole log then, or an error with it.
    pub fn wait_for_log(&self, needle: &str, patience: Duration) -> Result<String, String> {
        let until = Instant::now() + patience;
        let mut text = self.log.text.lock().unwrap_or_else(|p| p.into_inner());
        while !text.contains(needle) {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "the server did not log {needle:?} within {} s; its log:\n{text}",
                    patience.as_secs()
                ));
            }
            text = self
                .log
                .grew
                .wait_timeout(text, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        Ok(text.clone())
    }

    /// The running server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server is running").id()
    }

    /// Sends `signal` (a `kill -s` name such as `TERM`) to the running server.
    pub fn signal(&self, signal: &str) -> Result<(), String> {
        let status = Command::new("kill")
            .args(["-s", signal, &self.pid().to_string()])
            .status()
            .map_err(|e| format!("cannot run kill: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("kill -s {signal} failed: {status}"))
        }
    }

    /// Waits for the running server to end (after a signal, or a proxy killed it) and returns
    /// how it ended.
    pub fn wait(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("the server was running");
        child.wait().expect("wait for the server")
    }

    /// Kills the server (if it runs) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
