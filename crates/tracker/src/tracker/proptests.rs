//! Property tests over random streams: random sample spacing (with gaps and backward clock
//! jumps), windows from a small set, idle times, locked screens, stretches away from the PC,
//! clock-in/out and idle answers interleaved, under random policies.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::sample::Index;
use worktrace_domain::{
    IdleChoice, IdlePromptMode, IdleReason, Millis, Policy, Record, Redaction, Sample, WindowInfo,
};

use super::*;

const T0: Millis = 1_700_000_000_000;

/// Windows the random streams choose from (`None`: empty desktop).
fn window(i: usize) -> Option<WindowInfo> {
    let browser = |domain: &str, title: &str| {
        Some(WindowInfo {
            domain: Some(domain.to_owned()),
            ..WindowInfo::new("firefox", title)
        })
    };
    match i {
        0 => None,
        1 => Some(WindowInfo::new("xterm", "jane@pc: ~/src")),
        2 => browser("www.youtube.com", "cats - YouTube"),
        3 => browser("mail.google.com", "Inbox (3) - Gmail"),
        4 => Some(WindowInfo::new(
            "thunderbird",
            "Invoice 1234567 - Mozilla Thunderbird",
        )),
        5 => Some(WindowInfo::new("KeePassXC", "bank.kdbx")),
        _ => Some(WindowInfo::new("EXCEL.EXE", "Q3 budget.xlsx - Excel")),
    }
}
const WINDOWS: usize = 7;

#[derive(Debug, Clone)]
enum Ev {
    Sample {
        dt: i64,
        window: usize,
        idle_ms: u64,
        locked: bool,
    },
    /// `n` samples one second apart with no input since just before the first.
    Away {
        n: u32,
        window: usize,
    },
    In(i64),
    Out(i64),
    Decide(Index, IdleChoice),
    /// Pause at an offset, until an instant that many ms later (or until resumed).
    Pause(i64, Option<i64>),
    Unpause(i64),
}

fn choice() -> impl Strategy<Value = IdleChoice> {
    prop_oneof![
        Just(IdleChoice::Keep),
        Just(IdleChoice::Discard),
        Just(IdleChoice::Break),
        Just(IdleChoice::Meeting)
    ]
}

fn ev() -> impl Strategy<Value = Ev> {
    let dt = prop_oneof![
        20 => Just(1000i64),
        6 => 1..5_000i64,
        2 => 5_001..400_000i64,
        2 => -20_000..=0i64,
    ];
    let idle = prop_oneof![
        10 => Just(0u64),
        4 => 0..3_000u64,
        3 => 9_000..200_000u64,
        1 => 0..10_000_000u64,
    ];
    prop_oneof![
        40 => (dt, 0..WINDOWS, idle, prop::bool::weighted(0.05)).prop_map(
            |(dt, window, idle_ms, locked)| Ev::Sample { dt, window, idle_ms, locked }
        ),
        2 => (1..300u32, 0..WINDOWS).prop_map(|(n, window)| Ev::Away { n, window }),
        2 => (-3_000..8_000i64).prop_map(Ev::In),
        2 => (-3_000..8_000i64).prop_map(Ev::Out),
        1 => (any::<Index>(), choice()).prop_map(|(i, c)| Ev::Decide(i, c)),
        1 => (-3_000..8_000i64, prop::option::of(-1_000..300_000i64))
            .prop_map(|(at, until)| Ev::Pause(at, until)),
        1 => (-3_000..8_000i64).prop_map(Ev::Unpause),
    ]
}

fn policy() -> impl Strategy<Value = Policy> {
    (
        prop_oneof![Just(10u32), Just(60)],
        prop_oneof![Just(0u32), Just(120), Just(600)],
        prop_oneof![
            Just(IdlePromptMode::Ask),
            Just(IdlePromptMode::AlwaysKeep),
            Just(IdlePromptMode::NeverKeep)
        ],
        any::<bool>(),
        prop_oneof![Just(0u32), Just(30), Just(300)],
        choice(),
    )
        .prop_map(
            |(threshold, auto, mode, outside, timeout, default)| Policy {
                idle_threshold_secs: threshold,
                auto_clock_out_idle_secs: auto,
                idle_prompt: mode,
                track_outside_sessions: outside,
                idle_prompt_timeout_secs: timeout,
                idle_prompt_default: default,
                excluded_apps: vec!["^keepass".into()],
                redactions: vec![Redaction {
                    pattern: r"\d{6,}".into(),
                    replacement: "#".into(),
                }],
                ..Policy::default()
            },
        )
}

