//! The macOS sensor: the frontmost application (AppKit), seconds since the last input event
//! and the screen lock (CoreGraphics).
//!
//! Window titles are left empty: reading them needs the Accessibility permission
//! (AXUIElement), which Worktrace does not ask for; the app name, executable and pid come
//! without any permission. `domain` stays `None`. Never spawns a process, never panics.
//!
//! `NSWorkspace.frontmostApplication` is refreshed by AppKit notifications delivered on the
//! main run loop: the agent must run one (a Tauri app does) or readings may lag app switches.

#![allow(unsafe_code)]

use objc2_app_kit::NSWorkspace;
use objc2_core_foundation::{CFBoolean, CFDictionary, CFString, CFType};
use objc2_core_graphics::{
    CGEventSource, CGEventSourceStateID, CGEventType, CGSessionCopyCurrentDictionary,
};

use worktrace_domain::{Observation, WindowInfo};

use crate::names::exe_file_name;
use crate::{Result, Sensor};

/// `kCGAnyInputEventType`: any keyboard, mouse or tablet event.
const ANY_INPUT: CGEventType = CGEventType(u32::MAX);

/// Reads the frontmost application of the logged-in user's session.
#[derive(Debug, Default)]
pub struct MacSensor {
    _private: (),
}

impl MacSensor {
    /// A sensor for the current session; holds no OS objects between readings.
    pub fn new() -> Self {
        Self { _private: () }
    }
}

impl Sensor for MacSensor {
    fn observe(&mut self) -> Result<Observation> {
        let secs = CGEventSource::seconds_since_last_event_type(
            CGEventSourceStateID::CombinedSessionState,
            ANY_INPUT,
        );
        // Negative or NaN would be an OS oddity; clamp rather than wrap.
        let idle_ms = if secs.is_finite() && secs > 0.0 {
            (secs * 1000.0) as u64
        } else {
            0
        };
        Ok(Observation {
            window: frontmost(),
            idle_ms,
            locked: screen_locked(),
        })
    }
}

fn frontmost() -> Option<WindowInfo> {
    let app = NSWorkspace::sharedWorkspace().frontmostApplication()?;
    let exe_path = app
        .executableURL()
        .and_then(|url| url.path())
        .map(|p| p.to_string());
    let name = app
        .localizedName()
        .map(|n| n.to_string())
        .filter(|n| !n.is_empty())
        .or_else(|| exe_path.as_deref().and_then(exe_file_name))
        .unwrap_or_else(|| "unknown".to_owned());
    let pid = u32::try_from(app.processIdentifier())
        .ok()
        .filter(|&p| p != 0);
    Some(WindowInfo {
        app: name,
        // Titles need the Accessibility permission; see the module doc.
        title: String::new(),
        exe_path,
        pid,
        domain: None,
        private_browsing: false,
    })
}

/// `CGSSessionScreenIsLocked` in the session dictionary; absent means unlocked.
fn screen_locked() -> bool {
    let Some(session) = CGSessionCopyCurrentDictionary() else {
        return false;
    };
    // SAFETY: the CGSession dictionary maps CFString keys to CF objects; the values are only
    // used through `downcast_ref`, which checks their real type.
    let session: &CFDictionary<CFString, CFType> = unsafe { session.cast_unchecked() };
    let key = CFString::from_static_str("CGSSessionScreenIsLocked");
    session
        .get(&key)
        .and_then(|v| v.downcast_ref::<CFBoolean>().map(CFBoolean::value))
        .unwrap_or(false)
}
