//! What the sensors observe: the foreground window, seconds since last input, screen lock.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::Millis;

/// The foreground window as the OS reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
pub struct WindowInfo {
    /// Application name, e.g. `firefox`, `EXCEL.EXE`, `xterm`.
    pub app: String,
    /// Window title; may be empty (and is emptied by privacy rules before storage).
    pub title: String,
    /// Full path of the executable, when the OS gives it.
    pub exe_path: Option<String>,
    /// Process id, when the OS gives it.
    pub pid: Option<u32>,
    /// Domain of the page for known browsers, when it can be had (e.g. `mail.example.com`).
    pub domain: Option<String>,
    /// True for a private/incognito browser window: its title is never stored.
    pub private_browsing: bool,
}

impl WindowInfo {
    /// A window with only an application name and a title.
    pub fn new(app: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            app: app.into(),
            title: title.into(),
            exe_path: None,
            pid: None,
            domain: None,
            private_browsing: false,
        }
    }
}

/// One reading of the sensors, before it is stamped with a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Observation {
    /// The foreground window; `None` when no window has focus (empty desktop).
    pub window: Option<WindowInfo>,
    /// Milliseconds since the last keyboard or pointer input.
    pub idle_ms: u64,
    /// True while the screen is locked (or the screensaver is active).
    pub locked: bool,
}

/// An [`Observation`] stamped with the wall-clock time at which it was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Sample {
    /// UTC milliseconds.
    pub at: Millis,
    pub window: Option<WindowInfo>,
    pub idle_ms: u64,
    pub locked: bool,
}

impl Sample {
    /// Stamps an observation with a time.
    pub fn new(at: Millis, observation: Observation) -> Self {
        Self {
            at,
            window: observation.window,
            idle_ms: observation.idle_ms,
            locked: observation.locked,
        }
    }
}
