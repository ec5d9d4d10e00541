//! Clipboard bulk copies on X11: XFixes tells when the CLIPBOARD gets a new owner; the copy is
//! requested as UTF8_STRING (INCR transfers included) and only its shape is kept — bytes,
//! lines, columns — while each chunk is dropped as soon as it is counted. The source app is
//! the owner window's class, else the owning process's name (X-Resource extension).
//!
//! Never stores, logs or returns the copied text.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use worktrace_domain::Millis;
use x11rb::connection::Connection;
use x11rb::protocol::res::{self, ClientIdMask, ClientIdSpec};
use x11rb::protocol::xfixes::{self, ConnectionExt as _, SelectionEventMask};
use x11rb::protocol::xproto::{
    AtomEnum, ConnectionExt as _, CreateWindowAux, EventMask, Property, Window, WindowClass,
};
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;

use crate::detector::{ClipboardCopy, Seen};
use crate::error::{Error, Result};
use crate::shape::Shape;

x11rb::atom_manager! {
    Atoms: AtomsCookie {
        CLIPBOARD,
        UTF8_STRING,
        INCR,
        WORKTRACE_CLIP,
    }
}

/// The class in a `WM_CLASS` value (`"instance\0Class\0"` → `"Class"`), else the instance.
fn class_of(value: &[u8]) -> Option<String> {
    let mut parts = value
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned());
    let instance = parts.next();
    parts.next().or(instance)
}

/// Watches the CLIPBOARD of `display` until `stop` is set; bulk-copy candidates go to `out`
/// (the detector applies the policy's thresholds). Returns once the X server has confirmed
/// the XFixes subscription.
pub fn watch(
    display: &str,
    out: Sender<(Millis, Seen)>,
    clock: fn() -> Millis,
    stop: Arc<AtomicBool>,
) -> Result<std::thread::JoinHandle<()>> {
    let x_err = |reason: String| Error::Display {
        display: display.to_owned(),
        reason,
    };
    let (conn, screen) = x11rb::connect(Some(display)).map_err(|e| x_err(e.to_string()))?;
    let root = conn
        .setup()
        .roots
        .get(screen)
        .map(|s| s.root)
        .ok_or_else(|| x_err(format!("no screen {screen}")))?;
    let atoms = Atoms::new(&conn)
        .map_err(|e| x_err(e.to_string()))?
        .reply()
        .map_err(|e| x_err(e.to_string()))?;
    xfixes::query_version(&conn, 5, 0)
        .map_err(|e| x_err(e.to_string()))?
        .reply()
        .map_err(|e| x_err(format!("the XFixes extension is missing: {e}")))?;
    let window = conn.generate_id().map_err(|e| x_err(e.to_string()))?;
    conn.create_window(
        0,
        window,
        root,
        0,
        0,
        1,
        1,
        0,
        WindowClass::INPUT_ONLY,
        0,
        &CreateWindowAux::new().event_mask(EventMask::PROPERTY_CHANGE),
    )
    .map_err(|e| x_err(e.to_string()))?
    .check()
    .map_err(|e| x_err(format!("cannot create the clipboard window: {e}")))?;
    // Checked, not only sent: when `watch` returns, the server holds the subscription, so
    // every copy made from then on is seen.
    conn.xfixes_select_selection_input(
        window,
        atoms.CLIPBOARD,
        SelectionEventMask::SET_SELECTION_OWNER,
    )
    .map_err(|e| x_err(e.to_string()))?
    .check()
    .map_err(|e| x_err(format!("cannot subscribe to CLIPBOARD changes: {e}")))?;
    let display_name = display.to_owned();
    std::thread::Builder::new()
        .name("worktrace-export-clipboard".into())
        .spawn(move || {
            let reader = Reader {
                conn,
                window,
                atoms,
            };
            while !stop.load(Ordering::Relaxed) {
                match reader.conn.poll_for_event() {
                    Ok(Some(Event::XfixesSelectionNotify(ev))) if ev.owner != x11rb::NONE => {
                        if ev.owner == window {
                            continue;
                        }
                        let at = clock();
                        match reader.read(ev.owner, ev.selection_timestamp) {
                            Ok(Some(copy)) => {
                                if out.send((at, Seen::Clipboard(copy))).is_err() {
                                    return;
                                }
                            }
                            Ok(None) => {}
                            Err(e) => tracing::debug!("clipboard: {e}"),
                        }
                    }
                    Ok(Some(_)) => {}
                    // Idle: a short sleep keeps the cost at rest negligible.
                    Ok(None) => std::thread::sleep(Duration::from_millis(200)),
                    Err(e) => {
                        tracing::warn!("clipboard detection stopped: display {display_name}: {e}");
                        return;
                    }
                }
            }
        })
        .map_err(|source| Error::Thread {
            name: "clipboard",
            source,
        })
}

