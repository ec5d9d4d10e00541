//! Test windows made in-process over the session's X connection, and their titles.
//!
//! The windows select no events, so the window manager never waits on them and nothing piles
//! up; they never advertise protocols (`WM_TAKE_FOCUS`, `_NET_WM_PING`) they do not answer.

use x11rb::connection::Connection as _;
use x11rb::errors::{ConnectionError, ReplyError, ReplyOrIdError};
use x11rb::protocol::xproto::{
    AtomEnum, ConnectionExt as _, CreateWindowAux, PropMode, Window, WindowClass,
};
use x11rb::wrapper::ConnectionExt as _;

use crate::XSession;

/// A window on the test display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestWindow {
    id: u32,
    pid: u32,
    xterm: bool,
}

impl TestWindow {
    pub(crate) fn xterm(id: u32, pid: u32) -> Self {
        Self {
            id,
            pid,
            xterm: true,
        }
    }

    pub(crate) fn own(id: u32, pid: u32) -> Self {
        Self {
            id,
            pid,
            xterm: false,
        }
    }

    /// The X window id (the client window, as `_NET_ACTIVE_WINDOW` reports it).
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The pid of the process that owns the window (the xterm, or the test itself).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub(crate) fn xterm_pid(&self) -> Option<u32> {
        self.xterm.then_some(self.pid)
    }
}

/// Any of the errors an X request can end in, as text for [`crate::Error::X`].
#[derive(Debug)]
pub(crate) struct XError(String);

impl std::fmt::Display for XError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! into_xerror {
    ($($t:ty),*) => {$(
        impl From<$t> for XError {
            fn from(e: $t) -> Self {
                XError(e.to_string())
            }
        }
    )*};
}
into_xerror!(ConnectionError, ReplyError, ReplyOrIdError);

/// Creates and maps a 400×300 window with `WM_CLASS` = `app`, `_NET_WM_NAME` = `title`,
/// `_NET_WM_PID` = this process.
pub(crate) fn create(x: &XSession, app: &str, title: &str) -> Result<Window, XError> {
    let conn = x.conn();
    let screen_visual = conn
        .setup()
        .roots
        .first()
        .map(|s| (s.root_visual, s.white_pixel));
    let (visual, white) =
        screen_visual.ok_or_else(|| XError("the display has no screen".into()))?;
    let id = conn.generate_id()?;
    conn.create_window(
        x11rb::COPY_DEPTH_FROM_PARENT,
        id,
        x.root(),
        100,
        100,
        400,
        300,
        0,
        WindowClass::INPUT_OUTPUT,
        visual,
        &CreateWindowAux::new().background_pixel(white),
    )?;
    let class: Vec<u8> = [app.as_bytes(), b"\0", app.as_bytes(), b"\0"].concat();
    conn.change_property8(
        PropMode::REPLACE,
        id,
        AtomEnum::WM_CLASS,
        AtomEnum::STRING,
        &class,
    )?;
    let atoms = x.atoms();
    conn.change_property8(
        PropMode::REPLACE,
        id,
        atoms._NET_WM_NAME,
        atoms.UTF8_STRING,
        title.as_bytes(),
    )?;
    conn.change_property32(
        PropMode::REPLACE,
        id,
        atoms._NET_WM_PID,
        AtomEnum::CARDINAL,
        &[std::process::id()],
    )?;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    conn.change_property8(
        PropMode::REPLACE,
        id,
        AtomEnum::WM_CLIENT_MACHINE,
        AtomEnum::STRING,
        host.trim().as_bytes(),
    )?;
    // WM_HINTS with only InputHint set, input = True: the window takes focus when activated.
    conn.change_property32(
        PropMode::REPLACE,
        id,
        AtomEnum::WM_HINTS,
        AtomEnum::WM_HINTS,
        &[1, 1, 0, 0, 0, 0, 0, 0, 0],
    )?;
    conn.map_window(id)?;
    conn.flush()?;
    Ok(id)
}

/// Sets the title as the window's kind of program does, and waits for the server to apply it.
pub(crate) fn set_title(x: &XSession, w: &TestWindow, title: &str) -> Result<(), XError> {
    let conn = x.conn();
    let atoms = x.atoms();
    if w.xterm {
        // Legacy clients write WM_NAME as STRING (Latin-1) when they can, else COMPOUND_TEXT.
        let latin1: Option<Vec<u8>> = title
            .chars()
            .map(|c| u8::try_from(u32::from(c)).ok())
            .collect();
        let (type_, bytes) = match latin1 {
            Some(bytes) => (AtomEnum::STRING.into(), bytes),
            None => (atoms.COMPOUND_TEXT, [b"\x1b%G", title.as_bytes()].concat()),
        };
        conn.change_property8(PropMode::REPLACE, w.id, AtomEnum::WM_NAME, type_, &bytes)?;
    } else {
        conn.change_property8(
            PropMode::REPLACE,
            w.id,
            atoms._NET_WM_NAME,
            atoms.UTF8_STRING,
            title.as_bytes(),
        )?;
    }
    // A round trip: once it returns, the server has applied the change for every client.
    conn.get_input_focus()?.reply()?;
    Ok(())
}

/// Unmaps and maps the window again, so the window manager sees a fresh map request.
pub(crate) fn remap(x: &XSession, w: Window) -> Result<(), XError> {
    x.conn().unmap_window(w)?;
    x.conn().map_window(w)?;
    x.conn().flush()?;
    Ok(())
}

/// Destroys a window this process created.
pub(crate) fn destroy(x: &XSession, w: Window) -> Result<(), XError> {
    x.conn().destroy_window(w)?;
    x.conn().get_input_focus()?.reply()?;
    Ok(())
}

/// Reads and forgets events queued on the session's connection, so none accumulate.
pub(crate) fn drain_events(x: &XSession) {
    while let Ok(Some(_)) = x.conn().poll_for_event() {}
}
