//! Fuzzing of the ingest batch parser: generated and mutated `IngestBatch` bodies go through
//! the path `POST /api/ingest` takes (`http::error::parse_json`, then
//! `http::device::validate_batch`).
//!
//! Valid batches read back equal and are accepted; every mutated one is refused with a 4xx
//! whose message names the field that is wrong; nothing panics, whatever the bytes. About
//! 1,100 cases in all, a few seconds in a debug build.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Map, Value};
use worktrace_domain::text::MAX_WIRE_BYTES;
use worktrace_domain::{
    ClockOutReason, DecisionSource, ExportEvent, ExportKind, IdleChoice, IdleDecision, Severity,
};
use worktrace_server::http::device::validate_batch;
use worktrace_server::http::error::{parse_json, ApiError};
use worktrace_server::wire::{
    AlertItem, ChainBreakItem, ChainHead, ChainProof, DecisionItem, IngestBatch, Presence,
    RollupItem, SessionItem,
};

const DAY_MS: i64 = 86_400_000;
/// Largest value the store keeps for the u64 counters (they are SQL integers).
const MAX_SQL: u64 = i64::MAX as u64;

/// What the server answers for a body: the parse, then the check.
fn accept(bytes: &[u8]) -> Result<IngestBatch, ApiError> {
    let batch: IngestBatch = parse_json(bytes)?;
    validate_batch(&batch)?;
    Ok(batch)
}

fn day_name(epoch_day: i64) -> String {
    chrono::DateTime::from_timestamp(epoch_day * 86_400, 0)
        .expect("days 2000..2100 are representable")
        .format("%Y-%m-%d")
        .to_string()
}

/// Epoch days from 2000-01-01 to 2099-12-31.
fn epoch_day() -> impl Strategy<Value = i64> {
    10_957i64..47_482
}

/// Names as agents send them: letters (some not ASCII), digits, spaces and punctuation.
fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ._>()éßж日本-]{0,24}"
}

fn opt_name() -> impl Strategy<Value = Option<String>> {
    prop::option::of(name())
}

fn rollup() -> impl Strategy<Value = RollupItem> {
    (
        epoch_day(),
        prop::option::of(0u8..24),
        (name(), name()),
        [
            0i64..=3_600_000,
            0..=3_600_000,
            0..=90_000_000,
            0..=i64::MAX,
        ],
        0..=MAX_SQL,
    )
        .prop_map(|(d, hour, (app, category), ms, revision)| RollupItem {
            day: day_name(d),
            hour,
            app,
            category,
            active_ms: ms[0],
            idle_ms: ms[1],
            clocked_ms: ms[2],
            input_ms: ms[3],
            revision,
        })
}

/// A work day and an instant on it or up to a day either side (time zones).
fn dated() -> impl Strategy<Value = (String, i64)> {
    (epoch_day(), -DAY_MS..2 * DAY_MS).prop_map(|(d, off)| (day_name(d), d * DAY_MS + off))
}

fn session() -> impl Strategy<Value = SessionItem> {
    (
        dated(),
        prop::option::of(0i64..=30 * DAY_MS),
        prop::option::of(prop::sample::select(vec![
            ClockOutReason::Manual,
            ClockOutReason::LongIdle,
            ClockOutReason::ShiftEnd,
        ])),
    )
        .prop_map(|((day, start), len, reason)| SessionItem {
            day,
            start,
            end: len.map(|l| start + l),
            clock_out_reason: reason,
        })
}

fn decision() -> impl Strategy<Value = DecisionItem> {
    (
        dated(),
        0i64..=DAY_MS,
        0i64..=DAY_MS,
        prop::sample::select(vec![
            IdleChoice::Keep,
            IdleChoice::Discard,
            IdleChoice::Break,
            IdleChoice::Meeting,
        ]),
        prop::sample::select(vec![
            DecisionSource::User,
            DecisionSource::Policy,
            DecisionSource::Timeout,
            DecisionSource::AutoClockOut,
        ]),
    )
        .prop_map(|((day, start), len, later, choice, source)| DecisionItem {
            day,
            decision: IdleDecision {
                idle_start: start,
                idle_end: start + len,
                choice,
                source,
                decided_at: start + len + later,
            },
        })
}

