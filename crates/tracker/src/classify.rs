//! Privacy rules and categories, compiled once from a [`Policy`].
//!
//! Pure: no I/O, no clock reads. It must never let a title, path or domain that the policy
//! removes reach anything downstream: the tracker privatizes every window before it looks at it.
//!
//! Category choice among matching rules: the deepest category wins (most ` > ` levels); on a
//! tie, the more specific rule (a domain pattern weighs 4, a title pattern 2, an app pattern 1:
//! a page's domain says more than the browser's name); then the earlier rule. The specificity
//! step is what makes the default set put `firefox` on `youtube.com` into `Entertainment`
//! rather than `Browsing`, and a LibreOffice window with an `.ods` title into
//! `Work > Spreadsheets` rather than `Work > Documents`.

use std::borrow::Cow;

use regex::Regex;
use serde::{Deserialize, Serialize};
use worktrace_domain::{Policy, WindowInfo};

use crate::error::Result;
use crate::patterns::compile;

/// The category name given to windows no rule matches.
pub const UNCATEGORIZED: &str = "Uncategorized";

/// A window's category: its full hierarchical name and productivity score.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Category {
    /// Full name, e.g. `Work > Email`, or [`UNCATEGORIZED`].
    pub name: String,
    /// -2 (distracting) to 2 (productive); 0 when uncategorized.
    pub score: i8,
}

#[derive(Debug, Clone)]
struct Rule {
    name: String,
    score: i8,
    depth: usize,
    specificity: u8,
    app: Option<Regex>,
    title: Option<Regex>,
    domain: Option<Regex>,
}

impl Rule {
    fn matches(&self, app: &str, title: &str, domain: Option<&str>) -> bool {
        if self.app.is_none() && self.title.is_none() && self.domain.is_none() {
            return false;
        }
        let app_ok = self.app.as_ref().is_none_or(|re| re.is_match(app));
        let title_ok = self.title.as_ref().is_none_or(|re| re.is_match(title));
        let domain_ok = match (&self.domain, domain) {
            (None, _) => true,
            (Some(re), Some(d)) => re.is_match(d),
            // A rule about a page's domain says nothing about a window that has none.
            (Some(_), None) => false,
        };
        app_ok && title_ok && domain_ok
    }
}

/// The policy's privacy rules and category rules, compiled.
#[derive(Debug, Clone)]
pub struct Classifier {
    rules: Vec<Rule>,
    redactions: Vec<(Regex, String)>,
    excluded_apps: Vec<Regex>,
    private_titles: Vec<Regex>,
}

/// A privatized window that borrows from the sample it came from: the tracker compares it with
/// the open span without allocating (a title is copied only when a redaction changed it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct View<'a> {
    pub app: &'a str,
    pub title: Cow<'a, str>,
    pub exe_path: Option<&'a str>,
    pub pid: Option<u32>,
    pub domain: Option<&'a str>,
    pub private_browsing: bool,
}

impl View<'_> {
    pub fn to_window(&self) -> WindowInfo {
        WindowInfo {
            app: self.app.to_owned(),
            title: self.title.clone().into_owned(),
            exe_path: self.exe_path.map(str::to_owned),
            pid: self.pid,
            domain: self.domain.map(str::to_owned),
            private_browsing: self.private_browsing,
        }
    }

    /// Whether `w` is exactly this view (all fields), so a stored copy needs no update.
    pub fn same_as(&self, w: &WindowInfo) -> bool {
        self.app == w.app
            && self.title == w.title.as_str()
            && self.exe_path == w.exe_path.as_deref()
            && self.pid == w.pid
            && self.domain == w.domain.as_deref()
            && self.private_browsing == w.private_browsing
    }
}

fn compile_opt(field: impl FnOnce() -> String, pattern: &Option<String>) -> Result<Option<Regex>> {
    pattern.as_deref().map(|p| compile(field(), p)).transpose()
}

