//! Table-driven tests of each numbered rule in the module documentation, driven by a scripted
//! sensor (a list of samples and commands at injected times).

use worktrace_domain::{
    CategoryRule, ClockOutReason, DecisionSource, IdleChoice, IdlePromptMode, IdleReason, Millis,
    Policy, Record, Sample, WindowInfo,
};

use super::*;

/// A minute boundary, so activity minutes line up with the script's offsets.
const T0: Millis = 1_700_000_040_000;

fn at(offset_ms: i64) -> Millis {
    T0 + offset_ms
}

fn policy() -> Policy {
    Policy {
        idle_threshold_secs: 60,
        idle_prompt_timeout_secs: 120,
        auto_clock_out_idle_secs: 0,
        ..Policy::default()
    }
}

fn win(app: &str) -> Option<WindowInfo> {
    Some(WindowInfo::new(app, format!("{app} - main window")))
}

fn sample(offset_ms: i64, app: &str, idle_ms: u64) -> Sample {
    Sample {
        at: at(offset_ms),
        window: win(app),
        idle_ms,
        locked: false,
    }
}

fn locked(offset_ms: i64, app: &str) -> Sample {
    Sample {
        locked: true,
        ..sample(offset_ms, app, 0)
    }
}

/// One step of a script.
#[derive(Debug, Clone)]
enum Step {
    S(Sample),
    In(i64),
    Out(i64),
}

/// Runs a script, checks the stream invariants of rule 10 and returns every record.
fn run(tracker: &mut Tracker, steps: &[Step]) -> Vec<Record> {
    let mut all = Vec::new();
    for step in steps {
        let records = match step {
            Step::S(s) => tracker.observe(s),
            Step::In(t) => tracker.clock_in(at(*t)).expect("script clocks in when out"),
            Step::Out(t) => tracker
                .clock_out(at(*t))
                .expect("script clocks out when in"),
        };
        all.extend(records);
    }
    assert_stream(&all);
    all
}

/// Rule 10: timeline records never overlap and come in order; nothing ends before it starts.
fn assert_stream(records: &[Record]) {
    let mut end = Millis::MIN;
    for r in records {
        let (s, e) = r.range();
        assert!(s <= e, "start <= end: {r:?}");
        match r {
            Record::Window(_)
            | Record::Idle(_)
            | Record::ClockIn { .. }
            | Record::ClockOut { .. } => {
                assert!(
                    s >= end,
                    "{r:?} starts before an earlier record's end {end}"
                );
                end = end.max(e);
            }
            _ => {}
        }
    }
}

fn new_tracker(policy: &Policy) -> Tracker {
    Tracker::new(policy, TrackerConfig::default()).expect("valid policy")
}

/// `(app, start offset, end offset, in_session)` of each window span.
fn windows(records: &[Record]) -> Vec<(String, i64, i64, bool)> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Window(w) => Some((w.app.clone(), w.start - T0, w.end - T0, w.in_session)),
            _ => None,
        })
        .collect()
}

/// `(reason, start offset, end offset, in_session)` of each idle period.
fn idles(records: &[Record]) -> Vec<(IdleReason, i64, i64, bool)> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Idle(i) => Some((i.reason, i.start - T0, i.end - T0, i.in_session)),
            _ => None,
        })
        .collect()
}

fn decisions(records: &[Record]) -> Vec<(i64, i64, IdleChoice, DecisionSource)> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Decision(d) => Some((d.idle_start - T0, d.idle_end - T0, d.choice, d.source)),
            _ => None,
        })
        .collect()
}

/// Samples every second from `from` to `to` (inclusive), with input, on one app.
fn busy(from: i64, to: i64, app: &str) -> Vec<Step> {
    (from..=to)
        .step_by(1000)
        .map(|t| Step::S(sample(t, app, 0)))
        .collect()
}

/// Samples every second from `from` to `to` with no input since `last_input`.
fn away(from: i64, to: i64, app: &str, last_input: i64) -> Vec<Step> {
    (from..=to)
        .step_by(1000)
        .map(|t| {
            Step::S(sample(
                t,
                app,
                u64::try_from(t - last_input).expect("after input"),
            ))
        })
        .collect()
}

fn script(parts: Vec<Vec<Step>>) -> Vec<Step> {
    parts.into_iter().flatten().collect()
}

// ----- rule 1: privacy first -----

#[test]
fn rule1_windows_are_privatized_before_comparison_and_storage() {
    let mut p = policy();
    p.excluded_apps = vec!["^keepass".into()];
    let mut t = new_tracker(&p);
    let secret = |offset: i64, title: &str| {
        Step::S(Sample {
            at: at(offset),
            window: Some(WindowInfo {
                exe_path: Some("/usr/bin/keepassxc".into()),
                pid: Some(7),
                ..WindowInfo::new("KeePassXC", title)
            }),
            idle_ms: 0,
            locked: false,
        })
    };
    let steps = vec![
        Step::In(0),
        secret(1000, "bank.kdbx"),
        secret(2000, "mail.kdbx"),
        secret(3000, "other.kdbx"),
        Step::Out(3000),
    ];
    let records = run(&mut t, &steps);
    let spans: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Window(w) => Some(w.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        spans.len(),
        1,
        "titles differ only before privatizing, so one span: {spans:?}"
    );
    let s = &spans[0];
    assert_eq!(
        (
            s.title.as_str(),
            s.exe_path.as_deref(),
            s.start - T0,
            s.end - T0
        ),
        ("", None, 0, 3000),
        "an excluded app keeps only its name"
    );
    let status = t.status();
    assert_eq!(
        status.current,
        Some(WindowInfo::new("KeePassXC", "")),
        "the status shows the privatized window too"
    );
}

