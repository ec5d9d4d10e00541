//! An xlsx workbook's declared size on the real watcher: a workbook written with deflated
//! members (by Python's zipfile, as spreadsheet programs write them) into a watched folder is
//! recorded with the rows and columns its first sheet declares; no cell value is read into
//! the event.

mod support;

use std::process::Command;
use std::time::Duration;

use support::{collect_until, quiet_policy, start};
use worktrace_domain::ExportPolicy;
use worktrace_exports::provenance::sheet_shape;

/// Writes a minimal xlsx whose first sheet declares `range` and holds a canary value.
fn workbook(path: &std::path::Path, range: &str) {
    let script = format!(
        r#"
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("[Content_Types].xml", "<Types/>")
    z.writestr("xl/workbook.xml", "<workbook/>")
    z.writestr("xl/worksheets/sheet2.xml", '<worksheet><dimension ref="A1:B2"/></worksheet>')
    z.writestr("xl/worksheets/sheet1.xml",
        '<?xml version="1.0"?><worksheet><sheetPr/><dimension ref="{range}"/>'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>CANARY-CLIENT</t></is></c></row>'
        '</sheetData></worksheet>')
"#
    );
    let status = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(path)
        .status()
        .expect("python3 runs");
    assert!(status.success(), "the workbook is written");
}

#[test]
fn a_workbook_in_a_watched_folder_is_recorded_with_its_declared_rows_and_columns() {
    let dir = tempfile::tempdir().expect("dir");
    let scratch = dir.path().join("scratch");
    let downloads = dir.path().join("Downloads");
    std::fs::create_dir_all(&scratch).expect("scratch");
    std::fs::create_dir_all(&downloads).expect("downloads");
    let made = scratch.join("clients.xlsx");
    workbook(&made, "A1:F1240");
    assert_eq!(
        sheet_shape(&made),
        Some((1240, 6)),
        "the first sheet, not sheet2"
    );

    let w = start(ExportPolicy {
        watched_folders: vec![downloads.display().to_string()],
        ..quiet_policy()
    });
    std::fs::rename(&made, downloads.join("clients.xlsx")).expect("moved into Downloads");
    let all = collect_until(&w, Duration::from_secs(20), "the workbook", |all| {
        all.iter()
            .any(|e| e.file_name.as_deref() == Some("clients.xlsx"))
    });
    let e = all
        .iter()
        .find(|e| e.file_name.as_deref() == Some("clients.xlsx"))
        .expect("found above");
    assert_eq!(e.details["rows"], 1240, "{e:#?}");
    assert_eq!(e.details["columns"], 6);
    let json = serde_json::to_string(&all).expect("events as JSON");
    assert!(!json.contains("CANARY-CLIENT"), "no cell value: {json}");
    w.stop();
}