struct Reader {
    conn: RustConnection,
    window: Window,
    atoms: Atoms,
}

type Fallible<T> = std::result::Result<T, Box<dyn std::error::Error>>;

impl Reader {
    /// Waits up to `limit` for an event `want` accepts.
    fn wait(&self, limit: Duration, want: impl Fn(&Event) -> bool) -> Fallible<Option<Event>> {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            match self.conn.poll_for_event()? {
                Some(e) if want(&e) => return Ok(Some(e)),
                Some(_) => {}
                None => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        Ok(None)
    }

    /// Converts the clipboard to UTF-8 text on our window and counts it; `None` when the
    /// owner offers no text.
    fn read(&self, owner: Window, time: u32) -> Fallible<Option<ClipboardCopy>> {
        let a = &self.atoms;
        // A later copy already replaced this one: its own event follows, and converting now
        // would read the later copy under this owner's name.
        let current = self.conn.get_selection_owner(a.CLIPBOARD)?.reply()?.owner;
        if current != owner {
            return Ok(None);
        }
        // Ask who owns it first: an owner that serves one request (xclip -loops 1) is gone
        // once the copy is read.
        let source_app = self.owner_app(owner);
        self.conn.convert_selection(
            self.window,
            a.CLIPBOARD,
            a.UTF8_STRING,
            a.WORKTRACE_CLIP,
            time,
        )?;
        self.conn.flush()?;
        let notify = self.wait(
            Duration::from_secs(2),
            |e| matches!(e, Event::SelectionNotify(n) if n.requestor == self.window),
        )?;
        let Some(Event::SelectionNotify(n)) = notify else {
            return Ok(None);
        };
        if n.property == x11rb::NONE {
            return Ok(None);
        }
        let mut shape = Shape::default();
        let first = self
            .conn
            .get_property(
                true,
                self.window,
                a.WORKTRACE_CLIP,
                AtomEnum::ANY,
                0,
                u32::MAX / 4,
            )?
            .reply()?;
        if first.type_ == a.INCR {
            // Large copies come in chunks: each new value of the property is one chunk,
            // deleting it asks for the next, an empty one ends the transfer.
            drop(first);
            loop {
                let changed = self.wait(Duration::from_secs(5), |e| {
                    matches!(e, Event::PropertyNotify(p)
                        if p.window == self.window && p.atom == a.WORKTRACE_CLIP
                            && p.state == Property::NEW_VALUE)
                })?;
                if changed.is_none() {
                    return Ok(None);
                }
                let chunk = self
                    .conn
                    .get_property(
                        true,
                        self.window,
                        a.WORKTRACE_CLIP,
                        AtomEnum::ANY,
                        0,
                        u32::MAX / 4,
                    )?
                    .reply()?;
                if chunk.value.is_empty() {
                    break;
                }
                shape.feed(&chunk.value);
            }
        } else {
            shape.feed(&first.value);
        }
        let (lines, columns, separator) = shape.finish();
        Ok(Some(ClipboardCopy {
            bytes: shape.bytes,
            lines,
            columns,
            separator: separator.to_owned(),
            source_app,
        }))
    }

    /// The owner window's class, else the name of the process that owns it.
    fn owner_app(&self, owner: Window) -> Option<String> {
        let class = self
            .conn
            .get_property(false, owner, AtomEnum::WM_CLASS, AtomEnum::STRING, 0, 256)
            .ok()?
            .reply()
            .ok()
            .and_then(|r| class_of(&r.value));
        if class.is_some() {
            return class;
        }
        let spec = ClientIdSpec {
            client: owner,
            mask: ClientIdMask::LOCAL_CLIENT_PID,
        };
        let ids = res::query_client_ids(&self.conn, &[spec])
            .ok()?
            .reply()
            .ok()?;
        let pid = ids.ids.iter().find_map(|id| id.value.first().copied())?;
        // The process that opened the connection; gone when it forked and exited (xclip does
        // so unless run with -quiet), and then the source app is unknown.
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        Some(comm.trim().to_owned()).filter(|c| !c.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_from_wm_class() {
        assert_eq!(
            class_of(b"xterm\0XTerm\0").as_deref(),
            Some("XTerm"),
            "class wins"
        );
        assert_eq!(class_of(b"solo\0").as_deref(), Some("solo"));
    }
}