impl Classifier {
    /// Checks the policy and compiles every pattern case-insensitively. An invalid pattern is
    /// an error naming its field, e.g. `categories[3].app: invalid regular expression "(abc":
    /// unclosed group`.
    pub fn new(policy: &Policy) -> Result<Classifier> {
        policy.validate()?;
        let mut rules = Vec::with_capacity(policy.categories.len());
        for (i, rule) in policy.categories.iter().enumerate() {
            let app = compile_opt(|| format!("categories[{i}].app"), &rule.app)?;
            let title = compile_opt(|| format!("categories[{i}].title"), &rule.title)?;
            let domain = compile_opt(|| format!("categories[{i}].domain"), &rule.domain)?;
            let specificity = u8::from(app.is_some())
                + 2 * u8::from(title.is_some())
                + 4 * u8::from(domain.is_some());
            rules.push(Rule {
                // Normalise "Work>Email" and "Work >  Email" to the one spelling reports group by.
                name: rule
                    .name
                    .split('>')
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join(" > "),
                score: rule.score,
                depth: rule.name.split('>').count(),
                specificity,
                app,
                title,
                domain,
            });
        }
        let redactions = policy
            .redactions
            .iter()
            .enumerate()
            .map(|(i, r)| {
                compile(format!("redactions[{i}].pattern"), &r.pattern)
                    .map(|re| (re, r.replacement.clone()))
            })
            .collect::<Result<Vec<_>>>()?;
        let excluded_apps = policy
            .excluded_apps
            .iter()
            .enumerate()
            .map(|(i, p)| compile(format!("excluded_apps[{i}]"), p))
            .collect::<Result<Vec<_>>>()?;
        let private_titles = policy
            .private_title_patterns
            .iter()
            .enumerate()
            .map(|(i, p)| compile(format!("private_title_patterns[{i}]"), p))
            .collect::<Result<Vec<_>>>()?;
        Ok(Classifier {
            rules,
            redactions,
            excluded_apps,
            private_titles,
        })
    }

    /// Applies the privacy rules.
    ///
    /// ```text
    /// excluded app:      {app: "KeePassXC", title: "bank.kdbx", exe, pid, domain}
    ///                 -> {app: "KeePassXC", title: "", exe: None, pid: None, domain: None}
    /// private window:    {app: "firefox", title: "x — Private Browsing", domain: "x.com"}
    ///                 -> {app: "firefox", title: "", domain: None}
    /// redaction \d{6,} -> "#":  {title: "Invoice 1234567"} -> {title: "Invoice #"}
    /// ```
    pub fn privatize(&self, window: WindowInfo) -> WindowInfo {
        let view = self.view(&window);
        if view.same_as(&window) {
            return window;
        }
        view.to_window()
    }

    /// The privatized view of a window, borrowing from it.
    pub(crate) fn view<'a>(&self, w: &'a WindowInfo) -> View<'a> {
        if self.excluded_apps.iter().any(|re| re.is_match(&w.app)) {
            return View {
                app: &w.app,
                title: Cow::Borrowed(""),
                exe_path: None,
                pid: None,
                domain: None,
                private_browsing: w.private_browsing,
            };
        }
        if w.private_browsing || self.private_titles.iter().any(|re| re.is_match(&w.title)) {
            return View {
                app: &w.app,
                title: Cow::Borrowed(""),
                exe_path: w.exe_path.as_deref(),
                pid: w.pid,
                domain: None,
                private_browsing: w.private_browsing,
            };
        }
        let mut title = Cow::Borrowed(w.title.as_str());
        for (re, replacement) in &self.redactions {
            // Copy the title only when a rule changed it.
            let changed = match re.replace_all(&title, replacement.as_str()) {
                Cow::Owned(changed) => Some(changed),
                Cow::Borrowed(_) => None,
            };
            if let Some(changed) = changed {
                title = Cow::Owned(changed);
            }
        }
        View {
            app: &w.app,
            title,
            exe_path: w.exe_path.as_deref(),
            pid: w.pid,
            domain: w.domain.as_deref(),
            private_browsing: w.private_browsing,
        }
    }

    /// The category of an (already privatized) window. No rule matches → `Uncategorized`, 0.
    ///
    /// ```text
    /// {app: "firefox", domain: "mail.google.com"} -> Work > Email (2 levels beat Browsing's 1)
    /// {app: "firefox", domain: "youtube.com"}     -> Entertainment (domain beats app on a tie)
    /// {app: "gimp"}                               -> Uncategorized, score 0
    /// ```
    pub fn categorize(&self, window: &WindowInfo) -> Category {
        let index = self.rule_index(&window.app, &window.title, window.domain.as_deref());
        Category {
            name: self.category_name(index).to_owned(),
            score: self.category_score(index),
        }
    }

    /// The index of the winning rule, `None` for uncategorized.
    pub(crate) fn rule_index(&self, app: &str, title: &str, domain: Option<&str>) -> Option<usize> {
        let mut best: Option<(usize, &Rule)> = None;
        for (i, rule) in self.rules.iter().enumerate() {
            let better = match best {
                None => true,
                // Strictly better only, so that on a full tie the earlier rule stays.
                Some((_, b)) => (rule.depth, rule.specificity) > (b.depth, b.specificity),
            };
            if better && rule.matches(app, title, domain) {
                best = Some((i, rule));
            }
        }
        best.map(|(i, _)| i)
    }

    /// The category name of a rule index from [`Self::rule_index`].
    pub(crate) fn category_name(&self, index: Option<usize>) -> &str {
        index
            .and_then(|i| self.rules.get(i))
            .map_or(UNCATEGORIZED, |r| r.name.as_str())
    }

    pub(crate) fn category_score(&self, index: Option<usize>) -> i8 {
        index.and_then(|i| self.rules.get(i)).map_or(0, |r| r.score)
    }
}

