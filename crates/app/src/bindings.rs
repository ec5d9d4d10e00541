//! TypeScript declarations of the desktop app's command and event payloads.
//!
//! `ui/src/bindings/desktop.ts` is generated from these types and committed; a test fails when
//! it is out of date. Regenerate with
//! `WORKTRACE_UPDATE_BINDINGS=1 cargo test -p worktrace-app bindings`.

use ts_rs::{Config, TS};

use crate::dto::*;
use crate::error::CommandError;
use crate::prefs::{Lang, Prefs};

/// Path of the generated file, relative to the workspace root.
pub const BINDINGS_PATH: &str = "ui/src/bindings/desktop.ts";

/// Domain types the declarations refer to; they come from the domain's generated file.
const DOMAIN_IMPORTS: &[&str] = &[
    "AlertItem",
    "DecisionItem",
    "DecisionSource",
    "ExportEvent",
    "IdleChoice",
    "IdleReason",
    "Policy",
    "RollupItem",
    "SessionItem",
];

/// The whole generated TypeScript file.
pub fn typescript() -> String {
    // Millisecond timestamps fit in 2^53: plain numbers in the UI.
    let cfg = Config::new().with_large_int("number");
    let decls = [
        CommandError::decl(&cfg),
        Lang::decl(&cfg),
        Prefs::decl(&cfg),
        PromptInfo::decl(&cfg),
        Status::decl(&cfg),
        SpanKind::decl(&cfg),
        TimelineSpan::decl(&cfg),
        SessionSpan::decl(&cfg),
        Total::decl(&cfg),
        PeriodView::decl(&cfg),
        SentBatchView::decl(&cfg),
        QueuedItems::decl(&cfg),
        CompanyView::decl(&cfg),
        ExportsView::decl(&cfg),
        SettingsView::decl(&cfg),
        SettingsUpdate::decl(&cfg),
        CsvExport::decl(&cfg),
    ];
    let head = format!(
        "// Generated from crates/app (the desktop app's command and event payloads). Do not edit \
         by hand.\n\nimport type {{ {} }} from \"./domain\";\n\n",
        DOMAIN_IMPORTS.join(", ")
    );
    worktrace_domain::bindings::module(&head, decls)
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_bindings_are_up_to_date() {
        let stale = worktrace_domain::bindings::stale_committed_file(
            env!("CARGO_MANIFEST_DIR"),
            super::BINDINGS_PATH,
            &super::typescript(),
        );
        assert!(stale.is_none(), "{}", stale.unwrap_or_default());
    }

    #[test]
    fn every_domain_type_used_is_imported() {
        let text = super::typescript();
        for name in super::DOMAIN_IMPORTS {
            assert!(
                text.matches(name).count() > 1,
                "{name} is imported but not used; drop it from DOMAIN_IMPORTS"
            );
        }
    }
}
