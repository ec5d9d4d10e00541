//! Clipboard bulk copies on Windows: a message-only window of class [`WINDOW_CLASS`] is told
//! of every clipboard change (`AddClipboardFormatListener`); the copy is read as
//! `CF_UNICODETEXT` and only its shape is kept — bytes (as UTF-8), lines, columns — while the
//! text is counted in small pieces, each wiped as soon as it is counted. The source app is the
//! executable of the process owning the clipboard.
//!
//! Never stores, logs or returns the copied text.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use windows_sys::Win32::Foundation::{CloseHandle, HWND, LPARAM, LRESULT, WPARAM};
use windows_sys::Win32::System::DataExchange::{
    AddClipboardFormatListener, CloseClipboard, GetClipboardData, GetClipboardOwner,
    IsClipboardFormatAvailable, OpenClipboard, RemoveClipboardFormatListener,
};
use windows_sys::Win32::System::Memory::{GlobalLock, GlobalSize, GlobalUnlock};
use windows_sys::Win32::System::Ole::CF_UNICODETEXT;
use windows_sys::Win32::System::Threading::{
    OpenProcess, QueryFullProcessImageNameW, PROCESS_NAME_WIN32, PROCESS_QUERY_LIMITED_INFORMATION,
};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    GetWindowThreadProcessId, HWND_MESSAGE, WM_CLIPBOARDUPDATE,
};
use worktrace_domain::Millis;

use super::{default_proc, from_wide, os_error, HiddenWindow};
use crate::detector::{ClipboardCopy, Seen};
use crate::error::{Error, Result};
use crate::shape::Shape;

/// The class of the clipboard watcher's message-only window (`FindWindowExW(HWND_MESSAGE, …)`).
pub const WINDOW_CLASS: &str = "WorktraceExportClipboard";

thread_local! {
    /// Set by the window procedure when the clipboard changed.
    static CHANGED: Cell<bool> = const { Cell::new(false) };
}

unsafe extern "system" fn window_proc(hwnd: HWND, msg: u32, w: WPARAM, l: LPARAM) -> LRESULT {
    if msg == WM_CLIPBOARDUPDATE {
        CHANGED.with(|c| c.set(true));
        return 0;
    }
    default_proc(hwnd, msg, w, l)
}

/// The executable name of the process that owns the clipboard (`EXCEL.EXE`), when known.
fn owner_app() -> Option<String> {
    // SAFETY: no preconditions; null when nobody owns the clipboard.
    let owner = unsafe { GetClipboardOwner() };
    if owner.is_null() {
        tracing::debug!("clipboard owner: none");
        return None;
    }
    let mut pid = 0u32;
    // SAFETY: `owner` is a window handle (possibly stale, then the call answers 0).
    unsafe { GetWindowThreadProcessId(owner, &mut pid) };
    tracing::debug!("clipboard owner: window {owner:?}, process {pid}");
    if pid == 0 {
        return None;
    }
    // SAFETY: plain call; a null handle is checked below.
    let process = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    if process.is_null() {
        return None;
    }
    let mut buf = vec![0u16; 32_768];
    let mut len = buf.len() as u32;
    // SAFETY: `process` is open; `buf` is writable for `len` units.
    let ok = unsafe {
        QueryFullProcessImageNameW(process, PROCESS_NAME_WIN32, buf.as_mut_ptr(), &mut len)
    };
    // SAFETY: `process` was opened above and is closed once.
    unsafe { CloseHandle(process) };
    if ok == 0 {
        return None;
    }
    let path = from_wide(&buf[..len as usize]);
    path.rsplit(['\\', '/'])
        .next()
        .map(str::to_owned)
        .filter(|n| !n.is_empty())
}

/// Reads the clipboard's text shape; `None` when it holds no text or stays busy.
fn read(window: HWND) -> Option<ClipboardCopy> {
    // The owner first: on Wine, asking for formats may hand the clipboard to the X11 bridge.
    let source_app = owner_app();
    // SAFETY: plain query of the current clipboard formats.
    if unsafe { IsClipboardFormatAvailable(u32::from(CF_UNICODETEXT)) } == 0 {
        return None;
    }
    // The writer may still hold the clipboard open for a moment.
    let mut opened = false;
    for _ in 0..10 {
        // SAFETY: `window` belongs to this thread; the clipboard is closed below.
        if unsafe { OpenClipboard(window) } != 0 {
            opened = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if !opened {
        tracing::debug!("clipboard: {}", os_error("OpenClipboard"));
        return None;
    }
    // SAFETY: the clipboard is open on this thread.
    let handle = unsafe { GetClipboardData(u32::from(CF_UNICODETEXT)) };
    let shape = if handle.is_null() {
        None
    } else {
        // SAFETY: CF_UNICODETEXT data is an HGLOBAL owned by the clipboard; it stays valid
        // while the clipboard is open, and it is unlocked before the clipboard is closed.
        let p = unsafe { GlobalLock(handle) } as *const u16;
        if p.is_null() {
            None
        } else {
            // SAFETY: `handle` is the locked global above.
            let units = unsafe { GlobalSize(handle) } / 2;
            // SAFETY: the global holds `units` UTF-16 units and is locked during the count.
            let text = unsafe { std::slice::from_raw_parts(p, units) };
            let shape = Shape::of_utf16(text);
            // SAFETY: unlocks the lock taken above.
            unsafe { GlobalUnlock(handle) };
            Some(shape)
        }
    };
    // SAFETY: the clipboard was opened above by this thread.
    unsafe { CloseClipboard() };
    let shape = shape?;
    let (lines, columns, separator) = shape.finish();
    Some(ClipboardCopy {
        bytes: shape.bytes,
        lines,
        columns,
        separator: separator.to_owned(),
        source_app,
    })
}

/// Watches the clipboard until `stop` is set; bulk-copy candidates go to `out` (the detector
/// applies the policy's thresholds). Fails when the listener cannot be registered.
pub fn watch(
    out: Sender<(Millis, Seen)>,
    clock: fn() -> Millis,
    stop: Arc<AtomicBool>,
) -> Result<JoinHandle<()>> {
    let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<()>>(1);
    let thread = std::thread::Builder::new()
        .name("worktrace-export-clipboard".into())
        .spawn(move || {
            let window = match HiddenWindow::create(WINDOW_CLASS, HWND_MESSAGE, window_proc) {
                Ok(w) => w,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            // SAFETY: `window` was created by this thread and outlives the listener.
            if unsafe { AddClipboardFormatListener(window.hwnd) } == 0 {
                let _ = ready_tx.send(Err(os_error("AddClipboardFormatListener")));
                return;
            }
            let _ = ready_tx.send(Ok(()));
            while !stop.load(Ordering::Relaxed) {
                window.pump(200);
                if !CHANGED.with(|c| c.replace(false)) {
                    continue;
                }
                let at = clock();
                if let Some(copy) = read(window.hwnd) {
                    if out.send((at, Seen::Clipboard(copy))).is_err() {
                        break;
                    }
                }
            }
            // SAFETY: the listener was added above for this window.
            unsafe { RemoveClipboardFormatListener(window.hwnd) };
        })
        .map_err(|source| Error::Thread {
            name: "clipboard",
            source,
        })?;
    super::started(thread, &ready_rx, "the clipboard watcher's start")
}
