//! Tests of the export policy: allowed media, client sources, upload sites in both forms,
//! the defaults and old policies, and checks that name the field.

use super::*;

#[test]
fn an_allowed_medium_matches_on_every_property_it_names() {
    let serial = AllowedMedium {
        serial: Some("AA12".into()),
        ..AllowedMedium::default()
    };
    let stick = (Some("Kingston"), Some("DT"), Some("aa12"), Some("STICK"));
    let m = |a: &AllowedMedium| a.matches(stick.0, stick.1, stick.2, stick.3);
    assert!(m(&serial), "the serial, in any case");
    let two = AllowedMedium {
        vendor: Some("Kingston".into()),
        label: Some("BACKUP".into()),
        ..AllowedMedium::default()
    };
    assert!(!m(&two), "the label differs");
    assert!(
        !m(&AllowedMedium::default()),
        "nothing named allows nothing"
    );
    assert!(
        !serial.matches(Some("Kingston"), None, None, None),
        "a medium without a serial is not the one with it"
    );
}

#[test]
fn allowed_media_and_client_sources_are_checked() {
    let p = ExportPolicy {
        allowed_media: vec![AllowedMedium {
            name: Some("IT disk".into()),
            ..AllowedMedium::default()
        }],
        ..ExportPolicy::default()
    };
    let e = p.validate().expect_err("names no property");
    assert_eq!(e.field, "exports.allowed_media[0]");
    let mut p = ExportPolicy::default();
    p.client_sources[2].label = " ".into();
    let e = p.validate().expect_err("an empty label");
    assert_eq!(e.field, "exports.client_sources[2].label");
}

#[test]
fn an_upload_site_is_a_bare_pattern_or_a_labelled_one_and_anything_else_says_so() {
    let p: ExportPolicy = serde_json::from_str(
        r#"{"upload_titles": ["Files of .*", {"pattern": "portal", "label": "Portal"}]}"#,
    )
    .expect("both forms parse");
    assert_eq!(
        p.upload_titles[0],
        SitePattern::Pattern("Files of .*".into())
    );
    assert_eq!(p.upload_titles[1].label(), "Portal");
    assert_eq!(p.upload_titles[1].pattern(), "portal");
    let e = serde_json::from_str::<ExportPolicy>(r#"{"upload_titles": [7]}"#)
        .expect_err("a number is not a site");
    assert!(
        e.to_string().contains("a regular expression, or a table"),
        "{e}"
    );
    let e = serde_json::from_str::<ExportPolicy>(
        r#"{"upload_titles": [{"pattern": "x", "lable": "X"}]}"#,
    )
    .expect_err("a misspelt key");
    assert!(e.to_string().contains("lable"), "{e}");
    let round = serde_json::to_string(&p).expect("serialises");
    assert_eq!(
        serde_json::from_str::<ExportPolicy>(&round).expect("reads back"),
        p
    );
    let bad = ExportPolicy {
        upload_domains: vec![SitePattern::labelled(" ", "x")],
        ..ExportPolicy::default()
    };
    assert_eq!(
        bad.validate().expect_err("an empty label").field,
        "exports.upload_domains[0].label"
    );
}

#[test]
fn defaults_are_valid_and_old_policies_parse() {
    assert_eq!(
        ExportPolicy::default().validate(),
        Ok(()),
        "shipped defaults pass their own checks"
    );
    let policy: crate::Policy =
        serde_json::from_str(r#"{"idle_threshold_secs": 60}"#).expect("a policy without exports");
    assert_eq!(
        policy.exports,
        ExportPolicy::default(),
        "a policy written before exports existed gets the default export policy"
    );
    let partial: ExportPolicy =
        serde_json::from_str(r#"{"clipboard": false}"#).expect("partial exports table");
    assert!(
        !partial.clipboard && partial.removable,
        "an exports table names only what it changes"
    );
}

#[test]
fn bad_values_name_the_field() {
    let bad = ExportPolicy {
        work_hours: WorkHours {
            start: "19:00".into(),
            end: "08:00".into(),
            days: vec![],
        },
        ..ExportPolicy::default()
    };
    assert_eq!(
        bad.validate().expect_err("end before start").field,
        "exports.work_hours"
    );
    let bad = ExportPolicy {
        data_extensions: vec![".CSV".into()],
        ..ExportPolicy::default()
    };
    assert!(
        bad.validate()
            .expect_err("dotted extension")
            .field
            .starts_with("exports.data_extensions["),
        "names the list entry"
    );
    let bad = ExportPolicy {
        rules: vec![ExportRule {
            destinations: vec!["usb".into()],
            ..ExportRule::default()
        }],
        ..ExportPolicy::default()
    };
    assert!(bad.validate().is_err(), "unknown destination class refused");
    assert_eq!(parse_hhmm("08:30"), Some(510), "HH:MM parses");
    assert_eq!(parse_hhmm("24:00"), None, "24:00 is not a time of day");
}
