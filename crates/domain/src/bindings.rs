//! TypeScript declarations of the types that cross into the user interface.
//!
//! `ui/src/bindings/domain.ts` is generated from these types and committed; a test fails when
//! it is out of date. Regenerate with `make bindings` (sets `WORKTRACE_UPDATE_BINDINGS=1`).

use ts_rs::{Config, TS};

use crate::update::{UpdateAnswer, UpdateCheck, UpdateOffer, UpdateProblem};
use crate::wire::*;
use crate::*;

/// Path of the generated file, relative to the workspace root.
pub const BINDINGS_PATH: &str = "ui/src/bindings/domain.ts";

/// The whole generated TypeScript file.
pub fn typescript() -> String {
    // Large integers are plain numbers in the UI: millisecond timestamps fit in 2^53.
    let cfg = Config::new().with_large_int("number");
    let decls = [
        WindowInfo::decl(&cfg),
        Observation::decl(&cfg),
        Sample::decl(&cfg),
        WindowSpan::decl(&cfg),
        IdleReason::decl(&cfg),
        IdlePeriod::decl(&cfg),
        IdleChoice::decl(&cfg),
        DecisionSource::decl(&cfg),
        IdleDecision::decl(&cfg),
        ClockOutReason::decl(&cfg),
        ActivityMinute::decl(&cfg),
        ExportKind::decl(&cfg),
        Severity::decl(&cfg),
        ExportEvent::decl(&cfg),
        RecordKind::decl(&cfg),
        Record::decl(&cfg),
        IdlePromptMode::decl(&cfg),
        CategoryRule::decl(&cfg),
        Redaction::decl(&cfg),
        UploadPolicy::decl(&cfg),
        WorkHours::decl(&cfg),
        LabelledSite::decl(&cfg),
        SitePattern::decl(&cfg),
        ExportRule::decl(&cfg),
        ClientSource::decl(&cfg),
        AllowedMedium::decl(&cfg),
        CloudFolder::decl(&cfg),
        AnomalyPolicy::decl(&cfg),
        ExportPolicy::decl(&cfg),
        UpdateWindow::decl(&cfg),
        UpdatePolicy::decl(&cfg),
        Policy::decl(&cfg),
        GroupBy::decl(&cfg),
        SummaryRow::decl(&cfg),
        EnrollRequest::decl(&cfg),
        EnrollResponse::decl(&cfg),
        ChainHead::decl(&cfg),
        RollupItem::decl(&cfg),
        SessionItem::decl(&cfg),
        DecisionItem::decl(&cfg),
        AlertItem::decl(&cfg),
        Presence::decl(&cfg),
        ChainBreakItem::decl(&cfg),
        ChainProof::decl(&cfg),
        IngestBatch::decl(&cfg),
        ChainStatus::decl(&cfg),
        Dropped::decl(&cfg),
        IngestAck::decl(&cfg),
        Package::decl(&cfg),
        UpdateProblem::decl(&cfg),
        UpdateCheck::decl(&cfg),
        UpdateOffer::decl(&cfg),
        UpdateAnswer::decl(&cfg),
    ];
    module(
        "// Generated from crates/domain by `make bindings`. Do not edit by hand.\n\n",
        decls,
    )
}

/// One TypeScript module: `head` (comment, imports), then each declaration exported, one blank
/// line apart, ending in one newline: `("// h\n\n", ["type A = 1;"])` → `"// h\n\nexport type A = 1;\n"`.
pub fn module(head: &str, decls: impl IntoIterator<Item = String>) -> String {
    let mut out = String::from(head);
    for decl in decls {
        out.push_str("export ");
        out.push_str(&decl);
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// Test support for every generated TypeScript file: compares `generated` with the committed
/// file at `path` (relative to the workspace root, from a crate two folders down) and, with
/// `WORKTRACE_UPDATE_BINDINGS` set, writes it first. Returns the complaint when they differ,
/// naming `make bindings`, the command that regenerates them all.
pub fn stale_committed_file(crate_dir: &str, path: &str, generated: &str) -> Option<String> {
    let path = std::path::Path::new(crate_dir).join("../..").join(path);
    if std::env::var_os("WORKTRACE_UPDATE_BINDINGS").is_some() {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(e) = std::fs::write(&path, generated) {
            return Some(format!("cannot write {}: {e}", path.display()));
        }
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    (committed != generated).then(|| {
        format!(
            "{} is out of date with the Rust types; run `make bindings` and commit the result",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_bindings_are_up_to_date() {
        let stale = super::stale_committed_file(
            env!("CARGO_MANIFEST_DIR"),
            super::BINDINGS_PATH,
            &super::typescript(),
        );
        assert!(stale.is_none(), "{}", stale.unwrap_or_default());
    }
}
