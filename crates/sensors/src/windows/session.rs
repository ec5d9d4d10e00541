//! The agent's hidden window: how Windows tells a program about its session. Lock, unlock,
//! disconnect and logoff arrive as `WM_WTSSESSION_CHANGE` (after
//! `WTSRegisterSessionNotification`); the requests to end arrive as `WM_CLOSE` (`taskkill`
//! without `/F`, the installer) and `WM_ENDSESSION` (logoff, shutdown).
//!
//! One window per process, on a thread of its own with its own message loop, started the
//! first time anything asks for it. The window is top-level but never shown: message-only
//! windows receive neither `WM_ENDSESSION` nor `taskkill`'s `WM_CLOSE`. Its class is
//! [`WINDOW_CLASS`], so an administrator's script (or a test) can find it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::{HWND, LPARAM, LRESULT, WPARAM};
use windows_sys::Win32::System::LibraryLoader::GetModuleHandleW;
use windows_sys::Win32::System::RemoteDesktop::{
    WTSRegisterSessionNotification, NOTIFY_FOR_THIS_SESSION,
};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    CreateWindowExW, DefWindowProcW, DispatchMessageW, GetMessageW, RegisterClassW,
    TranslateMessage, MSG, WM_CLOSE, WM_ENDSESSION, WM_QUERYENDSESSION, WM_WTSSESSION_CHANGE,
    WNDCLASSW, WS_OVERLAPPED,
};

/// The window class of the agent's hidden window.
pub const WINDOW_CLASS: &str = "WorktraceAgentSession";

/// How long `WM_ENDSESSION` holds the logoff for the agent to save its open span.
const SAVE_AT_LOGOFF: Duration = Duration::from_secs(5);

/// What the hidden window has heard, shared with the sensor and the agent's stop.
#[derive(Debug, Default)]
struct State {
    /// The session is locked, disconnected or logging off: idle from its first second.
    away: AtomicBool,
    /// Set on `WM_CLOSE` / `WM_ENDSESSION`.
    stop: Mutex<Vec<Arc<AtomicBool>>>,
    /// The agent has saved what it had after a stop request.
    saved: AtomicBool,
}

/// The process's one session window: a handle to what it heard.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    state: &'static State,
}

/// The window's state. A window procedure is a plain function the OS calls: it reaches its
/// state through this process-wide cell (there is one hidden window per process).
static STATE: OnceLock<State> = OnceLock::new();
static STARTED: OnceLock<()> = OnceLock::new();

impl Session {
    /// The session window, started on first use.
    pub fn get() -> Session {
        let state = STATE.get_or_init(State::default);
        STARTED.get_or_init(|| {
            let spawned = std::thread::Builder::new()
                .name("worktrace-session".into())
                .spawn(|| {
                    if let Err(reason) = run_window() {
                        tracing::warn!(
                            "cannot watch session changes ({reason}); lock is read from the \
                             input desktop only"
                        );
                    }
                });
            if let Err(e) = spawned {
                tracing::warn!("cannot start the session window thread: {e}");
            }
        });
        Session { state }
    }

    /// True while the session is locked, disconnected or logging off.
    pub fn away(&self) -> bool {
        self.state.away.load(Ordering::Relaxed)
    }

    /// `flag` is set when Windows or an administrator asks the program to end.
    pub fn on_stop(&self, flag: Arc<AtomicBool>) {
        lock(&self.state.stop).push(flag);
    }

    /// The agent has saved its records: a logoff held in `WM_ENDSESSION` may go on.
    pub fn saved(&self) {
        self.state.saved.store(true, Ordering::Relaxed);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The flags stay valid whatever a panicking holder was doing.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether a session change means the person is away (`Some(true)`), back (`Some(false)`), or
/// neither.
///
/// `WTS_SESSION_LOCK` (7) → away; `WTS_SESSION_UNLOCK` (8) → back; `WTS_SESSION_LOGOFF` (6)
/// → away; `WTS_SESSION_LOGON` (5) → back; console/remote disconnect (2, 4) → away; connect
/// (1, 3) → back; anything else → no change.
fn away_after(change: u32) -> Option<bool> {
    match change {
        2 | 4 | 6 | 7 => Some(true),
        1 | 3 | 5 | 8 => Some(false),
        _ => None,
    }
}

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

fn run_window() -> Result<(), String> {
    let class = wide(WINDOW_CLASS);
    // SAFETY: a null module name asks for this executable's own handle.
    let instance = unsafe { GetModuleHandleW(std::ptr::null()) };
    let wc = WNDCLASSW {
        lpfnWndProc: Some(window_proc),
        hInstance: instance,
        lpszClassName: class.as_ptr(),
        ..WNDCLASSW::default()
    };
    // SAFETY: `wc` is fully initialised and `class` outlives the call (and the window).
    if unsafe { RegisterClassW(&wc) } == 0 {
        return Err(format!(
            "RegisterClassW: {}",
            std::io::Error::last_os_error()
        ));
    }
    let title = wide("Worktrace");
    // SAFETY: the class was registered above; every pointer argument is valid or null.
    let hwnd = unsafe {
        CreateWindowExW(
            0,
            class.as_ptr(),
            title.as_ptr(),
            WS_OVERLAPPED,
            0,
            0,
            0,
            0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            instance,
            std::ptr::null(),
        )
    };
    if hwnd.is_null() {
        return Err(format!(
            "CreateWindowExW: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: `hwnd` is the window just made on this thread.
    if unsafe { WTSRegisterSessionNotification(hwnd, NOTIFY_FOR_THIS_SESSION) } == 0 {
        tracing::warn!(
            "WTSRegisterSessionNotification: {}; lock is read from the input desktop only",
            std::io::Error::last_os_error()
        );
    }
    let mut msg = MSG::default();
    // SAFETY: `msg` is a valid MSG; a null HWND reads every message of this thread.
    while unsafe { GetMessageW(&mut msg, std::ptr::null_mut(), 0, 0) } > 0 {
        // SAFETY: `msg` was just filled by GetMessageW.
        unsafe {
            TranslateMessage(&msg);
            DispatchMessageW(&msg);
        }
    }
    Ok(())
}

extern "system" fn window_proc(hwnd: HWND, msg: u32, wparam: WPARAM, lparam: LPARAM) -> LRESULT {
    let Some(state) = STATE.get() else {
        // SAFETY: forwarding the message unchanged to the default procedure.
        return unsafe { DefWindowProcW(hwnd, msg, wparam, lparam) };
    };
    match msg {
        WM_WTSSESSION_CHANGE => {
            let change = u32::try_from(wparam).unwrap_or(u32::MAX);
            if let Some(away) = away_after(change) {
                tracing::info!("session change {change}: away = {away}");
                state.away.store(away, Ordering::Relaxed);
            }
            0
        }
        WM_QUERYENDSESSION => 1,
        WM_CLOSE => {
            request_stop(state);
            0
        }
        WM_ENDSESSION => {
            if wparam != 0 {
                state.away.store(true, Ordering::Relaxed);
                request_stop(state);
                // Windows ends the process once this returns: give the agent a moment to
                // save its open span first.
                let until = Instant::now() + SAVE_AT_LOGOFF;
                while !state.saved.load(Ordering::Relaxed) && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            0
        }
        // SAFETY: forwarding the message unchanged to the default procedure.
        _ => unsafe { DefWindowProcW(hwnd, msg, wparam, lparam) },
    }
}

fn request_stop(state: &State) {
    for flag in lock(&state.stop).iter() {
        flag.store(true, Ordering::Relaxed);
    }
}
