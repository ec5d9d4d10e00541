//! The export policy of a person under a departure watch: every detector on and more of what
//! they export rated high.

use crate::record::{ExportKind, Severity};

use super::{ExportPolicy, ExportRule};

/// Clipboard copies of at least this many bytes are bulk copies under a departure watch.
pub const WATCH_CLIPBOARD_MIN_BYTES: u64 = 5_000;
/// …or of at least this many lines.
pub const WATCH_CLIPBOARD_MIN_LINES: u32 = 25;
/// Under a watch, a rule's burst threshold (`min_count`) is divided by this (at least 2).
pub const WATCH_BURST_DIVISOR: u32 = 4;

impl ExportPolicy {
    /// The export policy of a person under a departure watch: every detector on, every copy
    /// of a data file to removable media or a share and every upload-site visit after a data
    /// file high (so it reaches the server at once), smaller clipboard copies counted as bulk
    /// and bursts rated at a quarter of their usual size. Lists (folders, sites, sources,
    /// allowed media) stay as the organisation set them.
    ///
    /// ```text
    /// clipboard_min_bytes 20000, rule {min_count: 20, severity: high}
    ///   → clipboard_min_bytes 5000, rule {min_count: 5, severity: high},
    ///     + rule {kinds: [file_to_removable, file_to_network], extensions: ["@data"], high}
    ///     + rule {kinds: [upload_site], high}
    /// ```
    pub fn raised(self) -> ExportPolicy {
        use ExportKind::*;
        let mut rules: Vec<ExportRule> = self
            .rules
            .into_iter()
            .map(|r| ExportRule {
                min_count: r.min_count.map(|n| (n / WATCH_BURST_DIVISOR).max(2).min(n)),
                ..r
            })
            .collect();
        rules.push(ExportRule {
            kinds: vec![FileToRemovable, FileToNetwork, FileToApp],
            extensions: vec!["@data".to_owned()],
            severity: Severity::High,
            ..ExportRule::default()
        });
        rules.push(ExportRule {
            kinds: vec![UploadSite],
            severity: Severity::High,
            ..ExportRule::default()
        });
        ExportPolicy {
            enabled: true,
            removable: true,
            network: true,
            cloud: true,
            messengers: true,
            print: true,
            clipboard: true,
            uploads: true,
            clipboard_min_bytes: self.clipboard_min_bytes.min(WATCH_CLIPBOARD_MIN_BYTES),
            clipboard_min_lines: self.clipboard_min_lines.min(WATCH_CLIPBOARD_MIN_LINES),
            rules,
            ..self
        }
    }
}
