//! Starting and stopping the programs behind a test display (Xvfb, openbox, xdotool, xterm).
//!
//! Never leaves a process running after `stop`, and never waits without a deadline.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// Fails with the package to install when `program` is not on `PATH`.
pub(crate) fn require(program: &'static str, package: &'static str) -> Result<()> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path).any(|dir| dir.join(program).is_file());
    if found {
        Ok(())
    } else {
        Err(Error::Missing { program, package })
    }
}

/// Starts Xvfb on a display number it picks itself.
///
/// `-displayfd` makes Xvfb take the first free number (it owns the `/tmp/.X{n}-lock` check,
/// so parallel tests never race for one) and print it only once it accepts connections.
pub(crate) fn start_xvfb(patience: Duration) -> Result<(Child, String, PathBuf)> {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let log = std::env::temp_dir().join(format!(
        "worktrace-xvfb-{}-{}.log",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let log_file = std::fs::File::create(&log).map_err(|e| Error::Program {
        program: "Xvfb".into(),
        reason: format!("cannot create its log {}: {e}", log.display()),
    })?;
    let mut child = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1280x800x24",
            "-nolisten",
            "tcp",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log_file)
        .spawn()
        .map_err(|e| Error::Program {
            program: "Xvfb".into(),
            reason: e.to_string(),
        })?;
    let Some(stdout) = child.stdout.take() else {
        stop(&mut child);
        return Err(Error::Program {
            program: "Xvfb".into(),
            reason: "no stdout pipe".into(),
        });
    };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let failed = |child: &mut Child, reason: String| {
        stop(child);
        let tail = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = tail.lines().rev().take(5).collect();
        let _ = std::fs::remove_file(&log);
        Error::Program {
            program: "Xvfb".into(),
            reason: format!(
                "{reason}; its last words: {:?}",
                tail.into_iter().rev().collect::<Vec<_>>()
            ),
        }
    };
    match rx.recv_timeout(patience) {
        Ok(line) => match line.trim().parse::<u32>() {
            Ok(n) => Ok((child, format!(":{n}"), log)),
            Err(_) => Err(failed(&mut child, "exited without taking a display".into())),
        },
        Err(_) => Err(failed(
            &mut child,
            format!("did not accept connections within {} s", patience.as_secs()),
        )),
    }
}

/// Starts `program args` on `display` with no terminal I/O; a failure to start names the command.
pub(crate) fn spawn_on(display: &str, program: &str, args: &[&str]) -> Result<Child> {
    Command::new(program)
        .args(args)
        .env("DISPLAY", display)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Error::Program {
            program: format!("{program} {}", args.join(" "))
                .trim_end()
                .to_owned(),
            reason: e.to_string(),
        })
}

/// Runs `program args` on `display` and waits at most `patience` for it to succeed.
pub(crate) fn run(display: &str, program: &str, args: &[&str], patience: Duration) -> Result<()> {
    let shown = format!("{program} {}", args.join(" "));
    let mut child = spawn_on(display, program, args)?;
    let deadline = Instant::now() + patience;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                return Err(Error::Program {
                    program: shown,
                    reason: format!("exited with {status}"),
                })
            }
            Ok(None) if Instant::now() >= deadline => {
                stop(&mut child);
                return Err(Error::Timeout {
                    what: shown,
                    secs: patience.as_secs(),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => {
                return Err(Error::Program {
                    program: shown,
                    reason: e.to_string(),
                })
            }
        }
    }
}

/// Runs `cmd` to its end; an error with what it printed when it fails.
pub(crate) fn succeed(cmd: &mut Command) -> std::result::Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Asks the process to end (SIGTERM, so Xvfb removes its lock file and socket), and kills it
/// if it is still there after two seconds. Always reaps it.
pub(crate) fn stop(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if term.is_ok_and(|s| s.success()) {
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_program_names_the_package_to_install() {
        let err = require("worktrace-no-such-program", "some-package")
            .expect_err("a program that is not on PATH is reported missing");
        let msg = err.to_string();
        assert!(
            msg.contains("apt-get install -y some-package"),
            "the message tells how to fix it: {msg}"
        );
    }

    #[test]
    fn an_installed_program_is_found_on_path() {
        assert!(
            require("sh", "dash").is_ok(),
            "sh is on PATH on every test machine"
        );
    }
}
