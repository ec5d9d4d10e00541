//! The one way a policy's regular expressions are compiled (case-insensitive, with the regex
//! engine's default size limits), and the check that every pattern of a policy compiles.
//!
//! Pure: no I/O. The agent's classifier and export detector compile with [`compile`], and the
//! server refuses a policy that [`check_policy`] refuses, so a policy the server accepts
//! compiles on every PC.

use regex::{Regex, RegexBuilder};
use worktrace_domain::Policy;

use crate::error::{Error, Result};
use crate::Classifier;

/// One line out of the regex engine's multi-line message (`unclosed group`, not the caret art).
fn regex_reason(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(text) => text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.trim().trim_start_matches("error: ").to_owned())
            .unwrap_or_else(|| text.clone()),
        other => other.to_string(),
    }
}

/// Compiles the pattern found at `field` of the policy.
///
/// ```text
/// ("excluded_apps[0]", "^KeePass")  → Ok(/^KeePass/i)
/// ("excluded_apps[1]", "(")         → Err(excluded_apps[1]: invalid regular expression "(": unclosed group)
/// ```
pub fn compile(field: String, pattern: &str) -> Result<Regex> {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .build()
        .map_err(|e| Error::InvalidPattern {
            field,
            pattern: pattern.to_owned(),
            reason: regex_reason(&e),
        })
}

/// Checks the policy's ranges and compiles every pattern in it: categories, redactions,
/// excluded apps, private-window titles, and the export part's sensitive apps, titles and
/// domains, upload sites and client sources (fields named as in the policy, e.g.
/// `exports.upload_titles[2]`, `exports.client_sources[0].domains[1]`).
/// The first bad one is the error.
pub fn check_policy(policy: &Policy) -> Result<()> {
    Classifier::new(policy)?;
    let e = &policy.exports;
    let lists: [(&str, Vec<&str>); 6] = [
        (
            "sensitive_apps",
            e.sensitive_apps.iter().map(String::as_str).collect(),
        ),
        (
            "sensitive_titles",
            e.sensitive_titles.iter().map(String::as_str).collect(),
        ),
        (
            "sensitive_domains",
            e.sensitive_domains.iter().map(String::as_str).collect(),
        ),
        (
            "upload_domains",
            e.upload_domains.iter().map(|s| s.pattern()).collect(),
        ),
        (
            "upload_titles",
            e.upload_titles.iter().map(|s| s.pattern()).collect(),
        ),
        (
            "messenger_apps",
            e.messenger_apps.iter().map(|s| s.pattern()).collect(),
        ),
    ];
    for (name, patterns) in lists {
        for (i, p) in patterns.into_iter().enumerate() {
            compile(format!("exports.{name}[{i}]"), p)?;
        }
    }
    for (i, source) in e.client_sources.iter().enumerate() {
        for (part, patterns) in [
            ("file_names", &source.file_names),
            ("domains", &source.domains),
        ] {
            for (j, p) in patterns.iter().enumerate() {
                compile(format!("exports.client_sources[{i}].{part}[{j}]"), p)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use worktrace_domain::SitePattern;

    #[test]
    fn the_default_policy_compiles() {
        assert_eq!(
            check_policy(&Policy::default()),
            Ok(()),
            "every shipped pattern must compile"
        );
    }

    #[test]
    fn a_broken_client_source_pattern_is_named_by_its_field() {
        let mut p = Policy::default();
        p.exports.client_sources[1].domains.push("(".into());
        let err = check_policy(&p).expect_err("a broken pattern").to_string();
        assert!(
            err.starts_with("exports.client_sources[1].domains[2]: invalid regular expression"),
            "{err}"
        );
    }

    #[test]
    fn a_broken_pattern_anywhere_is_named_by_its_field() {
        let p = Policy {
            excluded_apps: vec!["(".into()],
            ..Policy::default()
        };
        let e = check_policy(&p).expect_err("unclosed group");
        assert_eq!(
            e.to_string(),
            "excluded_apps[0]: invalid regular expression \"(\": unclosed group"
        );
        let mut p = Policy::default();
        p.exports
            .upload_titles
            .push(SitePattern::labelled("Portal", "[a-"));
        let n = p.exports.upload_titles.len() - 1;
        let e = check_policy(&p).expect_err("unclosed class");
        assert!(
            e.to_string().starts_with(&format!(
                "exports.upload_titles[{n}]: invalid regular expression \"[a-\""
            )),
            "names the export field and the pattern: {e}"
        );
        let mut p = Policy::default();
        p.exports.sensitive_domains = vec!["ok".into(), r"x{2,1}".into()];
        let e = check_policy(&p).expect_err("bad repetition");
        assert!(
            e.to_string().starts_with("exports.sensitive_domains[1]:"),
            "{e}"
        );
    }
}