#[cfg(test)]
mod tests {
    use worktrace_domain::{CategoryRule, Redaction};

    use crate::error::Error;

    use super::*;

    fn window(app: &str, title: &str, domain: Option<&str>) -> WindowInfo {
        WindowInfo {
            domain: domain.map(str::to_owned),
            exe_path: Some(format!("/usr/bin/{app}")),
            pid: Some(4242),
            ..WindowInfo::new(app, title)
        }
    }

    fn rule(
        name: &str,
        app: Option<&str>,
        title: Option<&str>,
        domain: Option<&str>,
    ) -> CategoryRule {
        CategoryRule {
            name: name.to_owned(),
            app: app.map(str::to_owned),
            title: title.map(str::to_owned),
            domain: domain.map(str::to_owned),
            score: 1,
        }
    }

    #[test]
    fn default_categories_put_realistic_windows_where_an_office_expects_them() {
        let c = Classifier::new(&Policy::default()).expect("the default policy compiles");
        let cases: &[(&str, &str, Option<&str>, &str, i8)] = &[
            (
                "thunderbird",
                "Inbox - Mozilla Thunderbird",
                None,
                "Work > Email",
                1,
            ),
            (
                "Outlook",
                "Inbox - jane@corp.example - Outlook",
                None,
                "Work > Email",
                1,
            ),
            (
                "EXCEL.EXE",
                "Q3 budget.xlsx - Excel",
                None,
                "Work > Spreadsheets",
                2,
            ),
            (
                "soffice",
                "accounts.ods - LibreOffice Calc",
                None,
                "Work > Spreadsheets",
                2,
            ),
            (
                "soffice",
                "letter.odt - LibreOffice Writer",
                None,
                "Work > Documents",
                2,
            ),
            (
                "WINWORD.EXE",
                "Contract.docx - Word",
                None,
                "Work > Documents",
                2,
            ),
            (
                "firefox",
                "Inbox (3) - Gmail",
                Some("mail.google.com"),
                "Work > Email",
                1,
            ),
            (
                "firefox",
                "cats - YouTube",
                Some("www.youtube.com"),
                "Entertainment",
                -2,
            ),
            (
                "firefox",
                "Example Domain",
                Some("example.com"),
                "Browsing",
                0,
            ),
            ("firefox", "Example Domain", None, "Browsing", 0),
            (
                "chrome",
                "Opportunity | Salesforce",
                Some("acme.my.salesforce.com"),
                "Work > CRM",
                2,
            ),
            ("xterm", "jane@pc: ~/src", None, "Work > Development", 2),
            ("code", "main.rs - worktrace", None, "Work > Development", 2),
            ("zoom", "Zoom Meeting", None, "Work > Meetings", 1),
            (
                "slack",
                "general - Slack",
                None,
                "Communication > Messengers",
                0,
            ),
            ("firefox", "Home / X", Some("x.com"), "Social Media", -1),
            ("gimp", "photo.xcf - GIMP", None, UNCATEGORIZED, 0),
            // A domain rule must not match on an app name that happens to look like one.
            ("youtube.com", "", None, UNCATEGORIZED, 0),
        ];
        for (app, title, domain, want, score) in cases {
            let got = c.categorize(&window(app, title, *domain));
            assert_eq!(
                (got.name.as_str(), got.score),
                (*want, *score),
                "{app} / {title:?} / {domain:?} belongs in {want}"
            );
        }
    }

    #[test]
    fn deepest_category_wins_then_specificity_then_order() {
        let mut policy = Policy {
            categories: vec![
                rule("Work", Some("^code$"), None, None),
                rule("Work > Dev > Rust", Some("^code$"), Some(r"\.rs\b"), None),
                rule("Work > Dev", Some("^code$"), None, None),
                rule("Misc", Some("^code$"), None, None),
                rule("Nothing", None, None, None),
            ],
            ..Policy::default()
        };
        let c = Classifier::new(&policy).expect("valid");
        let rs = window("code", "main.rs - x", None);
        assert_eq!(
            c.categorize(&rs).name,
            "Work > Dev > Rust",
            "three levels beat two"
        );
        let md = window("code", "README.md", None);
        assert_eq!(
            c.categorize(&md).name,
            "Work > Dev",
            "rust rule needs its title"
        );

        policy.categories = vec![
            rule("First", Some("^code$"), None, None),
            rule("Second", Some("^code$"), None, None),
        ];
        let c = Classifier::new(&policy).expect("valid");
        assert_eq!(
            c.categorize(&md).name,
            "First",
            "on a full tie the earlier rule wins"
        );

        policy.categories = vec![rule("Nothing", None, None, None)];
        let c = Classifier::new(&policy).expect("valid");
        assert_eq!(
            c.categorize(&md).name,
            UNCATEGORIZED,
            "a rule without patterns matches nothing"
        );
    }

