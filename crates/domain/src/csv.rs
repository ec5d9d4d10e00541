//! The one CSV field encoder of every CSV Worktrace writes (the desktop's timeline, the CLI's
//! report and export list, the dashboard's timesheet and the audit log), so each defuses the
//! same way: RFC 4180 quoting, and text a spreadsheet would run as a formula made inert.

/// One CSV field. A field that starts like a formula (`=`, `+`, `-`, `@`, or a tab or carriage
/// return in front of one) gets a leading `'`; control characters other than tab and line
/// breaks become spaces; a field with a comma, quote or line break is quoted, quotes doubled.
///
/// ```text
/// report.xlsx       → report.xlsx
/// a,"b"             → "a,""b"""
/// =HYPERLINK(...)   → '=HYPERLINK(...)
/// \tnote            → '\tnote
/// ```
pub fn field(value: &str) -> String {
    let cleaned: String = value
        .chars()
        .map(|c| {
            if c.is_control() && !matches!(c, '\t' | '\n' | '\r') {
                ' '
            } else {
                c
            }
        })
        .collect();
    let value = if cleaned.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cleaned}")
    } else {
        cleaned
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// One CSV line (with its `\n`) of `fields`.
pub fn line<S: AsRef<str>>(fields: &[S]) -> String {
    let mut out = fields
        .iter()
        .map(|f| field(f.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("report.xlsx"), "report.xlsx", "plain text stays");
        assert_eq!(field("a,b"), "\"a,b\"", "a comma would split the field");
        assert_eq!(field("a,\"b\""), "\"a,\"\"b\"\"\"", "quotes are doubled");
        assert_eq!(field("=1+1"), "'=1+1", "a formula is not run");
        assert_eq!(field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(field("-2"), "'-2");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(
            field("\t=1"),
            "'\t=1",
            "a tab in front does not hide a formula"
        );
        assert_eq!(field("\r=1"), "\"'\r=1\"", "nor does a carriage return");
        assert_eq!(
            field("a\u{0}b\u{1b}c"),
            "a b c",
            "control characters are blanked"
        );
        assert_eq!(
            field("two\nlines"),
            "\"two\nlines\"",
            "line breaks are kept, quoted"
        );
        assert_eq!(line(&["a", "b,c", "=d"]), "a,\"b,c\",'=d\n");
    }

    proptest::proptest! {
        /// Quoting round-trips: a quoted field, unquoted and un-doubled, is the input (for
        /// text that needs no defusing).
        #[test]
        fn quoting_keeps_the_text(text in "[a-z,\" \n]{0,20}") {
            let f = field(&text);
            let back = if f.starts_with('"') {
                f[1..f.len() - 1].replace("\"\"", "\"")
            } else {
                f
            };
            proptest::prop_assert_eq!(back, text);
        }
    }
}
