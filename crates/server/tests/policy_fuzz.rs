//! Fuzzing of the policy parser: generated and mutated policy layers go through what
//! `PUT /api/admin/policy` and `PUT /api/admin/teams/{id}/policy` run (`policy::parse_layer`,
//! then `policy::checked`: the merge over the defaults, the range checks, and every pattern
//! compiled by the agent's own compiler).
//!
//! Valid layers are accepted and every value they set is the one in force; every mutated one
//! is refused with a message naming the field (and the pattern, for a pattern that does not
//! compile); nothing panics. 528 cases, about 20 s in a debug build. Over HTTP, a pattern that does
//! not compile is refused with a 422 and the stored policy stays as it was.

mod common;

use common::world::World;
use common::Backend;
use proptest::prelude::*;
use proptest::test_runner::Config;
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};
use worktrace_domain::Policy;
use worktrace_server::policy::{checked, parse_layer, PolicyProblem};

/// What the server makes of a submitted layer (over an empty organisation layer).
fn submit(layer: &Value) -> Result<Policy, PolicyProblem> {
    let layer = parse_layer(&layer.to_string())?;
    checked(&[&layer])
}

/// A regular expression that compiles, from a few shapes admins write.
fn good_pattern() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "A",
            "^A",
            "A|B",
            "(A|B)$",
            r"A\d{2,4}",
            r"\bA\b",
            "A.*B",
            "(?i)A",
            "[A]+",
            r"A\.B",
            r"\(A\)",
            "(?:A)?B",
        ]),
        "[a-z]{1,8}",
        "[a-z0-9]{1,8}",
    )
        .prop_map(|(shape, a, b)| shape.replace('A', &a).replace('B', &b))
}

/// Regular expressions the engine refuses.
fn bad_pattern() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "(",
        ")",
        "[a-",
        "[z-a]",
        "x{2,1}",
        "\\",
        "*a",
        "(?P<n>a)(?P<n>b)",
        r"\p{NoSuchClass}",
        "(?z)a",
        "a{1,2",
        "(a|b",
    ])
    .prop_map(str::to_owned)
}

fn patterns() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(good_pattern(), 0..4)
}

fn category_name() -> impl Strategy<Value = String> {
    prop::collection::vec("[A-Z][a-z]{0,7}( [a-z]{1,6})?", 1..4)
        .prop_map(|levels| levels.join(" > "))
}

fn category() -> impl Strategy<Value = Value> {
    (
        category_name(),
        [
            prop::option::of(good_pattern()),
            prop::option::of(good_pattern()),
            prop::option::of(good_pattern()),
        ],
        prop::option::of(-2i8..=2),
    )
        .prop_map(|(name, [app, title, domain], score)| {
            let mut rule = json!({"name": name});
            for (k, v) in [("app", app), ("title", title), ("domain", domain)] {
                if let Some(v) = v {
                    rule[k] = json!(v);
                }
            }
            if let Some(s) = score {
                rule["score"] = json!(s);
            }
            rule
        })
}

fn site() -> impl Strategy<Value = Value> {
    prop_oneof![
        good_pattern().prop_map(Value::from),
        (good_pattern(), "[A-Z][a-z]{0,10}( [A-Z][a-z]{0,8})?")
            .prop_map(|(pattern, label)| json!({"pattern": pattern, "label": label})),
    ]
}

/// Keeps each (key, value) with its flag.
fn some_of(items: Vec<(&str, Value)>, keep: &[bool]) -> Map<String, Value> {
    items
        .into_iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|((k, v), _)| (k.to_owned(), v))
        .collect()
}