#[test]
fn rule1_a_category_change_alone_splits_spans() {
    let mut p = policy();
    p.categories = vec![CategoryRule {
        name: "Work > Reports".into(),
        app: Some("^soffice$".into()),
        title: Some("report".into()),
        domain: None,
        score: 2,
    }];
    let mut t = new_tracker(&p);
    let s = |offset: i64, title: &str| {
        Step::S(Sample {
            at: at(offset),
            window: Some(WindowInfo::new("soffice", title)),
            idle_ms: 0,
            locked: false,
        })
    };
    let records = run(
        &mut t,
        &[
            Step::In(0),
            s(1000, "report.odt"),
            s(2000, "notes.odt"),
            Step::Out(2000),
        ],
    );
    let cats: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Window(w) => Some((w.category.clone(), w.start - T0, w.end - T0)),
            _ => None,
        })
        .collect();
    assert_eq!(
        cats,
        vec![
            ("Work > Reports".to_owned(), 0, 1000),
            ("Uncategorized".to_owned(), 1000, 2000)
        ],
        "spans carry the category of their samples"
    );
}

// ----- rule 2: recording only in a session unless the policy says otherwise -----

#[test]
fn rule2_outside_a_session_only_the_status_updates_unless_tracking_outside() {
    for (track_outside, expect) in [
        (false, vec![]),
        (true, vec![("xterm".to_owned(), 0, 3000, false)]),
    ] {
        let p = Policy {
            track_outside_sessions: track_outside,
            ..policy()
        };
        let mut t = new_tracker(&p);
        let mut records = run(&mut t, &busy(0, 3000, "xterm"));
        records.extend(t.open_records());
        assert_eq!(
            windows(&records),
            expect,
            "track_outside_sessions = {track_outside}"
        );
        assert_eq!(
            t.status().current.map(|w| w.app),
            Some("xterm".to_owned()),
            "the status follows the window either way"
        );
    }
}

#[test]
fn rule2_in_session_flag_follows_clock_in_and_out() {
    let p = Policy {
        track_outside_sessions: true,
        ..policy()
    };
    let mut t = new_tracker(&p);
    let steps = script(vec![
        busy(0, 2000, "xterm"),
        vec![Step::In(2500)],
        busy(3000, 5000, "xterm"),
        vec![Step::Out(5000)],
        busy(6000, 7000, "xterm"),
    ]);
    let mut records = run(&mut t, &steps);
    records.extend(t.open_records());
    assert_eq!(
        windows(&records),
        vec![
            ("xterm".to_owned(), 0, 2500, false),
            ("xterm".to_owned(), 2500, 5000, true),
            ("xterm".to_owned(), 5000, 7000, false),
        ],
        "a session splits spans at its edges; the time up to clock-in goes to the last window"
    );
}

// ----- rule 3: interval attribution and heartbeat merging -----

#[test]
fn rule3_equal_samples_merge_and_a_change_closes_at_the_previous_sample() {
    type Case = (&'static str, Vec<Step>, Vec<(&'static str, i64, i64)>);
    let cases: Vec<Case> = vec![
        (
            "one window",
            busy(1000, 10_000, "xterm"),
            vec![("xterm", 0, 10_000)],
        ),
        (
            "switch",
            script(vec![busy(1000, 3000, "xterm"), busy(4000, 6000, "firefox")]),
            vec![("xterm", 0, 3000), ("firefox", 3000, 6000)],
        ),
        (
            "switch back and forth",
            vec![
                Step::S(sample(1000, "a", 0)),
                Step::S(sample(2000, "b", 0)),
                Step::S(sample(3000, "a", 0)),
                Step::S(sample(4500, "a", 0)),
            ],
            vec![("a", 0, 1000), ("b", 1000, 2000), ("a", 2000, 4500)],
        ),
    ];
    for (name, steps, want) in cases {
        let mut t = new_tracker(&policy());
        let mut all = vec![Step::In(0)];
        all.extend(steps);
        let mut records = run(&mut t, &all);
        records.extend(t.open_records());
        let got: Vec<_> = windows(&records)
            .into_iter()
            .map(|(a, s, e, _)| (a, s, e))
            .collect();
        let want: Vec<_> = want
            .into_iter()
            .map(|(a, s, e)| (a.to_owned(), s, e))
            .collect();
        assert_eq!(got, want, "{name}: no time lost or counted twice");
    }
}

#[test]
fn rule3_an_extended_span_is_not_final_until_it_closes() {
    let mut t = new_tracker(&policy());
    let records = run(
        &mut t,
        &script(vec![vec![Step::In(0)], busy(1000, 5000, "xterm")]),
    );
    assert_eq!(
        windows(&records),
        vec![],
        "the open span is not returned while it grows"
    );
    assert_eq!(
        windows(&t.open_records()),
        vec![("xterm".to_owned(), 0, 5000, true)],
        "but the checkpoint has it, ending at the last sample"
    );
}

// ----- rule 4: gaps and clock jumps -----

