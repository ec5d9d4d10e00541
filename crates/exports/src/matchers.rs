//! The export policy's patterns, compiled once: sensitive apps, titles and domains, and upload
//! domains. Pure: no I/O.

use regex::{Regex, RegexBuilder};
use worktrace_domain::{ExportPolicy, WindowInfo};

use crate::error::{Error, Result};

/// Compiled pattern lists of an [`ExportPolicy`].
#[derive(Debug, Clone)]
pub struct Matchers {
    sensitive_apps: Vec<Regex>,
    sensitive_titles: Vec<Regex>,
    sensitive_domains: Vec<Regex>,
    upload_domains: Vec<Regex>,
    upload_titles: Vec<Regex>,
}

fn compile(field: &str, patterns: &[String]) -> Result<Vec<Regex>> {
    patterns
        .iter()
        .enumerate()
        .map(|(i, p)| {
            RegexBuilder::new(p)
                .case_insensitive(true)
                .build()
                .map_err(|e| Error::Pattern {
                    field: format!("{field}[{i}]"),
                    pattern: p.clone(),
                    reason: e.to_string(),
                })
        })
        .collect()
}

impl Matchers {
    /// Compiles every pattern; the first bad one is named in the error.
    pub fn new(policy: &ExportPolicy) -> Result<Matchers> {
        Ok(Matchers {
            sensitive_apps: compile("sensitive_apps", &policy.sensitive_apps)?,
            sensitive_titles: compile("sensitive_titles", &policy.sensitive_titles)?,
            sensitive_domains: compile("sensitive_domains", &policy.sensitive_domains)?,
            upload_domains: compile("upload_domains", &policy.upload_domains)?,
            upload_titles: compile("upload_titles", &policy.upload_titles)?,
        })
    }

    /// Whether the window belongs to a sensitive app (by name, title or browser domain).
    ///
    /// `{app: "1cv8"}` → true; `{app: "firefox", domain: "acme.salesforce.com"}` → true;
    /// `{app: "xterm", title: "vim notes"}` → false.
    pub fn is_sensitive(&self, w: &WindowInfo) -> bool {
        let any = |list: &[Regex], text: &str| list.iter().any(|r| r.is_match(text));
        any(&self.sensitive_apps, &w.app)
            || (!w.title.is_empty() && any(&self.sensitive_titles, &w.title))
            || w.domain
                .as_deref()
                .is_some_and(|d| any(&self.sensitive_domains, d))
    }

    /// The upload site a window shows: its domain when the policy lists it, else the part of
    /// its title that names one.
    ///
    /// `{domain: "drive.google.com"}` → `"drive.google.com"`;
    /// `{title: "Upload — Google Drive — Mozilla Firefox"}` → `"Google Drive"`; a terminal → none.
    pub fn upload_site(&self, w: &WindowInfo) -> Option<String> {
        if let Some(d) = w.domain.as_deref().filter(|d| self.is_upload_domain(d)) {
            return Some(d.to_owned());
        }
        self.upload_titles
            .iter()
            .find_map(|r| r.find(&w.title))
            .map(|m| m.as_str().to_owned())
    }

    /// Whether `domain` is a cloud-storage, file-sharing or webmail domain of the policy.
    pub fn is_upload_domain(&self, domain: &str) -> bool {
        self.upload_domains.iter().any(|r| r.is_match(domain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_lists_recognise_crm_and_upload_sites() {
        let m = Matchers::new(&ExportPolicy::default()).expect("defaults compile");
        let mut crm = WindowInfo::new("firefox", "Leads — Salesforce");
        crm.domain = Some("acme.lightning.force.com".into());
        assert!(m.is_sensitive(&crm), "a CRM domain is sensitive");
        assert!(
            m.is_sensitive(&WindowInfo::new("betaapp", "Acme CRM - Customers")),
            "a CRM title is sensitive"
        );
        assert!(
            !m.is_sensitive(&WindowInfo::new("xterm", "make test")),
            "a terminal is not sensitive"
        );
        assert!(m.is_upload_domain("drive.google.com"), "cloud storage");
        assert!(m.is_upload_domain("mail.google.com"), "webmail");
        assert!(
            !m.is_upload_domain("google.com"),
            "search is not an upload site"
        );
    }

    #[test]
    fn bad_pattern_names_the_field() {
        let policy = ExportPolicy {
            sensitive_titles: vec!["(".into()],
            ..ExportPolicy::default()
        };
        let e = Matchers::new(&policy).expect_err("unbalanced parenthesis");
        assert!(
            e.to_string().contains("exports.sensitive_titles[0]"),
            "names the entry: {e}"
        );
    }
}
