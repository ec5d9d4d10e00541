//! `worktrace-tray`: the process that stays running. It runs the tracking engine (on its own
//! thread, exactly as the window process used to) and the tray icon and menu on a GTK main
//! loop, and starts the window process (`worktrace-desktop`) on demand: when the employee
//! opens the window, and with `--prompt` when they come back from idle and no window is open.
//! Must never link or load the webview: it uses only the tray crate, GTK and the parts of the
//! desktop library that have no window-system code (state, queries, words, launch).

use std::cell::RefCell;
use std::io::Cursor;
use std::process::{Child, ExitCode};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tray_icon::menu::{Menu, MenuEvent, MenuItem};
use tray_icon::{Icon, TrayIcon, TrayIconBuilder};
use worktrace_agent::command::Command;
use worktrace_agent::lock::AgentLock;
use worktrace_desktop::dto::Status;
use worktrace_desktop::launch::{self, PROMPT_ARG, WINDOW_BIN};
use worktrace_desktop::prefs::Lang;
use worktrace_desktop::state::AppState;
use worktrace_desktop::words::{tooltip, words};
use worktrace_desktop::HIDDEN_ARG;

const ICON_IN: &[u8] = include_bytes!("../../icons/tray-in.png");
const ICON_OUT: &[u8] = include_bytes!("../../icons/tray-out.png");
/// How often the tray looks at the engine's status and its window processes.
const EVERY: Duration = Duration::from_millis(500);
/// A prompt window that ended without the prompt being answered is not started again sooner
/// than this (the employee may have closed it; a broken webview must not respawn in a loop).
const PROMPT_RETRY: Duration = Duration::from_secs(60);

pub fn main() -> ExitCode {
    // GDK initialises OpenGL on X11 to pick its visuals; with a software GL (no GPU driver,
    // virtual machines, Xvfb) that maps all of LLVM (about 26 MB PSS, a third of the target
    // for the whole app) into the process for good. A tray icon and a menu never draw with
    // GL. Set before any thread starts; an explicit setting wins.
    #[cfg(target_os = "linux")]
    if std::env::var_os("GDK_GL").is_none() {
        std::env::set_var("GDK_GL", "disable");
    }
    worktrace_agent::init_logging();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("worktrace-tray: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let state = Arc::new(AppState::load().map_err(|e| e.to_string())?);
    let hidden = std::env::args().any(|a| a == HIDDEN_ARG);
    // One tray per data directory: a second launch opens the window of the running one.
    let Ok(_tray_lock) = AgentLock::acquire(&launch::tray_lock_path(state.data_dir())) else {
        if !hidden {
            launch::spawn(WINDOW_BIN, &[]).map_err(|e| e.to_string())?;
        }
        return Ok(());
    };
    // Tracking first: the first sample does not wait for the window system.
    state.start_engine();
    let stop = worktrace_agent::engine::stop_flag().map_err(|e| format!("{e:#}"))?;
    let result = match gtk::init() {
        Ok(()) => run_tray(&state, &stop),
        Err(e) => {
            // No display (a session without a desktop): tracking still runs until stopped.
            tracing::error!("no window system, so no tray icon: {e}");
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EVERY);
            }
            Ok(())
        }
    };
    state.stop_engine();
    result
}