#[test]
fn rule4_a_gap_in_a_session_is_suspended_idle_and_outside_nothing() {
    for (in_session, want_idle) in [
        (true, vec![(IdleReason::Suspended, 3000, 60_000, true)]),
        (false, vec![]),
    ] {
        let p = Policy {
            track_outside_sessions: true,
            ..policy()
        };
        let mut t = new_tracker(&p);
        let mut steps = vec![];
        if in_session {
            steps.push(Step::In(0));
        }
        steps.extend(busy(1000, 3000, "xterm"));
        steps.extend(busy(60_000, 62_000, "xterm"));
        let mut records = run(&mut t, &steps);
        records.extend(t.open_records());
        assert_eq!(idles(&records), want_idle, "in session: {in_session}");
        let spans = windows(&records);
        assert_eq!(
            (spans[0].2, spans[1].1),
            (3000, 60_000),
            "the span before the gap ends at the last sample; the next starts at the first after"
        );
    }
}

#[test]
fn rule4_after_the_clock_goes_back_nothing_is_recorded_twice() {
    let mut t = new_tracker(&policy());
    let steps = vec![
        Step::In(0),
        Step::S(sample(1000, "a", 0)),
        Step::S(sample(10_000, "a", 0)), // gap: Suspended 1000..10000
        Step::S(sample(11_000, "a", 0)),
        Step::S(sample(12_000, "a", 0)),
        Step::S(sample(5_000, "b", 0)), // clock went back 7 s
        Step::S(sample(6_000, "b", 0)),
        Step::S(sample(11_500, "b", 0)),
        Step::S(sample(12_000, "b", 0)), // still at the high-water mark
        Step::S(sample(13_000, "b", 0)), // first after it
        Step::S(sample(14_000, "b", 0)),
        Step::Out(14_000),
    ];
    let records = run(&mut t, &steps);
    assert_eq!(
        windows(&records),
        vec![
            ("a".to_owned(), 0, 1000, true),
            ("a".to_owned(), 10_000, 12_000, true),
            ("b".to_owned(), 12_000, 14_000, true),
        ],
        "recording resumes with the first sample after the high-water mark, at the mark"
    );
    assert_eq!(
        idles(&records),
        vec![(IdleReason::Suspended, 1000, 10_000, true)],
        "only the forward gap is idle"
    );
}

// ----- rule 5: idle back-dating and pending spans -----

#[test]
fn rule5_idle_is_back_dated_to_the_last_input_and_cuts_pending_spans() {
    let mut t = new_tracker(&policy());
    let mut all = Vec::new();
    let mut returned_during_no_input = Vec::new();
    all.extend(run(
        &mut t,
        &script(vec![vec![Step::In(0)], busy(1000, 10_000, "xterm")]),
    ));
    // No input from 10 s; the employee's screen shows firefox from 20 s (a notification, say).
    for step in script(vec![
        away(11_000, 19_000, "xterm", 10_000),
        away(20_000, 69_000, "firefox", 10_000),
    ]) {
        if let Step::S(s) = &step {
            returned_during_no_input.extend(t.observe(s));
        }
    }
    assert_eq!(
        windows(&returned_during_no_input),
        vec![],
        "spans after the last input stay pending while idle may still be back-dated"
    );
    assert_eq!(
        windows(&t.open_records()),
        vec![
            ("xterm".to_owned(), 0, 19_000, true),
            ("firefox".to_owned(), 19_000, 69_000, true)
        ],
        "pending spans are in the checkpoint"
    );
    let detected = t.observe(&sample(70_000, "firefox", 60_000));
    assert_eq!(
        windows(&detected),
        vec![("xterm".to_owned(), 0, 10_000, true)],
        "idle since the last input at 10 s cuts xterm and drops the firefox span entirely"
    );
    assert_eq!(
        t.status().idle_since,
        Some(at(10_000)),
        "the status shows the back-dated start"
    );
    all.extend(returned_during_no_input);
    all.extend(detected);
    all.extend(run(
        &mut t,
        &[Step::S(sample(71_000, "firefox", 500)), Step::Out(71_000)],
    ));
    assert_eq!(
        idles(&all),
        vec![(IdleReason::NoInput, 10_000, 70_500, true)],
        "one idle period from the last input to the next one"
    );
    assert_stream(&all);
}

#[test]
fn rule5_input_releases_pending_spans() {
    let mut t = new_tracker(&policy());
    run(
        &mut t,
        &script(vec![vec![Step::In(0)], busy(1000, 3000, "xterm")]),
    );
    // Reading without input, then switching window with the mouse.
    for s in away(4000, 8000, "xterm", 3000) {
        if let Step::S(s) = s {
            assert!(
                t.observe(&s).is_empty(),
                "nothing is final while no input comes"
            );
        }
    }
    let out = t.observe(&sample(9000, "firefox", 200));
    assert_eq!(
        windows(&out),
        vec![("xterm".to_owned(), 0, 8000, true)],
        "input at 8.8 s proves the xterm span that ended at 8 s"
    );
}

#[test]
fn rule5_a_locked_screen_is_idle_from_the_previous_sample() {
    let mut t = new_tracker(&policy());
    let steps = script(vec![
        vec![Step::In(0)],
        busy(1000, 5000, "xterm"),
        vec![
            Step::S(locked(6000, "xterm")),
            Step::S(locked(7000, "xterm")),
        ],
        vec![Step::S(sample(8000, "xterm", 100))],
        vec![Step::Out(8000)],
    ]);
    let records = run(&mut t, &steps);
    assert_eq!(
        idles(&records),
        vec![(IdleReason::Locked, 5000, 7900, true)],
        "idle from the last unlocked sample to the first input after unlocking"
    );
}

// ----- rule 6: idle end and decisions -----

