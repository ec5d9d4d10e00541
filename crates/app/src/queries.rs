//! Reads behind the views: a period's totals and timeline, the live status, what the company
//! sees, export events and the settings. Each reads the database through the app state and
//! shapes the result with the pure functions of `view`; none of them writes anything.

use chrono::NaiveDate;
use worktrace_agent::report;
use worktrace_domain::{GroupBy, IdlePromptMode, Millis, Record, SummaryRow};

use crate::dto::{
    CompanyView, ExportsView, PeriodView, PromptInfo, QueuedItems, SentBatchView, SettingsView,
    Status,
};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::view;

/// How many outbox rows the company view lists.
const QUEUED_SHOWN: usize = 200;
/// How many sent batches the company view lists.
const SENT_SHOWN: usize = 20;
/// How far back the exports view looks.
const EXPORTS_SINCE_MS: Millis = 30 * 24 * 3_600_000;

/// Parses `YYYY-MM-DD` (or `today`/`yesterday`) relative to today's work day.
pub fn parse_day(state: &AppState, text: &str) -> Result<NaiveDate> {
    let clock = state.settings().day_clock();
    let today = clock.work_day(state.now());
    report::parse_date(text, today).map_err(Error::Invalid)
}

/// Today's work day.
pub fn today(state: &AppState) -> NaiveDate {
    state.settings().day_clock().work_day(state.now())
}

/// The view of the work days `first..=last`: totals (with the open records of the running
/// engine), the timeline and the sessions.
pub fn period(state: &AppState, first: NaiveDate, last: NaiveDate) -> Result<PeriodView> {
    if first > last {
        return Err(Error::Invalid(format!(
            "{first} is after {last}; give the earlier day first"
        )));
    }
    let clock = state.settings().day_clock();
    let from = clock.day_range(first).0;
    let to = clock.day_range(last).1;
    let open: Vec<Record> = state
        .open_records()
        .into_iter()
        .filter(|r| {
            let (s, e) = r.range();
            e > from && s < to
        })
        .collect();
    let (records, by_cat, by_app, by_day, session_since) = state.with_store(|s| {
        let records: Vec<Record> = s
            .records_between(from, to)?
            .into_iter()
            .map(|r| r.record)
            .collect();
        Ok((
            records,
            s.summary(first, last, GroupBy::Category)?,
            s.summary(first, last, GroupBy::App)?,
            s.summary(first, last, GroupBy::Day)?,
            s.session_open_since()?,
        ))
    })?;
    let by_category = view::totals_with_open(&by_cat, &open, |r| match r {
        Record::Window(w) => Some(w.category.clone()),
        Record::Idle(p) => Some(p.category.clone()),
        _ => None,
    });
    let by_app = view::totals_with_open(&by_app, &open, |r| match r {
        Record::Window(w) => Some(w.app.clone()),
        Record::Idle(p) => Some(p.app.clone()),
        _ => None,
    });
    let mut by_day = view::totals_with_open(&by_day, &open, |r| {
        Some(clock.work_day(r.range().0).to_string())
    });
    by_day.sort_by(|a, b| a.key.cmp(&b.key));
    let sum = |f: fn(&crate::dto::Total) -> i64| by_day.iter().map(f).sum::<i64>();
    let (worked_ms, active_ms, idle_ms, input_ms) = (
        sum(|t| t.worked_ms),
        sum(|t| t.active_ms),
        sum(|t| t.idle_ms),
        sum(|t| t.input_ms),
    );
    let activity = SummaryRow {
        key: String::new(),
        active_ms,
        idle_ms,
        clocked_ms: worked_ms,
        input_ms,
    }
    .activity_level();
    Ok(PeriodView {
        first_day: first.to_string(),
        last_day: last.to_string(),
        from,
        to,
        worked_ms,
        active_ms,
        idle_ms,
        activity,
        spans: view::timeline(&records, &open, from, to),
        sessions: view::sessions(&records, session_since, from, to),
        by_category,
        by_app,
        by_day,
    })
}

