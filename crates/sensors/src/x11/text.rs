//! Pure decoding of X11 window properties (titles, WM_CLASS) into Rust strings.
//!
//! Pure: no I/O, no X connection. Never panics, whatever bytes a client put in a property.

/// How the bytes of a text property are encoded, from the property's type atom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `UTF8_STRING`.
    Utf8,
    /// `STRING`: ISO 8859-1 by the ICCCM, but many clients put UTF-8 there.
    Latin1,
    /// `COMPOUND_TEXT`: ISO 2022; Latin-1 unless an escape switches to UTF-8.
    CompoundText,
    /// Any other type: read as UTF-8 as far as it goes.
    Other,
}

/// Decodes a text property, best effort.
///
/// ```text
/// (Utf8,         b"\xd0\x9e\xd1\x82")            -> "От"
/// (Latin1,       b"caf\xe9")                      -> "café"   (not UTF-8: Latin-1)
/// (Latin1,       b"caf\xc3\xa9")                  -> "café"   (valid UTF-8 in a STRING: UTF-8)
/// (CompoundText, b"\x1b%G\xc3\xa9\x1b%@ \xe9")   -> "é é"    (ESC % G switches to UTF-8)
/// (_,            b"title\0")                      -> "title"  (trailing NULs dropped)
/// ```
pub fn decode(encoding: Encoding, bytes: &[u8]) -> String {
    let bytes = trim_nuls(bytes);
    match encoding {
        Encoding::Utf8 | Encoding::Other => String::from_utf8_lossy(bytes).into_owned(),
        Encoding::Latin1 => legacy(bytes),
        Encoding::CompoundText => compound_text(bytes),
    }
}

/// The application name in a `WM_CLASS` property: the class (second string), else the
/// instance (first string).
///
/// ```text
/// b"xterm\0XTerm\0"       -> Some("XTerm")
/// b"Navigator\0firefox\0" -> Some("firefox")
/// b"solo\0"               -> Some("solo")
/// b""                     -> None
/// ```
pub fn app_from_wm_class(bytes: &[u8]) -> Option<String> {
    let mut parts = bytes.split(|&b| b == 0).filter(|p| !p.is_empty());
    let instance = parts.next()?;
    let chosen = parts.next().unwrap_or(instance);
    Some(legacy(chosen))
}

/// The title to show: the first non-empty of `_NET_WM_NAME` (UTF-8) and the legacy `WM_NAME`.
///
/// ```text
/// (Some("Отчёт"), Some((Latin1, "old")))  -> "Отчёт"
/// (None,          Some((Latin1, "xterm"))) -> "xterm"
/// (Some(""),      None)                     -> ""
/// ```
pub fn title(net_wm_name: Option<&[u8]>, wm_name: Option<(Encoding, &[u8])>) -> String {
    if let Some(bytes) = net_wm_name {
        let t = decode(Encoding::Utf8, bytes);
        if !t.is_empty() {
            return t;
        }
    }
    wm_name
        .map(|(enc, bytes)| decode(enc, bytes))
        .unwrap_or_default()
}

fn trim_nuls(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    &bytes[..end]
}