#[test]
fn rule6_decisions_follow_the_policy_mode() {
    let cases = [
        (
            IdlePromptMode::AlwaysKeep,
            Some((IdleChoice::Keep, DecisionSource::Policy)),
        ),
        (
            IdlePromptMode::NeverKeep,
            Some((IdleChoice::Discard, DecisionSource::Policy)),
        ),
        (IdlePromptMode::Ask, None),
    ];
    for (mode, want) in cases {
        let p = Policy {
            idle_prompt: mode,
            ..policy()
        };
        let mut t = new_tracker(&p);
        let steps = script(vec![
            vec![Step::In(0)],
            busy(1000, 5000, "xterm"),
            away(6000, 70_000, "xterm", 5000),
            vec![Step::S(sample(71_000, "xterm", 0))],
        ]);
        let records = run(&mut t, &steps);
        let got = decisions(&records);
        match want {
            Some((choice, source)) => {
                assert_eq!(
                    got,
                    vec![(5000, 71_000, choice, source)],
                    "{mode:?} decides at once"
                );
                assert!(t.pending_prompts().is_empty(), "{mode:?} asks nothing");
            }
            None => {
                assert_eq!(got, vec![], "Ask waits for the employee");
                let prompt = &t.pending_prompts()[0];
                assert_eq!(
                    (prompt.idle_start, prompt.idle_end, prompt.deadline),
                    (at(5000), at(71_000), at(71_000 + 120_000)),
                    "the prompt covers the idle period and times out after the policy's wait"
                );
            }
        }
    }
}

#[test]
fn rule6_a_prompt_is_answered_by_the_employee_or_by_the_timeout() {
    let p = Policy {
        idle_prompt_default: IdleChoice::Break,
        ..policy()
    };
    let idle_once = |t: &mut Tracker, base: i64| {
        run(
            t,
            &script(vec![
                busy(base + 1000, base + 5000, "xterm"),
                away(base + 6000, base + 70_000, "xterm", base + 5000),
                vec![Step::S(sample(base + 71_000, "xterm", 0))],
            ]),
        )
    };
    let mut t = new_tracker(&p);
    run(&mut t, &[Step::In(0)]);
    idle_once(&mut t, 0);
    let err = t
        .decide(at(1234), IdleChoice::Keep, at(72_000))
        .expect_err("no such idle");
    assert_eq!(
        err,
        Error::NoSuchPrompt {
            idle_start: at(1234)
        },
        "unknown idle start"
    );
    let answer = t
        .decide(at(5000), IdleChoice::Meeting, at(72_000))
        .expect("pending");
    assert_eq!(
        decisions(&answer),
        vec![(5000, 71_000, IdleChoice::Meeting, DecisionSource::User)],
        "the employee's answer is a record"
    );
    assert!(
        t.decide(at(5000), IdleChoice::Keep, at(73_000)).is_err(),
        "a prompt is answered once"
    );

    // Second idle, unanswered: the default applies at the first sample at or past the deadline.
    idle_once(&mut t, 71_000);
    let deadline = 142_000 + 120_000;
    let before = run(&mut t, &busy(143_000, deadline - 1000, "xterm"));
    assert_eq!(decisions(&before), vec![], "not before the deadline");
    let after = run(&mut t, &[Step::S(sample(deadline, "xterm", 0))]);
    assert_eq!(
        decisions(&after),
        vec![(76_000, 142_000, IdleChoice::Break, DecisionSource::Timeout)],
        "the policy's default, marked as a timeout"
    );
    assert!(t.pending_prompts().is_empty(), "the prompt is gone");
}

// ----- rule 7: automatic clock-out after long idle -----

#[test]
fn rule7_long_idle_clocks_out_at_the_last_input() {
    for track_outside in [false, true] {
        let p = Policy {
            auto_clock_out_idle_secs: 300,
            track_outside_sessions: track_outside,
            ..policy()
        };
        let mut t = new_tracker(&p);
        let steps = script(vec![
            vec![Step::In(0)],
            busy(1000, 10_000, "xterm"),
            away(11_000, 400_000, "xterm", 10_000),
            busy(401_000, 403_000, "xterm"),
        ]);
        let mut records = run(&mut t, &steps);
        let clock_outs: Vec<_> = records
            .iter()
            .filter_map(|r| match r {
                Record::ClockOut { at, reason } => Some((*at - T0, *reason)),
                _ => None,
            })
            .collect();
        assert_eq!(
            clock_outs,
            vec![(10_000, ClockOutReason::LongIdle)],
            "the session ends at the last input"
        );
        assert_eq!(t.status().clocked_in_since, None, "clocked out");
        assert_eq!(
            t.status().last_auto_clock_out,
            Some(at(10_000)),
            "and the status says so"
        );
        records.extend(t.open_records());
        let want_idle = if track_outside {
            vec![(IdleReason::NoInput, 10_000, 401_000, false)]
        } else {
            vec![]
        };
        assert_eq!(
            idles(&records),
            want_idle,
            "the idle after it lies outside the session"
        );
        assert_eq!(
            decisions(&records),
            vec![],
            "time outside a session needs no decision"
        );
        assert!(t.pending_prompts().is_empty(), "nor a prompt");
        assert!(
            windows(&records).iter().all(|w| w.2 <= 10_000 || !w.3),
            "nothing after the clock-out is in the session"
        );
    }
}

