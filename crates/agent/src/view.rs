//! Pure shaping of stored records into what the views show (the desktop app, and the CLI): the
//! timeline of a period, the sessions in it, live totals that include the records still open,
//! and the CSV export. The types are the desktop's payloads too (TypeScript from ts-rs).
//! Pure: no I/O, no clock reads (the caller passes `now`). Totals themselves come from the
//! store's rollups; this module only adds the open records on top.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use worktrace_domain::{
    csv, DecisionSource, IdleChoice, IdleReason, Millis, Policy, Record, SummaryRow,
};

/// What a timeline span is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SpanKind {
    Window,
    Idle,
}

/// One bar of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TimelineSpan {
    pub start: Millis,
    pub end: Millis,
    pub kind: SpanKind,
    pub app: String,
    pub title: String,
    pub category: String,
    pub in_session: bool,
    /// For idle spans: why idle.
    pub idle_reason: Option<IdleReason>,
    /// For idle spans in a session: what was decided (none yet: waiting or outside a session).
    pub decision: Option<IdleChoice>,
    pub decision_source: Option<DecisionSource>,
    /// True while the span is still being recorded.
    pub open: bool,
}

/// A work session within the shown period; `end` is `None` while clocked in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SessionSpan {
    pub start: Millis,
    pub end: Option<Millis>,
}

/// Totals for one app, category or day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Total {
    pub key: String,
    pub active_ms: i64,
    pub idle_ms: i64,
    pub worked_ms: i64,
    pub input_ms: i64,
}

/// The timeline of `[from, to)`: window and idle spans clipped to the period, each idle span
/// with its decision; `open` records (not final yet) are marked as such.
///
/// ```text
/// records: Window 9:00–9:30 xterm, Idle 9:30–9:40, Decision(9:30, keep)     period 9:10–10:00
/// spans:   [9:10–9:30 window xterm] [9:30–9:40 idle, decision keep]
/// ```
pub fn timeline(
    records: &[Record],
    open: &[Record],
    from: Millis,
    to: Millis,
) -> Vec<TimelineSpan> {
    let decisions: BTreeMap<Millis, &worktrace_domain::IdleDecision> = records
        .iter()
        .filter_map(|r| match r {
            Record::Decision(d) => Some((d.idle_start, d)),
            _ => None,
        })
        .collect();
    let mut spans: Vec<TimelineSpan> = records
        .iter()
        .map(|r| (r, false))
        .chain(open.iter().map(|r| (r, true)))
        .filter_map(|(r, is_open)| {
            let (start, end) = r.range();
            let (start, end) = (start.max(from), end.min(to));
            if start >= end {
                return None;
            }
            match r {
                Record::Window(w) => Some(TimelineSpan {
                    start,
                    end,
                    kind: SpanKind::Window,
                    app: w.app.clone(),
                    title: w.title.clone(),
                    category: w.category.clone(),
                    in_session: w.in_session,
                    idle_reason: None,
                    decision: None,
                    decision_source: None,
                    open: is_open,
                }),
                Record::Idle(p) => {
                    let decision = decisions.get(&p.start);
                    Some(TimelineSpan {
                        start,
                        end,
                        kind: SpanKind::Idle,
                        app: p.app.clone(),
                        title: String::new(),
                        category: p.category.clone(),
                        in_session: p.in_session,
                        idle_reason: Some(p.reason),
                        decision: decision.map(|d| d.choice),
                        decision_source: decision.map(|d| d.source),
                        open: is_open,
                    })
                }
                _ => None,
            }
        })
        .collect();
    spans.sort_by_key(|s| (s.start, s.end));
    spans
}

/// The work sessions overlapping `[from, to)`, clipped to it; a session still open at the end
/// of the records has `end: None` (or ends at `to` when `to` is in the past of `now`).
///
/// ```text
/// ClockIn 9:00, ClockOut 12:00, ClockIn 13:00      → [9:00–12:00] [13:00–open]
/// ```
pub fn sessions(
    records: &[Record],
    open_since: Option<Millis>,
    from: Millis,
    to: Millis,
) -> Vec<SessionSpan> {
    let mut out = Vec::new();
    let mut start: Option<Millis> = None;
    for r in records {
        match r {
            Record::ClockIn { at } => start = Some(*at),
            Record::ClockOut { at, .. } => {
                // A clock-out whose clock-in lies before the period starts the period.
                let s = start.take().unwrap_or(from);
                if *at > from && s < to {
                    out.push(SessionSpan {
                        start: s.max(from),
                        end: Some((*at).min(to)),
                    });
                }
            }
            _ => {}
        }
    }
    let still_open = start.or(open_since.filter(|s| *s < to));
    if let Some(s) = still_open {
        if s < to {
            out.push(SessionSpan {
                start: s.max(from),
                end: None,
            });
        }
    }
    out
}