/// A layer an admin could submit: some of the fields, each with a valid value.
fn layer() -> impl Strategy<Value = Value> {
    let idle = (
        10u32..=86_400,
        prop::option::of(0u32..=86_400),
        prop::sample::select(vec!["ask", "always_keep", "never_keep"]),
        0u32..=86_400,
        prop::sample::select(vec!["keep", "discard", "break", "meeting"]),
        any::<[bool; 2]>(),
    );
    let lists = (
        prop::collection::vec(category(), 0..4),
        prop::collection::vec(
            (good_pattern(), "[#*a-z ]{0,6}").prop_map(
                |(pattern, replacement)| json!({"pattern": pattern, "replacement": replacement}),
            ),
            0..3,
        ),
        patterns(),
        patterns(),
    );
    let upload = (any::<[bool; 7]>(), any::<[bool; 7]>());
    let exports = (
        (patterns(), patterns(), patterns()),
        (
            prop::collection::vec(site(), 0..3),
            prop::collection::vec(site(), 0..3),
        ),
        (any::<bool>(), 0u32..=86_400),
        any::<[bool; 7]>(),
    );
    (idle, lists, upload, exports, any::<[bool; 12]>()).prop_map(
        |(
            (threshold, auto, prompt, timeout, default, [outside, pause]),
            (categories, redactions, excluded, private),
            (upload_values, upload_keep),
            ((apps, titles, domains), (up_domains, up_titles), (enabled, window), export_keep),
            keep,
        )| {
            // The auto clock-out is off or at least the threshold in force.
            let in_force = if keep[0] { threshold } else { 180 };
            let auto = auto.map_or(0, |extra| in_force.saturating_add(extra));
            let switches = [
                "titles",
                "paths",
                "current_category",
                "domains",
                "hashes",
                "device_serials",
                "printer_names",
            ];
            let upload = some_of(
                switches
                    .iter()
                    .zip(upload_values)
                    .map(|(k, v)| (*k, json!(v)))
                    .collect(),
                &upload_keep,
            );
            let exports = some_of(
                vec![
                    ("sensitive_apps", json!(apps)),
                    ("sensitive_titles", json!(titles)),
                    ("sensitive_domains", json!(domains)),
                    ("upload_domains", json!(up_domains)),
                    ("upload_titles", json!(up_titles)),
                    ("enabled", json!(enabled)),
                    ("upload_window_secs", json!(window)),
                ],
                &export_keep,
            );
            Value::Object(some_of(
                vec![
                    ("idle_threshold_secs", json!(threshold)),
                    ("auto_clock_out_idle_secs", json!(auto)),
                    ("idle_prompt", json!(prompt)),
                    ("idle_prompt_timeout_secs", json!(timeout)),
                    ("idle_prompt_default", json!(default)),
                    ("track_outside_sessions", json!(outside)),
                    ("allow_pause", json!(pause)),
                    ("categories", json!(categories)),
                    ("redactions", json!(redactions)),
                    ("excluded_apps", json!(excluded)),
                    ("private_title_patterns", json!(private)),
                    ("upload", Value::Object(upload)),
                    ("exports", Value::Object(exports)),
                ],
                // The threshold's flag is keep[0] (see in_force); the auto clock-out is set
                // whenever the threshold is, so the pair stays consistent.
                &[
                    keep[0], keep[0], keep[2], keep[3], keep[4], keep[5], keep[6], keep[7],
                    keep[8], keep[9], keep[10], keep[11], keep[1],
                ],
            ))
        },
    )
}

/// `value` as the policy writes it back once read as `key` (options filled in, e.g. a rule's
/// absent `app` as `null`).
fn as_read(key: &str, value: &Value) -> Value {
    let alone: Policy = serde_json::from_value(json!({ key: value })).expect("a valid field");
    serde_json::to_value(alone).expect("a policy serializes")[key].clone()
}

/// Every value the layer sets is the value in force (objects field by field).
fn assert_in_force(layer: &Value, policy: &Policy) -> Result<(), TestCaseError> {
    let in_force = serde_json::to_value(policy).expect("a policy serializes");
    for (k, v) in layer.as_object().expect("layers are objects") {
        let v = as_read(k, v);
        match &v {
            Value::Object(_) => {
                for (sk, _) in layer[k].as_object().expect("an object stays one") {
                    prop_assert_eq!(
                        &in_force[k][sk],
                        &v[sk],
                        "{}.{} is in force as submitted",
                        k,
                        sk
                    );
                }
            }
            _ => prop_assert_eq!(&in_force[k], &v, "{} is in force as submitted", k),
        }
    }
    Ok(())
}

fn assert_refused(layer: &Value, field: &str, what: &str) -> Result<(), TestCaseError> {
    match submit(layer) {
        Ok(_) => Err(TestCaseError::fail(format!(
            "{what} at {field} was accepted: {layer}"
        ))),
        Err(e) => {
            prop_assert!(
                e.message.contains(field),
                "the message names {} ({}): {}",
                field,
                what,
                e.message
            );
            Ok(())
        }
    }
}

/// A list inside the layer (created when absent), by its dotted name.
fn list_at<'a>(layer: &'a mut Value, name: &str) -> &'a mut Vec<Value> {
    let mut v = layer;
    for part in name.split('.') {
        if v.get(part).is_none() {
            v[part] = if name.ends_with(part) {
                json!([])
            } else {
                json!({})
            };
        }
        v = &mut v[part];
    }
    v.as_array_mut().expect("a list")
}