#[test]
fn rule7_a_long_gap_in_a_session_clocks_out_at_its_start() {
    let p = Policy {
        auto_clock_out_idle_secs: 3600,
        ..policy()
    };
    let mut t = new_tracker(&p);
    let steps = script(vec![
        vec![Step::In(0)],
        busy(1000, 2000, "xterm"),
        busy(8 * 3_600_000, 8 * 3_600_000 + 1000, "xterm"), // overnight suspend
    ]);
    let records = run(&mut t, &steps);
    assert!(
        records.contains(&Record::ClockOut {
            at: at(2000),
            reason: ClockOutReason::LongIdle
        }),
        "suspended overnight while clocked in ends the session at suspend: {records:?}"
    );
    assert_eq!(
        idles(&records),
        vec![],
        "the night is outside the session and not tracked"
    );
}

// ----- rule 8: activity -----

#[test]
fn rule8_input_is_credited_per_interval_and_summed_per_minute() {
    let mut t = new_tracker(&policy());
    // 0..30 s typing, 30..60 s reading (no input, below the threshold), 60..90 s typing.
    let steps = script(vec![
        vec![Step::In(0)],
        busy(1000, 30_000, "xterm"),
        away(31_000, 59_000, "xterm", 30_000),
        busy(60_000, 90_000, "xterm"),
        busy(91_000, 125_000, "firefox"),
    ]);
    let records = run(&mut t, &steps);
    let minutes: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Activity(m) => Some((m.minute - T0, m.input_seconds, m.observed_seconds)),
            _ => None,
        })
        .collect();
    assert_eq!(
        minutes,
        vec![(0, 31, 60), (60_000, 60, 60)],
        "minute 0: 31 intervals of 1 s had input (the one ending at 60 s too); minute 1: all; \
         minute 2 is not over yet"
    );
    let xterm = records
        .iter()
        .find_map(|r| match r {
            Record::Window(w) if w.app == "xterm" => Some(w.clone()),
            _ => None,
        })
        .expect("xterm span closed at the switch");
    assert_eq!(
        (xterm.end - xterm.start, xterm.input_ms),
        (90_000, 61_000),
        "the span carries the input time of its intervals (31 s + 30 s)"
    );
}

#[test]
fn rule8_clock_out_flushes_the_minute_in_progress() {
    let mut t = new_tracker(&policy());
    let records = run(
        &mut t,
        &script(vec![
            vec![Step::In(0)],
            busy(1000, 20_000, "xterm"),
            vec![Step::Out(20_000)],
        ]),
    );
    assert!(
        records.contains(&Record::Activity(worktrace_domain::ActivityMinute {
            minute: T0,
            input_seconds: 20,
            observed_seconds: 20
        })),
        "a partial minute is emitted at clock-out: {records:?}"
    );
}

// ----- rule 9: clock in and out -----

#[test]
fn rule9_clock_in_and_out_bound_the_session() {
    let mut t = new_tracker(&policy());
    let records = run(
        &mut t,
        &script(vec![
            busy(0, 3000, "xterm"),
            vec![Step::In(3500)],
            busy(4000, 6000, "xterm"),
            vec![Step::Out(8000)],
        ]),
    );
    assert_eq!(
        records.first(),
        Some(&Record::ClockIn { at: at(3500) }),
        "clock-in at now"
    );
    assert_eq!(
        windows(&records),
        vec![("xterm".to_owned(), 3500, 8000, true)],
        "the span starts at clock-in and runs to clock-out (within pulsetime of the last sample)"
    );
    assert_eq!(
        records.last(),
        Some(&Record::ClockOut {
            at: at(8000),
            reason: ClockOutReason::Manual
        }),
        "clock-out last"
    );
    assert_eq!(
        t.clock_out(at(9000)),
        Err(Error::NotClockedIn),
        "clocking out twice"
    );
    run(&mut t, &[Step::In(9000)]);
    assert_eq!(
        t.clock_in(at(9500)),
        Err(Error::AlreadyClockedIn { since: at(9000) }),
        "clocking in twice"
    );
}

#[test]
fn rule9_clock_out_after_the_samples_stopped_ends_at_the_last_sample() {
    let mut t = new_tracker(&policy());
    let records = run(
        &mut t,
        &script(vec![
            vec![Step::In(0)],
            busy(1000, 3000, "xterm"),
            vec![Step::Out(600_000)],
        ]),
    );
    assert_eq!(
        records.last(),
        Some(&Record::ClockOut {
            at: at(3000),
            reason: ClockOutReason::Manual
        }),
        "no sample saw the time after 3 s, so the session ends there"
    );
}

#[test]
fn rule9_clock_out_while_idle_decides_the_idle_and_prompts_survive() {
    let mut t = new_tracker(&policy());
    let records = run(
        &mut t,
        &script(vec![
            vec![Step::In(0)],
            busy(1000, 5000, "xterm"),
            away(6000, 80_000, "xterm", 5000),
            vec![Step::Out(81_000)],
        ]),
    );
    assert_eq!(
        idles(&records),
        vec![(IdleReason::NoInput, 5000, 81_000, true)],
        "the open idle period ends at clock-out"
    );
    assert_eq!(
        t.pending_prompts().len(),
        1,
        "and asks by the same rules; the prompt outlives the session"
    );
    let answer = t
        .decide(at(5000), IdleChoice::Keep, at(90_000))
        .expect("still pending");
    assert_eq!(
        decisions(&answer)[0].2,
        IdleChoice::Keep,
        "answered after clock-out"
    );
}

// ----- restart, policy changes, configuration -----

