//! The live one-line status of `worktrace run` in a terminal.

use std::io::{IsTerminal, Write};

use worktrace_domain::GroupBy;
use worktrace_store::{DayClock, Store};

use crate::report::format_duration;
use crate::status::AgentStatus;

/// Rewrites one terminal line in place; silent when the output is not a terminal.
#[derive(Debug)]
pub struct StatusLine {
    enabled: bool,
    width: usize,
}

impl StatusLine {
    pub fn new(wanted: bool) -> Self {
        Self {
            enabled: wanted && std::io::stdout().is_terminal(),
            width: 0,
        }
    }

    pub fn show(&mut self, status: &AgentStatus, store: &Store, clock: &DayClock) {
        if !self.enabled {
            return;
        }
        let text = render(status, store, clock);
        let pad = self.width.saturating_sub(text.chars().count());
        self.width = text.chars().count();
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "\r{text}{}", " ".repeat(pad));
        let _ = out.flush();
    }

    pub fn finish(&mut self) {
        if self.enabled && self.width > 0 {
            println!();
        }
    }
}

/// `● clocked in 08:58 · today active 2h 13m, idle 15m · firefox (Work > Email)`
pub fn render(status: &AgentStatus, store: &Store, clock: &DayClock) -> String {
    let mut parts = Vec::new();
    parts.push(match status.clocked_in_since {
        Some(since) => format!("● clocked in {}", crate::report::local_time(since, clock)),
        None => "○ clocked out (worktrace clock-in starts a session)".to_owned(),
    });
    let today = clock.work_day(status.updated_at);
    if let Ok(rows) = store.summary(today, today, GroupBy::Day) {
        let (active, idle) = rows
            .iter()
            .fold((status.open_active_ms, status.open_idle_ms), |(a, i), r| {
                (a + r.active_ms, i + r.idle_ms)
            });
        parts.push(format!(
            "today active {}, idle {}",
            format_duration(active),
            format_duration(idle)
        ));
    }
    if status.locked {
        parts.push("screen locked".to_owned());
    } else if status.idle_since.is_some() {
        parts.push("idle".to_owned());
    } else if let Some(app) = &status.app {
        match &status.category {
            Some(category) => parts.push(format!("{app} ({category})")),
            None => parts.push(app.clone()),
        }
    }
    if !status.pending_prompts.is_empty() {
        parts.push(format!(
            "{} idle period(s) to decide",
            status.pending_prompts.len()
        ));
    }
    if let Some(problem) = &status.problem {
        parts.push(format!("⚠ {problem}"));
    }
    parts.join(" · ")
}
