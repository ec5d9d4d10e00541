//! Windows programs built here (`x86_64-pc-windows-gnu`) run under Wine, each test in a fresh
//! Wine prefix of its own: the harness behind the Windows tests.
//!
//! Test support only. A prefix never touches the caller's home: its shell folders (Desktop,
//! Documents, Downloads) are real folders inside the prefix, and `HOME` of every Wine process
//! is a folder of the prefix. Dropping a [`WinePrefix`] ends every process running in it
//! (`wineserver -k`) and deletes it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::process;
use crate::{Error, Result};

/// The C source of the `bcryptprimitives.dll` shim that Rust programs need on Wine 8.
const SHIM_SOURCE: &str = include_str!("../wine/bcryptprimitives.c");

/// Where Debian's `wine64` package puts the 64-bit loader (the `wine` wrapper wants wine32).
const DEBIAN_WINE64: &str = "/usr/lib/wine/wine64";

/// The target triple of the Windows programs built here.
pub const WINDOWS_TARGET: &str = "x86_64-pc-windows-gnu";

/// How long `wineboot` may take to lay out a new prefix on a busy machine.
const BOOT_PATIENCE: Duration = Duration::from_secs(180);

/// The 64-bit Wine loader: Debian's, or `wine64` on `PATH`.
pub fn wine64() -> Result<PathBuf> {
    if Path::new(DEBIAN_WINE64).is_file() {
        return Ok(PathBuf::from(DEBIAN_WINE64));
    }
    process::require("wine64", "wine64")?;
    Ok(PathBuf::from("wine64"))
}

/// `wineserver` beside the loader (Debian ships it as `wineserver64` next to `wine64`).
fn wineserver() -> PathBuf {
    for name in ["wineserver", "wineserver64"] {
        let p = Path::new("/usr/lib/wine").join(name);
        if p.is_file() {
            return p;
        }
    }
    PathBuf::from("wineserver")
}

/// The Windows build of a program of this workspace, next to the host build that cargo made
/// for the test: `<target>/debug/worktrace` → `<target>/x86_64-pc-windows-gnu/debug/worktrace.exe`.
/// Fails naming the command that builds it when it is not there.
pub fn windows_binary(host_binary: &Path, name: &str) -> Result<PathBuf> {
    let profile_dir = host_binary.parent();
    let profile = profile_dir
        .and_then(Path::file_name)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| "debug".into());
    let target_dir = profile_dir
        .and_then(Path::parent)
        .ok_or_else(|| Error::Program {
            program: name.into(),
            reason: format!(
                "cannot tell the target folder from {}",
                host_binary.display()
            ),
        })?;
    let exe = target_dir
        .join(WINDOWS_TARGET)
        .join(&profile)
        .join(format!("{name}.exe"));
    if exe.is_file() {
        Ok(exe)
    } else {
        Err(Error::Program {
            program: name.into(),
            reason: format!(
                "the Windows build {} is missing: build it first with `cargo build --target \
                 {WINDOWS_TARGET} --bin {name}` (`make test` does)",
                exe.display()
            ),
        })
    }
}

