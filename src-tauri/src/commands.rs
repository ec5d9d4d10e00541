//! The commands the UI calls. Thin: each one validates its input, calls the state or a query
//! and returns a typed payload or an `{code, message}` error. Every command runs off the UI
//! thread (`async`), because some wait for the engine's answer.

use tauri::{AppHandle, State};
use tauri_plugin_autostart::ManagerExt;
use worktrace_agent::command::{Command, MAX_PAUSE_MINUTES};
use worktrace_agent::{report, sync};
use worktrace_domain::{IdleChoice, Millis};

use crate::dto::{
    CompanyView, CsvExport, ExportsView, PeriodView, SettingsUpdate, SettingsView, Status,
};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::{queries, view};

/// The live status.
#[tauri::command(async)]
pub fn get_status(state: State<'_, AppState>) -> Status {
    queries::status(&state)
}

/// Today's view.
#[tauri::command(async)]
pub fn get_today(state: State<'_, AppState>) -> Result<PeriodView> {
    let day = queries::today(&state);
    queries::period(&state, day, day)
}

/// A day (`week: false`) or the Monday-to-Sunday week containing `day`.
#[tauri::command(async)]
pub fn get_history(state: State<'_, AppState>, day: String, week: bool) -> Result<PeriodView> {
    let day = queries::parse_day(&state, &day)?;
    let (first, last) = if week {
        report::week_of(day)
    } else {
        (day, day)
    };
    queries::period(&state, first, last)
}

/// Starts a work session.
#[tauri::command(async)]
pub fn clock_in(app: AppHandle, state: State<'_, AppState>) -> Result<Status> {
    ask(&app, &state, &Command::ClockIn)
}

/// Ends the work session.
#[tauri::command(async)]
pub fn clock_out(app: AppHandle, state: State<'_, AppState>) -> Result<Status> {
    ask(&app, &state, &Command::ClockOut)
}

/// Pauses tracking for `minutes` (1 to `MAX_PAUSE_MINUTES`), or until resumed, where the policy allows it.
#[tauri::command(async)]
pub fn pause(app: AppHandle, state: State<'_, AppState>, minutes: Option<u32>) -> Result<Status> {
    if let Some(m) = minutes.filter(|m| !(1..=MAX_PAUSE_MINUTES).contains(m)) {
        return Err(Error::Invalid(format!(
            "a pause lasts 1 to {MAX_PAUSE_MINUTES} minutes, not {m}"
        )));
    }
    ask(&app, &state, &Command::Pause { minutes })
}

/// Ends the pause.
#[tauri::command(async)]
pub fn resume(app: AppHandle, state: State<'_, AppState>) -> Result<Status> {
    ask(&app, &state, &Command::Resume)
}

/// Answers the idle prompt for the idle period that began at `idle_start`.
#[tauri::command(async)]
pub fn decide(
    app: AppHandle,
    state: State<'_, AppState>,
    idle_start: Millis,
    choice: IdleChoice,
) -> Result<Status> {
    ask(&app, &state, &Command::Decide { idle_start, choice })
}

/// Writes the timeline of `first_day..=last_day` as CSV into the Downloads folder (the data
/// folder when the OS names no Downloads folder) and says where.
#[tauri::command(async)]
pub fn export_csv(
    state: State<'_, AppState>,
    first_day: String,
    last_day: String,
) -> Result<CsvExport> {
    let first = queries::parse_day(&state, &first_day)?;
    let last = queries::parse_day(&state, &last_day)?;
    let period = queries::period(&state, first, last)?;
    let clock = state.settings().day_clock();
    let text = view::csv(&period.spans, |t| {
        chrono::DateTime::from_timestamp_millis(t)
            .map(|d| {
                d.with_timezone(&clock.tz)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default()
    });
    let dir = directories::UserDirs::new()
        .and_then(|d| d.download_dir().map(|p| p.to_path_buf()))
        .unwrap_or_else(|| state.data_dir().to_path_buf());
    let name = if first == last {
        format!("worktrace-{first}.csv")
    } else {
        format!("worktrace-{first}_to_{last}.csv")
    };
    std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
        what: format!("cannot create {}", dir.display()),
        source,
    })?;
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|source| Error::Io {
        what: format!("cannot write {}", path.display()),
        source,
    })?;
    Ok(CsvExport {
        path: path.display().to_string(),
        rows: u32::try_from(period.spans.len()).unwrap_or(u32::MAX),
    })
}

/// What the company sees.
#[tauri::command(async)]
pub fn get_company(state: State<'_, AppState>) -> Result<CompanyView> {
    queries::company(&state)
}