#[test]
fn resume_continues_the_session_and_never_records_before_the_high_water_mark() {
    let mut t = new_tracker(&policy());
    t.resume(Some(at(0)), at(10_000));
    assert_eq!(t.status().clocked_in_since, Some(at(0)), "session restored");
    let records = run(
        &mut t,
        &[
            Step::S(sample(9000, "xterm", 0)),
            Step::S(sample(12_000, "xterm", 0)),
            Step::S(sample(13_000, "xterm", 0)),
            Step::Out(13_000),
        ],
    );
    assert_eq!(
        windows(&records),
        vec![("xterm".to_owned(), 10_000, 13_000, true)],
        "the sample before the mark records nothing; the interval across the mark is cut at it"
    );

    let mut t = new_tracker(&policy());
    t.resume(Some(at(0)), at(10_000));
    let records = run(
        &mut t,
        &[
            Step::S(sample(70_000, "xterm", 0)),
            Step::S(sample(71_000, "xterm", 0)),
            Step::Out(71_000),
        ],
    );
    assert_eq!(
        idles(&records),
        vec![(IdleReason::Suspended, 10_000, 70_000, true)],
        "the time the agent did not run is a gap, not work"
    );
    assert_eq!(
        windows(&records),
        vec![("xterm".to_owned(), 70_000, 71_000, true)],
        "work resumes with the samples"
    );
}

#[test]
fn resume_never_starts_a_gap_before_the_session_or_at_the_epoch() {
    // A new database (high-water 0) with a session clocked in at 50 s: the gap the agent did
    // not see runs from the clock-in, not from 1970 (which would also clock out at once).
    let mut t = new_tracker(&policy());
    t.resume(Some(at(50_000)), 0);
    let records = run(
        &mut t,
        &[
            Step::S(sample(80_000, "xterm", 0)),
            Step::S(sample(81_000, "xterm", 0)),
            Step::Out(81_000),
        ],
    );
    assert_eq!(
        idles(&records),
        vec![(IdleReason::Suspended, 50_000, 80_000, true)],
        "the unseen time starts at the clock-in"
    );
    assert!(
        !records.iter().any(|r| matches!(
            r,
            Record::ClockOut {
                reason: ClockOutReason::LongIdle,
                ..
            }
        )),
        "no automatic clock-out from a gap that starts in 1970: {records:?}"
    );

    // Clocked out moments after clock-in with nothing observed: no invented activity.
    let mut t = new_tracker(&policy());
    t.resume(Some(at(50_000)), 0);
    let records = run(&mut t, &[Step::Out(51_000)]);
    assert!(
        windows(&records).is_empty(),
        "no window was ever seen: {records:?}"
    );
    assert_eq!(
        idles(&records),
        vec![(IdleReason::Suspended, 50_000, 51_000, true)],
        "the unobserved session time is a gap"
    );

    // No session and nothing stored: nothing at all before the first sample.
    let mut t = new_tracker(&policy());
    t.resume(None, 0);
    run(&mut t, &[Step::S(sample(80_000, "xterm", 0))]);
    let records = run(
        &mut t,
        &[
            Step::In(80_500),
            Step::S(sample(81_000, "xterm", 0)),
            Step::Out(81_000),
        ],
    );
    assert!(
        idles(&records).is_empty(),
        "no gap before the first sample: {records:?}"
    );
}

#[test]
fn set_policy_applies_to_the_next_span_and_refuses_bad_patterns() {
    let mut t = new_tracker(&policy());
    run(
        &mut t,
        &script(vec![vec![Step::In(0)], busy(1000, 2000, "gimp")]),
    );
    let mut p = policy();
    p.categories.push(CategoryRule {
        name: "Work > Design".into(),
        app: Some("^gimp$".into()),
        title: None,
        domain: None,
        score: 2,
    });
    t.set_policy(&p).expect("valid");
    assert_eq!(
        t.status().category.as_deref(),
        Some("Work > Design"),
        "the status uses the new rules"
    );
    let records = run(
        &mut t,
        &script(vec![busy(3000, 4000, "gimp"), vec![Step::Out(4000)]]),
    );
    let cats: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Window(w) => Some((w.category.clone(), w.start - T0, w.end - T0)),
            _ => None,
        })
        .collect();
    assert_eq!(
        cats,
        vec![
            ("Uncategorized".into(), 0, 2000),
            ("Work > Design".into(), 2000, 4000)
        ],
        "the span before the change keeps its category"
    );
    p.excluded_apps = vec!["(".into()];
    assert!(
        t.set_policy(&p).is_err(),
        "a broken pattern is refused and changes nothing"
    );
}

#[test]
fn a_pulsetime_that_is_not_positive_is_refused() {
    let e = Tracker::new(&policy(), TrackerConfig { pulsetime_ms: 0 }).expect_err("zero");
    assert!(
        e.to_string().contains("pulsetime_ms is 0"),
        "says which value: {e}"
    );
}

#[test]
fn no_foreground_window_is_time_with_no_app() {
    let mut t = new_tracker(&policy());
    let blank = |offset: i64| {
        Step::S(Sample {
            at: at(offset),
            window: None,
            idle_ms: 0,
            locked: false,
        })
    };
    let records = run(
        &mut t,
        &[Step::In(0), blank(1000), blank(2000), Step::Out(2000)],
    );
    assert_eq!(
        windows(&records),
        vec![(String::new(), 0, 2000, true)],
        "an empty desktop with input is still session time"
    );
    assert_eq!(t.status().current, None, "no window in the status");
}