/// The tray on the GTK main loop until Quit or a stop signal.
fn run_tray(state: &Arc<AppState>, stop: &Arc<AtomicBool>) -> Result<(), String> {
    let tray = match Tray::build(state.language()) {
        Ok(tray) => Some(tray),
        // Without a tray host the engine still runs; the window is opened from the menu of
        // the app launcher (a second launch of worktrace-desktop).
        Err(e) => {
            tracing::warn!("no tray icon: {e}");
            None
        }
    };
    let latest = watch_status(Arc::clone(state)).map_err(|e| e.to_string())?;
    let windows = Rc::new(RefCell::new(Windows::default()));
    let state = Arc::clone(state);
    let stop = Arc::clone(stop);
    gtk::glib::timeout_add_local(EVERY, move || {
        let mut windows = windows.borrow_mut();
        windows.reap();
        while let Ok(event) = MenuEvent::receiver().try_recv() {
            match event.id().as_ref() {
                "toggle" => send(&state, clock_command),
                "pause-short" => send(&state, |_| Command::Pause { minutes: Some(15) }),
                "pause-open" => send(&state, |_| Command::Pause { minutes: None }),
                "resume" => send(&state, |_| Command::Resume),
                "open" => windows.open(&[]),
                "quit" => stop.store(true, Ordering::Relaxed),
                _ => {}
            }
        }
        if stop.load(Ordering::Relaxed) {
            windows.close_all();
            gtk::main_quit();
            return gtk::glib::ControlFlow::Break;
        }
        if state.take_restart_request() {
            // A window process changed settings the engine reads at start.
            if let Err(e) = state.reload_prefs() {
                tracing::warn!("cannot read the preferences: {e}");
            }
            state.restart_engine();
        }
        let status = latest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(status) = status {
            if let Some(tray) = &tray {
                let look = Look {
                    clocked_in: status.clocked_in_since.is_some(),
                    paused: status.paused_since.is_some(),
                    can_pause: status.can_pause,
                };
                tray.show(state.language(), look, status.worked_today_ms);
            }
            let window_open = AgentLock::is_held(&launch::window_lock_path(state.data_dir()));
            if !status.prompts.is_empty() && !window_open {
                windows.prompt();
            }
        }
        gtk::glib::ControlFlow::Continue
    });
    gtk::main();
    Ok(())
}

/// Reads the status on a worker thread (today's totals read the database) and keeps the
/// latest for the GTK thread.
fn watch_status(state: Arc<AppState>) -> std::io::Result<Arc<Mutex<Option<Status>>>> {
    let latest = Arc::new(Mutex::new(None));
    let shared = Arc::clone(&latest);
    std::thread::Builder::new()
        .name("worktrace-tray-status".into())
        .spawn(move || loop {
            if let Err(e) = state.reload_prefs() {
                tracing::warn!("cannot read the preferences: {e}");
            }
            let status = worktrace_desktop::queries::status(&state);
            *shared.lock().unwrap_or_else(PoisonError::into_inner) = Some(status);
            std::thread::sleep(EVERY);
        })?;
    Ok(latest)
}

/// Sends the command `choose` picks to the engine, on a worker thread: the engine answers
/// within a poll interval, too long to hold the GTK thread, and clocking in or out reads the
/// status (the database) to know which applies.
fn send(state: &Arc<AppState>, choose: impl FnOnce(&AppState) -> Command + Send + 'static) {
    let state = Arc::clone(state);
    let spawned = std::thread::Builder::new()
        .name("worktrace-tray-command".into())
        .spawn(move || {
            let command = choose(&state);
            if let Err(e) = state.ask(&command) {
                tracing::warn!("{command:?} from the tray failed: {e}");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot start the tray's command thread: {e}");
    }
}

/// Clock in or out, whichever applies.
fn clock_command(state: &AppState) -> Command {
    if worktrace_desktop::queries::status(state)
        .clocked_in_since
        .is_some()
    {
        Command::ClockOut
    } else {
        Command::ClockIn
    }
}

/// What the tray shows: the icon, the clock item and which pause items are in the menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Look {
    clocked_in: bool,
    paused: bool,
    /// The policy lets the employee pause.
    can_pause: bool,
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

/// The window processes this tray started.
#[derive(Debug, Default)]
struct Windows {
    children: Vec<Child>,
    /// When the last prompt window was started.
    prompted_at: Option<Instant>,
}

impl Windows {
    /// Collects the ones that ended, so none lingers as a zombie.
    fn reap(&mut self) {
        self.children
            .retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_)) | Err(_)));
    }

    /// Starts a window process (a running one shows its window instead and this one ends).
    fn open(&mut self, args: &[&str]) {
        match launch::spawn(WINDOW_BIN, args) {
            Ok(child) => self.children.push(child),
            Err(e) => tracing::error!("cannot open the Worktrace window: {e}"),
        }
    }

    /// Starts the idle prompt, unless one was started recently and may still be starting.
    fn prompt(&mut self) {
        if self
            .prompted_at
            .is_some_and(|at| at.elapsed() < PROMPT_RETRY)
        {
            return;
        }
        self.prompted_at = Some(Instant::now());
        self.open(&[PROMPT_ARG]);
    }

    /// Ends the window processes this tray started (Quit ends the whole app).
    fn close_all(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.children.clear();
    }
}

/// The tray icon and the menu items whose text changes.
struct Tray {
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
    fn build(lang: Lang) -> Result<Tray, String> {
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
    fn show(&self, lang: Lang, look: Look, worked_ms: i64) {
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