/// UTF-8 when the bytes are valid UTF-8 (pure ASCII reads the same either way, and real
/// Latin-1 text with accents is almost never valid UTF-8), otherwise Latin-1.
fn legacy(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => latin1(bytes),
    }
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Walks ISO 2022 escape sequences: `ESC % G` switches to UTF-8, any other designation goes
/// back to Latin-1 (other character sets, rare in titles, come out as Latin-1 best effort).
fn compound_text(bytes: &[u8]) -> String {
    const ESC: u8 = 0x1b;
    let mut out = String::with_capacity(bytes.len());
    let mut utf8 = false;
    let mut run: Vec<u8> = Vec::new();
    let flush = |out: &mut String, run: &mut Vec<u8>, utf8: bool| {
        if utf8 {
            out.push_str(&String::from_utf8_lossy(run));
        } else {
            out.push_str(&latin1(run));
        }
        run.clear();
    };
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == ESC {
            // ESC, intermediate bytes 0x20..=0x2F, one final byte 0x30..=0x7E.
            let mut j = i + 1;
            while j < bytes.len() && (0x20..=0x2f).contains(&bytes[j]) {
                j += 1;
            }
            if j < bytes.len() && (0x30..=0x7e).contains(&bytes[j]) {
                flush(&mut out, &mut run, utf8);
                utf8 = &bytes[i + 1..=j] == b"%G";
                i = j + 1;
                continue;
            }
            // A malformed escape: drop the ESC itself, keep what follows as text.
            i += 1;
            continue;
        }
        run.push(bytes[i]);
        i += 1;
    }
    flush(&mut out, &mut run, utf8);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_the_documented_examples() {
        let cases: &[(Encoding, &[u8], &str)] = &[
            (Encoding::Utf8, "От".as_bytes(), "От"),
            (Encoding::Latin1, b"caf\xe9", "café"),
            (Encoding::Latin1, "café".as_bytes(), "café"),
            (Encoding::CompoundText, b"\x1b%G\xc3\xa9\x1b%@ \xe9", "é é"),
            (Encoding::CompoundText, b"plain \xe9", "plain é"),
            (Encoding::Other, b"title\0\0", "title"),
            (Encoding::Utf8, b"\xff", "\u{fffd}"),
            (Encoding::CompoundText, b"\x1b", ""),
        ];
        for (enc, bytes, want) in cases {
            assert_eq!(decode(*enc, bytes), *want, "decode({enc:?}, {bytes:?})");
        }
    }

    #[test]
    fn app_name_prefers_the_class_over_the_instance() {
        assert_eq!(
            app_from_wm_class(b"xterm\0XTerm\0").as_deref(),
            Some("XTerm"),
            "class wins"
        );
        assert_eq!(
            app_from_wm_class(b"solo\0").as_deref(),
            Some("solo"),
            "instance alone"
        );
        assert_eq!(
            app_from_wm_class(b"\0\0"),
            None,
            "nothing to name the app by"
        );
    }

    #[test]
    fn title_falls_back_to_wm_name_only_when_net_wm_name_is_empty() {
        let legacy = Some((Encoding::Latin1, &b"xterm"[..]));
        assert_eq!(
            title(Some("Отчёт".as_bytes()), legacy),
            "Отчёт",
            "UTF-8 name wins"
        );
        assert_eq!(
            title(None, legacy),
            "xterm",
            "legacy name when there is no UTF-8 one"
        );
        assert_eq!(
            title(Some(b""), legacy),
            "xterm",
            "an empty UTF-8 name does not hide it"
        );
        assert_eq!(title(None, None), "", "no name at all is an empty title");
    }

    proptest! {
        #[test]
        fn never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            for enc in [Encoding::Utf8, Encoding::Latin1, Encoding::CompoundText, Encoding::Other] {
                let _ = decode(enc, &bytes);
            }
            let _ = app_from_wm_class(&bytes);
        }

        #[test]
        fn latin1_text_that_is_not_utf8_round_trips(s in "[a-z \u{a0}-\u{ff}]{0,20}") {
            let bytes: Vec<u8> = s.chars().map(|c| c as u8).collect();
            prop_assume!(std::str::from_utf8(&bytes).is_err());
            prop_assert_eq!(decode(Encoding::Latin1, &bytes), s.clone());
            prop_assert_eq!(decode(Encoding::CompoundText, &bytes), s);
        }

        #[test]
        fn utf8_inside_compound_text_round_trips(s in "[^\u{0}\u{1b}]{0,20}") {
            let mut bytes = b"\x1b%G".to_vec();
            bytes.extend_from_slice(s.as_bytes());
            prop_assert_eq!(decode(Encoding::CompoundText, &bytes), s.clone());
            prop_assert_eq!(decode(Encoding::Utf8, s.as_bytes()), s);
        }
    }
}
