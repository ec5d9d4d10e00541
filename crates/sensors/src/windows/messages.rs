//! The message loop of a thread that owns windows made by other crates (the tray icon's hidden
//! window and its menu): waits for messages with a time-out, so the caller can also do its own
//! periodic work on that thread, and dispatches them.

use std::time::Duration;

use windows_sys::Win32::UI::WindowsAndMessaging::{
    DispatchMessageW, MsgWaitForMultipleObjectsEx, PeekMessageW, TranslateMessage, MSG,
    MWMO_INPUTAVAILABLE, PM_REMOVE, QS_ALLINPUT, WM_QUIT,
};

/// Waits up to `wait` for a message to this thread, then dispatches every message queued.
/// Returns `false` once `WM_QUIT` was read (the thread's windows asked to end).
pub fn dispatch_for(wait: Duration) -> bool {
    let ms = u32::try_from(wait.as_millis()).unwrap_or(u32::MAX - 1);
    // SAFETY: no handles are passed (count 0, null array); this only waits on the thread's
    // own message queue.
    unsafe {
        MsgWaitForMultipleObjectsEx(0, std::ptr::null(), ms, QS_ALLINPUT, MWMO_INPUTAVAILABLE)
    };
    let mut msg = MSG::default();
    // SAFETY: `msg` is a valid MSG; a null HWND reads every message of this thread.
    while unsafe { PeekMessageW(&mut msg, std::ptr::null_mut(), 0, 0, PM_REMOVE) } != 0 {
        if msg.message == WM_QUIT {
            return false;
        }
        // SAFETY: `msg` was just filled by PeekMessageW.
        unsafe {
            TranslateMessage(&msg);
            DispatchMessageW(&msg);
        }
    }
    true
}
