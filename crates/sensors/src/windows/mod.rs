//! The Windows sensor: foreground window, its process, idle time and the lock screen, read
//! through the Win32 API (windows-sys).
//!
//! Each reading is a handful of cheap Win32 calls (one `OpenProcess` per reading, closed at
//! once); it never spawns a process and never panics. Unsafe code lives only here and in the
//! macOS module; each block says why it is sound.
//!
//! Known limits: Store (UWP) apps show as `ApplicationFrameHost.exe` (the real app is a child
//! window); elevated processes may refuse `OpenProcess`, so their executable is unknown and the
//! app is named "unknown"; `domain` stays `None` (browsers expose the URL only through UI
//! Automation, too costly once a second).

#![allow(unsafe_code)]

pub mod messages;
pub mod session;
pub mod zone;

use windows_sys::Win32::Foundation::{CloseHandle, HWND};
use windows_sys::Win32::System::StationsAndDesktops::{
    CloseDesktop, OpenInputDesktop, DESKTOP_SWITCHDESKTOP,
};
use windows_sys::Win32::System::SystemInformation::GetTickCount;
use windows_sys::Win32::System::Threading::{
    OpenProcess, QueryFullProcessImageNameW, PROCESS_NAME_WIN32, PROCESS_QUERY_LIMITED_INFORMATION,
};
use windows_sys::Win32::UI::Input::KeyboardAndMouse::{GetLastInputInfo, LASTINPUTINFO};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    GetForegroundWindow, GetWindowTextLengthW, GetWindowTextW, GetWindowThreadProcessId,
};

use worktrace_domain::{Observation, WindowInfo};

use crate::names::exe_file_name;
use crate::{Error, Result, Sensor};

/// Longest title read, in UTF-16 units: titles are shown, not archived.
const MAX_TITLE: usize = 2048;
/// Longest executable path read, in UTF-16 units (long-path aware).
const MAX_PATH: usize = 32_768;

/// Reads the interactive desktop of the current Windows session.
#[derive(Debug)]
pub struct WindowsSensor {
    session: session::Session,
}

impl Default for WindowsSensor {
    fn default() -> Self {
        Self::new()
    }
}

impl WindowsSensor {
    /// A sensor for the current session; holds no OS handles between readings. Starts the
    /// hidden session window (lock and logoff notifications) if it is not running yet.
    pub fn new() -> Self {
        Self {
            session: session::Session::get(),
        }
    }
}

impl Sensor for WindowsSensor {
    fn observe(&mut self) -> Result<Observation> {
        let idle_ms = idle_ms()?;
        let window = foreground();
        let lock_app = window
            .as_ref()
            .is_some_and(|w| w.app.eq_ignore_ascii_case("LockApp.exe"));
        let locked = lock_app || self.session.away() || !input_desktop_open();
        Ok(Observation {
            window,
            idle_ms,
            locked,
        })
    }
}

fn idle_ms() -> Result<u64> {
    let mut info = LASTINPUTINFO {
        cbSize: size_of::<LASTINPUTINFO>() as u32,
        dwTime: 0,
    };
    // SAFETY: `info` is a valid, writable LASTINPUTINFO with cbSize set as the API requires.
    let ok = unsafe { GetLastInputInfo(&mut info) };
    if ok == 0 {
        return Err(Error::Os {
            call: "GetLastInputInfo",
            reason: std::io::Error::last_os_error().to_string(),
        });
    }
    // SAFETY: GetTickCount has no preconditions.
    let now = unsafe { GetTickCount() };
    // Both are 32-bit millisecond tick counts that wrap every 49.7 days; the wrapping
    // difference is right across a wrap.
    Ok(u64::from(now.wrapping_sub(info.dwTime)))
}

/// False while the secure desktop (lock screen, UAC prompt, Ctrl+Alt+Del) has the input.
fn input_desktop_open() -> bool {
    // SAFETY: plain call with constant flags; a null result is handled below.
    let desk = unsafe { OpenInputDesktop(0, 0, DESKTOP_SWITCHDESKTOP) };
    if desk.is_null() {
        return false;
    }
    // SAFETY: `desk` is a valid desktop handle we own and close exactly once.
    unsafe { CloseDesktop(desk) };
    true
}

fn foreground() -> Option<WindowInfo> {
    // SAFETY: no preconditions; returns null when no window has focus.
    let hwnd: HWND = unsafe { GetForegroundWindow() };
    if hwnd.is_null() {
        return None;
    }
    let title = window_title(hwnd);
    let mut pid = 0u32;
    // SAFETY: `hwnd` came from GetForegroundWindow (a stale handle only makes the call fail);
    // `pid` is a valid out pointer.
    unsafe { GetWindowThreadProcessId(hwnd, &mut pid) };
    let pid = (pid != 0).then_some(pid);
    let exe_path = pid.and_then(process_path);
    let app = exe_path
        .as_deref()
        .and_then(exe_file_name)
        .unwrap_or_else(|| "unknown".to_owned());
    Some(WindowInfo {
        app,
        title,
        exe_path,
        pid,
        domain: None,
        private_browsing: false,
    })
}

fn window_title(hwnd: HWND) -> String {
    // SAFETY: any HWND value is accepted; a vanished window yields 0.
    let len = unsafe { GetWindowTextLengthW(hwnd) };
    let len = usize::try_from(len).unwrap_or(0).min(MAX_TITLE);
    if len == 0 {
        return String::new();
    }
    let mut buf = vec![0u16; len + 1];
    let cap = i32::try_from(buf.len()).unwrap_or(i32::MAX);
    // SAFETY: `buf` holds `cap` writable u16s; the API writes at most cap-1 chars plus NUL.
    let copied = unsafe { GetWindowTextW(hwnd, buf.as_mut_ptr(), cap) };
    let copied = usize::try_from(copied).unwrap_or(0).min(len);
    String::from_utf16_lossy(&buf[..copied])
}

fn process_path(pid: u32) -> Option<String> {
    // SAFETY: plain call; a null handle (no access, process gone) is handled below.
    let process = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    if process.is_null() {
        return None;
    }
    let mut buf = vec![0u16; MAX_PATH];
    let mut size = buf.len() as u32;
    // SAFETY: `process` is a valid handle with query rights; `buf` holds `size` writable u16s
    // and `size` is updated to the number written.
    let ok = unsafe {
        QueryFullProcessImageNameW(process, PROCESS_NAME_WIN32, buf.as_mut_ptr(), &mut size)
    };
    // SAFETY: `process` is a handle we own and close exactly once.
    unsafe { CloseHandle(process) };
    if ok == 0 {
        return None;
    }
    let size = (size as usize).min(buf.len());
    Some(String::from_utf16_lossy(&buf[..size]))
}