#[test]
fn restored_prompts_can_be_answered_and_time_out() {
    let mut t = new_tracker(&policy());
    let prompt = |start: i64| IdlePrompt {
        idle_start: at(start),
        idle_end: at(start + 100_000),
        reason: IdleReason::NoInput,
        deadline: at(start + 220_000),
    };
    t.restore_prompts([prompt(0), prompt(500_000), prompt(0)]);
    assert_eq!(
        t.pending_prompts().len(),
        2,
        "a prompt known twice is kept once"
    );
    let answer = t
        .decide(at(500_000), IdleChoice::Keep, at(600_000))
        .expect("restored");
    assert_eq!(
        decisions(&answer),
        vec![(500_000, 600_000, IdleChoice::Keep, DecisionSource::User)]
    );
    let timed_out = t.observe(&sample(220_000, "xterm", 0));
    assert_eq!(
        decisions(&timed_out),
        vec![(0, 100_000, IdleChoice::Discard, DecisionSource::Timeout)],
        "the policy default applies at the deadline, as for prompts made here"
    );
}

#[test]
fn rule9_clock_out_without_any_sample_records_the_unobserved_time_as_a_gap() {
    let mut t = new_tracker(&policy());
    t.resume(Some(at(0)), at(0));
    let records = t.clock_out(at(3_600_000)).expect("clocked in");
    assert_eq!(
        idles(&records),
        vec![(IdleReason::Suspended, 0, 3_600_000, true)],
        "with the agent not running nothing was observed: idle, work only if kept"
    );
    assert_eq!(t.pending_prompts().len(), 1, "so the employee is asked");
    assert_eq!(
        records.last(),
        Some(&Record::ClockOut {
            at: at(3_600_000),
            reason: ClockOutReason::Manual
        }),
        "the session ends when the employee says"
    );
}

#[test]
fn undecided_prompts_are_found_again_after_a_restart() {
    let p = policy();
    let mut t = new_tracker(&p);
    // Away 4 minutes inside a session, then back: a prompt waits.
    let records = run(
        &mut t,
        &script(vec![
            vec![Step::In(0)],
            busy(1000, 5000, "xterm"),
            away(6000, 250_000, "xterm", 5000),
            vec![Step::S(sample(251_000, "xterm", 0))],
            busy(252_000, 255_000, "xterm"),
        ]),
    );
    let waiting = t.pending_prompts().to_vec();
    assert_eq!(waiting.len(), 1, "one idle period to decide");
    assert_eq!(
        IdlePrompt::undecided(&records, &p),
        waiting,
        "the stored records give back exactly the waiting prompt"
    );
    let mut answered = records.clone();
    answered.extend(
        t.decide(waiting[0].idle_start, IdleChoice::Keep, at(256_000))
            .expect("decide"),
    );
    assert!(
        IdlePrompt::undecided(&answered, &p).is_empty(),
        "a decided period waits no more"
    );
    let never = Policy {
        idle_prompt: IdlePromptMode::NeverKeep,
        ..p
    };
    assert!(
        IdlePrompt::undecided(&records, &never).is_empty(),
        "no prompts unless the policy asks"
    );
}

// ----- rule 11: pause -----

/// Samples every second from `from` to `to` with input on a window whose title must never be
/// recorded (it is shown while paused).
fn private(from: i64, to: i64) -> Vec<Step> {
    busy(from, to, "bank")
}

#[test]
fn rule11_a_pause_records_no_window_and_is_a_break_in_the_session() {
    let mut t = new_tracker(&policy());
    let mut all = run(
        &mut t,
        &script(vec![vec![Step::In(0)], busy(1000, 10_000, "xterm")]),
    );
    all.extend(t.pause(at(10_500), None).expect("policy allows pausing"));
    assert_eq!(t.status().paused_since, Some(at(10_500)));
    all.extend(run(&mut t, &private(11_000, 40_000)));
    assert_eq!(
        t.status().current,
        None,
        "the paused window is not looked at"
    );
    all.extend(t.unpause(at(40_200)).expect("paused"));
    all.extend(run(
        &mut t,
        &script(vec![busy(41_000, 45_000, "xterm"), vec![Step::Out(45_000)]]),
    ));
    assert_stream(&all);
    assert_eq!(
        windows(&all),
        vec![
            ("xterm".into(), 0, 10_500, true),
            ("xterm".into(), 40_200, 45_000, true)
        ],
        "the window before the pause runs up to it; nothing of the paused window is recorded"
    );
    assert_eq!(
        idles(&all),
        vec![(IdleReason::Paused, 10_500, 40_200, true)]
    );
    assert_eq!(
        decisions(&all),
        vec![(10_500, 40_200, IdleChoice::Break, DecisionSource::User)],
        "the pause is a break at once, never an idle prompt"
    );
    assert!(t.pending_prompts().is_empty());
    assert_eq!(t.status().paused_since, None);
}

#[test]
fn rule11_a_pause_with_an_end_resumes_at_it_and_gaps_after_it_are_suspended() {
    let mut t = new_tracker(&policy());
    let mut all = run(
        &mut t,
        &script(vec![vec![Step::In(0)], busy(1000, 5000, "xterm")]),
    );
    all.extend(
        t.pause(at(5000), Some(at(20_000)))
            .expect("pausing is allowed"),
    );
    assert_eq!(t.status().paused_until, Some(at(20_000)));
    all.extend(run(&mut t, &private(6000, 19_000)));
    // The PC slept from 19 s; it wakes at 60 s, long after the pause ended at 20 s.
    all.extend(run(
        &mut t,
        &script(vec![busy(60_000, 62_000, "xterm"), vec![Step::Out(62_000)]]),
    ));
    assert_stream(&all);
    assert_eq!(
        idles(&all),
        vec![
            (IdleReason::Paused, 5000, 20_000, true),
            (IdleReason::Suspended, 20_000, 60_000, true)
        ]
    );
    assert_eq!(
        decisions(&all)[0],
        (5000, 20_000, IdleChoice::Break, DecisionSource::User)
    );
    assert_eq!(t.status().paused_since, None);
}