/// The shim DLL, compiled once per test process with mingw-w64.
fn shim() -> Result<&'static Path> {
    static SHIM: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();
    let built = SHIM.get_or_init(|| {
        process::require("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64")
            .map_err(|e| e.to_string())?;
        let dir = std::env::temp_dir().join(format!("worktrace-wine-shim-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let source = dir.join("bcryptprimitives.c");
        std::fs::write(&source, SHIM_SOURCE).map_err(|e| format!("{}: {e}", source.display()))?;
        let dll = dir.join("bcryptprimitives.dll");
        let out = Command::new("x86_64-w64-mingw32-gcc")
            .args(["-shared", "-O2", "-o"])
            .arg(&dll)
            .arg(&source)
            .arg("-ladvapi32")
            .output()
            .map_err(|e| format!("x86_64-w64-mingw32-gcc: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "x86_64-w64-mingw32-gcc failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(dll)
    });
    built.as_deref().map_err(|reason| Error::Program {
        program: "the bcryptprimitives.dll shim".into(),
        reason: reason.clone(),
    })
}

/// Builds a small Windows test program from C source with mingw-w64 (once per name and test
/// process), for tests that must call a Win32 API the way another program would.
pub fn build_c_program(name: &str, source: &str, libs: &[&str]) -> Result<PathBuf> {
    process::require("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64")?;
    let dir = std::env::temp_dir().join(format!("worktrace-wine-tools-{}", std::process::id()));
    let fail = |reason: String| Error::Program {
        program: format!("x86_64-w64-mingw32-gcc ({name})"),
        reason,
    };
    std::fs::create_dir_all(&dir).map_err(|e| fail(e.to_string()))?;
    let exe = dir.join(format!("{name}.exe"));
    if exe.is_file() {
        return Ok(exe);
    }
    let c = dir.join(format!("{name}.c"));
    std::fs::write(&c, source).map_err(|e| fail(e.to_string()))?;
    let tmp = dir.join(format!("{name}.tmp.exe"));
    let out = Command::new("x86_64-w64-mingw32-gcc")
        .args(["-O2", "-municode", "-o"])
        .arg(&tmp)
        .arg(&c)
        .args(libs.iter().map(|l| format!("-l{l}")))
        .output()
        .map_err(|e| fail(e.to_string()))?;
    if !out.status.success() {
        return Err(fail(String::from_utf8_lossy(&out.stderr).into_owned()));
    }
    // Renamed into place only once complete, so a parallel test never runs half a file.
    std::fs::rename(&tmp, &exe).map_err(|e| fail(e.to_string()))?;
    Ok(exe)
}

/// A fresh Wine prefix (a Windows installation of its own), removed on drop.
#[derive(Debug)]
pub struct WinePrefix {
    dir: tempfile::TempDir,
    wine: PathBuf,
    display: Option<String>,
    user: String,
}

impl WinePrefix {
    /// Lays out a new prefix (`wineboot -i`, about 10 s), installs the shim into its system32
    /// and turns its shell folders into real folders inside the prefix. Windows programs
    /// started through it use `display` (an Xvfb display) for their windows.
    pub fn new(display: Option<&str>) -> Result<WinePrefix> {
        let wine = wine64()?;
        let shim = shim()?;
        let dir = tempfile::Builder::new()
            .prefix("worktrace-wine-")
            .tempdir()
            .map_err(|e| Error::Program {
                program: "wine prefix".into(),
                reason: format!("cannot create a temporary folder: {e}"),
            })?;
        let prefix = WinePrefix {
            dir,
            wine,
            display: display.map(str::to_owned),
            user: String::new(),
        };
        std::fs::create_dir_all(prefix.home()).map_err(|e| prefix.io("create its home", e))?;
        // Booted without a display: wineboot needs none, and it must not open windows.
        let mut boot = prefix.command_without_display("wineboot");
        boot.arg("-i");
        run_to_end(boot, "wineboot -i", BOOT_PATIENCE)?;
        // wineboot's own process ends before the processes it started have finished laying out
        // the prefix; a program started meanwhile may fail. One of them that never ends (seen
        // once on a CI machine: a test waited for ever) is ended, the prefix being laid out.
        if let Err(e) = prefix.wait_idle(Duration::from_secs(60)) {
            eprintln!("wine prefix: {e}; ending what wineboot left running (wineserver -k)");
            prefix.kill_all();
            prefix.wait_idle(Duration::from_secs(60))?;
        }
        let mut prefix = prefix;
        prefix.user = prefix.find_user()?;
        let system32 = prefix.drive_c().join("windows/system32");
        std::fs::copy(shim, system32.join("bcryptprimitives.dll"))
            .map_err(|e| prefix.io("install the shim", e))?;
        for folder in [
            "Desktop",
            "Documents",
            "Downloads",
            "Music",
            "Pictures",
            "Videos",
        ] {
            let path = prefix.user_profile().join(folder);
            if path.is_symlink() {
                std::fs::remove_file(&path).map_err(|e| prefix.io("unlink a shell folder", e))?;
            }
            std::fs::create_dir_all(&path).map_err(|e| prefix.io("create a shell folder", e))?;
        }
        Ok(prefix)
    }

    fn io(&self, what: &str, e: std::io::Error) -> Error {
        Error::Program {
            program: "wine prefix".into(),
            reason: format!("cannot {what} in {}: {e}", self.path().display()),
        }
    }

    /// The prefix folder (`WINEPREFIX`).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `C:\` as a Linux path.
    pub fn drive_c(&self) -> PathBuf {
        self.path().join("drive_c")
    }

    /// `HOME` of the Wine processes (a folder of the prefix, never the caller's).
    pub fn home(&self) -> PathBuf {
        self.path().join("unix-home")
    }

    /// The Windows user's profile folder (`C:\users\NAME`) as a Linux path.
    pub fn user_profile(&self) -> PathBuf {
        self.drive_c().join("users").join(&self.user)
    }

    /// The Windows user name of the prefix.
    pub fn user(&self) -> &str {
        &self.user
    }

    fn find_user(&self) -> Result<String> {
        let users = self.drive_c().join("users");
        let entries = std::fs::read_dir(&users).map_err(|e| self.io("list the users", e))?;
        entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|n| n != "Public")
            .ok_or_else(|| Error::Program {
                program: "wineboot".into(),
                reason: format!("made no user profile under {}", users.display()),
            })
    }

    fn command_without_display(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(&self.wine);
        cmd.arg(program)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("USER", "worktrace")
            .env("WINEPREFIX", self.path())
            // Wine's own messages are off; `WORKTRACE_WINEDEBUG=err+all` turns them on to see
            // why a Windows program ended without a word.
            .env(
                "WINEDEBUG",
                std::env::var_os("WORKTRACE_WINEDEBUG").unwrap_or_else(|| "-all".into()),
            )
            // No Mono or Gecko install prompts: the tests need neither.
            .env("WINEDLLOVERRIDES", "mscoree=;mshtml=")
            .stdin(Stdio::null());
        cmd
    }

    /// `wine64 PROGRAM` in this prefix (on its display), with a clean environment: add the
    /// program's arguments and environment, then spawn it. `TZ` passes through when set by
    /// the caller with `.env`.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = self.command_without_display(program);
        if let Some(display) = &self.display {
            cmd.env("DISPLAY", display);
        }
        cmd
    }

    /// Runs `wine64 PROGRAM ARGS` to its end (at most `patience`) and returns its output.
    pub fn run(&self, program: &Path, args: &[&str], patience: Duration) -> Result<Output> {
        let mut cmd = self.command(program);
        cmd.args(args);
        run_to_end(
            cmd,
            &format!("{} {}", program.display(), args.join(" ")),
            patience,
        )
    }

    /// Sets a registry value with Wine's `reg add` (e.g. a drive type under
    /// `HKLM\Software\Wine\Drives`). It runs on the prefix's display: the desktop process
    /// that Wine starts for it may outlive it and serve the next programs, which could not
    /// make windows on a desktop without one.
    pub fn reg_add(&self, key: &str, name: &str, kind: &str, data: &str) -> Result<()> {
        let mut cmd = self.command("reg");
        cmd.args(["add", key, "/v", name, "/t", kind, "/d", data, "/f"]);
        let out = run_to_end(cmd, "reg add", Duration::from_secs(60))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(Error::Program {
                program: format!("reg add {key} /v {name}"),
                reason: format!("exited with {}", out.status),
            })
        }
    }

    /// Maps drive `letter` (e.g. `'e'`) to the Linux folder `target` and declares its type as
    /// Wine knows them: `"floppy"` (a removable drive, `DRIVE_REMOVABLE`), `"cdrom"`,
    /// `"network"` (`DRIVE_REMOTE`) or `"hd"`. Wine's mount manager reads drive types when it
    /// starts, so this waits until the prefix is idle (it ends with the last program): call it
    /// before starting the programs that should see the drive.
    pub fn add_drive(&self, letter: char, target: &Path, kind: &str) -> Result<()> {
        let link = self
            .path()
            .join("dosdevices")
            .join(format!("{}:", letter.to_ascii_lowercase()));
        if link.is_symlink() {
            std::fs::remove_file(&link).map_err(|e| self.io("replace a drive link", e))?;
        }
        std::os::unix::fs::symlink(target, &link).map_err(|e| self.io("link a drive", e))?;
        self.reg_add(
            r"HKLM\Software\Wine\Drives",
            &format!("{}:", letter.to_ascii_lowercase()),
            "REG_SZ",
            kind,
        )?;
        self.wait_idle(Duration::from_secs(60))
    }

    /// Waits until every Windows process of the prefix has ended (`wineserver -w`), at most
    /// `patience`.
    pub fn wait_idle(&self, patience: Duration) -> Result<()> {
        let mut cmd = Command::new(wineserver());
        cmd.arg("-w")
            .env("WINEPREFIX", self.path())
            .stdin(Stdio::null());
        run_to_end(cmd, "wineserver -w", patience).map(|_| ())
    }

    /// Every regular file under the prefix (for searching what a program left on disk).
    pub fn files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![self.path().to_owned()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if kind.is_dir() {
                    stack.push(entry.path());
                } else if kind.is_file() {
                    out.push(entry.path());
                }
            }
        }
        out
    }
}