/// Summary rows as totals, with the open records added to their key (`key` picks app,
/// category or nothing). Open window time counts as worked time only inside a session;
/// open idle time is never worked (it is not decided yet).
///
/// ```text
/// rows: [xterm active 60s worked 60s]   open: Window xterm 10s in session
/// out:  [xterm active 70s worked 70s]
/// ```
pub fn totals_with_open(
    rows: &[SummaryRow],
    open: &[Record],
    key: impl Fn(&Record) -> Option<String>,
) -> Vec<Total> {
    let mut by_key: BTreeMap<String, Total> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for r in rows {
        if !by_key.contains_key(&r.key) {
            order.push(r.key.clone());
        }
        let t = by_key.entry(r.key.clone()).or_insert_with(|| empty(&r.key));
        t.active_ms += r.active_ms;
        t.idle_ms += r.idle_ms;
        t.worked_ms += r.clocked_ms;
        t.input_ms += r.input_ms;
    }
    for record in open {
        let Some(k) = key(record) else { continue };
        if !by_key.contains_key(&k) {
            order.push(k.clone());
        }
        let t = by_key.entry(k.clone()).or_insert_with(|| empty(&k));
        match record {
            Record::Window(w) => {
                t.active_ms += w.end - w.start;
                t.input_ms += w.input_ms;
                if w.in_session {
                    t.worked_ms += w.end - w.start;
                }
            }
            Record::Idle(p) => t.idle_ms += p.end - p.start,
            _ => {}
        }
    }
    let mut out: Vec<Total> = order
        .into_iter()
        .filter_map(|k| by_key.remove(&k))
        .collect();
    out.sort_by(|a, b| {
        (b.worked_ms + b.active_ms)
            .cmp(&(a.worked_ms + a.active_ms))
            .then_with(|| a.key.cmp(&b.key))
    });
    out
}

fn empty(key: &str) -> Total {
    Total {
        key: key.to_owned(),
        active_ms: 0,
        idle_ms: 0,
        worked_ms: 0,
        input_ms: 0,
    }
}

/// The answers the idle prompt offers under a policy: all four, in the order the prompt shows
/// them. (The policy decides only *whether* to ask; when it asks, every answer is allowed.)
pub fn prompt_choices(_policy: &Policy) -> Vec<IdleChoice> {
    vec![
        IdleChoice::Keep,
        IdleChoice::Meeting,
        IdleChoice::Break,
        IdleChoice::Discard,
    ]
}

/// The CSV of a timeline: one line per span, times as local `YYYY-MM-DD HH:MM:SS`.
///
/// ```text
/// start,end,seconds,kind,app,title,category,in_session,decision
/// 2025-03-03 09:00:00,2025-03-03 09:30:00,1800,window,xterm,build,Work > Development,yes,
/// ```
pub fn csv(spans: &[TimelineSpan], local: impl Fn(Millis) -> String) -> String {
    let mut out = String::from("start,end,seconds,kind,app,title,category,in_session,decision\n");
    for s in spans {
        let kind = match s.kind {
            SpanKind::Window => "window",
            SpanKind::Idle => "idle",
        };
        let decision = s.decision.map(choice_name).unwrap_or("");
        let fields = [
            local(s.start),
            local(s.end),
            ((s.end - s.start) / 1000).to_string(),
            kind.to_owned(),
            s.app.clone(),
            s.title.clone(),
            s.category.clone(),
            if s.in_session { "yes" } else { "no" }.to_owned(),
            decision.to_owned(),
        ];
        out.push_str(&csv::line(&fields));
    }
    out
}

