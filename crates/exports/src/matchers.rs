//! The export policy's patterns, compiled once: sensitive apps, titles and domains, upload
//! domains and client sources. Pure: no I/O.

use regex::Regex;
use worktrace_domain::{ExportPolicy, SitePattern, WindowInfo};

use crate::error::{Error, Result};
use crate::provenance::ClientSources;

/// Compiled pattern lists of an [`ExportPolicy`].
#[derive(Debug, Clone)]
pub struct Matchers {
    sensitive_apps: Vec<Regex>,
    sensitive_titles: Vec<Regex>,
    sensitive_domains: Vec<Regex>,
    upload_domains: Vec<(Regex, String)>,
    upload_titles: Vec<(Regex, String)>,
    messenger_apps: Vec<(Regex, String)>,
    client_sources: ClientSources,
}

/// An upload site a window shows: the label of the policy pattern that recognised it, and the
/// browser domain when that is how it was recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub label: String,
    pub domain: Option<String>,
}

fn compile(field: &str, patterns: &[String]) -> Result<Vec<Regex>> {
    compile_all(field, patterns.iter().map(String::as_str))
}

fn compile_sites(field: &str, sites: &[SitePattern]) -> Result<Vec<(Regex, String)>> {
    let regexes = compile_all(field, sites.iter().map(SitePattern::pattern))?;
    Ok(regexes
        .into_iter()
        .zip(sites.iter().map(|s| s.label().to_owned()))
        .collect())
}

/// Compiles with the tracker's pattern compiler, the one the server checks policies with, so
/// a pattern compiles here exactly when the server accepted it.
pub(crate) fn compile_all<'a>(
    field: &str,
    patterns: impl Iterator<Item = &'a str>,
) -> Result<Vec<Regex>> {
    patterns
        .enumerate()
        .map(|(i, p)| {
            worktrace_tracker::patterns::compile(format!("{field}[{i}]"), p).map_err(|e| match e {
                worktrace_tracker::Error::InvalidPattern {
                    field,
                    pattern,
                    reason,
                } => Error::Pattern {
                    field,
                    pattern,
                    reason,
                },
                other => Error::Pattern {
                    field: format!("{field}[{i}]"),
                    pattern: p.to_owned(),
                    reason: other.to_string(),
                },
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
            upload_domains: compile_sites("upload_domains", &policy.upload_domains)?,
            upload_titles: compile_sites("upload_titles", &policy.upload_titles)?,
            messenger_apps: compile_sites("messenger_apps", &policy.messenger_apps)?,
            client_sources: ClientSources::new(&policy.client_sources)?,
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

    /// The upload site a window shows: by its domain when a pattern of `upload_domains`
    /// matches it, else by a pattern of `upload_titles` matching its title. Named by the
    /// pattern's label, never by the matched text.
    ///
    /// `{domain: "drive.google.com"}` → `{label: "Google Drive", domain: "drive.google.com"}`;
    /// `{title: "Upload — Google Drive — Mozilla Firefox"}` → `{label: "Google Drive"}`;
    /// a terminal → none.
    pub fn upload_site(&self, w: &WindowInfo) -> Option<Site> {
        if let Some(d) = w.domain.as_deref() {
            if let Some((_, label)) = self.upload_domains.iter().find(|(r, _)| r.is_match(d)) {
                return Some(Site {
                    label: label.clone(),
                    domain: Some(d.to_owned()),
                });
            }
        }
        self.upload_titles
            .iter()
            .find(|(r, _)| r.is_match(&w.title))
            .map(|(_, label)| Site {
                label: label.clone(),
                domain: None,
            })
    }

    /// The messenger or mail client a process is, by its name: the label of the policy's
    /// pattern. `"telegram-deskto"` → `"Telegram"`; `"gedit"` → none.
    pub fn messenger(&self, process: &str) -> Option<&str> {
        self.messenger_apps
            .iter()
            .find(|(r, _)| r.is_match(process))
            .map(|(_, label)| label.as_str())
    }

    /// The client source (CRM) a data file comes from, by its name or the domain it was
    /// downloaded from: the label of the policy's entry.
    pub fn client_source(&self, file_name: &str, domain: Option<&str>) -> Option<&str> {
        self.client_sources.source_of(file_name, domain)
    }

    /// Whether `domain` is a cloud-storage, file-sharing or webmail domain of the policy.
    pub fn is_upload_domain(&self, domain: &str) -> bool {
        self.upload_domains.iter().any(|(r, _)| r.is_match(domain))
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

    #[test]
    fn an_upload_site_is_named_by_its_label_never_by_the_matched_title() {
        let policy = ExportPolicy {
            upload_titles: vec![SitePattern::labelled("Client portal", r"portal of \w+")],
            ..ExportPolicy::default()
        };
        let m = Matchers::new(&policy).expect("compiles");
        let w = WindowInfo::new("firefox", "Upload - portal of AcmeCustomer - Firefox");
        assert_eq!(
            m.upload_site(&w),
            Some(Site {
                label: "Client portal".into(),
                domain: None
            })
        );
        let mut drive = WindowInfo::new("firefox", "clients.xlsx - Dropbox");
        drive.domain = Some("www.dropbox.com".into());
        assert_eq!(
            m.upload_site(&drive),
            Some(Site {
                label: "Dropbox".into(),
                domain: Some("www.dropbox.com".into())
            }),
            "the domain list comes first and keeps the domain beside the label"
        );
        // A bare pattern, as older policies write them, is its own label.
        let policy = ExportPolicy {
            upload_titles: vec![SitePattern::Pattern("Files of .*".into())],
            ..ExportPolicy::default()
        };
        let m = Matchers::new(&policy).expect("compiles");
        let site = m
            .upload_site(&WindowInfo::new("firefox", "Files of Anna Berg"))
            .expect("a site");
        assert_eq!(site.label, "Files of .*");
    }
}
