//! The policy in force for a person: built-in defaults, then the organisation's policy, then
//! the overrides of the person's team.
//!
//! Pure: no I/O. Stored policies are JSON objects naming only the fields they change.

use serde_json::{Map, Value};
use worktrace_domain::{Policy, PolicyError};

/// Why a stored or submitted policy cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyProblem {
    pub message: String,
}

impl std::fmt::Display for PolicyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<PolicyError> for PolicyProblem {
    fn from(e: PolicyError) -> Self {
        Self {
            message: e.to_string(),
        }
    }
}

/// Parses a policy layer: a JSON object (possibly empty).
pub fn parse_layer(json: &str) -> Result<Map<String, Value>, PolicyProblem> {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(PolicyProblem {
            message: "a policy must be a JSON object".into(),
        }),
        Err(e) => Err(PolicyProblem {
            message: format!("the policy is not valid JSON: {e}"),
        }),
    }
}

/// Merges layers field by field (a later layer replaces a whole field) over the defaults and
/// checks the result.
///
/// ```text
/// org  {"idle_threshold_secs": 300, "allow_pause": false}
/// team {"idle_threshold_secs": 120}
///   →  Policy { idle_threshold_secs: 120, allow_pause: false, ..defaults }
/// ```
pub fn effective(layers: &[&Map<String, Value>]) -> Result<Policy, PolicyProblem> {
    let mut merged = Map::new();
    for layer in layers {
        for (k, v) in layer.iter() {
            merged.insert(k.clone(), v.clone());
        }
    }
    // The path says where a value of the wrong type is (`exports.rules[0].severity: unknown
    // variant ...`); serde's own message names only the type.
    let policy: Policy = serde_path_to_error::deserialize(Value::Object(merged)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        PolicyProblem {
            message: if path == "." {
                format!("the policy is invalid: {inner}")
            } else {
                format!("the policy is invalid: {path}: {inner}")
            },
        }
    })?;
    policy.validate()?;
    Ok(policy)
}

/// [`effective`], then every pattern of the result compiled with the agent's own pattern
/// compiler: what an admin submits must work on every PC, not fail there on each start.
///
/// ```text
/// {"excluded_apps": ["("]}
///   → Err(excluded_apps[0]: invalid regular expression "(": unclosed group)
/// ```
pub fn checked(layers: &[&Map<String, Value>]) -> Result<Policy, PolicyProblem> {
    // `false` is what every policy in force says, so one read back and submitted is taken.
    if layers
        .iter()
        .any(|l| l.get("watch").is_some_and(|v| *v != Value::Bool(false)))
    {
        return Err(PolicyProblem {
            message: "watch is set by the server while a departure watch is in force; mark the \
                      person as leaving instead of setting it in a policy"
                .into(),
        });
    }
    let policy = effective(layers)?;
    worktrace_tracker::patterns::check_policy(&policy).map_err(|e| PolicyProblem {
        message: e.to_string(),
    })?;
    Ok(policy)
}

/// The removable medium an alert names, as an allow-list entry called `name`: the vendor,
/// model, serial and volume label the alert's details carry (the serial only where the
/// policy let it leave the PC). `Err` says why none can be made.
///
/// ```text
/// {details: {vendor: "Kingston", model: "DT 100", label: "BACKUP"}}, "IT backup"
///   → {name: "IT backup", vendor: "Kingston", model: "DT 100", label: "BACKUP"}
/// {details: {}} → Err("the alert names no property of the medium …")
/// ```
pub fn medium_of_alert(
    event: &Value,
    name: Option<&str>,
) -> Result<worktrace_domain::AllowedMedium, PolicyProblem> {
    let detail = |key: &str| {
        event
            .get("details")
            .and_then(|d| d.get(key))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let medium = worktrace_domain::AllowedMedium {
        name: name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned),
        vendor: detail("vendor"),
        model: detail("model"),
        serial: detail("serial"),
        label: detail("label"),
    };
    if medium.vendor.is_none()
        && medium.model.is_none()
        && medium.serial.is_none()
        && medium.label.is_none()
    {
        return Err(PolicyProblem {
            message: "the alert names no property of the medium (vendor, model, serial or \
                      label), so no entry could tell it apart; add one to \
                      exports.allowed_media by hand"
                .into(),
        });
    }
    Ok(medium)
}

