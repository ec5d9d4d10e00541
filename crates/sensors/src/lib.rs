//! What the operating system says about the person at the computer: the foreground window,
//! milliseconds since the last input, and whether the screen is locked.
//!
//! One small trait ([`Sensor`]) with one implementation per OS, chosen by [`platform_sensor`],
//! and a scripted [`FakeSensor`] for deterministic tests of callers. A sensor only reads: it
//! never records, filters or interprets what it sees (that is the tracker's job), never spawns
//! processes per reading and never panics, whatever state the desktop is in.

// Unsafe code is allowed only in the Windows and macOS modules, which talk to C APIs; each
// block there carries a `// SAFETY:` line. Everything else is checked by the compiler.
#![deny(unsafe_code)]

mod fake;
#[cfg(target_os = "macos")]
pub mod macos;
mod names;
#[cfg(windows)]
pub mod windows;
#[cfg(target_os = "linux")]
pub mod x11;
mod zone;

pub use fake::FakeSensor;
pub use worktrace_domain::{Observation, WindowInfo};
pub use zone::{system_time_zone, windows_to_iana};

/// What can go wrong while reading the OS. Messages say what is wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No display to read: the process was started outside a graphical session.
    #[error(
        "no graphical display: DISPLAY is not set (Worktrace needs an X11 session; \
         Wayland sessions need XWayland)"
    )]
    NoDisplay,
    /// The X server could not be reached or refused the connection.
    #[error(
        "cannot open the X display {display:?}: {reason} (check that the X server is running \
         and that DISPLAY and XAUTHORITY name it)"
    )]
    Connect { display: String, reason: String },
    /// The X server lacks an extension the sensor needs.
    #[error(
        "the X display {display:?} does not offer the {extension} extension, so {what} cannot \
         be read (use an X server that provides it, such as Xorg or Xvfb)"
    )]
    MissingExtension {
        display: String,
        extension: &'static str,
        what: &'static str,
    },
    /// The connection broke while reading; the next reading reconnects.
    #[error(
        "lost the connection to the X display {display:?}: {reason} (retrying on the next reading)"
    )]
    ConnectionLost { display: String, reason: String },
    /// An OS call failed in a way that the sensor cannot work around.
    #[error("the operating system call {call} failed: {reason}")]
    Os { call: &'static str, reason: String },
    /// The system's time zone cannot be read or has no IANA name.
    #[error("cannot determine the system time zone: {reason} (set [agent] time_zone to an IANA name such as \"Europe/Berlin\")")]
    TimeZone { reason: String },
    /// Worktrace has no sensor for this operating system.
    #[error("Worktrace cannot observe windows on this operating system ({os}); it supports Linux (X11), Windows and macOS")]
    Unsupported { os: &'static str },
}

/// Result of a sensor call.
pub type Result<T> = std::result::Result<T, Error>;

/// Reads the foreground window, idle time and screen lock of the current desktop.
///
/// Implementations are cheap enough to call once a second for hours and keep their OS
/// connections open between calls.
pub trait Sensor: Send {
    /// One reading: foreground window (`None` when nothing has focus), ms since last input,
    /// locked.
    fn observe(&mut self) -> Result<Observation>;
}

impl<S: Sensor + ?Sized> Sensor for Box<S> {
    fn observe(&mut self) -> Result<Observation> {
        (**self).observe()
    }
}

/// `flag` is set when the operating system or an administrator asks this program to end in
/// a way other than a signal: on Windows `WM_CLOSE` (`taskkill` without `/F`) and
/// `WM_ENDSESSION` (logoff, shutdown) to the agent's hidden window. Elsewhere signals do that
/// job and this does nothing.
pub fn on_stop_request(flag: std::sync::Arc<std::sync::atomic::AtomicBool>) {
    #[cfg(windows)]
    windows::session::Session::get().on_stop(flag);
    #[cfg(not(windows))]
    drop(flag);
}

/// Says that the program has saved its records after a stop request, so a logoff that
/// Windows holds for it may go on. Does nothing elsewhere.
pub fn saved_after_stop() {
    #[cfg(windows)]
    windows::session::Session::get().saved();
}

/// The sensor of the operating system this program runs on, connected to the current desktop
/// (on Linux: the X display named by `DISPLAY`).
pub fn platform_sensor() -> Result<Box<dyn Sensor>> {
    #[cfg(target_os = "linux")]
    {
        Ok(Box::new(x11::X11Sensor::connect(None)?))
    }
    #[cfg(windows)]
    {
        Ok(Box::new(windows::WindowsSensor::new()))
    }
    #[cfg(target_os = "macos")]
    {
        Ok(Box::new(macos::MacSensor::new()))
    }
    #[cfg(not(any(target_os = "linux", windows, target_os = "macos")))]
    {
        Err(Error::Unsupported {
            os: std::env::consts::OS,
        })
    }
}