/// The stable English name of a choice, as in the CSV and the CLI.
pub fn choice_name(c: IdleChoice) -> &'static str {
    match c {
        IdleChoice::Keep => "keep",
        IdleChoice::Discard => "discard",
        IdleChoice::Break => "break",
        IdleChoice::Meeting => "meeting",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use worktrace_domain::{DecisionSource, IdleDecision, IdlePeriod, IdleReason, WindowSpan};

    fn window(start: Millis, end: Millis, app: &str) -> Record {
        Record::Window(WindowSpan {
            start,
            end,
            app: app.into(),
            title: format!("{app} title"),
            exe_path: None,
            domain: None,
            category: "Work".into(),
            input_ms: (end - start) / 2,
            in_session: true,
        })
    }

    fn idle(start: Millis, end: Millis) -> Record {
        Record::Idle(IdlePeriod {
            start,
            end,
            reason: IdleReason::NoInput,
            app: "xterm".into(),
            category: "Work".into(),
            in_session: true,
        })
    }

    #[test]
    fn timeline_clips_to_the_period_and_attaches_decisions() {
        let records = vec![
            Record::ClockIn { at: 0 },
            window(0, 100, "xterm"),
            idle(100, 200),
            Record::Decision(IdleDecision {
                idle_start: 100,
                idle_end: 200,
                choice: IdleChoice::Meeting,
                source: DecisionSource::User,
                decided_at: 210,
            }),
        ];
        let open = vec![window(200, 260, "firefox")];
        let spans = timeline(&records, &open, 50, 250);
        assert_eq!(
            spans.len(),
            3,
            "two final spans and the open one: {spans:?}"
        );
        assert_eq!(
            (spans[0].start, spans[0].end),
            (50, 100),
            "clipped to the period start"
        );
        assert_eq!(
            spans[1].decision,
            Some(IdleChoice::Meeting),
            "the decision is shown"
        );
        assert!(
            spans[2].open && spans[2].end == 250,
            "open span clipped to the period end"
        );
    }

    #[test]
    fn sessions_pair_clock_in_and_out_and_keep_the_open_one() {
        use worktrace_domain::ClockOutReason;
        let records = vec![
            Record::ClockIn { at: 10 },
            Record::ClockOut {
                at: 20,
                reason: ClockOutReason::Manual,
            },
            Record::ClockIn { at: 30 },
        ];
        let s = sessions(&records, None, 0, 100);
        assert_eq!(
            s,
            vec![
                SessionSpan {
                    start: 10,
                    end: Some(20)
                },
                SessionSpan {
                    start: 30,
                    end: None
                }
            ],
            "closed session, then the open one"
        );
        let carried = sessions(&[], Some(5), 10, 100);
        assert_eq!(
            carried[0].start, 10,
            "a session open since before the period starts it"
        );
    }

    #[test]
    fn open_records_are_added_to_the_totals() {
        let rows = vec![SummaryRow {
            key: "xterm".into(),
            active_ms: 60_000,
            idle_ms: 0,
            clocked_ms: 60_000,
            input_ms: 30_000,
        }];
        let open = vec![window(0, 10_000, "xterm"), idle(10_000, 15_000)];
        let totals = totals_with_open(&rows, &open, |r| match r {
            Record::Window(w) => Some(w.app.clone()),
            Record::Idle(p) => Some(p.app.clone()),
            _ => None,
        });
        assert_eq!(totals.len(), 1, "one app");
        assert_eq!(totals[0].active_ms, 70_000, "open window time is active");
        assert_eq!(
            totals[0].worked_ms, 70_000,
            "in a session it is worked time"
        );
        assert_eq!(
            totals[0].idle_ms, 5_000,
            "open idle time is idle, not worked"
        );
    }

    proptest! {
        /// Whatever the records, the timeline stays inside the period, is sorted, and never
        /// shows a span of zero or negative length.
        #[test]
        fn timeline_spans_stay_inside_the_period(
            bounds in proptest::collection::vec((0i64..1000, 0i64..200, any::<bool>()), 0..30),
            from in 0i64..600,
            len in 1i64..600,
        ) {
            let to = from + len;
            let records: Vec<Record> = bounds
                .iter()
                .map(|(s, l, w)| if *w { window(*s, s + l, "a") } else { idle(*s, s + l) })
                .collect();
            let spans = timeline(&records, &[], from, to);
            for pair in spans.windows(2) {
                prop_assert!(pair[0].start <= pair[1].start, "sorted by start");
            }
            for s in &spans {
                prop_assert!(s.start >= from && s.end <= to, "inside the period: {s:?}");
                prop_assert!(s.start < s.end, "no empty spans: {s:?}");
            }
        }

    }
}