/// Puts a broken pattern somewhere patterns go; returns the field the refusal must name.
fn plant(layer: &mut Value, where_: usize, at: usize, bad: &str) -> String {
    let lists = [
        "excluded_apps",
        "private_title_patterns",
        "exports.sensitive_apps",
        "exports.sensitive_titles",
        "exports.sensitive_domains",
        "exports.upload_domains",
        "exports.upload_titles",
        "redactions",
        "categories",
    ];
    let name = lists[where_ % lists.len()];
    let list = list_at(layer, name);
    let i = at % (list.len() + 1);
    match name {
        "redactions" => {
            list.insert(i, json!({"pattern": bad, "replacement": "#"}));
            format!("redactions[{i}].pattern")
        }
        "categories" => {
            let key = ["app", "title", "domain"][at % 3];
            list.insert(i, json!({"name": "Work > Fuzz", key: bad}));
            format!("categories[{i}].{key}")
        }
        "exports.upload_domains" | "exports.upload_titles" if at.is_multiple_of(2) => {
            list.insert(i, json!({"pattern": bad, "label": "Site"}));
            format!("{name}[{i}]")
        }
        _ => {
            list.insert(i, json!(bad));
            format!("{name}[{i}]")
        }
    }
}

/// Every leaf of the layer with its dotted path.
fn leaves(v: &Value, path: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                leaves(child, p, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                leaves(child, format!("{path}[{i}]"), out);
            }
        }
        leaf => out.push((path, leaf.clone())),
    }
}

fn set_path(v: &mut Value, path: &str, new: Value) {
    let mut cur = v;
    for part in path.split('.') {
        let (key, indexes) = part.split_once('[').unwrap_or((part, ""));
        cur = &mut cur[key];
        for i in indexes.split('[').filter(|s| !s.is_empty()) {
            let i: usize = i.trim_end_matches(']').parse().expect("an index");
            cur = &mut cur[i];
        }
    }
    *cur = new;
}

/// Any JSON value, nested a few levels, with the policy's own keys among the random ones.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,10}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    prop::sample::select(vec![
                        "idle_threshold_secs",
                        "categories",
                        "name",
                        "app",
                        "upload",
                        "exports",
                        "rules",
                        "work_hours",
                        "upload_titles",
                        "pattern",
                        "label",
                        "excluded_apps",
                        "redactions",
                        "score",
                    ])
                    .prop_map(str::to_owned),
                    ".{0,8}",
                ],
                inner,
                0..5,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn cases(n: u32) -> Config {
    Config {
        cases: n,
        failure_persistence: None,
        ..Config::default()
    }
}

// Every accepted layer compiles some fifty patterns (the default categories among them), slow in
// a debug build: fewer cases here, more where a refusal comes before the compiling.
proptest! {
    #![proptest_config(cases(48))]

    #[test]
    fn valid_layers_are_accepted_and_in_force(org in layer(), team in layer()) {
        let policy = match submit(&org) {
            Ok(p) => p,
            Err(e) => return Err(TestCaseError::fail(format!("a valid layer was refused: {e}: {org}"))),
        };
        assert_in_force(&org, &policy)?;
        // The policy in force, submitted as a layer of its own, is the same policy.
        let again = submit(&serde_json::to_value(&policy).expect("serializes"));
        prop_assert_eq!(again.as_ref().ok(), Some(&policy), "the policy in force reads back equal");
        // A team's layer over it: the team's values win; only the threshold and the auto
        // clock-out can disagree across the two layers.
        let org_l = parse_layer(&org.to_string()).expect("object");
        let team_l = parse_layer(&team.to_string()).expect("object");
        match checked(&[&org_l, &team_l]) {
            Ok(p) => assert_in_force(&team, &p)?,
            Err(e) => prop_assert!(
                e.message.starts_with("auto_clock_out_idle_secs:"),
                "two valid layers disagree only on the auto clock-out: {}",
                e.message
            ),
        }
    }

}

