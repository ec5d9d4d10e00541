//! Text that is shown to someone else on one line: names of people, teams, PCs, apps,
//! categories and the files in export alerts.
//!
//! Characters that change how the rest of a line is drawn without being seen themselves are
//! not allowed there: the direction overrides and isolates (a file `invoice<U+202E>xslx.exe`
//! drawn as `invoiceexe.xlsx`), the zero-width characters (an `excel.exe` that is not the same name as
//! `excel.exe`), line and paragraph separators and control characters. The server refuses
//! them in what people type and in what PCs send; the agent writes them out visibly
//! ([`visible`]) before anything leaves the PC, so an upload is never refused for a name the
//! employee did not choose.

/// The first character of `s` that may not be shown, with its position (in characters).
///
/// ```text
/// "Anna Berg"           → None
/// "invoice\u{202E}xslx" → Some((7, '\u{202E}'))
/// "ex\u{200B}cel"       → Some((2, '\u{200B}'))
/// ```
pub fn hidden_char(s: &str) -> Option<(usize, char)> {
    s.chars().enumerate().find(|(_, c)| is_hidden(*c))
}

/// Whether `c` changes or hides what a line shows: a control character, a bidi override,
/// embedding, isolate or mark, a zero-width character, or a line or paragraph separator.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'                    // Arabic letter mark
            | '\u{180E}'                  // Mongolian vowel separator
            | '\u{200B}'..='\u{200F}'     // zero-width space, (non-)joiner, LRM, RLM
            | '\u{2028}'..='\u{202E}'     // line/paragraph separators, embeddings, overrides
            | '\u{2060}'..='\u{2064}'     // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}'     // isolates
            | '\u{FEFF}'                  // zero-width no-break space
        )
}

/// What a person is told when `field` holds such a character.
///
/// ```text
/// name, "a\u{202E}b" → "name contains U+202E at character 2, a character that is not seen
///                       but changes or hides the text around it; remove it"
/// ```
pub fn hidden_char_error(field: &str, value: &str) -> Option<String> {
    hidden_char(value).map(|(at, c)| {
        format!(
            "{field} contains U+{:04X} at character {}, a character that is not seen but \
             changes or hides the text around it; remove it",
            u32::from(c),
            at + 1
        )
    })
}

/// `s` with each such character written out as `<U+XXXX>`, so what it was stays readable and
/// nothing is drawn differently from what it is.
///
/// ```text
/// "invoice\u{202E}xslx.exe" → "invoice<U+202E>xslx.exe"
/// "report.xlsx"             → "report.xlsx" (unchanged, not copied)
/// ```
pub fn visible(s: &str) -> std::borrow::Cow<'_, str> {
    if hidden_char(s).is_none() {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hidden(c) {
            out.push_str(&format!("<U+{:04X}>", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The longest name (app, category, file, path, detail) a batch may carry, in bytes.
pub const MAX_WIRE_BYTES: usize = 1000;

/// `s` as the agent sends it: [`visible`], and cut to [`MAX_WIRE_BYTES`] at a character
/// boundary with `…` at the end, so the server never refuses a batch for a name.
///
/// ```text
/// "excel.exe"          → "excel.exe"
/// "a\u{200B}b"          → "a<U+200B>b"
/// 1,500 × "x"          → 997 × "x" + "…" (1,000 bytes)
/// ```
pub fn for_wire(s: &str) -> String {
    let shown = visible(s);
    if shown.len() <= MAX_WIRE_BYTES {
        return shown.into_owned();
    }
    let ellipsis = '…';
    let mut end = MAX_WIRE_BYTES - ellipsis.len_utf8();
    while !shown.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = shown[..end].to_owned();
    out.push(ellipsis);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_agent_sends_is_visible_and_never_longer_than_the_server_takes() {
        assert_eq!(for_wire("excel.exe"), "excel.exe");
        assert_eq!(for_wire("a\u{200B}b"), "a<U+200B>b");
        let long = for_wire(&"x".repeat(1500));
        assert_eq!(long.len(), MAX_WIRE_BYTES);
        assert!(long.ends_with('…'));
        // Cut at a character boundary: 'ж' is two bytes.
        let cyrillic = for_wire(&"ж".repeat(800));
        assert!(cyrillic.len() <= MAX_WIRE_BYTES, "{}", cyrillic.len());
        assert!(cyrillic.ends_with('…'));
        assert_eq!(hidden_char(&for_wire(&"\u{202E}".repeat(400))), None);
    }

    #[test]
    fn direction_zero_width_separator_and_control_characters_are_found_and_written_out() {
        for c in [
            '\u{202E}', '\u{202A}', '\u{2066}', '\u{2069}', '\u{200B}', '\u{200D}', '\u{200E}',
            '\u{FEFF}', '\u{2028}', '\u{2029}', '\u{061C}', '\t', '\n', '\u{7}', '\u{85}',
        ] {
            let s = format!("ab{c}cd");
            assert_eq!(hidden_char(&s), Some((2, c)), "U+{:04X}", u32::from(c));
            assert_eq!(
                visible(&s),
                format!("ab<U+{:04X}>cd", u32::from(c)),
                "U+{:04X}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn ordinary_text_of_any_script_passes_unchanged() {
        for s in [
            "Anna Berg",
            "Иван Петров",
            "محمد",
            "שלום",
            "李小龙",
            "Zoë — 50 % (draft)",
            "",
        ] {
            assert_eq!(hidden_char(s), None, "{s}");
            assert!(matches!(visible(s), std::borrow::Cow::Borrowed(_)), "{s}");
        }
    }

    #[test]
    fn the_error_names_the_field_the_character_and_where_it_is() {
        let e = hidden_char_error("name", "Anna\u{202E}").expect("refused");
        assert!(e.starts_with("name contains U+202E at character 5"), "{e}");
        assert!(e.ends_with("remove it"), "{e}");
        assert_eq!(hidden_char_error("name", "Anna"), None);
    }
}
