//! The tray icon and its menu (the crates Tauri's own tray uses), the same on every system:
//! which items the menu holds in which state, their words, and the two icons.

use std::cell::RefCell;
use std::io::Cursor;

use tray_icon::menu::{Menu, MenuItem};
use tray_icon::{Icon, TrayIcon, TrayIconBuilder};
use worktrace_app::prefs::Lang;
use worktrace_app::words::{tooltip, words};

const ICON_IN: &[u8] = include_bytes!("../../../../icons/tray-in.png");
const ICON_OUT: &[u8] = include_bytes!("../../../../icons/tray-out.png");

/// What the tray shows: the icon, the clock item and which pause items are in the menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    pub clocked_in: bool,
    pub paused: bool,
    /// The policy lets the employee pause.
    pub can_pause: bool,
}

/// A pause item of the tray menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PauseItem {
    Short,
    Open,
    Resume,
}

/// The pause items the menu holds: Resume while paused; the two pause choices while clocked
/// in where the policy allows pausing; nothing otherwise (no item that cannot work).
///
/// ```text
/// paused                          → [Resume]
/// clocked in, allowed             → [Short, Open]
/// clocked out, or not allowed     → []
/// ```
fn pause_items(look: Look) -> &'static [PauseItem] {
    match look {
        Look { paused: true, .. } => &[PauseItem::Resume],
        Look {
            clocked_in: true,
            can_pause: true,
            ..
        } => &[PauseItem::Short, PauseItem::Open],
        _ => &[],
    }
}

/// The tray icon and the menu items whose text changes.
pub struct Tray {
    icon: TrayIcon,
    menu: Menu,
    toggle: MenuItem,
    pause_short: MenuItem,
    pause_open: MenuItem,
    resume: MenuItem,
    open: MenuItem,
    quit: MenuItem,
    icon_in: Icon,
    icon_out: Icon,
    /// What the tray shows now: (language, look, tooltip).
    shown: RefCell<Option<(Lang, Look, String)>>,
}

impl Tray {
    /// Builds the tray icon (clocked out look until the first status arrives).
    pub fn build(lang: Lang) -> Result<Tray, String> {
        let w = words(lang);
        let toggle = MenuItem::with_id("toggle", w.clock_in, true, None);
        let pause_short = MenuItem::with_id("pause-short", w.pause_short, true, None);
        let pause_open = MenuItem::with_id("pause-open", w.pause_open, true, None);
        let resume = MenuItem::with_id("resume", w.resume, true, None);
        let open = MenuItem::with_id("open", w.open, true, None);
        let quit = MenuItem::with_id("quit", w.quit, true, None);
        let menu = Menu::with_items(&[&toggle, &open, &quit]).map_err(|e| e.to_string())?;
        let icon_in = decode_icon(ICON_IN)?;
        let icon_out = decode_icon(ICON_OUT)?;
        let icon = TrayIconBuilder::new()
            .with_id("worktrace")
            .with_icon(icon_out.clone())
            .with_tooltip(tooltip(lang, false, false, 0))
            .with_menu(Box::new(menu.clone()))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Tray {
            icon,
            menu,
            toggle,
            pause_short,
            pause_open,
            resume,
            open,
            quit,
            icon_in,
            icon_out,
            shown: RefCell::new(None),
        })
    }

    /// Shows the state: icon, tooltip and the clock menu item's text; does nothing when
    /// nothing changed.
    pub fn show(&self, lang: Lang, look: Look, worked_ms: i64) {
        let tip = tooltip(lang, look.clocked_in, look.paused, worked_ms);
        let next = (lang, look, tip.clone());
        let mut shown = self.shown.borrow_mut();
        if shown.as_ref() == Some(&next) {
            return;
        }
        let w = words(lang);
        let changed_look = shown.as_ref().map(|(l, k, _)| (*l, *k)) != Some((lang, look));
        if changed_look {
            let clocked_in = look.clocked_in;
            // Paused looks like clocked out: nothing is being tracked.
            let icon = if clocked_in && !look.paused {
                &self.icon_in
            } else {
                &self.icon_out
            };
            if let Err(e) = self.icon.set_icon(Some(icon.clone())) {
                tracing::warn!("cannot change the tray icon: {e}");
            }
            self.toggle
                .set_text(if clocked_in { w.clock_out } else { w.clock_in });
            self.pause_short.set_text(w.pause_short);
            self.pause_open.set_text(w.pause_open);
            self.resume.set_text(w.resume);
            self.open.set_text(w.open);
            self.quit.set_text(w.quit);
            self.show_pause_items(pause_items(look));
        }
        if let Err(e) = self.icon.set_tooltip(Some(tip)) {
            tracing::warn!("cannot change the tray tooltip: {e}");
        }
        *shown = Some(next);
    }

    /// Puts exactly `items` after the clock item, in order.
    fn show_pause_items(&self, items: &[PauseItem]) {
        let item = |p: &PauseItem| match p {
            PauseItem::Short => &self.pause_short,
            PauseItem::Open => &self.pause_open,
            PauseItem::Resume => &self.resume,
        };
        for p in [PauseItem::Short, PauseItem::Open, PauseItem::Resume] {
            // Not in the menu: nothing to remove.
            let _ = self.menu.remove(item(&p));
        }
        for (i, p) in items.iter().enumerate() {
            if let Err(e) = self.menu.insert(item(p), 1 + i) {
                tracing::warn!("cannot show the pause item: {e}");
            }
        }
    }
}

/// An RGBA PNG (the icons built into the binary) as a tray icon.
fn decode_icon(png_bytes: &[u8]) -> Result<Icon, String> {
    let decoder = png::Decoder::new(Cursor::new(png_bytes));
    let mut reader = decoder.read_info().map_err(|e| format!("tray icon: {e}"))?;
    let size = reader
        .output_buffer_size()
        .ok_or("tray icon: the image is too large")?;
    let mut buf = vec![0; size];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| format!("tray icon: {e}"))?;
    if info.color_type != png::ColorType::Rgba || info.bit_depth != png::BitDepth::Eight {
        return Err("tray icon: the image is not 8-bit RGBA".into());
    }
    buf.truncate(info.buffer_size());
    Icon::from_rgba(buf, info.width, info.height).map_err(|e| format!("tray icon: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pause_items_show_only_what_can_work() {
        let look = |clocked_in, paused, can_pause| Look {
            clocked_in,
            paused,
            can_pause,
        };
        assert_eq!(
            pause_items(look(true, false, true)),
            &[PauseItem::Short, PauseItem::Open]
        );
        assert_eq!(pause_items(look(true, true, true)), &[PauseItem::Resume]);
        assert_eq!(
            pause_items(look(true, true, false)),
            &[PauseItem::Resume],
            "a pause can always be ended"
        );
        assert!(
            pause_items(look(true, false, false)).is_empty(),
            "no pause item where the policy forbids pausing"
        );
        assert!(
            pause_items(look(false, false, true)).is_empty(),
            "nothing to pause when clocked out"
        );
    }
}