#[test]
fn rule11_clock_out_ends_the_pause_and_the_session_together() {
    let mut t = new_tracker(&policy());
    let mut all = run(
        &mut t,
        &script(vec![vec![Step::In(0)], busy(1000, 3000, "xterm")]),
    );
    all.extend(t.pause(at(3000), None).expect("pausing is allowed"));
    all.extend(run(&mut t, &private(4000, 9000)));
    all.extend(run(&mut t, &[Step::Out(9500)]));
    assert_stream(&all);
    assert_eq!(idles(&all), vec![(IdleReason::Paused, 3000, 9500, true)]);
    assert!(
        matches!(all.last(), Some(Record::ClockOut { at: a, .. }) if *a == at(9500)),
        "the session ends when clocked out, after the pause: {:?}",
        all.last()
    );
    assert_eq!(t.status().paused_since, None);
    assert_eq!(t.status().clocked_in_since, None);
}

#[test]
fn rule11_pausing_is_refused_when_the_policy_forbids_it_or_nothing_is_tracked() {
    let mut p = policy();
    p.allow_pause = false;
    let mut t = new_tracker(&p);
    run(&mut t, &[Step::In(0)]);
    assert_eq!(t.pause(at(1000), None), Err(Error::PauseNotAllowed));

    let mut t = new_tracker(&policy());
    assert_eq!(t.pause(at(1000), None), Err(Error::NothingToPause));
    assert_eq!(t.unpause(at(1000)), Err(Error::NotPaused));
    run(&mut t, &[Step::In(0)]);
    assert_eq!(
        t.pause(at(1000), Some(at(1000))),
        Err(Error::PauseEnd {
            until: at(1000),
            now: at(1000)
        })
    );
    t.pause(at(1000), None).expect("pausing is allowed");
    assert_eq!(
        t.pause(at(2000), None),
        Err(Error::AlreadyPaused { since: at(1000) })
    );
    for e in [
        Error::PauseNotAllowed,
        Error::NothingToPause,
        Error::NotPaused,
        Error::AlreadyPaused { since: 5 },
    ] {
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn rule11_pausing_while_idle_decides_the_idle_first() {
    let mut t = new_tracker(&policy());
    let mut all = run(
        &mut t,
        &script(vec![
            vec![Step::In(0)],
            busy(1000, 10_000, "xterm"),
            away(11_000, 80_000, "xterm", 10_000),
        ]),
    );
    all.extend(t.pause(at(80_500), None).expect("pausing is allowed"));
    all.extend(t.unpause(at(90_000)).expect("paused"));
    assert_stream(&all);
    assert_eq!(
        idles(&all),
        vec![
            (IdleReason::NoInput, 10_000, 80_500, true),
            (IdleReason::Paused, 80_500, 90_000, true)
        ]
    );
    assert_eq!(
        t.pending_prompts().len(),
        1,
        "the idle before the pause waits for its answer"
    );
}

#[test]
fn rule11_open_records_save_the_pause_and_a_restart_continues_it() {
    let mut t = new_tracker(&policy());
    run(
        &mut t,
        &script(vec![vec![Step::In(0)], busy(1000, 2000, "xterm")]),
    );
    t.pause(at(2000), None).expect("pausing is allowed");
    run(&mut t, &private(3000, 30_000));
    let open = t.open_records();
    assert_eq!(idles(&open), vec![(IdleReason::Paused, 2000, 30_000, true)]);
    assert_eq!(
        decisions(&open),
        vec![(2000, 30_000, IdleChoice::Break, DecisionSource::User)],
        "a saved pause is never turned into an idle prompt after a crash"
    );

    // A restart: the checkpoint became final, the pause goes on from its end.
    let mut t = new_tracker(&policy());
    t.resume(Some(at(0)), at(30_000));
    t.restore_pause(at(2000), None);
    assert_eq!(t.status().paused_since, Some(at(30_000)));
    let mut all = run(&mut t, &private(45_000, 50_000));
    all.extend(t.unpause(at(50_500)).expect("still paused"));
    assert_eq!(
        idles(&all),
        vec![(IdleReason::Paused, 30_000, 50_500, true)],
        "the time the agent was down belongs to the pause, not to a suspended gap"
    );
}

#[test]
fn rule11_a_pause_outside_sessions_is_recorded_only_when_tracking_outside() {
    let mut p = policy();
    p.track_outside_sessions = true;
    let mut t = new_tracker(&p);
    let mut all = run(&mut t, &busy(0, 2000, "xterm"));
    all.extend(t.pause(at(2000), None).expect("tracked outside sessions"));
    run(&mut t, &private(3000, 5000));
    all.extend(run(&mut t, &[Step::In(6000)]));
    assert_stream(&all);
    assert_eq!(
        idles(&all),
        vec![(IdleReason::Paused, 2000, 6000, false)],
        "clocking in ends the pause; the session starts where it ends"
    );
    assert!(
        decisions(&all).is_empty(),
        "outside a session nothing is decided"
    );
    assert_eq!(t.status().paused_since, None);
}