fn details() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(
        "[a-z_]{1,10}",
        prop_oneof![
            name().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
        ],
        0..4,
    )
    .prop_map(|m| m.into_iter().collect())
}

fn alert() -> impl Strategy<Value = AlertItem> {
    (
        0..=MAX_SQL,
        (
            any::<i64>(),
            prop::sample::select(vec![
                ExportKind::RemovableMounted,
                ExportKind::RemovableUnmounted,
                ExportKind::FileToRemovable,
                ExportKind::FileToNetwork,
                ExportKind::DataFileCreated,
                ExportKind::PrintJob,
                ExportKind::ClipboardBulk,
                ExportKind::UploadSite,
            ]),
            prop::sample::select(vec![
                Severity::Info,
                Severity::Low,
                Severity::Medium,
                Severity::High,
            ]),
        ),
        [opt_name(), opt_name(), opt_name(), opt_name()],
        (prop::option::of(any::<u64>()), any::<u32>(), details()),
    )
        .prop_map(
            |(
                id,
                (at, kind, severity),
                [app_before, file_name, path, class],
                (size, count, details),
            )| {
                AlertItem {
                    id,
                    event: ExportEvent {
                        at,
                        kind,
                        severity,
                        app_before,
                        file_name,
                        path,
                        size_bytes: size,
                        destination_class: class,
                        count,
                        details,
                    },
                }
            },
        )
}

fn presence() -> impl Strategy<Value = Presence> {
    (
        any::<i64>(),
        any::<bool>(),
        any::<bool>(),
        opt_name(),
        opt_name(),
    )
        .prop_map(|(at, clocked_in, idle, category, title)| Presence {
            at,
            clocked_in,
            idle,
            category,
            title,
        })
}

/// A chain proof as the agent sends it; the batch puts `since` and the exports in its range.
fn proof() -> impl Strategy<Value = ChainProof> {
    (
        (
            0..=MAX_SQL,
            "[0-9a-f]{0,64}",
            prop::option::of("[0-9a-f]{64}"),
        ),
        0..=MAX_SQL,
        prop::collection::vec(0..=MAX_SQL, 0..4),
        prop::collection::vec((0..MAX_SQL - 1_000, 1..=1_000u64, any::<i64>()), 0..3),
        "[0-9a-f]{0,64}",
    )
        .prop_map(
            |((since, hash, next_prev), records, exports, breaks, policy_sha256)| ChainProof {
                since: ChainHead { seq: since, hash },
                next_prev,
                records,
                exports,
                breaks: breaks
                    .into_iter()
                    .map(|(last_good_seq, gap, noted_at)| ChainBreakItem {
                        last_good_seq,
                        resumes_seq: last_good_seq + gap,
                        noted_at,
                    })
                    .collect(),
                policy_sha256,
            },
        )
}

/// A batch an agent could send; with `full`, every list has an item and every optional part
/// is there, so each kind of mutation has something to change.
fn batch(full: bool) -> impl Strategy<Value = IngestBatch> {
    let n = if full { 1..4usize } else { 0..4usize };
    (
        (0..=MAX_SQL, 0..=MAX_SQL, "[0-9a-f]{0,128}"),
        prop::collection::vec(rollup(), n.clone()),
        prop::collection::vec(session(), n.clone()),
        prop::collection::vec(decision(), n.clone()),
        prop::collection::vec(alert(), n),
        if full {
            presence().prop_map(Some).boxed()
        } else {
            prop::option::of(presence()).boxed()
        },
        if full {
            proof().prop_map(Some).boxed()
        } else {
            prop::option::of(proof()).boxed()
        },
    )
        .prop_map(
            |((batch_seq, seq, hash), rollups, sessions, decisions, alerts, presence, chain)| {
                let chain = chain.map(|mut c| {
                    c.since.seq = c.since.seq.min(seq);
                    let since = c.since.seq;
                    c.exports.retain(|e| *e > since && *e <= seq);
                    c
                });
                IngestBatch {
                    batch_seq,
                    chain_head: ChainHead { seq, hash },
                    rollups,
                    sessions,
                    decisions,
                    alerts,
                    presence,
                    chain,
                }
            },
        )
}