/// The live status for the UI and the tray.
pub fn status(state: &AppState) -> Status {
    let agent = state.agent_status();
    let (policy, _) = state.policy();
    let day = today(state);
    let worked_today_ms = period(state, day, day).map(|p| p.worked_ms).unwrap_or(0);
    let clocked_in_since = match &agent {
        Some(a) => a.clocked_in_since,
        None => state
            .with_store(|s| Ok(s.session_open_since()?))
            .unwrap_or(None),
    };
    let a = agent.clone().unwrap_or_default();
    let prompts = if policy.idle_prompt == IdlePromptMode::Ask {
        a.pending_prompts
            .iter()
            .map(|p| PromptInfo {
                idle_start: p.start,
                idle_end: p.end,
                // The tracker's own deadline: the moment it applies the policy's default.
                deadline: p.deadline,
                choices: view::prompt_choices(&policy),
                default_choice: policy.idle_prompt_default,
            })
            .collect()
    } else {
        Vec::new()
    };
    Status {
        running: agent.is_some(),
        // The app's own tray process is not "another agent"; `worktrace run` in a terminal is.
        external_agent: agent.is_some()
            && !state.runs_engine()
            && !worktrace_agent::lock::AgentLock::is_held(&crate::launch::tray_lock_path(
                state.data_dir(),
            )),
        clocked_in_since,
        app: a.app,
        title: a.title,
        category: a.category,
        idle_since: a.idle_since,
        locked: a.locked,
        prompts,
        last_auto_clock_out: a.last_auto_clock_out,
        paused_since: a.paused_since,
        paused_until: a.paused_until,
        can_pause: policy.allow_pause,
        problem: a.problem.or_else(|| state.engine_problem()),
        worked_today_ms,
    }
}

/// What leaves the PC: sync state, the pending batch, the queue and the sent log.
pub fn company(state: &AppState) -> Result<CompanyView> {
    let (policy, policy_from_server) = state.policy();
    state.with_store(|s| {
        let sync = s.sync_state()?;
        let draft = s.outbox_draft(QUEUED_SHOWN, usize::MAX)?;
        let shown = draft.len() as u64;
        let pending = s.pending_batch()?;
        let sent = s
            .sent_batches(SENT_SHOWN)?
            .into_iter()
            .map(|b| SentBatchView {
                batch_seq: b.batch_seq,
                server: b.server,
                acked_at: b.acked_at,
                duplicate: b.duplicate,
                body: b.body,
            })
            .collect();
        Ok(CompanyView {
            enrolled: sync.server_url.is_some() && sync.device.is_some(),
            server_url: sync.server_url,
            device: sync.device,
            last_attempt_at: sync.last_attempt_at,
            last_success_at: sync.last_success_at,
            last_error: sync.last_error,
            revoked_at: sync.revoked_at,
            queued: sync.queued,
            pending_batch: pending.map(|p| p.body),
            queued_items: QueuedItems {
                rollups: draft.rollups,
                sessions: draft.sessions,
                decisions: draft.decisions,
                alerts: draft.alerts,
                more: sync.queued.saturating_sub(shown),
            },
            sent,
            policy,
            policy_from_server,
        })
    })
}

/// Export events of the last 30 days, newest first.
pub fn exports(state: &AppState) -> Result<ExportsView> {
    let (policy, _) = state.policy();
    let since = state.now() - EXPORTS_SINCE_MS;
    let mut events: Vec<_> = state.with_store(|s| {
        Ok(s.records_between(since, Millis::MAX)?
            .into_iter()
            .filter_map(|r| match r.record {
                Record::Export(e) => Some(e),
                _ => None,
            })
            .collect())
    })?;
    events.sort_by_key(|e| std::cmp::Reverse(e.at));
    Ok(ExportsView {
        enabled: policy.exports.enabled,
        since,
        events,
    })
}

/// The Settings view.
pub fn settings(state: &AppState, autostart_active: bool) -> Result<SettingsView> {
    let (policy, from_server) = state.policy();
    let sync = state.with_store(|s| Ok(s.sync_state()?))?;
    Ok(SettingsView {
        prefs: state.prefs(),
        language: state.language(),
        idle_threshold_secs: policy.idle_threshold_secs,
        idle_threshold_editable: !from_server,
        enrolled: sync.device.is_some(),
        server_url: sync
            .server_url
            .or_else(|| state.settings().server.url.clone()),
        data_dir: state.data_dir().display().to_string(),
        autostart_active,
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}