impl WinePrefix {
    /// Ends every process of the prefix and its wineserver (`wineserver -k`, at most 30 s).
    fn kill_all(&self) {
        let mut cmd = Command::new(wineserver());
        cmd.arg("-k")
            .env("WINEPREFIX", self.path())
            .stdin(Stdio::null());
        let _ = run_to_end(cmd, "wineserver -k", Duration::from_secs(30));
    }
}

impl Drop for WinePrefix {
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// What a Windows program itself wrote to stderr, without the lines Wine writes there: the
/// prefix's own processes (services, explorer, device drivers) that a command happens to start
/// inherit its stderr, so their crash notes (`wine: Unhandled page fault …`) and debug channels
/// (`0024:fixme:…`) can land among the program's lines.
pub fn program_stderr(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|line| !is_wine_line(line))
        .map(|line| format!("{line}\n"))
        .collect()
}

fn is_wine_line(line: &str) -> bool {
    if line.starts_with("wine: ") || line.starts_with("wine client error") {
        return true;
    }
    // `TTTT:class:channel:function …`, a thread id in hex and a debug class.
    let mut parts = line.splitn(3, ':');
    let (Some(thread), Some(class)) = (parts.next(), parts.next()) else {
        return false;
    };
    thread.len() == 4
        && thread.bytes().all(|b| b.is_ascii_hexdigit())
        && matches!(class, "fixme" | "err" | "warn" | "trace")
}