/// `["rollups", 0, "day"]` → `rollups[0].day`, as the errors write paths.
fn dotted(path: &[Value]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Value::Number(i) => out.push_str(&format!("[{i}]")),
            Value::String(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            _ => unreachable!("paths hold keys and indexes only"),
        }
    }
    out
}

/// Every leaf of the batch (outside the free-form `details`), with its path.
fn leaves(v: &Value, path: &mut Vec<Value>, out: &mut Vec<(Vec<Value>, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if k == "details" {
                    continue;
                }
                path.push(Value::from(k.as_str()));
                leaves(child, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                path.push(Value::from(i));
                leaves(child, path, out);
                path.pop();
            }
        }
        leaf => out.push((path.clone(), leaf.clone())),
    }
}

/// Every object of the batch with the keys it must have, as (path, key).
fn required_keys(v: &Value) -> Vec<(Vec<Value>, &'static str)> {
    let mut out: Vec<(Vec<Value>, &'static str)> = vec![
        (vec![], "batch_seq"),
        (vec![], "chain_head"),
        (vec![json!("chain_head")], "seq"),
        (vec![json!("chain_head")], "hash"),
    ];
    let each = |list: &str, keys: &[&'static str], sub: &[&str], out: &mut Vec<_>| {
        let n = v[list].as_array().map_or(0, Vec::len);
        for i in 0..n {
            let mut path = vec![json!(list), json!(i)];
            path.extend(sub.iter().map(|s| json!(s)));
            for k in keys {
                out.push((path.clone(), *k));
            }
        }
    };
    each(
        "rollups",
        &[
            "day",
            "app",
            "category",
            "active_ms",
            "idle_ms",
            "clocked_ms",
            "input_ms",
            "revision",
        ],
        &[],
        &mut out,
    );
    each("sessions", &["day", "start"], &[], &mut out);
    each("decisions", &["day", "decision"], &[], &mut out);
    each(
        "decisions",
        &["idle_start", "idle_end", "choice", "source", "decided_at"],
        &["decision"],
        &mut out,
    );
    each("alerts", &["id", "event"], &[], &mut out);
    each(
        "alerts",
        &["at", "export_kind", "severity", "count", "details"],
        &["event"],
        &mut out,
    );
    if v["presence"].is_object() {
        for k in ["at", "clocked_in", "idle"] {
            out.push((vec![json!("presence")], k));
        }
    }
    if v["chain"].is_object() {
        for k in ["since", "records"] {
            out.push((vec![json!("chain")], k));
        }
        for k in ["seq", "hash"] {
            out.push((vec![json!("chain"), json!("since")], k));
        }
        let n = v["chain"]["breaks"].as_array().map_or(0, Vec::len);
        for i in 0..n {
            for k in ["last_good_seq", "resumes_seq", "noted_at"] {
                out.push((vec![json!("chain"), json!("breaks"), json!(i)], k));
            }
        }
    }
    out
}

fn at_path<'a>(v: &'a mut Value, path: &[Value]) -> &'a mut Value {
    path.iter().fold(v, |v, step| match step {
        Value::Number(i) => &mut v[i.as_u64().expect("index") as usize],
        Value::String(k) => &mut v[k.as_str()],
        _ => unreachable!("paths hold keys and indexes only"),
    })
}

