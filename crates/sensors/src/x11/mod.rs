//! The Linux sensor: reads an X11 display (Xorg, Xvfb, or XWayland) over one long-lived
//! connection, plus the desktop's screen-lock state over D-Bus.
//!
//! Per reading it sends a handful of pipelined requests (two round trips) and reads
//! `/proc/PID/exe`; it never opens a connection per reading (only after one broke), never
//! spawns a process and never panics: no display, no window manager, or a window that vanishes
//! between two requests all give an answer or an error, never a crash.
//!
//! Why not `active-win-pos-rs` here: on X11 it opens a new connection and interns its atoms on
//! every call (a reconnect per sample), it always follows the process's `DISPLAY` (so a sensor
//! built for another display would report the wrong desktop), and it returns an empty title
//! for windows that set only the legacy `WM_NAME`. The fields it would give (WM_CLASS,
//! _NET_WM_PID, /proc/PID/exe, the title) are read here directly on the open connection.
//!
//! Browser domains are not read on Linux (`domain` stays `None`): X11 exposes no URL, and
//! asking browsers for it needs per-browser extensions or accessibility trees, too costly once
//! a second.

#![forbid(unsafe_code)]

mod lock;
pub mod text;

use x11rb::connection::{Connection as _, RequestConnection as _};
use x11rb::errors::{ConnectionError, ReplyError};
use x11rb::protocol::screensaver::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{Atom, AtomEnum, ConnectionExt as _, GetPropertyReply, Window};
use x11rb::rust_connection::RustConnection;

use worktrace_domain::{Observation, WindowInfo};

pub use lock::Buses;
use lock::LockProbe;
use text::Encoding;

use crate::names::exe_file_name;
use crate::{Error, Result, Sensor};

x11rb::atom_manager! {
    Atoms: AtomsCookie {
        _NET_ACTIVE_WINDOW,
        _NET_WM_NAME,
        _NET_WM_PID,
        UTF8_STRING,
        COMPOUND_TEXT,
    }
}

/// Longest title read, in 32-bit units (4 KiB): titles are shown, not archived.
const TITLE_LONGS: u32 = 1024;

/// Reads the foreground window, idle time and lock state of one X display.
#[derive(Debug)]
pub struct X11Sensor {
    display: String,
    link: Option<Link>,
    lock: LockProbe,
}

/// An open connection with what was learned once about the server.
struct Link {
    conn: RustConnection,
    root: Window,
    atoms: Atoms,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

/// Why one reading failed.
enum ReadError {
    /// The connection is unusable; reconnect.
    Lost(String),
}

impl From<ConnectionError> for ReadError {
    fn from(e: ConnectionError) -> Self {
        ReadError::Lost(e.to_string())
    }
}

impl From<ReplyError> for ReadError {
    fn from(e: ReplyError) -> Self {
        // Requests on the root window cannot fail with an X error; if one does, the
        // server is in a state we cannot reason about, so start over with a new connection.
        ReadError::Lost(e.to_string())
    }
}

impl X11Sensor {
    /// Connects to `display` (e.g. `":5"`), or to `DISPLAY` when `None`. The screen-lock
    /// state is asked on the session and system buses found in the environment.
    ///
    /// Fails with [`Error::NoDisplay`] when no display is named, [`Error::Connect`] when the
    /// server cannot be reached, [`Error::MissingExtension`] without MIT-SCREEN-SAVER.
    pub fn connect(display: Option<&str>) -> Result<Self> {
        Self::connect_with(display, Buses::default())
    }

    /// Like [`X11Sensor::connect`], with explicit D-Bus addresses for the lock state.
    pub fn connect_with(display: Option<&str>, buses: Buses) -> Result<Self> {
        let display = match display {
            Some(d) if !d.is_empty() => d.to_owned(),
            _ => match std::env::var("DISPLAY") {
                Ok(d) if !d.is_empty() => d,
                _ => return Err(Error::NoDisplay),
            },
        };
        let link = Link::open(&display)?;
        Ok(Self {
            display,
            link: Some(link),
            lock: LockProbe::new(buses),
        })
    }

    /// The display this sensor reads, e.g. `":5"`.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// The D-Bus service that reported the lock state last, if any answered.
    pub fn lock_service(&self) -> Option<&'static str> {
        self.lock.answering()
    }

    fn read(&mut self) -> Result<(Option<WindowInfo>, u64, bool)> {
        if self.link.is_none() {
            self.link = Some(Link::open(&self.display)?);
        }
        let Some(link) = self.link.as_ref() else {
            return Err(Error::ConnectionLost {
                display: self.display.clone(),
                reason: "no connection".into(),
            });
        };
        match link.read() {
            Ok(reading) => Ok(reading),
            Err(ReadError::Lost(reason)) => {
                self.link = None;
                Err(Error::ConnectionLost {
                    display: self.display.clone(),
                    reason,
                })
            }
        }
    }
}

impl Sensor for X11Sensor {
    fn observe(&mut self) -> Result<Observation> {
        let reading = match self.read() {
            Ok(r) => r,
            // A connection that broke since the last reading (X server restarted): one
            // immediate retry on a new connection, so a blip costs no sample.
            Err(Error::ConnectionLost { .. }) => self.read()?,
            Err(e) => return Err(e),
        };
        let (window, idle_ms, saver_on) = reading;
        let locked = saver_on || self.lock.locked();
        Ok(Observation {
            window,
            idle_ms,
            locked,
        })
    }
}

