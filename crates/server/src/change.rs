//! What an admin change did, as the audit log keeps it: the thing before and after as JSON, and
//! a flat diff of the two (dotted keys, each with its old and new value).
//!
//! Pure: values in, values out; no I/O, no clock reads.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// The changed leaves of two JSON values, by dotted path, each as `[old, new]` (`null` where a
/// side has no such key). Objects are walked into; anything else (arrays included) is a leaf
/// compared whole. Equal values give an empty map.
///
/// ```text
/// {"upload": {"paths": false, "titles": false}, "idle": 180}
/// {"upload": {"paths": true,  "titles": false}, "idle": 180, "new": [1]}
///   → {"new": [null, [1]], "upload.paths": [false, true]}
/// ```
pub fn flat_diff(before: &Value, after: &Value) -> Map<String, Value> {
    let mut old = BTreeMap::new();
    let mut new = BTreeMap::new();
    flatten("", before, &mut old);
    flatten("", after, &mut new);
    let mut diff = Map::new();
    for key in old.keys().chain(new.keys()) {
        if diff.contains_key(key) {
            continue;
        }
        let (o, n) = (old.get(key), new.get(key));
        if o != n {
            let side = |v: Option<&&Value>| v.map_or(Value::Null, |v| (*v).clone());
            diff.insert(key.clone(), Value::Array(vec![side(o), side(n)]));
        }
    }
    diff.sort_keys();
    diff
}

/// The leaves of `value` under `prefix`. An empty object is a leaf of its own, so a key that
/// becomes `{}` still shows as changed.
fn flatten<'a>(prefix: &str, value: &'a Value, out: &mut BTreeMap<String, &'a Value>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Null if prefix.is_empty() => {}
        _ if prefix.is_empty() && value.is_object() => {}
        _ => {
            out.insert(prefix.to_owned(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_changed_leaves_are_listed_with_old_and_new() {
        let cases = [
            (json!({}), json!({}), json!({})),
            (json!(null), json!(null), json!({})),
            (
                json!({"upload": {"paths": false, "titles": false}, "idle": 180}),
                json!({"upload": {"paths": true, "titles": false}, "idle": 180}),
                json!({"upload.paths": [false, true]}),
            ),
            (
                json!({"a": 1}),
                json!({"b": 2}),
                json!({"a": [1, null], "b": [null, 2]}),
            ),
            (
                json!({"list": [1, 2]}),
                json!({"list": [2, 1]}),
                json!({"list": [[1, 2], [2, 1]]}),
            ),
            (
                json!(null),
                json!({"role": "lead", "name": "Lena"}),
                json!({"name": [null, "Lena"], "role": [null, "lead"]}),
            ),
            (
                json!({"role": "lead"}),
                json!(null),
                json!({"role": ["lead", null]}),
            ),
            (
                json!({"x": {"y": 1}}),
                json!({"x": {}}),
                json!({"x": [null, {}], "x.y": [1, null]}),
            ),
            (
                json!({"deep": {"a": {"b": "same"}}}),
                json!({"deep": {"a": {"b": "same"}}}),
                json!({}),
            ),
        ];
        for (before, after, want) in cases {
            assert_eq!(
                Value::Object(flat_diff(&before, &after)),
                want,
                "diff of {before} → {after}"
            );
        }
    }

    #[test]
    fn a_value_that_is_equal_under_another_type_is_still_a_change() {
        let d = flat_diff(&json!({"n": 1}), &json!({"n": "1"}));
        assert_eq!(
            Value::Object(d),
            json!({"n": [1, "1"]}),
            "1 and \"1\" differ"
        );
    }
}
