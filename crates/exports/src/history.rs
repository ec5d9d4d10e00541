//! The foreground windows of the last minutes, as change points: which app was active just
//! before an event, and whether a sensitive app was active within the policy's window.
//!
//! Pure: no I/O, no clock reads. Holds app names, titles (after the tracker's privacy rules)
//! and domains only in memory, for at most [`KEEP_MS`].

use std::collections::VecDeque;

use worktrace_domain::{Millis, WindowInfo};

use crate::matchers::Matchers;

/// How long window changes are kept: longer than any correlation window the policy allows.
pub const KEEP_MS: Millis = 3_600_000;
/// At most this many change points are kept (a window switch per second for over an hour).
const MAX_ENTRIES: usize = 4096;

/// One foreground window from `since` until the next entry.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    since: Millis,
    window: Option<WindowInfo>,
}

/// Recent foreground windows.
#[derive(Debug, Clone, Default)]
pub struct AppHistory {
    entries: VecDeque<Entry>,
}

fn same(a: &Option<WindowInfo>, b: &Option<WindowInfo>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.app == b.app && a.title == b.title && a.domain == b.domain,
        (None, None) => true,
        _ => false,
    }
}

impl AppHistory {
    /// Notes the foreground window at `at`; a repeat of the current one changes nothing.
    /// Returns whether it was a change.
    pub fn observe(&mut self, at: Millis, window: Option<WindowInfo>) -> bool {
        if self
            .entries
            .back()
            .is_some_and(|e| same(&e.window, &window))
        {
            return false;
        }
        self.entries.push_back(Entry { since: at, window });
        // Keep the entry in force at the cut-off: it tells what was active right after it.
        while self.entries.len() > MAX_ENTRIES
            || (self.entries.len() > 1 && self.entries[1].since < at - KEEP_MS)
        {
            self.entries.pop_front();
        }
        true
    }

    /// The window in front now (the latest observed).
    pub fn current(&self) -> Option<&WindowInfo> {
        self.entries.back().and_then(|e| e.window.as_ref())
    }

    /// The app in front at `at` (the latest change at or before it; the earliest known when
    /// `at` is older than the history).
    ///
    /// changes `[(0, xterm), (10, calc)]`: at 5 → xterm, at 10 → calc, at 99 → calc.
    pub fn app_at(&self, at: Millis) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.since <= at)
            .or_else(|| self.entries.front())
            .and_then(|e| e.window.as_ref())
            .map(|w| w.app.as_str())
    }

    /// The most recent sensitive window in front at any moment of `[at - window_ms, at]`.
    ///
    /// changes `[(0, crm), (10, calc)]`, window 60: at 65 → crm (it was in front until 10,
    /// within 60 of 65); at 71 → none.
    pub fn sensitive_within(
        &self,
        at: Millis,
        window_ms: Millis,
        matchers: &Matchers,
    ) -> Option<&WindowInfo> {
        let from = at - window_ms;
        let mut until = Millis::MAX;
        for e in self.entries.iter().rev() {
            if e.since <= at && until >= from {
                if let Some(w) = e.window.as_ref().filter(|w| matchers.is_sensitive(w)) {
                    return Some(w);
                }
            }
            until = e.since;
            if until < from {
                break;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use worktrace_domain::ExportPolicy;

    fn w(app: &str, title: &str) -> Option<WindowInfo> {
        Some(WindowInfo::new(app, title))
    }

    #[test]
    fn app_before_and_sensitive_window() {
        let m = Matchers::new(&ExportPolicy::default()).expect("defaults compile");
        let mut h = AppHistory::default();
        assert!(
            h.observe(0, w("crmapp", "Acme CRM — Customers")),
            "first change"
        );
        assert!(
            !h.observe(1_000, w("crmapp", "Acme CRM — Customers")),
            "a repeat is no change"
        );
        h.observe(10_000, w("localc", "Untitled"));
        assert_eq!(h.app_at(5_000), Some("crmapp"));
        assert_eq!(h.app_at(10_000), Some("localc"));
        assert_eq!(
            h.app_at(-5),
            Some("crmapp"),
            "older than history: the earliest known"
        );
        let hit = h
            .sensitive_within(65_000, 60_000, &m)
            .map(|w| w.app.clone());
        assert_eq!(
            hit.as_deref(),
            Some("crmapp"),
            "CRM was in front until 10 s, within 60 s"
        );
        assert!(
            h.sensitive_within(71_000, 60_000, &m).is_none(),
            "more than 60 s ago"
        );
        assert!(
            h.sensitive_within(-1, 60_000, &m).is_none(),
            "nothing before history began"
        );
    }

    proptest! {
        /// The app reported for an instant is the one of the latest change at or before it.
        #[test]
        fn app_at_is_the_latest_change(gaps in prop::collection::vec(1i64..10_000, 1..50), probe in 0i64..500_000) {
            let mut h = AppHistory::default();
            let mut t = 0;
            let mut changes = Vec::new();
            for (i, g) in gaps.iter().enumerate() {
                let app = format!("app{i}");
                h.observe(t, w(&app, ""));
                changes.push((t, app));
                t += g;
            }
            let want = changes.iter().rev().find(|(s, _)| *s <= probe).map(|(_, a)| a.as_str());
            prop_assert_eq!(h.app_at(probe), want);
        }
    }
}
