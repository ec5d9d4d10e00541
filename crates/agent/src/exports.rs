//! Export detection in the agent: starts the watchers the policy asks for with the settings'
//! print server and home folder, and renders `worktrace exports` (table, CSV, JSON).
//!
//! Never records or prints file or clipboard contents (the events hold none).

use worktrace_domain::{csv, Millis};
use worktrace_exports::{ExportWatchers, WatchOptions};
use worktrace_store::{DayClock, StoredExport};

use chrono::TimeZone;

use crate::report::Format;
use crate::settings::Settings;

/// The watch options for these settings (the X display is this process's `DISPLAY`).
pub fn watch_options(settings: &Settings) -> WatchOptions {
    let mut options = WatchOptions::new(settings.policy.exports.clone(), settings.time_zone);
    options.home = settings.exports.home.clone();
    options.print_server = settings.exports.print_server.clone();
    options.display = std::env::var("DISPLAY").ok().filter(|d| !d.is_empty());
    options
}

/// Starts export detection; `None` (with a warning in the log) when the policy cannot be
/// compiled. Watchers that cannot start are logged and the others run.
pub fn start(settings: &Settings, clock: fn() -> Millis) -> Option<ExportWatchers> {
    if !settings.policy.exports.enabled {
        return None;
    }
    match ExportWatchers::start(watch_options(settings), clock) {
        Ok(w) => {
            for p in w.problems() {
                tracing::warn!("export detection: {p}");
            }
            Some(w)
        }
        Err(e) => {
            tracing::warn!("export detection is off: {e}");
            None
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS` in the local time zone.
fn local_stamp(at: Millis, clock: &DayClock) -> String {
    clock
        .tz
        .timestamp_millis_opt(at)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| at.to_string())
}

fn detail(row: &StoredExport, key: &str) -> String {
    match row.event.details.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

/// What a row is about, in a few words: the file, volume, document or copy shape.
fn what(row: &StoredExport) -> String {
    let e = &row.event;
    match e.kind {
        worktrace_domain::ExportKind::ClipboardBulk => format!(
            "{} lines × {} columns",
            detail(row, "lines"),
            detail(row, "columns")
        ),
        worktrace_domain::ExportKind::UploadSite => {
            format!("{} for {} s", detail(row, "site"), detail(row, "seconds"))
        }
        _ if e.count > 1 => format!(
            "{} files to {}",
            e.count,
            e.path.as_deref().unwrap_or_default()
        ),
        _ => e
            .file_name
            .clone()
            .or_else(|| e.path.clone())
            .unwrap_or_default(),
    }
}

fn kind_name(row: &StoredExport) -> String {
    serde_json::to_value(row.event.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn severity_name(row: &StoredExport) -> String {
    serde_json::to_value(row.event.severity)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The rows of `worktrace exports` (one per incident) in `format`.
pub fn render(rows: &[StoredExport], clock: &DayClock, format: Format) -> String {
    match format {
        Format::Json => {
            let list: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    let mut v = serde_json::to_value(&r.event).unwrap_or_default();
                    if let Some(map) = v.as_object_mut() {
                        map.insert("seq".into(), r.seq.into());
                        map.insert("first_at".into(), r.first_at.into());
                    }
                    v
                })
                .collect();
            let mut text = serde_json::to_string_pretty(&list).unwrap_or_else(|_| "[]".into());
            text.push('\n');
            text
        }
        Format::Csv => {
            let mut out = String::from(
                "time,kind,severity,count,what,size_bytes,destination,app_before,export_from,path,\
                 client_source,rows,origin_url\n",
            );
            for r in rows {
                let e = &r.event;
                let fields = [
                    local_stamp(r.first_at, clock),
                    kind_name(r),
                    severity_name(r),
                    e.count.to_string(),
                    what(r),
                    e.size_bytes.map(|s| s.to_string()).unwrap_or_default(),
                    e.destination_class.clone().unwrap_or_default(),
                    e.app_before.clone().unwrap_or_default(),
                    detail(r, "export_from"),
                    e.path.clone().unwrap_or_default(),
                    detail(r, "client_source"),
                    detail(r, "rows"),
                    detail(r, "origin_url"),
                ];
                out.push_str(&csv::line(&fields));
            }
            out
        }
        Format::Table => {
            if rows.is_empty() {
                return "no export events in this period\n".into();
            }
            let mut out = format!(
                "{:<19}  {:<20}  {:<8}  {:>5}  {:<40}  {}\n",
                "time", "kind", "severity", "count", "what", "app before (export from)"
            );
            for r in rows {
                let from = match (detail(r, "export_from"), detail(r, "client_source")) {
                    (f, s) if f.is_empty() && s.is_empty() => String::new(),
                    (f, s) if f.is_empty() => format!(" (from {s})"),
                    (f, _) => format!(" (from {f})"),
                };
                let mut what = what(r);
                if what.chars().count() > 40 {
                    what = what.chars().take(39).collect::<String>() + "…";
                }
                out.push_str(&format!(
                    "{:<19}  {:<20}  {:<8}  {:>5}  {:<40}  {}{from}\n",
                    local_stamp(r.first_at, clock),
                    kind_name(r),
                    severity_name(r),
                    r.event.count,
                    what,
                    r.event.app_before.as_deref().unwrap_or("-"),
                ));
            }
            out
        }
    }
}