/// Runs `cmd` to its end with captured output (read as it comes, so a chatty program never
/// blocks on a full pipe), killing it after `patience`.
pub fn run_to_end(mut cmd: Command, shown: &str, patience: Duration) -> Result<Output> {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Program {
            program: shown.into(),
            reason: e.to_string(),
        })?;
    collect(child, shown, patience)
}

/// Waits for `child` to end (killing it after `patience`) and returns what it wrote to the
/// pipes it was given (`Stdio::piped()`; an output that was not piped is empty).
///
/// A Windows program's pipes can outlive it: the Wine processes it happens to start
/// (wineserver, explorer for its first window, services) inherit them and keep them open
/// until the prefix ends, so waiting for the end of the stream (as `wait_with_output` does)
/// can wait for ever. Everything the program wrote is in the pipes once it has exited, so
/// the pipes are read without blocking until they are empty, never until they close.
pub fn collect(mut child: std::process::Child, shown: &str, patience: Duration) -> Result<Output> {
    let fail = |reason: String| Error::Program {
        program: shown.into(),
        reason,
    };
    let mut out = child
        .stdout
        .take()
        .map(Drained::new)
        .transpose()
        .map_err(fail)?;
    let mut err = child
        .stderr
        .take()
        .map(Drained::new)
        .transpose()
        .map_err(fail)?;
    let deadline = Instant::now() + patience;
    let status = loop {
        for pipe in [out.as_mut(), err.as_mut()].into_iter().flatten() {
            pipe.drain().map_err(fail)?;
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Timeout {
                    what: shown.into(),
                    secs: patience.as_secs(),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(fail(e.to_string())),
        }
    };
    // What the program wrote before it exited.
    for pipe in [out.as_mut(), err.as_mut()].into_iter().flatten() {
        pipe.drain().map_err(fail)?;
    }
    Ok(Output {
        status,
        stdout: out.map(|p| p.bytes).unwrap_or_default(),
        stderr: err.map(|p| p.bytes).unwrap_or_default(),
    })
}

/// Reads the first line that `child` writes to its piped stdout (without the line end),
/// waiting at most `patience`; fails when the program ends or the time runs out first. The
/// rest of its output is left in the pipe, which is non-blocking from then on.
pub fn first_line(
    child: &mut std::process::Child,
    shown: &str,
    patience: Duration,
) -> Result<String> {
    let fail = |reason: String| Error::Program {
        program: shown.into(),
        reason,
    };
    let stdout = child
        .stdout
        .as_ref()
        .ok_or_else(|| fail("its stdout is not piped".into()))?;
    // A second handle on the same pipe (it is non-blocking from then on).
    let handle = std::os::fd::AsFd::as_fd(stdout)
        .try_clone_to_owned()
        .map_err(|e| fail(e.to_string()))?;
    let mut pipe = Drained::new(handle).map_err(fail)?;
    let deadline = Instant::now() + patience;
    loop {
        pipe.drain_until_newline().map_err(fail)?;
        if let Some(end) = pipe.bytes.iter().position(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(&pipe.bytes[..end]);
            return Ok(line.trim_end_matches('\r').to_owned());
        }
        if let Ok(Some(status)) = child.try_wait() {
            pipe.drain().map_err(fail)?;
            if let Some(end) = pipe.bytes.iter().position(|&b| b == b'\n') {
                return Ok(String::from_utf8_lossy(&pipe.bytes[..end])
                    .trim_end()
                    .to_owned());
            }
            return Err(fail(format!(
                "ended with {status} before writing a line; it wrote {:?}",
                String::from_utf8_lossy(&pipe.bytes)
            )));
        }
        if Instant::now() >= deadline {
            return Err(Error::Timeout {
                what: format!("the first line of {shown}"),
                secs: patience.as_secs(),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The read end of a pipe, switched to non-blocking, and what was read from it so far.
struct Drained {
    pipe: std::fs::File,
    bytes: Vec<u8>,
    closed: bool,
}

impl Drained {
    fn new(pipe: impl Into<std::os::fd::OwnedFd>) -> std::result::Result<Self, String> {
        let pipe = std::fs::File::from(pipe.into());
        let flags = rustix::fs::fcntl_getfl(&pipe).map_err(|e| e.to_string())?;
        rustix::fs::fcntl_setfl(&pipe, flags | rustix::fs::OFlags::NONBLOCK)
            .map_err(|e| format!("cannot make its pipe non-blocking: {e}"))?;
        Ok(Drained {
            pipe,
            bytes: Vec::new(),
            closed: false,
        })
    }

    /// Reads all the pipe holds now.
    fn drain(&mut self) -> std::result::Result<(), String> {
        let mut buf = [0u8; 8192];
        while self.read_into(&mut buf)? {}
        Ok(())
    }

    /// Reads until the pipe is empty or a line end has been read, a byte at a time so that
    /// nothing after the line is taken.
    fn drain_until_newline(&mut self) -> std::result::Result<(), String> {
        let mut byte = [0u8; 1];
        while !self.bytes.contains(&b'\n') && self.read_into(&mut byte)? {}
        Ok(())
    }

    /// One read into `buf`, appended to `bytes`: false when the pipe is empty or closed.
    fn read_into(&mut self, buf: &mut [u8]) -> std::result::Result<bool, String> {
        if self.closed {
            return Ok(false);
        }
        loop {
            return match std::io::Read::read(&mut self.pipe, buf) {
                Ok(0) => {
                    self.closed = true;
                    Ok(false)
                }
                Ok(n) => {
                    self.bytes.extend_from_slice(&buf[..n]);
                    Ok(true)
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(false),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => Err(format!("reading its output: {e}")),
            };
        }
    }
}

#[cfg(test)]
mod wine_lines {
    #[test]
    fn wine_s_own_lines_are_taken_out_and_the_program_s_kept() {
        let stderr = "wine: Unhandled page fault on read access to 0000000000000008 at address 000000031CAA2391 (thread 007c), starting debugger...\n\
            worktrace: cannot create the lock file Q:\\x: File not found. (os error 2)\n\
            0024:fixme:ntdll:NtQuerySystemInformation info_class 0x99\n\
            worktrace: 0024:err: is not a thread\n";
        assert_eq!(
            super::program_stderr(stderr.as_bytes()),
            "worktrace: cannot create the lock file Q:\\x: File not found. (os error 2)\n\
             worktrace: 0024:err: is not a thread\n"
        );
    }
}