/// A value of a type no leaf accepts in place of `leaf`: numbers and booleans where strings
/// go, strings where numbers or booleans go, a boolean where an absent option was.
fn wrong_type(leaf: &Value) -> Value {
    match leaf {
        Value::String(_) => json!(7),
        Value::Number(_) | Value::Bool(_) => json!("x"),
        _ => json!(true),
    }
}

fn assert_refused(bytes: &[u8], field: &str, what: &str) -> Result<(), TestCaseError> {
    match accept(bytes) {
        Ok(_) => Err(TestCaseError::fail(format!(
            "{what} at {field} was accepted: {}",
            String::from_utf8_lossy(bytes)
        ))),
        Err(e) => {
            prop_assert!(
                e.status.is_client_error(),
                "a caller's mistake is a 4xx, not {}: {}",
                e.status,
                e.message
            );
            prop_assert!(
                e.message.contains(field),
                "the message names {field} ({what}): {}",
                e.message
            );
            Ok(())
        }
    }
}

/// A change to a valid batch that the check (not the parser) must refuse, and the field its
/// message must name.
#[derive(Debug, Clone)]
enum Breakage {
    BadDay(usize, String),
    Hour(usize, u8),
    Negative(usize, usize, i64),
    HiddenChar(usize, char, usize),
    TooLong(usize),
    Huge(usize, u64),
    BadHash(String),
    EndBeforeStart(usize, i64),
    Drift(usize, i64),
    IdleEndFirst(usize, i64),
    ExportOutside(u64),
}

fn breakage() -> impl Strategy<Value = Breakage> {
    let bad_day = prop_oneof![
        Just("2025-02-29".to_owned()),
        Just("2025-13-01".to_owned()),
        Just("2025/01/01".to_owned()),
        Just(String::new()),
        "[0-9]{4}-[0-9]{2}-[0-9]{3}",
        "[0-9]{1,3}-[0-9]{2}-[0-9]{2}",
        "[a-z ]{1,10}",
    ];
    prop_oneof![
        (any::<usize>(), bad_day).prop_map(|(i, d)| Breakage::BadDay(i, d)),
        (any::<usize>(), 24u8..).prop_map(|(i, h)| Breakage::Hour(i, h)),
        (any::<usize>(), 0usize..4, i64::MIN..0).prop_map(|(i, f, v)| Breakage::Negative(i, f, v)),
        (
            any::<usize>(),
            prop::sample::select(vec![
                '\u{202E}', '\u{200B}', '\u{2066}', '\n', '\u{0}', '\u{7}', '\u{FEFF}'
            ]),
            any::<usize>()
        )
            .prop_map(|(i, c, at)| Breakage::HiddenChar(i, c, at)),
        any::<usize>().prop_map(Breakage::TooLong),
        (any::<usize>(), MAX_SQL + 1..).prop_map(|(i, v)| Breakage::Huge(i, v)),
        prop_oneof!["[0-9a-f]{0,20}[g-zG-Z ]{1,3}", "[0-9a-f]{129,140}"]
            .prop_map(Breakage::BadHash),
        (any::<usize>(), 1i64..=DAY_MS).prop_map(|(i, by)| Breakage::EndBeforeStart(i, by)),
        (any::<usize>(), prop_oneof![3i64..400, -400i64..-3])
            .prop_map(|(i, days)| Breakage::Drift(i, days)),
        (any::<usize>(), 1i64..=DAY_MS).prop_map(|(i, by)| Breakage::IdleEndFirst(i, by)),
        (0..=MAX_SQL).prop_map(Breakage::ExportOutside),
    ]
}