impl Link {
    fn open(display: &str) -> Result<Self> {
        let connect_err = |reason: String| Error::Connect {
            display: display.to_owned(),
            reason,
        };
        let (conn, screen) =
            x11rb::connect(Some(display)).map_err(|e| connect_err(e.to_string()))?;
        let root = conn
            .setup()
            .roots
            .get(screen)
            .map(|s| s.root)
            .ok_or_else(|| connect_err(format!("the server has no screen {screen}")))?;
        let atoms = Atoms::new(&conn)
            .map_err(|e| connect_err(e.to_string()))?
            .reply()
            .map_err(|e| connect_err(e.to_string()))?;
        let saver = conn
            .extension_information(screensaver::X11_EXTENSION_NAME)
            .map_err(|e| connect_err(e.to_string()))?;
        if saver.is_none() {
            return Err(Error::MissingExtension {
                display: display.to_owned(),
                extension: "MIT-SCREEN-SAVER",
                what: "idle time",
            });
        }
        Ok(Self { conn, root, atoms })
    }

    /// Foreground window, ms since input, X screensaver on.
    fn read(&self) -> std::result::Result<(Option<WindowInfo>, u64, bool), ReadError> {
        let active = self.conn.get_property(
            false,
            self.root,
            self.atoms._NET_ACTIVE_WINDOW,
            AtomEnum::WINDOW,
            0,
            1,
        )?;
        let saver = self.conn.screensaver_query_info(self.root)?;
        let active = active.reply()?;
        let saver = saver.reply()?;
        let idle_ms = u64::from(saver.ms_since_user_input);
        let saver_on = saver.state == u8::from(screensaver::State::ON);
        // No _NET_ACTIVE_WINDOW (no EWMH window manager) or 0: nothing has focus that a
        // person would call a window.
        let window = match active.value32().and_then(|mut v| v.next()) {
            Some(w) if w != x11rb::NONE => self.window(w)?,
            _ => None,
        };
        Ok((window, idle_ms, saver_on))
    }

    /// The window's app, title, pid and executable; `None` when it vanished meanwhile.
    fn window(&self, w: Window) -> std::result::Result<Option<WindowInfo>, ReadError> {
        let a = &self.atoms;
        let class =
            self.conn
                .get_property(false, w, AtomEnum::WM_CLASS, AtomEnum::STRING, 0, 256)?;
        let pid = self
            .conn
            .get_property(false, w, a._NET_WM_PID, AtomEnum::CARDINAL, 0, 1)?;
        let net_name =
            self.conn
                .get_property(false, w, a._NET_WM_NAME, a.UTF8_STRING, 0, TITLE_LONGS)?;
        let wm_name =
            self.conn
                .get_property(false, w, AtomEnum::WM_NAME, AtomEnum::ANY, 0, TITLE_LONGS)?;
        let (class, pid, net_name, wm_name) = match (
            vanished(class.reply())?,
            vanished(pid.reply())?,
            vanished(net_name.reply())?,
            vanished(wm_name.reply())?,
        ) {
            (Some(c), Some(p), Some(n), Some(m)) => (c, p, n, m),
            // BadWindow: the window closed between the two round trips.
            _ => return Ok(None),
        };
        let pid = pid.value32().and_then(|mut v| v.next()).filter(|&p| p != 0);
        let exe_path = pid.and_then(exe_of);
        let net_name = (net_name.type_ == a.UTF8_STRING).then_some(&net_name.value[..]);
        let wm_name = (wm_name.type_ != x11rb::NONE)
            .then(|| (self.encoding(wm_name.type_), &wm_name.value[..]));
        let title = text::title(net_name, wm_name);
        let app = text::app_from_wm_class(&class.value)
            .or_else(|| exe_path.as_deref().and_then(exe_file_name))
            .unwrap_or_else(|| "unknown".to_owned());
        Ok(Some(WindowInfo {
            app,
            title,
            exe_path,
            pid,
            domain: None,
            private_browsing: false,
        }))
    }

    fn encoding(&self, type_: Atom) -> Encoding {
        if type_ == self.atoms.UTF8_STRING {
            Encoding::Utf8
        } else if type_ == u32::from(AtomEnum::STRING) {
            Encoding::Latin1
        } else if type_ == self.atoms.COMPOUND_TEXT {
            Encoding::CompoundText
        } else {
            Encoding::Other
        }
    }
}

/// `Ok(None)` for an X error (the window is gone), `Err` for a broken connection.
fn vanished(
    reply: std::result::Result<GetPropertyReply, ReplyError>,
) -> std::result::Result<Option<GetPropertyReply>, ReadError> {
    match reply {
        Ok(r) => Ok(Some(r)),
        Err(ReplyError::X11Error(_)) => Ok(None),
        Err(ReplyError::ConnectionError(e)) => Err(e.into()),
    }
}

/// The executable of a local process. A window of a remote client (over SSH forwarding) has
/// a pid from another machine; its /proc entry is then absent or someone else's, a known
/// X11 limit.
fn exe_of(pid: u32) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/exe"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}