proptest! {
    #![proptest_config(cases(128))]

    #[test]
    fn a_pattern_that_does_not_compile_is_refused_naming_field_and_pattern(
        mut l in layer(),
        where_ in any::<usize>(),
        at in any::<usize>(),
        bad in bad_pattern(),
    ) {
        let field = plant(&mut l, where_, at, &bad);
        assert_refused(&l, &format!("{field}: invalid regular expression {bad:?}"), "a broken pattern")?;
    }

}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn a_value_out_of_range_or_of_the_wrong_type_is_refused_naming_it(
        mut l in layer(),
        kind in 0usize..7,
        pick in any::<prop::sample::Index>(),
        n in any::<u32>(),
        hidden in prop::sample::select(vec!['\u{202E}', '\u{200B}', '\n', '\u{0}', '\u{2066}']),
    ) {
        let (field, what) = match kind {
            0 => {
                l["idle_threshold_secs"] = json!(if n.is_multiple_of(2) { n % 10 } else { 86_401 + n % 1_000_000 });
                l["auto_clock_out_idle_secs"] = json!(0);
                ("idle_threshold_secs".to_owned(), "a threshold out of range")
            }
            1 => {
                l["idle_prompt_timeout_secs"] = json!(86_401u64 + u64::from(n));
                ("idle_prompt_timeout_secs".to_owned(), "a timeout out of range")
            }
            2 => {
                l["idle_threshold_secs"] = json!(600);
                l["auto_clock_out_idle_secs"] = json!(1 + n % 599);
                ("auto_clock_out_idle_secs".to_owned(), "an auto clock-out under the threshold")
            }
            3 => {
                let list = list_at(&mut l, "categories");
                let i = pick.index(list.len() + 1);
                let names = ["", " > Email", "Work > ", "Work >  > Email"];
                let name = if n % 5 == 4 {
                    format!("Work > E{hidden}mail")
                } else {
                    names[n as usize % 5].to_owned()
                };
                list.insert(i, json!({"name": name, "app": "mail"}));
                (format!("categories[{i}].name"), "a bad category name")
            }
            4 => {
                let list = list_at(&mut l, "categories");
                let i = pick.index(list.len() + 1);
                let score = if n.is_multiple_of(2) { 3 + (n % 125) as i64 } else { -3 - (n % 126) as i64 };
                list.insert(i, json!({"name": "Work", "app": "x", "score": score}));
                (format!("categories[{i}].score"), "a score out of range")
            }
            5 => {
                let unknown = format!("unknown_{n}");
                let target = ["", "upload", "exports"][n as usize % 3];
                if target.is_empty() {
                    l[&unknown] = json!(1);
                } else {
                    if l.get(target).is_none() {
                        l[target] = json!({});
                    }
                    l[target][&unknown] = json!(1);
                }
                (format!("unknown field `{unknown}`"), "an unknown field")
            }
            _ => {
                let mut all = Vec::new();
                leaves(&l, String::new(), &mut all);
                if all.is_empty() {
                    l["allow_pause"] = json!(true);
                    all.push(("allow_pause".to_owned(), json!(true)));
                }
                let (path, leaf) = pick.get(&all).clone();
                let wrong = match leaf {
                    Value::String(_) => json!(7),
                    _ => json!("x"),
                };
                set_path(&mut l, &path, wrong);
                (path, "a value of the wrong type")
            }
        };
        assert_refused(&l, &field, what)?;
    }

}

proptest! {
    #![proptest_config(cases(96))]

    #[test]
    fn any_json_is_answered_without_a_panic(v in any_json(), text in ".{0,64}") {
        for body in [v.to_string(), text] {
            match parse_layer(&body).and_then(|l| checked(&[&l])) {
                Ok(p) => prop_assert!(p.validate().is_ok(), "what is accepted passes its own checks"),
                Err(e) => prop_assert!(!e.message.is_empty(), "an error says what is wrong"),
            }
        }
    }
}

#[tokio::test]
async fn a_policy_whose_pattern_does_not_compile_is_refused_and_nothing_changes() {
    let w = World::start(Backend::Sqlite).await;
    let admin = w.login("admin@acme.test").await;
    let good = json!({"excluded_apps": ["^keepass"]});
    let put = w
        .call(&admin, Method::PUT, "/api/admin/policy", Some(good.clone()))
        .await;
    assert_eq!(put.status, StatusCode::OK, "a valid policy: {}", put.text);

    let put = w
        .call(
            &admin,
            Method::PUT,
            "/api/admin/policy",
            Some(json!({"excluded_apps": ["^keepass", "("]})),
        )
        .await;
    assert_eq!(
        put.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a pattern no PC could compile is the admin's mistake: {}",
        put.text
    );
    assert!(
        put.body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains(r#"excluded_apps[1]: invalid regular expression "(": unclosed group"#),
        "the message names the field, the pattern and the problem: {}",
        put.text
    );
    let stored = w.get(&admin, "/api/admin/policy").await;
    assert_eq!(stored.body, good, "the refused policy changed nothing");

    let team = format!("/api/admin/teams/{}/policy", w.team_a);
    let put = w
        .call(
            &admin,
            Method::PUT,
            &team,
            Some(json!({"exports": {"upload_titles": [{"pattern": "[a-", "label": "Portal"}]}})),
        )
        .await;
    assert_eq!(
        put.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a team's broken pattern too: {}",
        put.text
    );
    assert!(
        put.text
            .contains(r#"exports.upload_titles[0]: invalid regular expression \"[a-\""#),
        "names the export field and the pattern: {}",
        put.text
    );
}