/// The text fields a lead reads, by number: (field path, the field).
fn text_field(b: &mut IngestBatch, which: usize) -> (String, &mut String) {
    let r = which % b.rollups.len();
    let a = which % b.alerts.len();
    let presence = b.presence.as_mut().expect("full batches have a presence");
    match which % 8 {
        0 => (format!("rollups[{r}].app"), &mut b.rollups[r].app),
        1 => (format!("rollups[{r}].category"), &mut b.rollups[r].category),
        2 => (
            "presence.category".into(),
            presence.category.get_or_insert_with(String::new),
        ),
        3 => (
            "presence.title".into(),
            presence.title.get_or_insert_with(String::new),
        ),
        4 => (
            format!("alerts[{a}].event.app_before"),
            b.alerts[a].event.app_before.get_or_insert_with(String::new),
        ),
        5 => (
            format!("alerts[{a}].event.file_name"),
            b.alerts[a].event.file_name.get_or_insert_with(String::new),
        ),
        6 => (
            format!("alerts[{a}].event.path"),
            b.alerts[a].event.path.get_or_insert_with(String::new),
        ),
        _ => (
            format!("alerts[{a}].event.destination_class"),
            b.alerts[a]
                .event
                .destination_class
                .get_or_insert_with(String::new),
        ),
    }
}

/// Applies the breakage; returns the field the refusal must name.
fn break_batch(b: &mut IngestBatch, how: &Breakage) -> String {
    match how.clone() {
        Breakage::BadDay(i, day) => match i % 3 {
            0 => {
                let i = i % b.rollups.len();
                b.rollups[i].day = day;
                format!("rollups[{i}].day")
            }
            1 => {
                let i = i % b.sessions.len();
                b.sessions[i].day = day;
                format!("sessions[{i}].day")
            }
            _ => {
                let i = i % b.decisions.len();
                b.decisions[i].day = day;
                format!("decisions[{i}].day")
            }
        },
        Breakage::Hour(i, h) => {
            let i = i % b.rollups.len();
            b.rollups[i].hour = Some(h);
            format!("rollups[{i}].hour")
        }
        Breakage::Negative(i, f, v) => {
            let i = i % b.rollups.len();
            let r = &mut b.rollups[i];
            let (name, slot) = match f {
                0 => ("active_ms", &mut r.active_ms),
                1 => ("idle_ms", &mut r.idle_ms),
                2 => ("clocked_ms", &mut r.clocked_ms),
                _ => ("input_ms", &mut r.input_ms),
            };
            *slot = v;
            format!("rollups[{i}].{name}")
        }
        Breakage::HiddenChar(i, c, at) => {
            let (field, text) = text_field(b, i);
            let chars: Vec<char> = text.chars().collect();
            let at = at % (chars.len() + 1);
            *text = chars[..at]
                .iter()
                .chain(std::iter::once(&c))
                .chain(&chars[at..])
                .collect();
            field
        }
        Breakage::TooLong(i) => {
            let (field, text) = text_field(b, i);
            *text = "a".repeat(MAX_WIRE_BYTES + 1);
            field
        }
        Breakage::Huge(i, v) => match i % 4 {
            0 => {
                b.batch_seq = v;
                "batch_seq".into()
            }
            1 => {
                b.chain_head.seq = v;
                "chain_head.seq".into()
            }
            2 => {
                let i = i % b.rollups.len();
                b.rollups[i].revision = v;
                format!("rollups[{i}].revision")
            }
            _ => {
                let i = i % b.alerts.len();
                b.alerts[i].id = v;
                format!("alerts[{i}].id")
            }
        },
        Breakage::BadHash(h) => {
            b.chain_head.hash = h;
            "chain_head.hash".into()
        }
        Breakage::EndBeforeStart(i, by) => {
            let i = i % b.sessions.len();
            let s = &mut b.sessions[i];
            s.end = Some(s.start - by);
            format!("sessions[{i}].end")
        }
        Breakage::Drift(i, days) => {
            let i = i % b.sessions.len();
            let s = &mut b.sessions[i];
            let start_day = s.start.div_euclid(DAY_MS);
            s.day = day_name(start_day + days);
            format!("sessions[{i}]: day {}", s.day)
        }
        Breakage::IdleEndFirst(i, by) => {
            let i = i % b.decisions.len();
            let d = &mut b.decisions[i].decision;
            d.idle_end = d.idle_start - by;
            format!("decisions[{i}].decision.idle_end")
        }
        Breakage::ExportOutside(e) => {
            // An export record the batch does not cover: at or before `since`, or after its head.
            let head = b.chain_head.seq;
            if let Some(c) = &mut b.chain {
                let outside = if e <= c.since.seq || e > head {
                    e
                } else {
                    c.since.seq
                };
                c.exports.push(outside);
            }
            "chain.exports".into()
        }
    }
}