/// The organisation's policy layer with `medium` added to `exports.allowed_media` (the other
/// export settings it names stay). `Err` when an equal entry is there already.
pub fn with_allowed_medium(
    mut layer: Map<String, Value>,
    medium: &worktrace_domain::AllowedMedium,
) -> Result<Map<String, Value>, PolicyProblem> {
    let entry = serde_json::to_value(medium).map_err(|e| PolicyProblem {
        message: format!("the entry cannot be written: {e}"),
    })?;
    let exports = layer
        .entry("exports")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(exports) = exports.as_object_mut() else {
        return Err(PolicyProblem {
            message: "the stored policy's exports is not an object".into(),
        });
    };
    let list = exports
        .entry("allowed_media")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Some(list) = list.as_array_mut() else {
        return Err(PolicyProblem {
            message: "the stored policy's exports.allowed_media is not a list".into(),
        });
    };
    let same = |v: &Value| {
        serde_json::from_value::<worktrace_domain::AllowedMedium>(v.clone()).is_ok_and(|m| {
            (&m.vendor, &m.model, &m.serial, &m.label)
                == (&medium.vendor, &medium.model, &medium.serial, &medium.label)
        })
    };
    if list.iter().any(same) {
        return Err(PolicyProblem {
            message: "this medium is allowed already".into(),
        });
    }
    list.push(entry);
    Ok(layer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(json: &str) -> Map<String, Value> {
        parse_layer(json).expect("valid layer")
    }

    #[test]
    fn team_overrides_win_over_the_organisation() {
        let org = layer(r#"{"idle_threshold_secs": 300, "allow_pause": false}"#);
        let team = layer(r#"{"idle_threshold_secs": 120}"#);
        let p = effective(&[&org, &team]).expect("valid");
        assert_eq!(
            p.idle_threshold_secs, 120,
            "the team's value replaces the org's"
        );
        assert!(!p.allow_pause, "org fields the team does not name stay");
        assert_eq!(
            p.auto_clock_out_idle_secs, 3600,
            "unnamed fields keep defaults"
        );
    }

    #[test]
    fn invalid_layers_say_what_is_wrong() {
        let e = effective(&[&layer(r#"{"idle_treshold_secs": 1}"#)]).expect_err("misspelt");
        assert!(
            e.message.contains("idle_treshold_secs"),
            "names the field: {e}"
        );
        let e = effective(&[&layer(r#"{"upload": {"titles": "yes"}}"#)]).expect_err("type");
        assert!(
            e.message.contains("upload.titles: invalid type"),
            "names the field of a value of the wrong type: {e}"
        );
        let e = effective(&[&layer(r#"{"idle_threshold_secs": 1}"#)]).expect_err("range");
        assert!(
            e.message.contains("10 to 86400"),
            "says the allowed range: {e}"
        );
        assert!(parse_layer("[1]").is_err(), "a policy must be an object");
    }

    #[test]
    fn submitted_patterns_must_compile() {
        let org = layer(r#"{"excluded_apps": ["^keepass", "("]}"#);
        assert!(
            effective(&[&org]).is_ok(),
            "the merge alone does not compile patterns"
        );
        let e = checked(&[&org]).expect_err("an unclosed group is refused");
        assert_eq!(
            e.message, "excluded_apps[1]: invalid regular expression \"(\": unclosed group",
            "names the field and the pattern"
        );
        let team = layer(r#"{"exports": {"sensitive_titles": ["[z-a]"]}}"#);
        let e = checked(&[&layer("{}"), &team]).expect_err("a reversed class is refused");
        assert!(
            e.message
                .starts_with("exports.sensitive_titles[0]: invalid regular expression"),
            "{e}"
        );
        assert!(checked(&[&layer("{}")]).is_ok(), "the defaults compile");
        let e = checked(&[&layer(r#"{"watch": true}"#)]).expect_err("server only");
        assert!(e.message.contains("mark the person as leaving"), "{e}");
        assert!(
            checked(&[&layer(r#"{"watch": false}"#)]).is_ok(),
            "as a policy reads back"
        );
    }

    #[test]
    fn a_medium_seen_in_an_alert_is_added_to_the_allow_list_once() {
        let event = serde_json::json!({"details": {"vendor": "Kingston", "model": "DT 100",
            "label": "BACKUP", "fs": "vfat"}});
        let m = medium_of_alert(&event, Some(" IT backup ")).expect("a medium");
        assert_eq!(m.name.as_deref(), Some("IT backup"));
        assert_eq!(m.serial, None, "the serial only where it was sent");
        let org = layer(r#"{"exports": {"removable_paths": ["/mnt"]}}"#);
        let out = with_allowed_medium(org, &m).expect("added");
        let p = effective(&[&out]).expect("valid");
        assert_eq!(p.exports.allowed_media, std::slice::from_ref(&m));
        assert_eq!(
            p.exports.removable_paths,
            ["/mnt"],
            "the rest of exports stays"
        );
        let e = with_allowed_medium(out, &m).expect_err("twice");
        assert!(e.message.contains("allowed already"), "{e}");
        assert!(medium_of_alert(&serde_json::json!({"details": {}}), None).is_err());
    }
}
