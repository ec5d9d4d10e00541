//! The tray icon: its look shows clocked in or out, its tooltip today's worked time, its menu
//! clocks in and out, opens the window and quits. Never blocks the UI thread: menu actions
//! that wait for the engine run on a worker thread.

use std::sync::Mutex;

use tauri::image::Image;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};
use worktrace_agent::command::Command;

use crate::error::Result;
use crate::prefs::Lang;
use crate::state::AppState;
use crate::words::{tooltip, words};

const ICON_IN: &[u8] = include_bytes!("../../icons/tray-in.png");
const ICON_OUT: &[u8] = include_bytes!("../../icons/tray-out.png");

/// The tray icon and the menu items whose text changes.
pub struct Tray {
    icon: TrayIcon,
    toggle: MenuItem<Wry>,
    open: MenuItem<Wry>,
    quit: MenuItem<Wry>,
    /// What the tray shows now: (language, clocked in, tooltip).
    shown: Mutex<Option<(Lang, bool, String)>>,
}

impl std::fmt::Debug for Tray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tray").finish_non_exhaustive()
    }
}

impl Tray {
    /// Builds the tray icon (clocked out look until the first status arrives).
    pub fn build(app: &AppHandle, lang: Lang) -> Result<Tray> {
        let w = words(lang);
        let toggle = MenuItem::with_id(app, "toggle", w.clock_in, true, None::<&str>)?;
        let open = MenuItem::with_id(app, "open", w.open, true, None::<&str>)?;
        let quit = MenuItem::with_id(app, "quit", w.quit, true, None::<&str>)?;
        let menu = Menu::with_items(app, &[&toggle, &open, &quit])?;
        let icon = TrayIconBuilder::with_id("worktrace")
            .icon(Image::from_bytes(ICON_OUT)?)
            .tooltip(tooltip(lang, false, 0))
            .menu(&menu)
            .show_menu_on_left_click(false)
            .on_menu_event(|app, event| match event.id.as_ref() {
                "toggle" => toggle_clock(app),
                "open" => crate::windows::show_main(app),
                "quit" => app.exit(0),
                _ => {}
            })
            .on_tray_icon_event(|tray, event| {
                if let TrayIconEvent::Click {
                    button: MouseButton::Left,
                    button_state: MouseButtonState::Up,
                    ..
                } = event
                {
                    crate::windows::show_main(tray.app_handle());
                }
            })
            .build(app)?;
        Ok(Tray {
            icon,
            toggle,
            open,
            quit,
            shown: Mutex::new(None),
        })
    }

    /// Shows the state: icon, tooltip and the clock menu item's text; does nothing when
    /// nothing changed.
    pub fn show(&self, lang: Lang, clocked_in: bool, worked_ms: i64) -> Result<()> {
        let tip = tooltip(lang, clocked_in, worked_ms);
        let next = (lang, clocked_in, tip.clone());
        let mut shown = self
            .shown
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if shown.as_ref() == Some(&next) {
            return Ok(());
        }
        let w = words(lang);
        let changed_look = shown.as_ref().map(|(l, c, _)| (*l, *c)) != Some((lang, clocked_in));
        if changed_look {
            let icon = if clocked_in { ICON_IN } else { ICON_OUT };
            self.icon.set_icon(Some(Image::from_bytes(icon)?))?;
            self.toggle
                .set_text(if clocked_in { w.clock_out } else { w.clock_in })?;
            self.open.set_text(w.open)?;
            self.quit.set_text(w.quit)?;
        }
        self.icon.set_tooltip(Some(tip))?;
        *shown = Some(next);
        Ok(())
    }
}

/// Clocks in or out, whichever applies, on a worker thread (the engine answers within a poll
/// interval, too long to hold the UI thread).
fn toggle_clock(app: &AppHandle) {
    let app = app.clone();
    let spawned = std::thread::Builder::new()
        .name("worktrace-tray-clock".into())
        .spawn(move || {
            let state = app.state::<AppState>();
            let clocked_in = crate::queries::status(&state).clocked_in_since.is_some();
            let command = if clocked_in {
                Command::ClockOut
            } else {
                Command::ClockIn
            };
            if let Err(e) = state.ask(&command) {
                tracing::warn!("clock in/out from the tray failed: {e}");
            }
            crate::watcher::refresh(&app);
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot clock in/out: {e}");
    }
}