/// Any JSON value, nested a few levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    prop::sample::select(vec![
                        "batch_seq",
                        "chain_head",
                        "seq",
                        "hash",
                        "rollups",
                        "sessions",
                        "decisions",
                        "alerts",
                        "presence",
                        "day",
                        "hour",
                        "event",
                    ])
                    .prop_map(str::to_owned),
                    ".{0,8}",
                ],
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(Config { cases: 256, failure_persistence: None, ..Config::default() })]

    #[test]
    fn valid_batches_read_back_equal_and_are_accepted(b in batch(false)) {
        let bytes = serde_json::to_vec(&b).expect("a batch serializes");
        match accept(&bytes) {
            Ok(back) => prop_assert_eq!(back, b, "the server reads what the agent wrote"),
            Err(e) => prop_assert!(false, "a valid batch was refused: {}", e.message),
        }
    }

    #[test]
    fn a_wrong_type_or_a_missing_field_is_refused_naming_it(
        b in batch(true),
        pick in any::<prop::sample::Index>(),
        remove in any::<bool>(),
    ) {
        let mut v = serde_json::to_value(&b).expect("a batch serializes");
        if remove {
            let keys = required_keys(&v);
            let (parent, key) = pick.get(&keys).clone();
            at_path(&mut v, &parent)
                .as_object_mut()
                .expect("the parent is an object")
                .remove(key);
            let bytes = serde_json::to_vec(&v).expect("JSON");
            assert_refused(&bytes, &format!("missing field `{key}`"), "a missing field")?;
            if !parent.is_empty() {
                assert_refused(&bytes, &dotted(&parent), "a missing field")?;
            }
        } else {
            let mut all = Vec::new();
            leaves(&v, &mut Vec::new(), &mut all);
            let (path, leaf) = pick.get(&all).clone();
            *at_path(&mut v, &path) = wrong_type(&leaf);
            let bytes = serde_json::to_vec(&v).expect("JSON");
            assert_refused(&bytes, &dotted(&path), "a value of the wrong type")?;
        }
    }

    #[test]
    fn a_value_the_store_cannot_keep_is_refused_naming_it(
        mut b in batch(true),
        how in breakage(),
    ) {
        let field = break_batch(&mut b, &how);
        let bytes = serde_json::to_vec(&b).expect("a batch serializes");
        prop_assert!(
            parse_json::<IngestBatch>(&bytes).is_ok(),
            "the breakage {:?} is the check's to find, not the parser's",
            how
        );
        assert_refused(&bytes, &field, &format!("{how:?}"))?;
    }

    #[test]
    fn any_json_or_any_bytes_is_answered_without_a_panic(
        v in any_json(),
        bytes in prop::collection::vec(any::<u8>(), 0..200),
        cut in any::<prop::sample::Index>(),
        valid in batch(false),
    ) {
        for body in [serde_json::to_vec(&v).expect("JSON"), bytes] {
            if let Err(e) = accept(&body) {
                prop_assert!(e.status.is_client_error(), "{}: {}", e.status, e.message);
                prop_assert!(!e.message.is_empty(), "an error says what is wrong");
            }
        }
        // Every proper prefix of a JSON object is malformed.
        let whole = serde_json::to_vec(&valid).expect("JSON");
        let cut = cut.index(whole.len());
        let e = accept(&whole[..cut]).expect_err("a cut-off body is refused");
        prop_assert_eq!(e.code, "malformed_json", "{}", e.message);
    }
}