/// Export events seen on this PC.
#[tauri::command(async)]
pub fn get_exports(state: State<'_, AppState>) -> Result<ExportsView> {
    queries::exports(&state)
}

/// The Settings view.
#[tauri::command(async)]
pub fn get_settings(app: AppHandle, state: State<'_, AppState>) -> Result<SettingsView> {
    let active = autostart_active(&app);
    queries::settings(&state, active)
}

/// Changes settings; a changed idle threshold restarts tracking so it takes effect.
#[tauri::command(async)]
pub fn save_settings(
    app: AppHandle,
    state: State<'_, AppState>,
    update: SettingsUpdate,
) -> Result<SettingsView> {
    if let Some(secs) = update.idle_threshold_secs {
        let (policy, from_server) = state.policy();
        if from_server {
            return Err(Error::NotAllowed(
                "the idle threshold is set by your company's policy".into(),
            ));
        }
        let mut changed = policy.clone();
        changed.idle_threshold_secs = secs;
        changed
            .validate()
            .map_err(|e| Error::Invalid(format!("idle threshold: {}", e.message)))?;
    }
    let before = state.settings().policy.idle_threshold_secs;
    state.update_prefs(|p| {
        if let Some(lang) = update.language {
            p.language = Some(lang);
        }
        if let Some(on) = update.autostart {
            p.autostart = on;
        }
        if let Some(secs) = update.idle_threshold_secs {
            p.idle_threshold_secs = Some(secs);
        }
    })?;
    if update.autostart.is_some() {
        apply_autostart(&app, &state);
    }
    if state.settings().policy.idle_threshold_secs != before {
        state.apply_settings();
    }
    crate::watcher::refresh(&app);
    let active = autostart_active(&app);
    queries::settings(&state, active)
}

/// Enrolls this PC with the company server using the one-time token from IT. The device
/// secret goes to the OS keychain; the running engine starts uploading within a few seconds.
#[tauri::command(async)]
pub fn enroll(
    app: AppHandle,
    state: State<'_, AppState>,
    server: String,
    token: String,
) -> Result<SettingsView> {
    let (server, token) = (server.trim().to_owned(), token.trim().to_owned());
    if server.is_empty() || token.is_empty() {
        return Err(Error::Invalid(
            "give the server address and the enrollment token from IT".into(),
        ));
    }
    let settings = state.settings();
    state.with_store_mut(|store| {
        sync::enroll(store, &settings, &server, &token)
            .map(|_| ())
            .map_err(|e| Error::Sync(e.to_string()))
    })?;
    // The engine starts its upload thread and takes the server's policy on its own; restarting
    // it makes both happen now rather than at the next checkpoint.
    state.apply_settings();
    let active = autostart_active(&app);
    queries::settings(&state, active)
}

/// Remembers that the first-start information was read and accepted, and starts tracking
/// (nothing is recorded before).
#[tauri::command(async)]
pub fn accept_consent(state: State<'_, AppState>) -> Result<()> {
    state.accept_consent()
}

/// Whether start on login is registered.
fn autostart_active(app: &AppHandle) -> bool {
    #[cfg(windows)]
    {
        let _ = app;
        worktrace_app::autostart::is_on()
    }
    #[cfg(not(windows))]
    {
        app.autolaunch().is_enabled().unwrap_or(false)
    }
}

/// Registers or removes start on login, as the preferences say. On Windows the tray process
/// keeps the Run key itself (it follows the preferences within a second).
pub fn apply_autostart(app: &AppHandle, state: &AppState) {
    if cfg!(windows) {
        return;
    }
    let want = state.prefs().autostart;
    let launcher = app.autolaunch();
    let result = match (want, launcher.is_enabled().unwrap_or(false)) {
        (true, false) => launcher.enable(),
        (false, true) => launcher.disable(),
        _ => Ok(()),
    };
    if let Err(e) = result {
        tracing::warn!("cannot change start on login: {e}");
    }
}

/// Closes the calling window (the idle prompt closes itself after an answer).
#[tauri::command]
pub fn close_window(window: tauri::WebviewWindow) -> Result<()> {
    window.destroy().map_err(crate::windows::window_error)?;
    Ok(())
}

/// Sends `command` to the engine, tells the windows, and answers with the status after it.
fn ask(app: &AppHandle, state: &AppState, command: &Command) -> Result<Status> {
    state.ask(command)?;
    crate::watcher::refresh(app);
    Ok(queries::status(state))
}