/// Expands `Away` into samples, so that a stream is a flat list of steps with absolute times.
#[derive(Debug, Clone)]
enum Step {
    S(Sample),
    In(Millis),
    Out(Millis),
    Decide(Index, IdleChoice, Millis),
    Pause(Millis, Option<Millis>),
    Unpause(Millis),
}

fn steps(events: &[Ev]) -> Vec<Step> {
    let mut t = T0;
    let mut out = Vec::new();
    for e in events {
        match e {
            Ev::Sample {
                dt,
                window: w,
                idle_ms,
                locked,
            } => {
                t += dt;
                out.push(Step::S(Sample {
                    at: t,
                    window: window(*w),
                    idle_ms: *idle_ms,
                    locked: *locked,
                }));
            }
            Ev::Away { n, window: w } => {
                for i in 1..=*n {
                    t += 1000;
                    out.push(Step::S(Sample {
                        at: t,
                        window: window(*w),
                        idle_ms: u64::from(i) * 1000 - 500,
                        locked: false,
                    }));
                }
            }
            Ev::In(offset) => out.push(Step::In(t + offset)),
            Ev::Out(offset) => out.push(Step::Out(t + offset)),
            Ev::Decide(i, c) => out.push(Step::Decide(*i, *c, t)),
            Ev::Pause(offset, until) => {
                out.push(Step::Pause(t + offset, until.map(|u| t + offset + u)));
            }
            Ev::Unpause(offset) => out.push(Step::Unpause(t + offset)),
        }
    }
    out
}

fn step_time(s: &Step) -> Millis {
    match s {
        Step::S(s) => s.at,
        Step::In(t) | Step::Out(t) | Step::Decide(_, _, t) | Step::Unpause(t) => *t,
        Step::Pause(t, _) => *t,
    }
}

/// Applies one step; a refused clock operation must be refused for the right reason.
fn apply(t: &mut Tracker, step: &Step) -> Vec<Record> {
    match step {
        Step::S(s) => t.observe(s),
        Step::In(now) => {
            let was_in = t.status().clocked_in_since;
            match t.clock_in(*now) {
                Ok(r) => r,
                Err(e) => {
                    assert_eq!(
                        Some(e),
                        was_in.map(|since| Error::AlreadyClockedIn { since }),
                        "clock-in is refused only when clocked in"
                    );
                    Vec::new()
                }
            }
        }
        Step::Out(now) => match t.clock_out(*now) {
            Ok(r) => r,
            Err(e) => {
                assert_eq!(e, Error::NotClockedIn, "clock-out is refused only when out");
                Vec::new()
            }
        },
        Step::Decide(i, c, now) => {
            if t.pending_prompts().is_empty() {
                return Vec::new();
            }
            let start = t.pending_prompts()[i.index(t.pending_prompts().len())].idle_start;
            t.decide(start, *c, *now).expect("the prompt was pending")
        }
        Step::Pause(now, until) => {
            let s = t.status();
            match t.pause(*now, *until) {
                Ok(r) => r,
                Err(e) => {
                    let recording = s.clocked_in_since.is_some() || t.policy.track_outside_sessions;
                    let expected = match (s.paused_since, until.filter(|u| u <= now)) {
                        (Some(since), _) => Error::AlreadyPaused { since },
                        (None, _) if !recording => Error::NothingToPause,
                        (None, Some(u)) => Error::PauseEnd {
                            until: u,
                            now: *now,
                        },
                        (None, None) => Error::NothingToPause,
                    };
                    assert_eq!(e, expected, "pause refused for the right reason");
                    Vec::new()
                }
            }
        }
        Step::Unpause(now) => match t.unpause(*now) {
            Ok(r) => r,
            Err(e) => {
                assert_eq!(
                    e,
                    Error::NotPaused,
                    "unpause is refused only when not paused"
                );
                Vec::new()
            }
        },
    }
}