    #[test]
    fn category_names_are_normalised_and_matching_ignores_case() {
        let policy = Policy {
            categories: vec![rule("Work>Email", Some("THUNDERBIRD"), None, None)],
            ..Policy::default()
        };
        let c = Classifier::new(&policy).expect("valid");
        assert_eq!(
            c.categorize(&window("thunderbird", "", None)).name,
            "Work > Email",
            "patterns are case-insensitive and names get one spelling"
        );
    }

    #[test]
    fn invalid_patterns_name_their_field() {
        let base = Policy::default();
        let broken = "(abc";
        let mut cases: Vec<(Policy, &str)> = Vec::new();

        let mut p = base.clone();
        p.categories[3].app = Some(broken.to_owned());
        cases.push((p, "categories[3].app"));
        let mut p = base.clone();
        p.categories[0].title = Some(broken.to_owned());
        cases.push((p, "categories[0].title"));
        let mut p = base.clone();
        p.categories[1].domain = Some(broken.to_owned());
        cases.push((p, "categories[1].domain"));
        let mut p = base.clone();
        p.redactions = vec![Redaction {
            pattern: broken.to_owned(),
            replacement: String::new(),
        }];
        cases.push((p, "redactions[0].pattern"));
        let mut p = base.clone();
        p.excluded_apps = vec!["ok".into(), "fine".into(), broken.into()];
        cases.push((p, "excluded_apps[2]"));
        let mut p = base.clone();
        p.private_title_patterns.push(broken.to_owned());
        cases.push((p, "private_title_patterns[2]"));

        for (policy, field) in cases {
            let e = Classifier::new(&policy).expect_err("a broken pattern must be refused");
            assert_eq!(
                e.to_string(),
                format!("{field}: invalid regular expression \"(abc\": unclosed group"),
                "the message names the field, the pattern and the problem in one line"
            );
        }
    }

    #[test]
    fn policy_range_errors_pass_through() {
        let policy = Policy {
            idle_threshold_secs: 1,
            ..Policy::default()
        };
        let e = Classifier::new(&policy).expect_err("out of range");
        assert!(
            matches!(&e, Error::Policy(p) if p.field == "idle_threshold_secs"),
            "the policy's own check runs first: {e}"
        );
    }

    #[test]
    fn privacy_rules_remove_what_the_policy_says() {
        let policy = Policy {
            excluded_apps: vec!["^keepass".into()],
            redactions: vec![
                Redaction {
                    pattern: r"\d{6,}".into(),
                    replacement: "#".into(),
                },
                Redaction {
                    pattern: r"[\w.]+@[\w.]+".into(),
                    replacement: "<email>".into(),
                },
            ],
            ..Policy::default()
        };
        let c = Classifier::new(&policy).expect("valid");

        let excluded = c.privatize(window("KeePassXC", "bank.kdbx", Some("x.org")));
        assert_eq!(
            excluded,
            WindowInfo::new("KeePassXC", ""),
            "an excluded app keeps only its name"
        );

        let mut private = window("firefox", "secret — Private Browsing", Some("x.com"));
        private.private_browsing = false;
        let got = c.privatize(private);
        assert_eq!(
            (
                got.title.as_str(),
                got.domain.as_deref(),
                got.exe_path.as_deref()
            ),
            ("", None, Some("/usr/bin/firefox")),
            "a private-title match drops title and domain"
        );

        let mut flagged = window("chrome", "anything", Some("bank.example"));
        flagged.private_browsing = true;
        let got = c.privatize(flagged);
        assert_eq!(
            (got.title.as_str(), got.domain),
            ("", None),
            "the flag alone is enough"
        );

        let got = c.privatize(window("thunderbird", "Invoice 1234567 from a@b.com", None));
        assert_eq!(
            got.title, "Invoice # from <email>",
            "every redaction applies, in order"
        );
        let untouched = window("xterm", "short 123", None);
        assert_eq!(
            c.privatize(untouched.clone()),
            untouched,
            "no match, no change"
        );
    }

    #[test]
    fn redactions_apply_in_order_on_the_previous_result() {
        let policy = Policy {
            redactions: vec![
                Redaction {
                    pattern: "secret".into(),
                    replacement: "SECRET-1".into(),
                },
                Redaction {
                    pattern: r"-\d".into(),
                    replacement: "".into(),
                },
            ],
            ..Policy::default()
        };
        let c = Classifier::new(&policy).expect("valid");
        let got = c.privatize(window("x", "my Secret plan", None));
        assert_eq!(
            got.title, "my SECRET plan",
            "the second rule sees the first one's output"
        );
    }
}
