//! Windows: drive letters (removable and mapped network drives) followed through
//! `WM_DEVICECHANGE` and a periodic re-read, the clipboard through a clipboard-format listener,
//! and print jobs from the spooler. Folder watching is the `notify` crate's
//! `ReadDirectoryChangesW` backend (see [`crate::watch`]).
//!
//! Tested under Wine 8 (see docs/exports.md for what Wine cannot exercise). The decisions are
//! made by the pure modules [`crate::drives`], [`crate::shape`] and [`crate::print_queue`];
//! this module only asks Windows. Unsafe code lives only here, each block saying why it is
//! sound. The windows it creates are never shown, so nothing flashes on the desktop.

pub mod clipboard;
pub mod drives;
pub mod print;

use windows_sys::Win32::Foundation::{HWND, LPARAM, LRESULT, WPARAM};
use windows_sys::Win32::System::LibraryLoader::GetModuleHandleW;
use windows_sys::Win32::UI::WindowsAndMessaging::{
    CreateWindowExW, DefWindowProcW, DestroyWindow, DispatchMessageW, MsgWaitForMultipleObjects,
    PeekMessageW, RegisterClassW, TranslateMessage, MSG, PM_REMOVE, QS_ALLINPUT, WNDCLASSW,
    WS_OVERLAPPED,
};

use crate::error::{Error, Result};

/// `text` as a NUL-terminated UTF-16 string for the W functions.
pub(crate) fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

/// The text of a UTF-16 buffer up to its first NUL.
pub(crate) fn from_wide(buffer: &[u16]) -> String {
    let end = buffer.iter().position(|c| *c == 0).unwrap_or(buffer.len());
    String::from_utf16_lossy(&buffer[..end])
}

/// The text of a NUL-terminated UTF-16 string owned by Windows; `None` for a null pointer.
///
/// # Safety
/// `p` is null or points to a NUL-terminated UTF-16 string that stays valid during the call.
pub(crate) unsafe fn from_wide_ptr(p: *const u16) -> Option<String> {
    if p.is_null() {
        return None;
    }
    let mut len = 0usize;
    // SAFETY: the caller guarantees a NUL-terminated string; we stop at its NUL.
    while unsafe { *p.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: `len` units before the NUL were just read, so the slice is valid.
    let units = unsafe { std::slice::from_raw_parts(p, len) };
    Some(String::from_utf16_lossy(units))
}

/// The error of a failed Win32 call, with `GetLastError`'s text.
pub(crate) fn os_error(call: &'static str) -> Error {
    Error::Os {
        call,
        reason: std::io::Error::last_os_error().to_string(),
    }
}

/// Waits for a watcher thread to say it has started (its window and listener are in place):
/// the thread, its own error when it could not, or an error naming `call` after 10 s.
pub(crate) fn started(
    thread: std::thread::JoinHandle<()>,
    ready: &std::sync::mpsc::Receiver<Result<()>>,
    call: &'static str,
) -> Result<std::thread::JoinHandle<()>> {
    match ready.recv_timeout(std::time::Duration::from_secs(10)) {
        Ok(Ok(())) => Ok(thread),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => Err(Error::Os {
            call,
            reason: "it did not answer within 10 s".into(),
        }),
    }
}

/// A hidden window owned by the thread that created it (its messages are handled there).
/// `parent` is `HWND_MESSAGE` for a message-only window, or null for a hidden top-level one
/// (only top-level windows receive broadcasts such as `WM_DEVICECHANGE`).
pub(crate) struct HiddenWindow {
    pub hwnd: HWND,
}

impl HiddenWindow {
    /// Registers `class` (once per process; a second registration fails harmlessly) and
    /// creates a window of it that is never shown.
    pub fn create(
        class: &str,
        parent: HWND,
        proc: unsafe extern "system" fn(HWND, u32, WPARAM, LPARAM) -> LRESULT,
    ) -> Result<HiddenWindow> {
        let class_w = wide(class);
        // SAFETY: a null name asks for this executable's module handle.
        let instance = unsafe { GetModuleHandleW(std::ptr::null()) };
        let wc = WNDCLASSW {
            style: 0,
            lpfnWndProc: Some(proc),
            cbClsExtra: 0,
            cbWndExtra: 0,
            hInstance: instance,
            hIcon: std::ptr::null_mut(),
            hCursor: std::ptr::null_mut(),
            hbrBackground: std::ptr::null_mut(),
            lpszMenuName: std::ptr::null(),
            lpszClassName: class_w.as_ptr(),
        };
        // SAFETY: `wc` is fully initialised and its class name outlives the call (Windows
        // copies it). Failure (already registered) is caught by CreateWindowExW below.
        unsafe { RegisterClassW(&wc) };
        // SAFETY: the class was registered above with a valid window procedure; the strings
        // are NUL-terminated and live through the call. No WS_VISIBLE: the window stays hidden.
        let hwnd = unsafe {
            CreateWindowExW(
                0,
                class_w.as_ptr(),
                class_w.as_ptr(),
                WS_OVERLAPPED,
                0,
                0,
                0,
                0,
                parent,
                std::ptr::null_mut(),
                instance,
                std::ptr::null(),
            )
        };
        if hwnd.is_null() {
            return Err(os_error("CreateWindowExW"));
        }
        Ok(HiddenWindow { hwnd })
    }

    /// Handles this thread's pending messages, waiting up to `ms` for the first one.
    pub fn pump(&self, ms: u32) {
        // SAFETY: no handles are passed (count 0); the call only waits for input messages.
        unsafe { MsgWaitForMultipleObjects(0, std::ptr::null(), 0, ms, QS_ALLINPUT) };
        // SAFETY: MSG is plain data, valid when zeroed.
        let mut msg: MSG = unsafe { std::mem::zeroed() };
        // SAFETY: `msg` is a valid, writable MSG; a null window takes every message of this
        // thread, which owns the window.
        while unsafe { PeekMessageW(&mut msg, std::ptr::null_mut(), 0, 0, PM_REMOVE) } != 0 {
            // SAFETY: `msg` was just filled by PeekMessageW.
            unsafe {
                TranslateMessage(&msg);
                DispatchMessageW(&msg);
            }
        }
    }
}

impl Drop for HiddenWindow {
    fn drop(&mut self) {
        // SAFETY: the window was created by this thread (a HiddenWindow never leaves it).
        unsafe { DestroyWindow(self.hwnd) };
    }
}

/// The default handling of a message.
pub(crate) fn default_proc(hwnd: HWND, msg: u32, w: WPARAM, l: LPARAM) -> LRESULT {
    // SAFETY: passes the window procedure's own arguments on unchanged.
    unsafe { DefWindowProcW(hwnd, msg, w, l) }
}