fn run_all(policy: &Policy, steps: &[Step]) -> (Tracker, Vec<Record>) {
    let mut t = Tracker::new(policy, TrackerConfig::default()).expect("valid policy");
    let mut records = Vec::new();
    for s in steps {
        records.extend(apply(&mut t, s));
    }
    (t, records)
}

fn is_timeline(r: &Record) -> bool {
    matches!(
        r,
        Record::Window(_) | Record::Idle(_) | Record::ClockIn { .. } | Record::ClockOut { .. }
    )
}

/// End of the latest window/idle/clock record, as the store computes its high-water mark.
fn high_water(records: &[Record]) -> Option<Millis> {
    records
        .iter()
        .filter(|r| is_timeline(r))
        .map(|r| r.range().1)
        .max()
}

fn session_since(records: &[Record]) -> Option<Millis> {
    records.iter().fold(None, |since, r| match r {
        Record::ClockIn { at } => Some(*at),
        Record::ClockOut { .. } => None,
        _ => since,
    })
}

/// Active, idle and input time per app and per category, split by in/out of session.
type Totals = BTreeMap<(&'static str, String, bool), (i64, i64, i64)>;

fn totals(records: &[Record]) -> Totals {
    let mut t = Totals::new();
    for r in records {
        match r {
            Record::Window(w) => {
                for key in [("app", w.app.clone()), ("category", w.category.clone())] {
                    let e = t.entry((key.0, key.1, w.in_session)).or_default();
                    e.0 += w.end - w.start;
                    e.2 += w.input_ms;
                }
            }
            Record::Idle(i) => {
                for key in [("app", i.app.clone()), ("category", i.category.clone())] {
                    t.entry((key.0, key.1, i.in_session)).or_default().1 += i.end - i.start;
                }
            }
            _ => {}
        }
    }
    t
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

proptest! {
    // 100 cases keep `cargo test` under a minute on two cores; PROPTEST_CASES runs more.
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Stream invariants: order without overlap, no negative durations, nothing beyond the
    /// wall time the stream spans, sessions exactly tiled by their records, every in-session
    /// idle period decided once (or waiting), activity conserved.
    #[test]
    fn records_form_one_consistent_stream(
        policy in policy(),
        events in prop::collection::vec(ev(), 1..160),
    ) {
        let steps = steps(&events);
        let (tracker, mut records) = run_all(&policy, &steps);
        let decided_by_calls = records.clone();
        records.extend(tracker.open_records());

        let mut end = Millis::MIN;
        for r in &records {
            let (s, e) = r.range();
            prop_assert!(s <= e, "start <= end: {:?}", r);
            if is_timeline(r) {
                prop_assert!(s >= end, "{:?} overlaps an earlier record ending at {}", r, end);
                end = end.max(e);
            }
            if let Record::Window(w) = r {
                prop_assert!(w.input_ms >= 0 && w.input_ms <= w.end - w.start, "input within span: {:?}", w);
                prop_assert!(!w.title.contains("1234567"), "redaction applied: {:?}", w);
                prop_assert!(w.app != "KeePassXC" || w.title.is_empty(), "excluded app: {:?}", w);
            }
        }

        let first = steps.iter().map(step_time).min().unwrap_or(T0);
        let last = steps.iter().map(step_time).max().unwrap_or(T0);
        let recorded: i64 = records
            .iter()
            .filter(|r| matches!(r, Record::Window(_) | Record::Idle(_)))
            .map(|r| r.range().1 - r.range().0)
            .sum();
        prop_assert!(recorded <= last - first, "recorded {} ms in {} ms of wall time", recorded, last - first);
        for r in records.iter().filter(|r| is_timeline(r)) {
            prop_assert!(r.range().0 >= first && r.range().1 <= last, "{:?} outside the stream's times", r);
        }

        // Sessions: from each ClockIn to its ClockOut (or the end of the last record).
        let mut sessions = Vec::new();
        let mut open: Option<Millis> = None;
        for r in &records {
            match r {
                Record::ClockIn { at } => {
                    prop_assert!(open.is_none(), "clock-in inside a session");
                    open = Some(*at);
                }
                Record::ClockOut { at, .. } => {
                    let since = open.take();
                    prop_assert!(since.is_some(), "clock-out without a session");
                    sessions.push((since.unwrap_or(*at), *at));
                }
                _ => {}
            }
        }
        if let Some(since) = open {
            sessions.push((since, end.max(since)));
        }
        let kept: Vec<(Millis, Millis)> = records
            .iter()
            .filter_map(|r| match r {
                Record::Decision(d) if d.choice.counts_as_work() => Some((d.idle_start, d.idle_end)),
                _ => None,
            })
            .collect();
        for (from, to) in &sessions {
            let mut span_ms = 0;
            let mut idle_ms = 0;
            let mut idle_kept_ms = 0;
            for r in &records {
                let (s, e, in_session) = match r {
                    Record::Window(w) => (w.start, w.end, w.in_session),
                    Record::Idle(i) => (i.start, i.end, i.in_session),
                    _ => continue,
                };
                let inside = s >= *from && e <= *to;
                let overlaps = s < *to && e > *from;
                if in_session && overlaps {
                    prop_assert!(inside, "in-session record {:?} leaves its session {}..{}", r, from, to);
                } else if overlaps {
                    prop_assert!(false, "out-of-session record {:?} inside session {}..{}", r, from, to);
                }
                if !(in_session && inside) { continue; }
                match r {
                    Record::Window(_) => span_ms += e - s,
                    _ => {
                        idle_ms += e - s;
                        if kept.contains(&(s, e)) { idle_kept_ms += e - s; }
                    }
                }
            }
            let length = to - from;
            let gaps = length - span_ms - idle_ms;
            prop_assert_eq!(gaps, 0, "session {}..{} is tiled by its records (gaps are idle)", from, to);
            let clocked = span_ms + idle_kept_ms;
            prop_assert_eq!(clocked, length - (idle_ms - idle_kept_ms) - gaps, "clocked time");
        }

        // Every in-session idle period returned by the calls has one decision or a waiting prompt.
        let mut decided: BTreeMap<(Millis, Millis), usize> = BTreeMap::new();
        for r in &decided_by_calls {
            if let Record::Decision(d) = r {
                *decided.entry((d.idle_start, d.idle_end)).or_default() += 1;
            }
        }
        for r in &decided_by_calls {
            if let Record::Idle(i) = r {
                let waiting = tracker.pending_prompts().iter().any(|p| p.idle_start == i.start && p.idle_end == i.end);
                let n = decided.remove(&(i.start, i.end)).unwrap_or(0);
                if i.in_session {
                    prop_assert_eq!(n + usize::from(waiting), 1, "idle {:?}: decided once or waiting", i);
                } else {
                    prop_assert_eq!(n, 0, "no decision outside a session: {:?}", i);
                }
            }
        }
        prop_assert!(decided.is_empty(), "decisions about idle periods that do not exist: {:?}", decided);

        // Activity: per minute input <= observed <= 60 s; in total the observed time equals the
        // in-session time that samples saw (spans and idle, not suspended gaps), up to rounding.
        let mut observed_s = 0i64;
        let mut minute_records = 0i64;
        for r in &records {
            if let Record::Activity(m) = r {
                prop_assert!(m.input_seconds <= m.observed_seconds && m.observed_seconds <= 60, "{:?}", m);
                prop_assert_eq!(m.minute % 60_000, 0, "minute boundary");
                observed_s += i64::from(m.observed_seconds);
                minute_records += 1;
            }
        }
        let seen_in_session: i64 = records
            .iter()
            .filter_map(|r| match r {
                Record::Window(w) if w.in_session => Some(w.end - w.start),
                Record::Idle(i)
                    if i.in_session
                        && !matches!(i.reason, IdleReason::Suspended | IdleReason::Paused) =>
                {
                    Some(i.end - i.start)
                }
                _ => None,
            })
            .sum();
        prop_assert!(
            (observed_s * 1000 - seen_in_session).abs() <= 500 * minute_records,
            "activity observed {} s vs {} ms seen in sessions", observed_s, seen_in_session
        );
    }

    /// Determinism: the same stream gives the same records.
    #[test]
    fn the_same_stream_gives_the_same_records(
        policy in policy(),
        events in prop::collection::vec(ev(), 1..120),
    ) {
        let steps = steps(&events);
        let (a, ra) = run_all(&policy, &steps);
        let (b, rb) = run_all(&policy, &steps);
        prop_assert_eq!(ra, rb);
        prop_assert_eq!(a.open_records(), b.open_records());
        prop_assert_eq!(a.status(), b.status());
    }

    /// Restart equivalence. The stream is cut before step `k`; the records returned so far plus
    /// `open_records()` are what the store holds after a clean stop (open records appended as
    /// final); a new tracker is resumed with the store's open session and high-water mark and
    /// fed the rest. Both runs end with their open records appended.
    ///
    /// "Same" means: equal active, idle and input milliseconds per app and per category, each
    /// split by in/out of session. Record boundaries may differ (a span across the cut becomes
    /// two records) and so may idle decisions (prompts waiting at the cut are not part of the
    /// tracker's restart input), so those are not compared.
    ///
    /// The cut is at a settled point, the only kind at which a restart can be lossless: the
    /// last step is a sample with input at its own instant (idle 0, not locked) and the latest
    /// time seen so far, the stored records reach it (or nothing is being recorded), and the next
    /// step is a sample. At such a point no idle period is open
    /// and no later idle can be back-dated before the cut, so nothing the store has already
    /// made final would have been cut; and the next sample attributes the same interval.
    #[test]
    fn a_restart_at_a_settled_point_changes_no_totals(
        policy in policy(),
        events in prop::collection::vec(ev(), 2..160),
        pick in any::<Index>(),
    ) {
        let steps = steps(&events);
        let mut t = Tracker::new(&policy, TrackerConfig::default()).expect("valid");
        let mut before = Vec::new();
        let mut cuts = Vec::new();
        let mut latest = Millis::MIN;
        let mut hw_before: Option<Millis> = None;
        for (k, step) in steps.iter().enumerate() {
            let settled = matches!(step, Step::S(s) if s.at >= latest && s.idle_ms == 0 && !s.locked);
            latest = latest.max(step_time(step));
            let records = apply(&mut t, step);
            hw_before = hw_before.max(high_water(&records));
            before.extend(records);
            let recording = policy.track_outside_sessions || t.status().clocked_in_since.is_some();
            if settled && matches!(steps.get(k + 1), Some(Step::S(_))) {
                let open = t.open_records();
                let stored_hw = hw_before.max(high_water(&open));
                if !recording || stored_hw == Some(step_time(step)) {
                    let s = t.status();
                    let pause = s.paused_since.map(|since| (since, s.paused_until));
                    cuts.push((k + 1, before.len(), open, pause));
                }
            }
        }
        let mut whole = before.clone();
        whole.extend(t.open_records());
        prop_assume!(!cuts.is_empty(), "no settled point in this stream");

        let (k, n, open, pause) = cuts[pick.index(cuts.len())].clone();
        let mut stored: Vec<Record> = before[..n].to_vec();
        stored.extend(open);
        let mut restarted = Tracker::new(&policy, TrackerConfig::default()).expect("valid");
        if let Some(hw) = high_water(&stored) {
            restarted.resume(session_since(&stored), hw);
        }
        if let Some((since, until)) = pause {
            // The agent keeps the pause beside the database and restores it.
            restarted.restore_pause(since, until);
        }
        prop_assert_eq!(
            restarted.status().clocked_in_since,
            session_since(&stored),
            "the session comes back"
        );
        let mut pieces = stored;
        for step in &steps[k..] {
            pieces.extend(apply(&mut restarted, step));
        }
        pieces.extend(restarted.open_records());
        prop_assert_eq!(totals(&pieces), totals(&whole), "cut before step {}", k);
    }
}
