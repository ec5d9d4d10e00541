//! The PC side of the sync tests: a data folder whose `worktrace` commands use a private
//! keychain (the real Secret Service, see the testkit), and records appended as the tracking
//! loop would.

#![allow(dead_code)]

use std::process::Output;

use worktrace_domain::Record;
use worktrace_store::{DayClock, Store};
use worktrace_testkit::keyring::KeyringSession;

use crate::common::{self, Env};

/// The real Secret Service in a private session (see the testkit).
pub struct Keyring(KeyringSession);

impl Keyring {
    pub fn start() -> Keyring {
        Keyring(KeyringSession::start().unwrap_or_else(|e| panic!("{e}")))
    }

    pub fn address(&self) -> String {
        self.0.address().to_owned()
    }

    /// The secrets Worktrace stored.
    pub fn worktrace_secrets(&self) -> Vec<String> {
        self.0
            .secrets("worktrace")
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

/// An agent's data folder that uses the private keyring.
pub struct Pc {
    pub env: Env,
    pub bus: String,
}

impl Pc {
    pub fn new(keyring: &Keyring) -> Pc {
        Pc::with_settings(keyring, "")
    }

    /// A PC whose settings file holds `settings` (TOML).
    pub fn with_settings(keyring: &Keyring, settings: &str) -> Pc {
        Pc {
            env: Env::new(settings, None),
            bus: keyring.address(),
        }
    }

    /// `worktrace run --quiet` with the private keyring, waiting until it tracks.
    pub fn start_agent(&self) -> common::Agent {
        let mut run = self.env.command(&["run", "--quiet"]);
        run.env("DBUS_SESSION_BUS_ADDRESS", &self.bus);
        self.env.start_agent_with(run)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.env
            .command(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .output()
            .expect("worktrace runs")
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "worktrace {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "worktrace {args:?} should fail: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    pub fn enroll(&self, url: &str, token: &str) -> i64 {
        let out = self.ok(&["enroll", "--server", url, "--token", token]);
        out.split("as device ")
            .nth(1)
            .and_then(|rest| rest.split(';').next())
            .and_then(|id| id.trim().parse().ok())
            .unwrap_or_else(|| panic!("enroll names the device id: {out}"))
    }

    /// Appends records as the tracking loop would (the writer is the store's `append`).
    pub fn append(&self, records: &[Record]) {
        let mut store = Store::open(&self.env.database(), DayClock::default()).expect("store");
        store.append(records).expect("append");
    }
}

/// A PC at work on a real display: its settings `settings` (a running agent's), two windows
/// ("Alpha Terminal", an xterm, and "Beta Report" of `betaapp`), clocked in with the first in
/// front and its agent running.
pub struct Desk {
    pub pc: Pc,
    pub alpha: worktrace_testkit::TestWindow,
    pub beta: worktrace_testkit::TestWindow,
    pub agent: common::Agent,
}

impl Desk {
    pub fn start(settings: &str, keyring: &Keyring, x: &worktrace_testkit::XSession) -> Desk {
        let pc = Pc {
            env: Env::new(settings, Some(x.display())),
            bus: keyring.address(),
        };
        let alpha = x.spawn_xterm("Alpha Terminal").expect("xterm window");
        let beta = x
            .spawn_window("betaapp", "Beta Report")
            .expect("second window");
        pc.ok(&["clock-in"]);
        x.activate(&alpha).expect("focus alpha");
        let agent = pc.start_agent();
        Desk {
            pc,
            alpha,
            beta,
            agent,
        }
    }
}
